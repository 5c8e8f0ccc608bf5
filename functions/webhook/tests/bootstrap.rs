//! The webhook binary as Lambda runs it: a cold start that reads its
//! environment, then invocations fetched from the Lambda runtime API (played
//! here by a small loopback server) and answered on the same API.
//!
//! The cold start (process start to the first request for an invocation) is
//! printed, not asserted. `EARSHOT_BOOTSTRAP=<path>` runs another build of
//! the binary, e.g. the release bootstrap from scripts/build-lambdas.sh:
//!     EARSHOT_BOOTSTRAP=target/lambda/webhook/bootstrap \
//!         cargo test -p webhook -p earshot --test bootstrap -- --nocapture
//! (`-p earshot` too: the test support needs the embedded backend, which
//! the webhook alone builds without).

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use earshot::http::HttpRequest;
use earshot::ports::RosterStore;
use earshot::signature::x_signature;
use earshot::webhook::{X_PATH, X_SIGNATURE_HEADER};

const RUNTIME_PREFIX: &str = "/2018-06-01/runtime/invocation/";

/// Hands out queued events and records what the function answered.
#[derive(Default)]
struct RuntimeApi {
    events: Mutex<VecDeque<(String, String)>>,
    responses: Mutex<Vec<(String, String)>>,
    /// When the function first asked for an invocation: its init is over.
    first_poll: Mutex<Option<Instant>>,
}

impl RuntimeApi {
    fn serve(self: Arc<Self>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let api = self.clone();
                std::thread::spawn(move || api.connection(stream));
            }
        });
        address
    }

    /// One keep-alive connection: requests until the client hangs up.
    fn connection(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                return;
            }
            let mut content_length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap_or(0);
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; content_length];
            reader.read_exact(&mut body).unwrap_or(());
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let reply = self.answer(&path, String::from_utf8_lossy(&body).into_owned());
            if writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }

    fn answer(&self, path: &str, body: String) -> String {
        let Some(rest) = path.strip_prefix(RUNTIME_PREFIX) else {
            return http(404, &[], "");
        };
        if rest == "next" {
            self.first_poll
                .lock()
                .unwrap()
                .get_or_insert_with(Instant::now);
            // With nothing queued, hold the request as Lambda does between
            // invocations; the test ends before it returns.
            let event = loop {
                if let Some(event) = self.events.lock().unwrap().pop_front() {
                    break event;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let deadline = (chrono::Utc::now().timestamp_millis() + 30_000).to_string();
            return http(
                200,
                &[
                    ("Lambda-Runtime-Aws-Request-Id", event.0.as_str()),
                    ("Lambda-Runtime-Deadline-Ms", deadline.as_str()),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:webhook",
                    ),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-00000000-000000000000000000000000",
                    ),
                ],
                &event.1,
            );
        }
        self.responses.lock().unwrap().push((rest.to_owned(), body));
        http(202, &[], "{}")
    }

    fn wait_for_responses(&self, count: usize) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let responses = self.responses.lock().unwrap().clone();
            if responses.len() >= count {
                return responses;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the function answered {} of {count} invocations",
            self.responses.lock().unwrap().len()
        );
    }
}

fn http(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    let mut reply = format!("HTTP/1.1 {status} OK\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        reply.push_str(&format!("{name}: {value}\r\n"));
    }
    reply.push_str("\r\n");
    reply.push_str(body);
    reply
}

const BOOTSTRAP_VAR: &str = "EARSHOT_BOOTSTRAP";

/// The binary under test; a relative `EARSHOT_BOOTSTRAP` is taken from the
/// repository root.
fn webhook_path() -> std::path::PathBuf {
    match std::env::var(BOOTSTRAP_VAR) {
        Ok(path) => support::repo_path(&path),
        Err(_) => env!("CARGO_BIN_EXE_webhook").into(),
    }
}

fn webhook_binary() -> Command {
    let mut command = Command::new(webhook_path());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    command
}

#[test]
fn a_cold_start_without_the_consumer_secret_fails_naming_it() {
    let output = webhook_binary()
        .env("EARSHOT_TABLE", "earshot")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .output()
        .expect("webhook runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("X_CONSUMER_SECRET"), "{stderr}");
}

const ON_CALL_PHONE: &str = "+15555550142";
const TRACE_ID: &str = "Root=1-00000000-000000000000000000000000";

/// The function's standard output, one JSON object a line.
fn log_lines(stdout: &[u8]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| match serde_json::from_str(line) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => panic!("a log line that is not a JSON object: {line}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bootstrap_answers_a_challenge_and_pages_a_signed_urgent_delivery() {
    let moto = support::Moto::start();
    let table = support::unique_table("bootstrap");
    let store = moto.dynamo_store(&table).await;
    store
        .put_contact(&support::on_call("Sam", ON_CALL_PHONE, 1))
        .await
        .unwrap();

    let secret = "bootstrap-consumer-secret";
    let aws_secret = "bootstrap-aws-secret-access-key";
    let body = support::payload("x-urgent-complaint.json");
    let signature = x_signature(secret.as_bytes(), body.as_bytes());
    let delivery = HttpRequest::new(
        "POST",
        X_PATH,
        "",
        &[(X_SIGNATURE_HEADER, &signature)],
        Some(body),
    );
    let challenge = HttpRequest::new("GET", X_PATH, "crc_token=ping", &[], None);

    let api = Arc::new(RuntimeApi::default());
    for (id, event) in [("req-1", &challenge), ("req-2", &delivery)] {
        let event = serde_json::to_string(event).unwrap();
        api.events.lock().unwrap().push_back((id.to_owned(), event));
    }
    let runtime_address = api.clone().serve();

    let started = Instant::now();
    let mut function = webhook_binary()
        .envs(moto.cli_env(&table))
        .env("AWS_SECRET_ACCESS_KEY", aws_secret)
        .env("X_CONSUMER_SECRET", secret)
        .env("AWS_LAMBDA_RUNTIME_API", &runtime_address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "webhook")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        // The most a deployment can ask for, dependencies' logs included.
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("webhook starts");
    // Read the log while the function runs, so a full pipe never blocks it.
    let mut stdout = function.stdout.take().expect("piped stdout");
    let log_reader = std::thread::spawn(move || {
        let mut log = Vec::new();
        stdout.read_to_end(&mut log).map(|_| log)
    });
    let responses = api.wait_for_responses(2);
    let _ = function.kill();
    let _ = function.wait();
    let stdout = log_reader.join().unwrap().expect("the function's log");

    let cold_start = api.first_poll.lock().unwrap().expect("asked for work") - started;
    eprintln!(
        "cold start of {}: {} ms (process start to the first request for an invocation)",
        webhook_path().display(),
        cold_start.as_millis()
    );

    let answer = |id: &str| -> serde_json::Value {
        let (_, body) = responses
            .iter()
            .find(|(path, _)| path == &format!("{id}/response"))
            .unwrap_or_else(|| panic!("no response for {id}: {responses:?}"));
        serde_json::from_str(body).unwrap()
    };
    let crc = answer("req-1");
    assert_eq!(crc["statusCode"], 200);
    let token: serde_json::Value = serde_json::from_str(crc["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        token["response_token"],
        x_signature(secret.as_bytes(), b"ping")
    );

    let stored = answer("req-2");
    assert_eq!(stored["statusCode"], 200, "{stored}");
    let counts: serde_json::Value = serde_json::from_str(stored["body"].as_str().unwrap()).unwrap();
    assert_eq!(counts["stored"], 1);
    let paged: Vec<String> = moto
        .sms_sent()
        .into_iter()
        .map(|(phone, _)| phone)
        .collect();
    assert_eq!(paged, [ON_CALL_PHONE]);

    let log = String::from_utf8_lossy(&stdout);
    for needle in [secret, aws_secret, ON_CALL_PHONE, &ON_CALL_PHONE[1..]] {
        assert!(!log.contains(needle), "the log shows {needle:?}:\n{log}");
    }
    let masked = earshot::domain::PhoneNumber::parse(ON_CALL_PHONE)
        .unwrap()
        .masked();
    assert!(log.contains(&masked), "the page is logged, masked: {log}");

    let lines = log_lines(&stdout);
    for line in &lines {
        for key in ["level", "message", "timestamp", "service", "cold_start"] {
            assert!(line.contains_key(key), "no {key}: {line:?}");
        }
        assert_eq!(line["service"], "earshot");
        match line.get("function_request_id").and_then(|id| id.as_str()) {
            Some(id) => {
                assert_eq!(line["cold_start"], id == "req-1", "{line:?}");
                assert_eq!(line["xray_trace_id"], TRACE_ID, "{line:?}");
            }
            None => assert!(!line.contains_key("xray_trace_id"), "{line:?}"),
        }
    }
    let sent = lines
        .iter()
        .find(|line| line["message"] == "alert SMS sent")
        .unwrap_or_else(|| panic!("no alert SMS line in {log}"));
    assert_eq!(sent["function_request_id"], "req-2");
    assert_eq!(sent["cold_start"], false);
    assert_eq!(sent["phone"], masked.as_str());
    assert_eq!(sent["level"], "INFO");
}
