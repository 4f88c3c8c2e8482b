//! SMTP submission of already-built messages. The bytes are sent as stored: nothing here
//! rebuilds a message (that would change its Message-ID).

use blendesk_domain::transport::{plain_allowed, Security, SmtpOutcome};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
}

/// A configured transport. Connections are opened per send and not pooled: an idle
/// SMTP connection is not to be trusted (servers drop them silently).
pub struct Submitter {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Submitter {
    /// `password` is used only over TLS/STARTTLS; plain text (loopback only) submits
    /// without authentication, as a local relay expects.
    pub fn new(endpoint: &Endpoint, password: Option<&str>) -> Result<Self, String> {
        let host = endpoint.host.as_str();
        let builder = match endpoint.security {
            Security::Plain => {
                if !plain_allowed(host) {
                    return Err(format!(
                        "plain-text SMTP is allowed only to this machine; use security = \"tls\" or \"starttls\" for {host}"
                    ));
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            }
            Security::Tls | Security::Starttls => {
                let params = TlsParameters::new(host.to_owned()).map_err(|e| format!("TLS for {host}: {e}"))?;
                let tls = if endpoint.security == Security::Tls { Tls::Wrapper(params) } else { Tls::Required(params) };
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(tls);
                if let Some(pw) = password {
                    b = b.credentials(Credentials::new(endpoint.username.clone(), pw.to_owned()));
                }
                b
            }
        };
        let transport = builder.port(endpoint.port).timeout(Some(Duration::from_secs(60))).build();
        Ok(Self { transport })
    }

    /// One attempt to submit `raw` to `recipients`.
    pub async fn send(&self, envelope_from: &str, recipients: &[String], raw: &[u8]) -> SmtpOutcome {
        let from = match envelope_from.parse() {
            Ok(a) => Some(a),
            Err(e) => return SmtpOutcome::Permanent { reason: format!("bad sender address {envelope_from:?}: {e}") },
        };
        let mut to = Vec::with_capacity(recipients.len());
        for r in recipients {
            match r.parse() {
                Ok(a) => to.push(a),
                Err(e) => return SmtpOutcome::Permanent { reason: format!("bad recipient address {r:?}: {e}") },
            }
        }
        let envelope = match Envelope::new(from, to) {
            Ok(e) => e,
            Err(e) => return SmtpOutcome::Permanent { reason: format!("cannot address the message: {e}") },
        };
        match self.transport.send_raw(&envelope, raw).await {
            Ok(_) => SmtpOutcome::Accepted,
            Err(e) if e.is_permanent() => SmtpOutcome::Permanent { reason: e.to_string() },
            Err(e) => SmtpOutcome::Temporary { reason: e.to_string() },
        }
    }
}
