//! "Show images" for one message: Rust fetches the remote images (no cookies, no
//! Referer, bounded size and count, images only, never from this machine or a private
//! network) and the mail is re-rendered with them inlined as `data:` URIs, so the
//! webview itself still loads nothing remote.

use base64::Engine as _;
use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

pub const MAX_IMAGES: usize = 20;
pub const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024;

/// Addresses a mail must never make us request: this machine, private and link-local
/// networks (a mail could otherwise probe the advisor's LAN). Tests of this feature set
/// BLENDESK_IMAGES_ALLOW_LOOPBACK=1 to use a loopback image server.
fn forbidden(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            (v4.is_loopback() && !allow_loopback)
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) // CGNAT
        }
        IpAddr::V6(v6) => {
            (v6.is_loopback() && !allow_loopback)
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| forbidden(IpAddr::V4(v4), allow_loopback))
        }
    }
}

fn agent() -> ureq::Agent {
    let allow_loopback = std::env::var("BLENDESK_IMAGES_ALLOW_LOOPBACK").is_ok_and(|v| v == "1");
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .redirects(3)
        .user_agent("Mozilla/5.0")
        .resolver(move |addr: &str| -> std::io::Result<Vec<SocketAddr>> {
            let all: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
            let ok: Vec<SocketAddr> = all.iter().copied().filter(|a| !forbidden(a.ip(), allow_loopback)).collect();
            if ok.is_empty() {
                return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, format!("{addr} is a local or private address")));
            }
            Ok(ok)
        })
        .build()
}

/// Fetch one image as a `data:` URI, or say why not.
fn fetch(agent: &ureq::Agent, url: &str) -> Result<String, String> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err("not a web address".into());
    }
    let resp = agent.get(url).call().map_err(|e| e.to_string())?;
    let mime = resp.content_type().to_ascii_lowercase();
    // No SVG: it is a document that can carry scripts and further loads.
    if !["image/png", "image/gif", "image/jpeg", "image/webp"].contains(&mime.as_str()) {
        return Err(format!("not an image ({mime})"));
    }
    let mut bytes = Vec::new();
    resp.into_reader().take(MAX_IMAGE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err("image too large".into());
    }
    Ok(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes)))
}

/// Fetch the given images (blocking; call from a blocking task). Failures are skipped:
/// those images stay blocked.
pub fn fetch_all(urls: &[String]) -> HashMap<String, String> {
    let agent = agent();
    let mut out = HashMap::new();
    for url in urls.iter().take(MAX_IMAGES) {
        match fetch(&agent, url) {
            Ok(data) => {
                out.insert(url.clone(), data);
            }
            Err(e) => tracing::info!("image not shown: {e}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_private_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(forbidden(ip.parse().unwrap(), false), "{ip}");
        }
        assert!(!forbidden("127.0.0.1".parse().unwrap(), true), "tests may allow loopback");
        assert!(forbidden("10.0.0.1".parse().unwrap(), true), "never private networks");
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(!forbidden(ip.parse().unwrap(), false), "{ip}");
        }
    }
}
