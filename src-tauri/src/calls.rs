//! Commands for "pick up the phone": the open conversation's call suggestion, dialling
//! the customer's number through the OS's `tel:` handler (the softphone), and logging a
//! call note for the team. Each is a few lines over the engine (`blendesk_engine::callback`).

use crate::commands::{engine_err, starting, CommandError, Result};
use crate::desk::Desk;
use blendesk_engine::callback::CallSuggestionView;
use blendesk_engine::errors::ErrorCode;
use tauri::State;

/// Whether to suggest a call for the conversation of `message`, why, and the number.
#[tauri::command]
pub fn call_suggestion(desk: State<'_, Desk>, message: i64) -> Result<Option<CallSuggestionView>> {
    desk.engine().map_err(starting)?.call_suggestion(message).map_err(engine_err)
}

/// A `tel:` URI this app made: `tel:+` and 8 to 15 digits (E.164), nothing else, so
/// nothing from mail reaches the OS handler except a plain number.
pub fn checked_tel(uri: &str) -> Option<&str> {
    let digits = uri.strip_prefix("tel:+")?;
    ((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then_some(uri)
}

/// Dial: hand the `tel:` URI to the OS (xdg-open → the registered softphone). No shell.
/// Dialled from `customer`'s conversation, the number becomes theirs for the whole team
/// (the event log: history and first-contact resolution join the call and the mail).
#[tauri::command]
pub fn dial(desk: State<'_, Desk>, tel: String, customer: Option<String>) -> Result<()> {
    let uri = checked_tel(&tel)
        .ok_or_else(|| CommandError { code: ErrorCode::Invalid, message: format!("{tel:?} is not a tel:+<digits> number") })?;
    if let (Some(customer), Ok(engine)) = (customer.as_deref(), desk.engine()) {
        if let Err(e) = engine.link_phone(customer, uri.trim_start_matches("tel:")) {
            tracing::warn!(error = %e, "dialled number not linked to the customer");
        }
    }
    std::process::Command::new("xdg-open")
        .arg(uri)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| CommandError { code: ErrorCode::Open, message: format!("cannot start the phone handler (xdg-open): {e}") })
}

/// Record a call note in the conversation for every advisor (never sent to the customer).
#[tauri::command]
pub async fn log_call_note(desk: State<'_, Desk>, message: i64, text: String) -> Result<String> {
    let engine = desk.engine().map_err(starting)?.clone();
    engine.log_call_note(message, &text).await.map_err(engine_err)
}

#[cfg(test)]
mod tests {
    use super::checked_tel;

    #[test]
    fn only_plain_international_numbers_are_dialled() {
        assert_eq!(checked_tel("tel:+442079460958"), Some("tel:+442079460958"));
        for bad in ["tel:02079460958", "tel:+44 20", "tel:+4420794609581234567", "https://x", "tel:+4420;x=1", "tel:+12345"] {
            assert_eq!(checked_tel(bad), None, "{bad}");
        }
    }
}
