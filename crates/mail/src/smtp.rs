//! SMTP submission of already-built messages. The bytes are sent as stored: nothing here
//! rebuilds a message (that would change its Message-ID).

use blendesk_domain::transport::{plain_allowed, Security, SmtpOutcome};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// PEM certificates of a certificate authority to trust besides the public ones.
    pub ca_pem: Option<Vec<u8>>,
}

/// How to log in to the submission server.
#[derive(Clone, Copy)]
pub enum SmtpLogin<'a> {
    Password(&'a str),
    /// An OAuth2 access token, sent by SASL XOAUTH2.
    Xoauth2(&'a str),
}

/// With a bearer token, XOAUTH2 and nothing else: the token must never go out as a
/// PLAIN password.
fn xoauth2_only() -> Vec<Mechanism> {
    vec![Mechanism::Xoauth2]
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
        Self::with_login(endpoint, password.map(SmtpLogin::Password))
    }

    /// As `new`, logging in with a password (PLAIN/LOGIN) or an OAuth2 access token
    /// (XOAUTH2, what Microsoft 365 and Gmail accept for submission).
    pub fn with_login(endpoint: &Endpoint, login: Option<SmtpLogin<'_>>) -> Result<Self, String> {
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
                let mut params = TlsParameters::builder(host.to_owned());
                if let Some(pem) = &endpoint.ca_pem {
                    let ca =
                        Certificate::from_pem(pem).map_err(|e| format!("the SMTP CA file for {host} is not a PEM certificate: {e}"))?;
                    params = params.add_root_certificate(ca);
                }
                let params = params.build_rustls().map_err(|e| format!("TLS for {host}: {e}"))?;
                let tls = if endpoint.security == Security::Tls { Tls::Wrapper(params) } else { Tls::Required(params) };
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(tls);
                match login {
                    Some(SmtpLogin::Password(pw)) => {
                        b = b.credentials(Credentials::new(endpoint.username.clone(), pw.to_owned()));
                    }
                    Some(SmtpLogin::Xoauth2(token)) => {
                        b = b.credentials(Credentials::new(endpoint.username.clone(), token.to_owned())).authentication(xoauth2_only());
                    }
                    None => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What lettre sends for XOAUTH2 with our credentials: the same initial response as
    /// the IMAP login (`domain::oauth::sasl_initial_response`). The stack's OpenSMTPD
    /// submits on loopback without authentication, so this is where SMTP XOAUTH2 is shown.
    #[test]
    fn smtp_xoauth2_sends_the_bearer_initial_response() {
        assert_eq!(xoauth2_only(), vec![Mechanism::Xoauth2]);
        let creds = Credentials::new("support@shop.test".into(), "tok123".into());
        let sent = Mechanism::Xoauth2.response(&creds, None).unwrap();
        let ours = blendesk_domain::oauth::sasl_initial_response(
            blendesk_domain::oauth::Mechanism::Xoauth2,
            "support@shop.test",
            "tok123",
            "h",
            587,
        )
        .unwrap();
        assert_eq!(sent, ours);
        let endpoint = Endpoint {
            host: "smtp.shop.test".into(),
            port: 587,
            security: Security::Starttls,
            username: "support@shop.test".into(),
            ca_pem: None,
        };
        assert!(Submitter::with_login(&endpoint, Some(SmtpLogin::Xoauth2("tok123"))).is_ok());
        let plain = Endpoint { host: "smtp.shop.test".into(), port: 25, security: Security::Plain, username: String::new(), ca_pem: None };
        assert!(Submitter::with_login(&plain, Some(SmtpLogin::Xoauth2("tok123"))).is_err(), "plain text only to loopback");
    }
}
