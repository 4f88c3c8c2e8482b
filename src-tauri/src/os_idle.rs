//! How long since the person last used any keyboard or mouse, from the OS: an advisor
//! typing in the softphone or the CRM in another window is active, not idle, so the
//! policy's idle-to-away counts from their last input anywhere, not in this window only.
//!
//! X11 (and XWayland clients) through the MIT-SCREEN-SAVER extension, loaded at run
//! time; where it is missing the window's own activity is all that counts.

use std::os::raw::c_ulong;
use std::time::Duration;
use x11_dl::{xlib, xss};

pub struct OsIdle {
    xlib: xlib::Xlib,
    xss: xss::Xss,
    display: *mut xlib::Display,
    root: c_ulong,
}

impl OsIdle {
    /// `None` without an X display or the extension.
    pub fn open() -> Option<Self> {
        let xlib = xlib::Xlib::open().ok()?;
        let xss = xss::Xss::open().ok()?;
        // SAFETY: plain Xlib calls; a null display name means $DISPLAY.
        let display = unsafe { (xlib.XOpenDisplay)(std::ptr::null()) };
        if display.is_null() {
            return None;
        }
        let root = unsafe { (xlib.XDefaultRootWindow)(display) };
        let idle = OsIdle { xlib, xss, display, root };
        idle.idle().map(|_| idle)
    }

    /// Time since the last input event on this display.
    pub fn idle(&self) -> Option<Duration> {
        // SAFETY: the info block is allocated by the extension and freed here.
        unsafe {
            let info = (self.xss.XScreenSaverAllocInfo)();
            if info.is_null() {
                return None;
            }
            let ok = (self.xss.XScreenSaverQueryInfo)(self.display, self.root, info) != 0;
            let idle_ms = (*info).idle;
            (self.xlib.XFree)(info.cast());
            ok.then(|| Duration::from_millis(idle_ms))
        }
    }
}

impl Drop for OsIdle {
    fn drop(&mut self) {
        // SAFETY: the display was opened by `open` and is not used after this.
        unsafe { (self.xlib.XCloseDisplay)(self.display) };
    }
}

/// How often the OS idle time is read; input within this period counts as activity.
pub const POLL: Duration = Duration::from_secs(5);

/// Report OS-level activity to `on_active` every [`POLL`] while the person uses any
/// input device. Runs on its own thread (the display connection stays on it).
pub fn watch(on_active: impl Fn() + Send + 'static) {
    std::thread::spawn(move || {
        let Some(os) = OsIdle::open() else {
            tracing::info!("no OS idle time (no X11 screen-saver extension): window activity only");
            return;
        };
        loop {
            if os.idle().is_some_and(|idle| idle < POLL + Duration::from_secs(1)) {
                on_active();
            }
            std::thread::sleep(POLL);
        }
    });
}
