//! OAuth2 sign-in, the pure parts: provider presets, PKCE (S256), the authorization URL,
//! the loopback redirect, token answers, when to refresh, and the SASL initial responses
//! (XOAUTH2, OAUTHBEARER). The HTTP calls, the browser and the keyring live in the engine
//! and the shell; randomness (the verifier, the state) and the clock are passed in.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Where a provider signs people in and hands out tokens, and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEndpoints {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub scopes: Vec<String>,
}

/// The providers the setup offers: Microsoft 365, Google, or any OIDC issuer (its
/// discovery document, `parse_discovery`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "provider")]
pub enum Preset {
    /// `tenant`: the directory id or domain, or `organizations` / `common`.
    Microsoft365 {
        tenant: String,
    },
    Google,
}

pub const MICROSOFT_SCOPES: [&str; 3] =
    ["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"];
pub const GOOGLE_SCOPES: [&str; 1] = ["https://mail.google.com/"];

impl Preset {
    pub fn endpoints(&self) -> Result<ProviderEndpoints, OAuthError> {
        match self {
            Preset::Microsoft365 { tenant } => {
                let tenant = tenant.trim();
                if tenant.is_empty() || !tenant.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
                    return Err(OAuthError::Invalid(format!("Microsoft 365 tenant {tenant:?} is not a directory id or domain")));
                }
                let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
                Ok(ProviderEndpoints {
                    authorization_endpoint: format!("{base}/authorize"),
                    token_endpoint: format!("{base}/token"),
                    scopes: MICROSOFT_SCOPES.iter().map(|s| s.to_string()).collect(),
                })
            }
            Preset::Google => Ok(ProviderEndpoints {
                authorization_endpoint: "https://accounts.google.com/o/oauth2/v2/auth".into(),
                token_endpoint: "https://oauth2.googleapis.com/token".into(),
                scopes: GOOGLE_SCOPES.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OAuthError {
    #[error("OAuth2: {0}")]
    Invalid(String),
    /// The grant is gone: consent revoked, password changed, or the refresh token expired.
    /// Only signing in again helps.
    #[error("the sign-in is no longer valid ({reason}): consent was revoked or has expired; sign in again")]
    Revoked { reason: String },
    /// The provider refused for another reason (bad client id, wrong redirect, server error).
    #[error("the sign-in server refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused { error: String, description: Option<String> },
    /// The person declined in the browser.
    #[error("sign-in was cancelled in the browser ({0})")]
    Declined(String),
}

/// `https://issuer/.well-known/openid-configuration` for an issuer URL.
pub fn discovery_url(issuer: &str) -> Result<String, OAuthError> {
    let issuer = issuer.trim().trim_end_matches('/');
    check_url(issuer, "issuer")?;
    Ok(format!("{issuer}/.well-known/openid-configuration"))
}

/// The endpoints an OIDC discovery document names; `scopes` are what to ask for (an OIDC
/// issuer does not say which scope opens the mailbox).
pub fn parse_discovery(json: &str, scopes: &[String]) -> Result<ProviderEndpoints, OAuthError> {
    #[derive(Deserialize)]
    struct Discovery {
        authorization_endpoint: Option<String>,
        token_endpoint: Option<String>,
    }
    let d: Discovery =
        serde_json::from_str(json).map_err(|e| OAuthError::Invalid(format!("the discovery document is not valid JSON: {e}")))?;
    let field = |v: Option<String>, name: &str| {
        let v = v.ok_or_else(|| OAuthError::Invalid(format!("the discovery document has no {name}")))?;
        check_url(&v, name)?;
        Ok::<_, OAuthError>(v)
    };
    Ok(ProviderEndpoints {
        authorization_endpoint: field(d.authorization_endpoint, "authorization_endpoint")?,
        token_endpoint: field(d.token_endpoint, "token_endpoint")?,
        scopes: scopes.to_vec(),
    })
}

/// HTTPS, or plain HTTP to this machine only (the tests' authorization server).
pub fn check_url(url: &str, what: &str) -> Result<(), OAuthError> {
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host).trim_matches(['[', ']']);
        if !crate::transport::plain_allowed(host) {
            return Err(OAuthError::Invalid(format!("{what} {url:?} must use https (plain http only to this machine)")));
        }
        r
    } else {
        return Err(OAuthError::Invalid(format!("{what} {url:?} is not an http(s) URL")));
    };
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(OAuthError::Invalid(format!("{what} {url:?} is not a valid URL")));
    }
    Ok(())
}

/// A PKCE code verifier from 32 random bytes (RFC 7636: 43 characters of base64url).
pub fn pkce_verifier(random: &[u8; 32]) -> String {
    base64url(random)
}

/// The S256 code challenge of a verifier: BASE64URL(SHA256(verifier)), unpadded.
pub fn pkce_challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// Base64url without padding (RFC 4648 §5).
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// `application/x-www-form-urlencoded` for one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A form body (or query string) from pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&")
}

/// Decode one form value (`+` is a space); `None` for broken escapes or bad UTF-8.
pub fn form_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// What the authorization request carries.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest<'a> {
    pub endpoints: &'a ProviderEndpoints,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub code_challenge: &'a str,
    /// The mailbox address, so the provider preselects the account.
    pub login_hint: Option<&'a str>,
}

/// The URL the browser opens: authorization code flow with PKCE (S256).
pub fn authorization_url(req: &AuthorizationRequest<'_>) -> Result<String, OAuthError> {
    check_url(&req.endpoints.authorization_endpoint, "authorization_endpoint")?;
    if req.client_id.trim().is_empty() {
        return Err(OAuthError::Invalid("the client id is empty".into()));
    }
    let scope = req.endpoints.scopes.join(" ");
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", req.client_id),
        ("redirect_uri", req.redirect_uri),
        ("scope", scope.as_str()),
        ("state", req.state),
        ("code_challenge", req.code_challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(hint) = req.login_hint.filter(|h| !h.is_empty()) {
        pairs.push(("login_hint", hint));
    }
    let sep = if req.endpoints.authorization_endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{}{sep}{}", req.endpoints.authorization_endpoint, form(&pairs)))
}

/// The authorization code from the redirect's query string, once its `state` is ours.
pub fn code_from_redirect(query: &str, expected_state: &str) -> Result<String, OAuthError> {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = form_decode(v).ok_or_else(|| OAuthError::Invalid(format!("the redirect's {k} is not valid")))?;
        match k {
            "code" => code = Some(v),
            "state" => state = Some(v),
            "error" => error = Some(v),
            "error_description" => description = Some(v),
            _ => {}
        }
    }
    if state.as_deref() != Some(expected_state) {
        return Err(OAuthError::Invalid("the redirect's state does not match this sign-in (another browser tab?)".into()));
    }
    if let Some(error) = error {
        return Err(if error == "access_denied" {
            OAuthError::Declined(description.unwrap_or(error))
        } else {
            OAuthError::Refused { error, description }
        });
    }
    code.filter(|c| !c.is_empty()).ok_or_else(|| OAuthError::Invalid("the redirect carries no authorization code".into()))
}

/// The token endpoint's answer to a code or refresh_token grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub access_token: String,
    /// When the access token expires (unix ms).
    pub expires_at_ms: i64,
    /// A new refresh token when the provider rotates them (Microsoft does).
    pub refresh_token: Option<String>,
}

/// Access tokens without `expires_in` are assumed to live this long (Google and
/// Microsoft give an hour).
pub const DEFAULT_LIFETIME_S: i64 = 3600;

/// Parse the token endpoint's answer; `now_ms` is when the request was sent (so the
/// expiry errs early). `invalid_grant` is `Revoked`.
pub fn parse_token_response(status: u16, body: &str, now_ms: i64) -> Result<TokenGrant, OAuthError> {
    #[derive(Deserialize)]
    struct Answer {
        access_token: Option<String>,
        expires_in: Option<serde_json::Value>,
        refresh_token: Option<String>,
        token_type: Option<String>,
        error: Option<String>,
        error_description: Option<String>,
    }
    let answer: Answer = serde_json::from_str(body).map_err(|_| OAuthError::Refused {
        error: format!("HTTP {status}"),
        description: Some(crate::limits::clean_header_value(&body.chars().take(200).collect::<String>())),
    })?;
    if let Some(error) = answer.error {
        return Err(if error == "invalid_grant" {
            OAuthError::Revoked { reason: answer.error_description.unwrap_or(error) }
        } else {
            OAuthError::Refused { error, description: answer.error_description }
        });
    }
    if !(200..300).contains(&status) {
        return Err(OAuthError::Refused { error: format!("HTTP {status}"), description: None });
    }
    let access_token =
        answer.access_token.filter(|t| !t.is_empty()).ok_or_else(|| OAuthError::Invalid("the token answer has no access_token".into()))?;
    if let Some(t) = answer.token_type.as_deref() {
        if !t.eq_ignore_ascii_case("bearer") {
            return Err(OAuthError::Invalid(format!("token type {t:?} is not Bearer")));
        }
    }
    let expires_in = match answer.expires_in {
        None => DEFAULT_LIFETIME_S,
        Some(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(|| OAuthError::Invalid("expires_in is not a whole number".into()))?,
        // Some servers send it as a string.
        Some(serde_json::Value::String(s)) => s.trim().parse().map_err(|_| OAuthError::Invalid("expires_in is not a number".into()))?,
        Some(_) => return Err(OAuthError::Invalid("expires_in is not a number".into())),
    };
    if expires_in <= 0 {
        return Err(OAuthError::Invalid(format!("expires_in {expires_in} is not positive")));
    }
    Ok(TokenGrant {
        access_token,
        expires_at_ms: now_ms.saturating_add(expires_in.min(i64::MAX / 1000) * 1000),
        refresh_token: answer.refresh_token.filter(|t| !t.is_empty()),
    })
}

/// Refresh this long before the access token expires: a login under way must not see it
/// expire, and clocks differ a little.
pub const REFRESH_MARGIN_MS: i64 = 60_000;

/// True when an access token expiring at `expires_at_ms` (granted at `granted_at_ms`)
/// should be refreshed now: within the margin of its expiry, or past the last tenth of
/// a short life (test servers hand out tokens of seconds).
pub fn needs_refresh(now_ms: i64, granted_at_ms: i64, expires_at_ms: i64) -> bool {
    let life = (expires_at_ms - granted_at_ms).max(0);
    let margin = REFRESH_MARGIN_MS.min(life / 10);
    now_ms >= expires_at_ms - margin
}

/// Which SASL mechanism carries the bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// Google's and Microsoft's `XOAUTH2`.
    #[default]
    Xoauth2,
    /// RFC 7628 `OAUTHBEARER`.
    Oauthbearer,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Xoauth2 => "XOAUTH2",
            Mechanism::Oauthbearer => "OAUTHBEARER",
        }
    }
}

/// The SASL initial response (before base64): XOAUTH2
/// `user=<user>^Aauth=Bearer <token>^A^A`, or OAUTHBEARER's GS2 header and key/values
/// `n,a=<user>,^Ahost=<host>^Aport=<port>^Aauth=Bearer <token>^A^A` (RFC 7628 §3.1;
/// `,` and `=` in the user escaped as `=2C`, `=3D`). A control character in the user or
/// token would end a field early: refused.
pub fn sasl_initial_response(mechanism: Mechanism, user: &str, token: &str, host: &str, port: u16) -> Result<String, OAuthError> {
    if user.is_empty() || user.chars().any(|c| c.is_control()) {
        return Err(OAuthError::Invalid(format!("user name {user:?} cannot be sent in SASL {}", mechanism.name())));
    }
    if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
        return Err(OAuthError::Invalid("the access token has characters a bearer token may not have".into()));
    }
    Ok(match mechanism {
        Mechanism::Xoauth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
        Mechanism::Oauthbearer => {
            let user = user.replace('=', "=3D").replace(',', "=2C");
            format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(pkce_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let random = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88,
            83, 132, 141, 121,
        ];
        assert_eq!(pkce_verifier(&random), verifier);
        assert_eq!(pkce_verifier(&[0; 32]).len(), 43);
    }

    #[test]
    fn base64url_pads_nothing() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn presets_name_the_providers_endpoints_and_scopes() {
        let ms = Preset::Microsoft365 { tenant: "organizations".into() }.endpoints().unwrap();
        assert_eq!(ms.authorization_endpoint, "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize");
        assert_eq!(ms.token_endpoint, "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
        assert!(ms.scopes.contains(&"https://outlook.office.com/IMAP.AccessAsUser.All".to_string()));
        assert!(ms.scopes.contains(&"https://outlook.office.com/SMTP.Send".to_string()));
        assert!(ms.scopes.contains(&"offline_access".to_string()));
        let g = Preset::Google.endpoints().unwrap();
        assert_eq!(g.authorization_endpoint, "https://accounts.google.com/o/oauth2/v2/auth");
        assert_eq!(g.token_endpoint, "https://oauth2.googleapis.com/token");
        assert_eq!(g.scopes, vec!["https://mail.google.com/"]);
        assert!(Preset::Microsoft365 { tenant: "a/../b".into() }.endpoints().is_err());
        assert!(Preset::Microsoft365 { tenant: " ".into() }.endpoints().is_err());
    }

    #[test]
    fn discovery_document_gives_the_endpoints() {
        assert_eq!(discovery_url("https://id.shop.test/").unwrap(), "https://id.shop.test/.well-known/openid-configuration");
        assert!(discovery_url("http://id.shop.test").is_err(), "plain http only to loopback");
        assert!(discovery_url("http://127.0.0.1:9000").is_ok());
        let doc = r#"{"issuer":"https://id.shop.test","authorization_endpoint":"https://id.shop.test/auth","token_endpoint":"https://id.shop.test/token"}"#;
        let e = parse_discovery(doc, &["mail".into()]).unwrap();
        assert_eq!(e.authorization_endpoint, "https://id.shop.test/auth");
        assert_eq!(e.token_endpoint, "https://id.shop.test/token");
        assert_eq!(e.scopes, vec!["mail"]);
        assert!(parse_discovery(r#"{"authorization_endpoint":"https://a/x"}"#, &[]).is_err());
        assert!(parse_discovery(r#"{"authorization_endpoint":"http://evil.test/a","token_endpoint":"https://a/t"}"#, &[]).is_err());
        assert!(parse_discovery("not json", &[]).is_err());
    }

    #[test]
    fn authorization_url_carries_pkce_and_state() {
        let endpoints = Preset::Google.endpoints().unwrap();
        let url = authorization_url(&AuthorizationRequest {
            endpoints: &endpoints,
            client_id: "abc.apps",
            redirect_uri: "http://127.0.0.1:5555/callback",
            state: "st8",
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            login_hint: Some("support@shop.test"),
        })
        .unwrap();
        assert_eq!(
            url,
            "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=abc.apps\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback&scope=https%3A%2F%2Fmail.google.com%2F\
             &state=st8&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
             &login_hint=support%40shop.test"
        );
        let mut bad = endpoints.clone();
        bad.authorization_endpoint = "javascript:alert(1)".into();
        let req =
            AuthorizationRequest { endpoints: &bad, client_id: "x", redirect_uri: "r", state: "s", code_challenge: "c", login_hint: None };
        assert!(authorization_url(&req).is_err());
    }

    #[test]
    fn redirect_gives_the_code_only_with_our_state() {
        assert_eq!(code_from_redirect("code=a%2Fb&state=s1", "s1").unwrap(), "a/b");
        assert!(matches!(code_from_redirect("code=a&state=other", "s1"), Err(OAuthError::Invalid(_))));
        assert!(matches!(code_from_redirect("code=a", "s1"), Err(OAuthError::Invalid(_))));
        assert!(matches!(code_from_redirect("error=access_denied&state=s1", "s1"), Err(OAuthError::Declined(_))));
        assert!(matches!(code_from_redirect("error=server_error&state=s1", "s1"), Err(OAuthError::Refused { .. })));
        assert!(matches!(code_from_redirect("state=s1", "s1"), Err(OAuthError::Invalid(_))));
        assert!(matches!(code_from_redirect("code=%zz&state=s1", "s1"), Err(OAuthError::Invalid(_))));
    }

    #[test]
    fn token_answers_and_revocation() {
        let g = parse_token_response(200, r#"{"access_token":"at","expires_in":3599,"token_type":"Bearer","refresh_token":"rt"}"#, 1_000)
            .unwrap();
        assert_eq!(g, TokenGrant { access_token: "at".into(), expires_at_ms: 1_000 + 3_599_000, refresh_token: Some("rt".into()) });
        let g = parse_token_response(200, r#"{"access_token":"at","expires_in":"30"}"#, 0).unwrap();
        assert_eq!((g.expires_at_ms, g.refresh_token), (30_000, None));
        assert_eq!(parse_token_response(200, r#"{"access_token":"at"}"#, 0).unwrap().expires_at_ms, 3_600_000);
        let revoked = parse_token_response(400, r#"{"error":"invalid_grant","error_description":"AADSTS70000: revoked"}"#, 0);
        assert!(matches!(revoked, Err(OAuthError::Revoked { ref reason }) if reason.contains("revoked")), "{revoked:?}");
        assert!(matches!(parse_token_response(401, r#"{"error":"invalid_client"}"#, 0), Err(OAuthError::Refused { .. })));
        assert!(matches!(parse_token_response(502, "<html>bad gateway</html>", 0), Err(OAuthError::Refused { .. })));
        assert!(parse_token_response(200, r#"{"access_token":"at","expires_in":-5}"#, 0).is_err());
        assert!(parse_token_response(200, r#"{"access_token":"at","token_type":"mac"}"#, 0).is_err());
        assert!(parse_token_response(200, r#"{"expires_in":5}"#, 0).is_err());
        assert!(parse_token_response(200, r#"{"access_token":"at","expires_in":1e300}"#, 0).is_err());
    }

    #[test]
    fn refresh_before_expiry() {
        // An hour's token: refreshed from a minute before it ends.
        let (granted, expires) = (0, 3_600_000);
        assert!(!needs_refresh(3_500_000, granted, expires));
        assert!(needs_refresh(3_540_000, granted, expires));
        assert!(needs_refresh(4_000_000, granted, expires));
        // A 20 s test token: refreshed in its last 2 s.
        assert!(!needs_refresh(17_000, 0, 20_000));
        assert!(needs_refresh(18_000, 0, 20_000));
        // A clock that went backwards never makes a token look fresh past its expiry.
        assert!(needs_refresh(5, 10, 5));
    }

    #[test]
    fn sasl_initial_responses() {
        assert_eq!(
            sasl_initial_response(Mechanism::Xoauth2, "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", "h", 1)
                .unwrap(),
            "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
        );
        // RFC 7628 §4.1's example.
        assert_eq!(
            sasl_initial_response(Mechanism::Oauthbearer, "user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com", 143)
                .unwrap(),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert!(sasl_initial_response(Mechanism::Oauthbearer, "a,b=c", "t", "h", 1).unwrap().starts_with("n,a=a=2Cb=3Dc,"));
        assert!(sasl_initial_response(Mechanism::Xoauth2, "a\x01b", "t", "h", 1).is_err());
        assert!(sasl_initial_response(Mechanism::Xoauth2, "a", "t\x01auth=x", "h", 1).is_err());
        assert!(sasl_initial_response(Mechanism::Xoauth2, "a", "", "h", 1).is_err());
    }

    #[test]
    fn form_encoding_round_trips() {
        let s = "a b&c=d/é+%";
        assert_eq!(form_decode(&form_encode(s)).unwrap(), s);
        assert_eq!(form_decode("a+b").unwrap(), "a b");
        assert!(form_decode("%4").is_none());
    }
}
