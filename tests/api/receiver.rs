//! A webhook receiver on loopback, on std's TcpListener: it records every
//! request, answers as scripted (a status, or nothing at all until the sender
//! hangs up), and counts requests with one `webhook-id` in flight at once.
//! Shared by the API tests and the process tests (`#[path]`).
//! (Each test target uses part of it.)
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// This HTTP status, at once.
    Status(u16),
    /// Nothing: the connection is held until the sender gives up (its
    /// timeout, or its death).
    Hang,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub answer: Answer,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub fn event_id(&self) -> i64 {
        self.json()["data"]["id"].as_i64().expect("data.id")
    }

    pub fn delivered(&self) -> bool {
        matches!(self.answer, Answer::Status(s) if (200..300).contains(&s))
    }

    /// True when `webhook-signature` is the Standard Webhooks signature of
    /// this request under `secret`, computed here from the specification.
    pub fn signed_with(&self, secret: &str) -> bool {
        let key = BASE64
            .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
            .expect("base64");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Answer>,
    /// Waited before a scripted status is sent (so overlaps would show).
    delay: Duration,
    received: Vec<Received>,
    in_flight: HashMap<String, usize>,
    overlaps: usize,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Receiver {
    /// Listens on a free loopback port; answers 200 unless scripted otherwise.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let shared: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = accepting.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Receiver { url, shared }
    }

    /// The answers to the next requests, in order; 200 after them.
    pub fn script(&self, answers: &[Answer]) {
        self.shared.0.lock().unwrap().script.extend(answers);
    }

    /// Waits this long before each status answer.
    pub fn delay_answers(&self, delay: Duration) {
        self.shared.0.lock().unwrap().delay = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.0.lock().unwrap().received.clone()
    }

    /// How many requests arrived while another with the same `webhook-id`
    /// was still in flight.
    pub fn overlaps(&self) -> usize {
        self.shared.0.lock().unwrap().overlaps
    }

    /// Waits until `done` holds for what was received (a minute at most: a
    /// guard against hanging, not a measure), and returns it.
    #[track_caller]
    pub fn wait_until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let (lock, changed) = &*self.shared;
        let mut state = lock.lock().unwrap();
        while !done(&state.received) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the receiver never saw {what}; it got {:#?}",
                state.received
            );
            state = changed.wait_timeout(state, left).unwrap().0;
        }
        state.received.clone()
    }
}

/// Reads one request, records it, answers it as scripted, closes.
fn serve(stream: TcpStream, shared: &(Mutex<State>, Condvar)) {
    let mut reader = BufReader::new(stream);
    let Some((headers, body)) = read_request(&mut reader) else {
        return;
    };
    let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
    let id = header("webhook-id");
    let (answer, delay) = {
        let mut state = shared.0.lock().unwrap();
        let answer = state.script.pop_front().unwrap_or(Answer::Status(200));
        let in_flight = state.in_flight.entry(id.clone()).or_default();
        *in_flight += 1;
        if *in_flight > 1 {
            state.overlaps += 1;
        }
        state.received.push(Received {
            id: id.clone(),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body,
            answer,
        });
        (answer, state.delay)
    };
    shared.1.notify_all();
    let mut stream = reader.into_inner();
    match answer {
        Answer::Status(status) => {
            std::thread::sleep(delay);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Scripted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
        Answer::Hang => {
            // Until the sender hangs up: a read of 0 bytes, or an error.
            let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
            let _ = stream.read(&mut [0u8; 1]);
        }
    }
    *shared.0.lock().unwrap().in_flight.entry(id).or_default() -= 1;
}

/// The lower-cased headers and the body of one HTTP/1.1 request.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(HashMap<String, String>, String)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((headers, String::from_utf8(body).ok()?))
}
