//! Clients that hold a connection open or send too much head: a body trickled a
//! byte at a time is cut off once the client request timeout has passed, and
//! oversized headers are refused with problem+json.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mwf::auth::Role;

use crate::helpers::spawn_with;

#[test]
fn a_body_trickled_a_byte_a_second_is_cut_off_with_408_within_the_limit() {
    let limit = Duration::from_secs(2);
    let app = spawn_with(|s| s.client_request_timeout = limit);
    let token = app.token(Role::Admin, &["*"]);
    let address = app.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    let body = br#"{"code": "KE-MWF", "country": "KE", "name": "Kenya fund", "currency": "KES"}"#;
    write!(
        stream,
        "POST /v1/funds HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut sent = 0;
    let mut buffer = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(15) {
        if sent < body.len() - 1 && stream.write_all(&body[sent..=sent]).is_ok() {
            sent += 1;
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
        std::thread::sleep(Duration::from_millis(750));
    }
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "after {elapsed:?} and {sent} bytes: {answer:?}"
    );
    assert!(elapsed < limit + Duration::from_secs(3), "{elapsed:?}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/problem+json"));
    assert!(lower.contains("connection: close"), "{answer}");
    assert!(answer.contains("\"code\":\"REQUEST_TIMEOUT\""), "{answer}");
    // Nothing was created from the part that arrived.
    app.get("/v1/funds/KE-MWF", &app.admin())
        .assert_problem(404, "NOT_FOUND");
}

/// Sends `head` (a request without a body) and reads the answer until the
/// server closes the connection.
fn raw_exchange(address: &str, head: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).to_string()
}

#[test]
fn oversized_headers_are_refused_with_431_problem_json() {
    let app = spawn_with(|_| {});
    let token = app.token(Role::Auditor, &["*"]);
    let address = app.base.trim_start_matches("http://").to_string();
    let padding = "x".repeat(40 * 1024);
    let answer = raw_exchange(
        &address,
        &format!(
            "GET /v1/funds HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             X-Padding: {padding}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    assert!(answer
        .to_ascii_lowercase()
        .contains("content-type: application/problem+json"));
    assert!(
        answer.contains("\"code\":\"HEADERS_TOO_LARGE\""),
        "{answer}"
    );
    let many: String = (0..70).map(|i| format!("X-Header-{i}: {i}\r\n")).collect();
    let answer = raw_exchange(
        &address,
        &format!(
            "GET /v1/funds HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             {many}Connection: close\r\n\r\n"
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    assert!(
        answer.contains("\"code\":\"HEADERS_TOO_LARGE\""),
        "{answer}"
    );
}
