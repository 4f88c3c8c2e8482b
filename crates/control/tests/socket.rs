//! The call socket over a real Unix socket: the protocol, the file mode, refusals.

use blendesk_control::{send_call, send_call_event, CallEvent, CallRequest, CallSocket, ControlError, Direction, Handler};
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

fn toy_handler(log: Arc<Mutex<Vec<CallEvent>>>) -> Handler {
    details_handler(log, Arc::default())
}

fn details_handler(log: Arc<Mutex<Vec<CallEvent>>>, requests: Arc<Mutex<Vec<CallRequest>>>) -> Handler {
    Arc::new(move |request: CallRequest| {
        let event = request.call;
        log.lock().unwrap().push(event);
        requests.lock().unwrap().push(request);
        Ok(match event {
            CallEvent::Start | CallEvent::Hold | CallEvent::Resume => "on_call".to_owned(),
            CallEvent::End => "wrap_up".to_owned(),
        })
    })
}

async fn raw(path: &std::path::Path, bytes: &[u8]) -> String {
    let mut s = UnixStream::connect(path).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn start_and_end_reach_the_handler_and_return_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blendesk-t.sock");
    let socket = CallSocket::bind(&path).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket mode");
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = tokio::spawn(socket.serve(toy_handler(log.clone())));

    assert_eq!(send_call_event(&path, CallEvent::Start).await.unwrap(), "on_call");
    assert_eq!(send_call_event(&path, CallEvent::Hold).await.unwrap(), "on_call");
    assert_eq!(send_call_event(&path, CallEvent::Resume).await.unwrap(), "on_call");
    assert_eq!(send_call_event(&path, CallEvent::End).await.unwrap(), "wrap_up");
    assert_eq!(*log.lock().unwrap(), vec![CallEvent::Start, CallEvent::Hold, CallEvent::Resume, CallEvent::End]);
    server.abort();
}

#[tokio::test]
async fn a_call_carries_its_id_number_and_direction_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blendesk-t.sock");
    let socket = CallSocket::bind(&path).await.unwrap();
    let (log, requests) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    let server = tokio::spawn(socket.serve(details_handler(log.clone(), requests.clone())));

    let start = CallRequest {
        call: CallEvent::Start,
        id: Some("c-42".into()),
        number: Some("+86 138-0013-8000".into()),
        direction: Some(Direction::Inbound),
    };
    assert_eq!(send_call(&path, &start).await.unwrap(), "on_call");
    let got = requests.lock().unwrap()[0].clone();
    assert_eq!(got.number.as_deref(), Some("+8613800138000"), "one spelling of the number");
    assert_eq!((got.id.as_deref(), got.direction), (Some("c-42"), Some(Direction::Inbound)));
    for bad in [
        CallRequest { number: Some("+86 138; rm -rf".into()), ..CallRequest::new(CallEvent::Start) },
        CallRequest { number: Some("1".repeat(21)), ..CallRequest::new(CallEvent::Start) },
        CallRequest { id: Some("c 42".into()), ..CallRequest::new(CallEvent::Start) },
        CallRequest { id: Some("x".repeat(65)), ..CallRequest::new(CallEvent::Start) },
    ] {
        assert!(matches!(send_call(&path, &bad).await, Err(ControlError::Refused(_))), "{bad:?}");
    }
    assert_eq!(log.lock().unwrap().len(), 1, "a refused request never reaches the handler");
    server.abort();
}

#[tokio::test]
async fn malformed_and_oversized_requests_are_refused_without_calling_the_handler() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blendesk-t.sock");
    let socket = CallSocket::bind(&path).await.unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = tokio::spawn(socket.serve(toy_handler(log.clone())));

    for bad in [
        &b"{\"call\":\"hangup\"}\n"[..],
        b"{\"call\":\"start\",\"send\":\"mail\"}\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"not json\n",
    ] {
        let reply = raw(&path, bad).await;
        assert!(reply.contains("\"ok\":false"), "{reply}");
    }
    let long = format!("{{\"call\":\"start\"{}}}\n", " ".repeat(1000));
    assert!(raw(&path, long.as_bytes()).await.contains("too long"));
    assert!(log.lock().unwrap().is_empty(), "handler must not run for bad requests");
    server.abort();
}

#[tokio::test]
async fn handler_errors_come_back_as_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blendesk-t.sock");
    let socket = CallSocket::bind(&path).await.unwrap();
    let server = tokio::spawn(socket.serve(Arc::new(|_| Err("advisor is offline".to_owned()))));
    match send_call_event(&path, CallEvent::Start).await {
        Err(ControlError::Refused(m)) => assert_eq!(m, "advisor is offline"),
        other => panic!("{other:?}"),
    }
    server.abort();
}

#[tokio::test]
async fn no_app_running_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.sock");
    assert!(matches!(send_call_event(&path, CallEvent::Start).await, Err(ControlError::NotRunning(_))));
}

#[tokio::test]
async fn a_live_socket_is_not_stolen_but_a_stale_one_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blendesk-t.sock");
    let first = CallSocket::bind(&path).await.unwrap();
    assert!(matches!(CallSocket::bind(&path).await, Err(ControlError::InUse(_))));
    // A crash leaves the file behind with nobody listening.
    std::mem::forget(first);
    // The forgotten listener's fd is still open, so make a truly stale one instead.
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let again = CallSocket::bind(&stale).await.unwrap();
    assert!(again.path().exists());
    drop(again);
    assert!(!stale.exists(), "dropping the socket removes its file");
}
