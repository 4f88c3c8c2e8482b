//! Start at login, opt-in: an XDG autostart entry
//! (`$XDG_CONFIG_HOME/autostart/blendesk.desktop`, else `~/.config/autostart/`) that
//! starts this binary with this configuration. It exists exactly while the advisor's
//! setting is on: the file is the setting.

use crate::commands::{CommandError, Result};
use crate::desk::Desk;
use blendesk_engine::errors::ErrorCode;
use std::path::{Path, PathBuf};
use tauri::State;

const FILE: &str = "blendesk.desktop";

/// Where the desktop looks for programs to start at login.
pub fn autostart_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|c| c.join("autostart"))
}

/// A desktop-entry `Exec` argument, quoted as the specification asks.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c));
    if plain {
        return arg.to_owned();
    }
    let mut q = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    // A literal % is written %% in an Exec line.
    q.replace('%', "%%")
}

/// The autostart entry for `exe` run with `config`.
pub fn entry(exe: &Path, config: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=Blendesk\nComment=Phone and email in one calm workspace\n\
         Exec={} --config {}\nIcon=blendesk-desktop\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        quote(&exe.display().to_string()),
        quote(&config.display().to_string()),
    )
}

fn set_in(dir: &Path, on: bool, exe: &Path, config: &Path) -> std::io::Result<()> {
    let path = dir.join(FILE);
    if on {
        std::fs::create_dir_all(dir)?;
        // Written whole, then renamed: a login never reads half an entry.
        let tmp = dir.join(format!(".{FILE}.tmp"));
        std::fs::write(&tmp, entry(exe, config))?;
        std::fs::rename(&tmp, &path)
    } else {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

/// Whether Blendesk starts at login.
#[tauri::command]
pub fn autostart() -> bool {
    autostart_dir().is_some_and(|d| d.join(FILE).is_file())
}

/// Turn start-at-login on or off; returns the setting now in force.
#[tauri::command]
pub fn set_autostart(desk: State<'_, Desk>, on: bool) -> Result<bool> {
    let io = |message: String| CommandError { code: ErrorCode::Io, message };
    let dir = autostart_dir().ok_or_else(|| io("no home directory for the autostart entry".into()))?;
    let exe = std::env::current_exe().map_err(|e| io(format!("cannot tell this program's path: {e}")))?;
    set_in(&dir, on, &exe, &desk.config_path).map_err(|e| io(format!("{}: {e}", dir.join(FILE).display())))?;
    Ok(autostart())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_starts_this_binary_with_this_configuration() {
        let e = entry(Path::new("/usr/bin/blendesk-desktop"), Path::new("/home/erin/.config/blendesk/config.toml"));
        assert!(e.starts_with("[Desktop Entry]\n"), "{e}");
        assert!(e.contains("\nExec=/usr/bin/blendesk-desktop --config /home/erin/.config/blendesk/config.toml\n"), "{e}");
        assert!(e.contains("\nType=Application\n"), "{e}");
    }

    #[test]
    fn odd_paths_are_quoted() {
        assert_eq!(quote("/opt/My Apps/blendesk"), "\"/opt/My Apps/blendesk\"");
        assert_eq!(quote("/tmp/a\"b$c`d\\e"), "\"/tmp/a\\\"b\\$c\\`d\\\\e\"");
        assert_eq!(quote("/tmp/100%"), "\"/tmp/100%%\"");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn on_writes_the_entry_and_off_removes_it() {
        let dir = std::env::temp_dir().join(format!("blendesk-autostart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (exe, config) = (Path::new("/usr/bin/blendesk-desktop"), Path::new("/c.toml"));
        set_in(&dir, true, exe, config).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(FILE)).unwrap(), entry(exe, config));
        set_in(&dir, false, exe, config).unwrap();
        assert!(!dir.join(FILE).exists());
        set_in(&dir, false, exe, config).expect("off twice is fine");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no temporary file left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
