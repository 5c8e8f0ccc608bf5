//! A fault-injecting HTTP proxy on loopback, between Earshot's AWS clients
//! and moto. Each call may meet one fault, drawn from a seeded generator at
//! a set rate: a 500, a throttling 400 (in DynamoDB's JSON or SNS's XML
//! shape), a timeout or a dropped connection, either before the call
//! reaches moto or after moto has applied it (the answer is then lost).
//! The proxy counts what it did, and remembers each SNS Publish that moto
//! accepted but whose answer it lost: the only duplicates Earshot may send.
//!
//! At rate 0 it passes everything through and counts calls per operation.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// HTTP 500 in the service's error shape.
    ServerError,
    /// HTTP 400 with a throttling code the SDKs retry.
    Throttled,
    /// No answer: the call hangs for `hold`, then the proxy closes it, as
    /// a client's own attempt timeout would end it.
    Timeout,
    /// The connection closes without an answer.
    Dropped,
}

/// Each kind with its weight among faults. A timeout costs the run its
/// hold in wall time, so it is drawn a third as often.
pub const FAULTS: [(Fault, u64); 4] = [
    (Fault::ServerError, 3),
    (Fault::Throttled, 3),
    (Fault::Dropped, 3),
    (Fault::Timeout, 1),
];

/// The fault kind `roll` picks by weight.
fn weighted(roll: u64) -> Fault {
    let total: u64 = FAULTS.iter().map(|(_, weight)| weight).sum();
    let mut left = roll % total;
    for (fault, weight) in FAULTS {
        if left < weight {
            return fault;
        }
        left -= weight;
    }
    unreachable!("the roll is below the total weight")
}

/// When a fault strikes: before moto sees the call, or after it applied
/// the call (the write happened, the answer is lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Moment {
    BeforeForwarding,
    AfterForwarding,
}

#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    /// Faults per thousand calls.
    pub per_mille: u32,
    pub seed: u64,
    /// How long a timed-out call hangs before the proxy closes it.
    pub hold: Duration,
    /// An operation answered every time with the service's validation
    /// error, as for a request the service will never accept.
    pub refuse: Option<&'static str>,
    /// The first call whose body holds this text is refused the same way,
    /// unapplied, as a write the service turned down once; later ones go
    /// through.
    pub refuse_first_holding: Option<&'static str>,
}

impl FaultPlan {
    /// Every call goes through untouched.
    pub fn pass_through() -> Self {
        Self {
            per_mille: 0,
            seed: 0,
            hold: Duration::ZERO,
            refuse: None,
            refuse_first_holding: None,
        }
    }

    /// Every call goes through, except the first whose body holds `text`.
    pub fn refusing_first_holding(text: &'static str) -> Self {
        Self {
            refuse_first_holding: Some(text),
            ..Self::pass_through()
        }
    }

    /// Every call goes through, except `operation`'s, refused for good.
    pub fn refusing(operation: &'static str) -> Self {
        Self {
            refuse: Some(operation),
            ..Self::pass_through()
        }
    }
}

/// A Publish moto accepted whose answer never reached the client (an
/// injected fault, or the client's own timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostPublish {
    pub phone: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct ProxyStats {
    /// Calls received, retries included.
    pub calls: u64,
    /// Calls by operation (`PutItem`, `Publish`, ...).
    pub operations: BTreeMap<String, u64>,
    pub faults: BTreeMap<(Fault, Moment), u64>,
    /// Calls the client gave up on while moto was applying them.
    pub abandoned: u64,
    pub lost_publishes: Vec<LostPublish>,
}

impl ProxyStats {
    pub fn faults_injected(&self) -> u64 {
        self.faults.values().sum()
    }
}

/// The proxy, serving until dropped.
pub struct FaultProxy {
    pub endpoint: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    /// moto's `host:port`.
    upstream: String,
    plan: FaultPlan,
    state: Mutex<State>,
}

struct State {
    random: SplitMix64,
    stats: ProxyStats,
    /// Whether the plan's one refusal by body was made.
    refused_first: bool,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`
    /// (`http://host:port`).
    pub async fn start(upstream: &str, plan: FaultPlan) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound address"));
        let shared = Arc::new(Shared {
            upstream: upstream
                .strip_prefix("http://")
                .expect("an http:// upstream")
                .trim_end_matches('/')
                .to_owned(),
            plan,
            state: Mutex::new(State {
                random: SplitMix64(plan.seed),
                stats: ProxyStats::default(),
                refused_first: false,
            }),
        });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    // A client that hangs up mid-call is one of the faults.
                    let _ = shared.serve(client).await;
                });
            }
        });
        Self {
            endpoint,
            shared,
            task,
        }
    }

    pub fn stats(&self) -> ProxyStats {
        self.shared.state.lock().expect("proxy state").stats.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One HTTP/1.1 request or response as read off the wire.
struct Message {
    start_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The bytes to send on, with a fresh `content-length` and connection
    /// handling of our own.
    fn encode(&self, start_line: &str, connection: &str) -> Vec<u8> {
        let mut out = format!("{start_line}\r\n");
        for (key, value) in &self.headers {
            let hop_by_hop = [
                "connection",
                "keep-alive",
                "content-length",
                "transfer-encoding",
            ]
            .iter()
            .any(|h| key.eq_ignore_ascii_case(h));
            if !hop_by_hop {
                out.push_str(&format!("{key}: {value}\r\n"));
            }
        }
        out.push_str(&format!(
            "content-length: {}\r\nconnection: {connection}\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Reads a start line and headers, then a `content-length` body (or, for
/// a response without one, everything until the peer closes). `None` when
/// the peer closed before a new message began.
async fn read_message<R>(reader: &mut BufReader<R>, until_eof: bool) -> io::Result<Option<Message>>
where
    R: tokio::io::AsyncRead + Unpin,
{
    let mut start_line = String::new();
    if reader.read_line(&mut start_line).await? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut message = Message {
        start_line: start_line.trim_end().to_owned(),
        headers,
        body: Vec::new(),
    };
    if message
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        return Err(io::Error::other("chunked bodies are not supported"));
    }
    match message.header("content-length") {
        Some(length) => {
            let length: usize = length.parse().map_err(io::Error::other)?;
            message.body.resize(length, 0);
            reader.read_exact(&mut message.body).await?;
        }
        None if until_eof => {
            reader.read_to_end(&mut message.body).await?;
        }
        None => {}
    }
    Ok(Some(message))
}

/// Whether the client closed its side: it sends nothing else while it
/// waits for an answer, so anything readable now is the end of the stream.
async fn client_gone<R>(reader: &mut BufReader<R>) -> bool
where
    R: tokio::io::AsyncRead + Unpin,
{
    matches!(
        tokio::time::timeout(Duration::from_millis(1), reader.fill_buf()).await,
        Ok(Ok([]) | Err(_))
    )
}

/// Which AWS service a call is for, by its protocol.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    /// JSON protocol, operation in `x-amz-target`.
    DynamoDb,
    /// Query protocol (form body, XML answers): SNS.
    Query,
}

struct Call {
    service: Service,
    operation: String,
    /// For a Publish: where and what.
    publish: Option<LostPublish>,
}

impl Call {
    fn of(request: &Message) -> Self {
        if let Some(target) = request.header("x-amz-target") {
            let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
            return Self {
                service: Service::DynamoDb,
                operation,
                publish: None,
            };
        }
        let form: BTreeMap<String, String> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        let operation = form.get("Action").cloned().unwrap_or_default();
        let publish = (operation == "Publish").then(|| LostPublish {
            phone: form.get("PhoneNumber").cloned().unwrap_or_default(),
            message: form.get("Message").cloned().unwrap_or_default(),
        });
        Self {
            service: Service::Query,
            operation,
            publish,
        }
    }

    /// The answer to a request the service will never accept.
    fn refusal(&self) -> Vec<u8> {
        let (body, content_type) = match self.service {
            Service::DynamoDb => (
                r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"One or more parameter values were invalid: refused by the test"}"#.to_owned(),
                "application/x-amz-json-1.0",
            ),
            Service::Query => (
                query_error("Sender", "InvalidParameter", "Invalid parameter: refused by the test"),
                "text/xml",
            ),
        };
        answer("400 Bad Request", content_type, &body)
    }

    /// The error answer for `fault` (500 or throttling) in this service's
    /// shape; `variant` picks among the throttling codes.
    fn error_answer(&self, fault: Fault, variant: u64) -> Vec<u8> {
        let (status, body, content_type) = match (self.service, fault) {
            (Service::DynamoDb, Fault::Throttled) => {
                let code = [
                    "ThrottlingException",
                    "ProvisionedThroughputExceededException",
                ][(variant % 2) as usize];
                (
                    "400 Bad Request",
                    format!(
                        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"Rate of requests exceeds the allowed throughput."}}"#
                    ),
                    "application/x-amz-json-1.0",
                )
            }
            (Service::DynamoDb, _) => (
                "500 Internal Server Error",
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#.to_owned(),
                "application/x-amz-json-1.0",
            ),
            (Service::Query, Fault::Throttled) => {
                let code = ["Throttling", "ThrottlingException"][(variant % 2) as usize];
                (
                    "400 Bad Request",
                    query_error("Sender", code, "Rate exceeded"),
                    "text/xml",
                )
            }
            (Service::Query, _) => (
                "500 Internal Server Error",
                query_error("Receiver", "InternalError", "Internal service error"),
                "text/xml",
            ),
        };
        answer(status, content_type, &body)
    }
}

fn answer(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\nx-amzn-requestid: injected-fault\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn query_error(kind: &str, code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>injected-fault</RequestId></ErrorResponse>"
    )
}

impl Shared {
    /// Whether `request` is the first that holds the plan's text.
    fn refuse_first(&self, request: &Message) -> bool {
        let Some(text) = self.plan.refuse_first_holding else {
            return false;
        };
        let mut state = self.state.lock().expect("proxy state");
        let holds = String::from_utf8_lossy(&request.body).contains(text);
        let first = holds && !state.refused_first;
        state.refused_first |= first;
        first
    }

    /// Draws this call's fate: no fault, or a fault and its moment.
    fn draw(&self, call: &Call) -> (Option<(Fault, Moment)>, u64) {
        let mut state = self.state.lock().expect("proxy state");
        state.stats.calls += 1;
        *state
            .stats
            .operations
            .entry(call.operation.clone())
            .or_default() += 1;
        let roll = state.random.next();
        let kind = state.random.next();
        let variant = state.random.next();
        if roll % 1000 >= u64::from(self.plan.per_mille) {
            return (None, variant);
        }
        let fault = weighted(kind);
        let moment = if variant.is_multiple_of(2) {
            Moment::BeforeForwarding
        } else {
            Moment::AfterForwarding
        };
        *state.stats.faults.entry((fault, moment)).or_default() += 1;
        (Some((fault, moment)), variant / 2)
    }

    /// Serves one client connection, call after call, until it closes or
    /// a fault closes it.
    async fn serve(&self, client: TcpStream) -> io::Result<()> {
        let (read_half, mut write_half) = client.into_split();
        let mut reader = BufReader::new(read_half);
        while let Some(request) = read_message(&mut reader, false).await? {
            let call = Call::of(&request);
            let (fault, variant) = self.draw(&call);
            if self.plan.refuse == Some(call.operation.as_str()) || self.refuse_first(&request) {
                write_half.write_all(&call.refusal()).await?;
                continue;
            }
            if let Some((fault, Moment::BeforeForwarding)) = fault {
                if self.inflict(fault, &call, variant, &mut write_half).await? {
                    continue;
                }
                return Ok(());
            }
            let answer = self.forward(&request).await?;
            let accepted = answer
                .start_line
                .split_whitespace()
                .nth(1)
                .is_some_and(|s| s.starts_with('2'));
            // A client that gave up while moto worked (its own attempt
            // timeout) loses the answer as surely as an injected fault.
            let abandoned = client_gone(&mut reader).await;
            if abandoned {
                self.state.lock().expect("proxy state").stats.abandoned += 1;
            }
            let after_fault = match fault {
                Some((fault, Moment::AfterForwarding)) => Some(fault),
                _ => None,
            };
            if let (true, true, Some(publish)) =
                (accepted, abandoned || after_fault.is_some(), &call.publish)
            {
                self.state
                    .lock()
                    .expect("proxy state")
                    .stats
                    .lost_publishes
                    .push(publish.clone());
            }
            if abandoned {
                return Ok(());
            }
            if let Some(fault) = after_fault {
                if self.inflict(fault, &call, variant, &mut write_half).await? {
                    continue;
                }
                return Ok(());
            }
            // Answer as HTTP/1.1 so the client keeps its connection.
            let status = answer
                .start_line
                .split_once(' ')
                .map_or("502 Bad Gateway", |(_, status)| status);
            write_half
                .write_all(&answer.encode(&format!("HTTP/1.1 {status}"), "keep-alive"))
                .await?;
        }
        Ok(())
    }

    /// Answers with the fault, or holds and closes; whether the connection
    /// stays open for the next call.
    async fn inflict(
        &self,
        fault: Fault,
        call: &Call,
        variant: u64,
        client: &mut OwnedWriteHalf,
    ) -> io::Result<bool> {
        match fault {
            Fault::ServerError | Fault::Throttled => {
                client.write_all(&call.error_answer(fault, variant)).await?;
                Ok(true)
            }
            Fault::Timeout => {
                tokio::time::sleep(self.plan.hold).await;
                Ok(false)
            }
            Fault::Dropped => Ok(false),
        }
    }

    /// One call to moto on its own connection, read to the end.
    async fn forward(&self, request: &Message) -> io::Result<Message> {
        let mut upstream = TcpStream::connect(&self.upstream).await?;
        upstream
            .write_all(&request.encode(&request.start_line, "close"))
            .await?;
        let mut reader = BufReader::new(upstream);
        read_message(&mut reader, true)
            .await?
            .ok_or_else(|| io::ErrorKind::UnexpectedEof.into())
    }
}

/// A small seeded generator (SplitMix64): the same seed, the same faults.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
