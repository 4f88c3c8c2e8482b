//! `blendesk-e2e-call SOCKET start|end`: sends one call event from a separate process,
//! as a softphone running `blendesk call start|end` would. Prints the state returned.

use blendesk_control::{send_call_event, CallEvent};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, event) = match args.as_slice() {
        [p, e] if e == "start" => (p, CallEvent::Start),
        [p, e] if e == "end" => (p, CallEvent::End),
        _ => {
            eprintln!("usage: blendesk-e2e-call SOCKET start|end");
            return ExitCode::from(2);
        }
    };
    match send_call_event(std::path::Path::new(path), event).await {
        Ok(state) => {
            println!("{state}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
