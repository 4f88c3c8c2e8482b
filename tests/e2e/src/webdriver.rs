//! Just enough W3C WebDriver over plain HTTP for these tests.

use base64::Engine as _;
use serde_json::{json, Value};
use std::time::Duration;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    base: String,
    agent: ureq::Agent,
}

#[derive(Clone)]
pub struct Element<'s> {
    session: &'s Session,
    id: String,
}

fn call(req: ureq::Request, body: Option<Value>) -> Result<Value, String> {
    let resp = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let v: Value = match resp {
        Ok(r) => r.into_json().map_err(|e| e.to_string())?,
        Err(ureq::Error::Status(code, r)) => {
            let text = r.into_string().unwrap_or_default();
            return Err(format!("HTTP {code}: {text}"));
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok(v.get("value").cloned().unwrap_or(Value::Null))
}

impl Session {
    /// Open a session (starts the app). The request is bounded: an app that cannot
    /// start would otherwise leave it hanging.
    pub fn new(driver_url: &str, capabilities: Value) -> Result<Session, String> {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        let v = call(agent.post(&format!("{driver_url}/session")), Some(capabilities))?;
        let id = v.get("sessionId").and_then(Value::as_str).ok_or_else(|| format!("no session id in {v}"))?;
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build();
        Ok(Session { base: format!("{driver_url}/session/{id}"), agent })
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        call(self.agent.get(&format!("{}{path}", self.base)), None)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        call(self.agent.post(&format!("{}{path}", self.base)), Some(body))
    }

    pub fn delete(&self) -> Result<Value, String> {
        call(self.agent.delete(&self.base), None)
    }

    pub fn find(&self, css: &str) -> Result<Element<'_>, String> {
        let v = self.post("/element", json!({"using": "css selector", "value": css}))?;
        let id = v.get(ELEMENT_KEY).and_then(Value::as_str).ok_or_else(|| format!("no element for {css}: {v}"))?;
        Ok(Element { session: self, id: id.to_owned() })
    }

    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>, String> {
        let v = self.post("/elements", json!({"using": "css selector", "value": css}))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.get(ELEMENT_KEY).and_then(Value::as_str))
                    .map(|id| Element { session: self, id: id.to_owned() })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Run a script in the page (test-side inspection only).
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    pub fn source(&self) -> Result<String, String> {
        Ok(self.get("/source")?.as_str().unwrap_or_default().to_owned())
    }

    /// Resolve once the page has painted what the DOM now holds (two animation frames).
    pub fn wait_paint(&self) -> Result<(), String> {
        self.post(
            "/execute/async",
            json!({"script": "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", "args": []}),
        )
        .map(|_| ())
    }

    /// Run an async script; it calls `arguments[arguments.length - 1]` with its result.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.post("/execute/async", json!({"script": script, "args": args}))
    }

    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        self.wait_paint()?;
        let v = self.get("/screenshot")?;
        let b64 = v.as_str().ok_or("screenshot is not a string")?;
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| e.to_string())
    }

    /// The text of an open alert/confirm/prompt, if any.
    pub fn alert_text(&self) -> Option<String> {
        self.get("/alert/text").ok().map(|v| v.as_str().unwrap_or_default().to_owned())
    }

    /// Press keys on the focused element of the page (W3C actions).
    pub fn key_chord(&self, modifier: &str, key: &str) -> Result<(), String> {
        let actions = json!({"actions": [{
            "type": "key", "id": "keyboard",
            "actions": [
                {"type": "keyDown", "value": modifier},
                {"type": "keyDown", "value": key},
                {"type": "keyUp", "value": key},
                {"type": "keyUp", "value": modifier}
            ]
        }]});
        self.post("/actions", actions).map(|_| ())
    }
}

pub const KEY_ALT: &str = "\u{E00A}";
pub const KEY_ENTER: &str = "\u{E007}";

impl Session {
    /// Press and release one key on whatever has the focus.
    pub fn press(&self, key: &str) -> Result<(), String> {
        let actions = json!({"actions": [{
            "type": "key", "id": "keyboard",
            "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
        }]});
        self.post("/actions", actions).map(|_| ())
    }
}

impl Element<'_> {
    pub fn click(&self) -> Result<(), String> {
        self.session.post(&format!("/element/{}/click", self.id), json!({})).map(|_| ())
    }
    pub fn text(&self) -> Result<String, String> {
        Ok(self.session.get(&format!("/element/{}/text", self.id))?.as_str().unwrap_or_default().to_owned())
    }
    pub fn attr(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.session.get(&format!("/element/{}/attribute/{name}", self.id))?.as_str().map(str::to_owned))
    }
    pub fn property(&self, name: &str) -> Result<Value, String> {
        self.session.get(&format!("/element/{}/property/{name}", self.id))
    }
    pub fn enabled(&self) -> Result<bool, String> {
        Ok(self.session.get(&format!("/element/{}/enabled", self.id))?.as_bool().unwrap_or(false))
    }
    pub fn displayed(&self) -> Result<bool, String> {
        Ok(self.session.get(&format!("/element/{}/displayed", self.id))?.as_bool().unwrap_or(false))
    }
    pub fn clear(&self) -> Result<(), String> {
        self.session.post(&format!("/element/{}/clear", self.id), json!({})).map(|_| ())
    }
    pub fn send_keys(&self, text: &str) -> Result<(), String> {
        self.session.post(&format!("/element/{}/value", self.id), json!({"text": text})).map(|_| ())
    }
}
