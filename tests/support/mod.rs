//! Shared test support: a real moto server on a free loopback port, AWS
//! clients pointed at it, and sample payloads.
// The webhook's bootstrap test and the load example include this module
// too, and each uses only part of it.
#![allow(dead_code, unused_macros, unused_imports)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use earshot::adapters::dynamo::DynamoStore;
use earshot::adapters::sns::SnsSms;
use serde_json::Value;

/// The phones of the people the tests put on call.
pub const SAM: &str = "+15555550100";
pub const KIM: &str = "+15555550101";
pub const LEE: &str = "+15555550102";

/// The post in the urgent sample, events/payloads/x-urgent-complaint.json.
pub const URGENT_X_POST: &str = "1862511734012345678";

/// Where X takes new posts, replies included.
pub const X_POSTS_ROUTE: &str = "/2/tweets";

/// Runs each contract case (an `async fn(&Store)` in the calling file)
/// as a test against one store. `$open` yields `(guard, store)`; the guard
/// (a temp dir or a moto server) lives as long as the test.
macro_rules! contract {
    ($backend:ident, $open:expr, [$($case:ident),* $(,)?]) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    #[allow(unused_variables)]
                    let (guard, store) = $open;
                    super::$case(&store).await;
                }
            )*
        }
    };
}

pub(crate) use contract;

/// A moto server (DynamoDB, SNS and friends over HTTP), stopped on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

const INSTALL_HINT: &str = "install it with: python3 -m pip install -r tests/requirements.txt";

/// `MOTO_SERVER` if set, else moto's server run one request at a time by
/// `tests/moto_serial.py` (see there for why).
fn moto_command() -> (String, Vec<String>) {
    match std::env::var("MOTO_SERVER") {
        Ok(server) => (server, Vec::new()),
        Err(_) => (
            "python3".into(),
            vec![repo_path("tests/moto_serial.py").display().to_string()],
        ),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

impl Moto {
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// A server started with the environment variables `vars` set (moto
    /// reads its settings from there).
    pub fn start_with_env(vars: &[(&str, &str)]) -> Self {
        // Another process may take the port between our probe and moto's
        // bind; a second port fixes that rare case.
        for _ in 0..3 {
            let port = free_port();
            let (program, script) = moto_command();
            let mut child = Command::new(&program)
                .args(&script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .envs(vars.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {program}: {err}; {INSTALL_HINT}"));
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("moto_server exited early ({status}); {INSTALL_HINT}");
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Self {
                        child,
                        endpoint: format!("http://{addr}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start listening; {INSTALL_HINT}");
    }

    /// SDK configuration for this server with dummy credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint).await
    }

    pub async fn dynamo_store(&self, table: &str) -> DynamoStore {
        let sdk = self.sdk_config().await;
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            table,
            chrono::Duration::days(30),
        );
        store.create_table().await.expect("table created");
        store
    }

    /// Every port on a fresh table of this server, SMS through its SNS.
    pub async fn deps(&self, table_prefix: &str) -> earshot::adapters::Deps {
        let table = unique_table(table_prefix);
        self.dynamo_store(&table).await;
        deps_for(&self.sdk_config().await, &table)
    }

    pub async fn sns(&self) -> SnsSms {
        SnsSms::new(
            aws_sdk_sns::Client::new(&self.sdk_config().await),
            None,
            None,
        )
    }

    /// The SMS moto accepted, as (phone, message) pairs.
    pub fn sms_sent(&self) -> Vec<(String, String)> {
        let data: Value = http_get_json(&format!("{}/moto-api/data.json", self.endpoint));
        data["sns"]["SMS"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|sms| {
                (
                    sms["phone_number"].as_str().unwrap_or_default().to_owned(),
                    sms["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The bodies of the SMS moto accepted for `phone`, oldest first.
    pub fn sms_to(&self, phone: &str) -> Vec<String> {
        self.sms_sent()
            .into_iter()
            .filter(|(to, _)| to == phone)
            .map(|(_, body)| body)
            .collect()
    }

    /// The reply code of the last alert SMS `phone` received.
    pub fn alert_code_sent_to(&self, phone: &str) -> String {
        let alerts = self.sms_to(phone);
        let alert = alerts
            .iter()
            .rev()
            .find(|body| body.contains("Reply ACK "))
            .unwrap_or_else(|| panic!("an alert SMS reached {phone}: {alerts:?}"));
        reply_code_of(alert)
    }

    /// Environment for running the `earshot` binary against this server.
    pub fn cli_env(&self, table: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("EARSHOT_TABLE", table.into()),
            ("EARSHOT_BACKEND", "aws".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    sdk_config_with(
        endpoint,
        aws_config::retry::RetryConfig::standard(),
        aws_config::timeout::TimeoutConfig::builder()
            .operation_timeout(Duration::from_secs(10))
            .build(),
    )
    .await
}

/// SDK configuration for `endpoint` with dummy credentials and the given
/// retry and timeout settings.
pub async fn sdk_config_with(
    endpoint: &str,
    retry: aws_config::retry::RetryConfig,
    timeouts: aws_config::timeout::TimeoutConfig,
) -> aws_config::SdkConfig {
    loader_for(endpoint)
        .retry_config(retry)
        .timeout_config(timeouts)
        .load()
        .await
}

/// The SDK's loader for `endpoint` in us-east-1 with dummy credentials,
/// on the HTTP client the functions use.
fn loader_for(endpoint: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(earshot::adapters::sdk_http::sdk_http_client())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "earshot-tests",
        ))
}

/// Every port on `table` (which must exist) and SNS, through `sdk`.
pub fn deps_for(sdk: &aws_config::SdkConfig, table: &str) -> earshot::adapters::Deps {
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        table,
        chrono::Duration::days(30),
    );
    earshot::adapters::Deps::on_store(
        store,
        std::sync::Arc::new(SnsSms::new(aws_sdk_sns::Client::new(sdk), None, None)),
    )
}

/// The SMS-reply handler on `deps` at `clock`, with reply clients that hold
/// no platform credentials: a public reply is refused before any request.
/// Tests that post replies give it their own loopback server instead.
pub fn sms_replies(
    deps: &earshot::adapters::Deps,
    clock: earshot::domain::Clock,
) -> earshot::sms_reply::SmsReplies {
    let no_credentials = earshot::adapters::public_replies(Default::default()).expect("clients");
    deps.sms_replies(clock, std::sync::Arc::new(no_credentials))
        .expect("settings")
}

/// An SDK configuration whose every call fails fast: the endpoint is a
/// closed loopback port and retries are off.
pub async fn unreachable_sdk_config() -> aws_config::SdkConfig {
    let port = free_port(); // Bound then released: nobody listens there.
    loader_for(&format!("http://127.0.0.1:{port}"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

/// A plain HTTP GET of a JSON document from the local moto server.
fn http_get_json(url: &str) -> Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = TcpStream::connect(host).expect("moto reachable");
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body)
        .unwrap_or_else(|err| panic!("moto answered non-JSON ({err}): {body}"))
}

/// A path in the repository, from any workspace member's tests.
pub fn repo_path(relative: &str) -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("events").is_dir())
        .expect("the repository root holds events/");
    root.join(relative)
}

pub fn payload(name: &str) -> String {
    std::fs::read_to_string(repo_path(&format!("events/payloads/{name}"))).expect("sample payload")
}

/// A fresh embedded store in a temporary folder (kept while the guard is).
pub fn embedded_store() -> (
    tempfile::TempDir,
    earshot::adapters::embedded::EmbeddedStore,
) {
    let home = tempfile::tempdir().expect("temp dir");
    let store = earshot::adapters::embedded::EmbeddedStore::open(home.path()).expect("store");
    (home, store)
}

/// The bodies of the SMS in an embedded store's local outbox, oldest first.
pub fn outbox_bodies(store: &earshot::adapters::embedded::EmbeddedStore) -> Vec<String> {
    let outbox = store.outbox().expect("outbox read");
    outbox.into_iter().map(|sms| sms.body).collect()
}

/// A fresh table on a new moto server (kept while the server is).
pub async fn moto_store(table_prefix: &str) -> (Moto, DynamoStore) {
    let moto = Moto::start();
    let store = moto.dynamo_store(&unique_table(table_prefix)).await;
    (moto, store)
}

/// A POST to the X route, signed with `secret` as X signs deliveries.
pub fn signed_x_delivery(secret: &str, body: String) -> earshot::http::HttpRequest {
    let signature = earshot::signature::x_signature(secret.as_bytes(), body.as_bytes());
    earshot::http::HttpRequest::new(
        "POST",
        earshot::webhook::X_PATH,
        "",
        &[(earshot::webhook::X_SIGNATURE_HEADER, &signature)],
        Some(body),
    )
}

/// A table name no other test uses.
pub fn unique_table(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Puts each (name, phone, tier) on the roster.
pub async fn seat_on_call(roster: &dyn earshot::ports::RosterStore, people: &[(&str, &str, u8)]) {
    for (name, phone, tier) in people {
        roster
            .put_contact(&on_call(name, phone, *tier))
            .await
            .expect("contact stored");
    }
}

/// A person on the roster, added at a fixed time.
pub fn on_call(name: &str, phone: &str, tier: u8) -> earshot::domain::OnCallContact {
    earshot::domain::OnCallContact {
        name: name.into(),
        phone: earshot::domain::PhoneNumber::parse(phone).expect("valid phone"),
        added_at: "2026-11-24T08:00:00Z".parse().expect("RFC 3339 time"),
        opted_out: false,
        tier,
        time_zone: None,
        quiet_hours: None,
        p1_in_quiet_hours: true,
        can_reply: false,
    }
}

/// Runs `attempt` `n` times at once; how many of them returned true.
pub async fn concurrent_wins<F, Fut>(n: usize, attempt: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let tries: Vec<_> = (0..n).map(|_| tokio::spawn(attempt())).collect();
    let mut won = 0;
    for attempt in tries {
        if attempt.await.expect("the attempt ran to its end") {
            won += 1;
        }
    }
    won
}

/// Claims the alert SMS of `mention` to `phone` for a fresh claimant at
/// `at`, as the pager does (the claim must be granted), and records how
/// the sending went.
pub async fn record_alert_sms<S: earshot::ports::MentionStore + ?Sized>(
    store: &S,
    mention: &earshot::domain::MentionId,
    phone: &earshot::domain::PhoneNumber,
    outcome: &earshot::ports::Delivery,
    at: chrono::DateTime<chrono::Utc>,
) {
    let claimant = earshot::ports::Claimant::fresh();
    let lease = at + chrono::Duration::minutes(15);
    let claim = store
        .claim_delivery(mention, phone, &claimant, at, lease)
        .await
        .expect("delivery claimed");
    assert_eq!(claim, earshot::ports::Claim::Granted, "a fresh alert SMS");
    store
        .record_delivery(
            mention,
            &earshot::domain::AlertCode::candidate(mention.as_str(), 0),
            phone,
            outcome,
            at,
        )
        .await
        .expect("delivery recorded");
}

/// The reply code an alert SMS ends with.
pub fn reply_code_of(alert: &str) -> String {
    alert.rsplit(' ').next().unwrap_or_default().to_owned()
}

/// Hands `body`, signed with `secret` as X signs deliveries, to an X-only
/// webhook on `deps` whose clock is `clock`; the handler's answer.
pub async fn deliver_x(
    deps: &earshot::adapters::Deps,
    secret: &str,
    clock: earshot::domain::Clock,
    body: String,
) -> earshot::http::HttpResponse {
    let secrets = earshot::webhook::WebhookSecrets::x_only(earshot::config::Secret::new(secret));
    let webhook = earshot::webhook::Webhook::new(secrets, deps, clock).expect("webhook");
    webhook.handle(&signed_x_delivery(secret, body)).await
}

/// `from` texts `body` as inbound message `inbound_id`; what `replies` did.
pub async fn text(
    replies: &earshot::sms_reply::SmsReplies,
    from: &str,
    body: &str,
    inbound_id: &str,
) -> earshot::sms_reply::ReplySummary {
    let from = earshot::domain::PhoneNumber::parse(from).expect("valid phone");
    replies
        .handle(&earshot::sms_reply::inbound_event(&from, body, inbound_id))
        .await
        .expect("the replies handled")
}

/// A time written in RFC 3339.
pub fn at(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    rfc3339.parse().expect("RFC 3339 time")
}

/// A phone number written in E.164.
pub fn phone(raw: &str) -> earshot::domain::PhoneNumber {
    earshot::domain::PhoneNumber::parse(raw).expect("valid phone")
}
