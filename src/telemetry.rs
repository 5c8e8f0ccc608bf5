//! Structured logs. Lambda functions write one JSON object a line with the
//! keys Lambda users search by (Powertools' names: `level`, `message`,
//! `timestamp`, `service`, `cold_start`, `function_request_id`,
//! `xray_trace_id`) next to the event's and its spans' own fields. The CLI
//! writes plain text on standard error.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's logging
//! configuration), else from `RUST_LOG` (`info`, `earshot=debug,warn`, ...),
//! else the default.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The span lambda_runtime opens around each invocation; its fields carry
/// the request and trace ids.
const INVOCATION_SPAN: &str = "Lambda runtime invoke";
const RUNTIME_REQUEST_ID: &str = "requestId";
const RUNTIME_TRACE_ID: &str = "xrayTraceId";

pub const LAMBDA_LOG_LEVEL_VAR: &str = "AWS_LAMBDA_LOG_LEVEL";
pub const RUST_LOG_VAR: &str = "RUST_LOG";
pub const SERVICE_VAR: &str = "POWERTOOLS_SERVICE_NAME";
const FUNCTION_NAME_VAR: &str = "AWS_LAMBDA_FUNCTION_NAME";
const DEFAULT_SERVICE: &str = "earshot";
/// Earshot's own log targets; the only ones written at TRACE.
const OWN_TARGET: &str = "earshot";

/// The keys every Lambda log line has. Event or span fields of the same name
/// are left out rather than let them overwrite these.
pub const LAMBDA_KEYS: &[&str] = &[
    "level",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_request_id",
    "xray_trace_id",
    "function_name",
    "target",
];

/// One JSON object a line on standard output, for Lambda.
pub fn init_json() {
    let env = |name| std::env::var(name).ok();
    let filter = Verbosity::from_settings(
        env(LAMBDA_LOG_LEVEL_VAR).as_deref(),
        env(RUST_LOG_VAR).as_deref(),
        LevelFilter::INFO,
    );
    let service = env(SERVICE_VAR).unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
    let layer = LambdaJson::new(service, env(FUNCTION_NAME_VAR), std::io::stdout());
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

/// Plain text on standard error, for the CLI; `default_level` applies when
/// `RUST_LOG` is not set.
#[cfg(feature = "cli")]
pub fn init_cli(default_level: &str) {
    let default_level = LevelFilter::from_str(default_level).unwrap_or(LevelFilter::WARN);
    let rust_log = std::env::var(RUST_LOG_VAR).ok();
    let filter = Verbosity::from_settings(None, rust_log.as_deref(), default_level).targets;
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .try_init();
}

/// Which events are written: a per-target level, except that spans at INFO
/// and above are always kept so a warning still names its request.
#[derive(Debug, Clone)]
pub struct Verbosity {
    targets: Targets,
}

impl Verbosity {
    /// `lambda_level` (`TRACE` ... `ERROR`, or `FATAL`) wins over
    /// `rust_log`; an unreadable value falls through to the next one.
    pub fn from_settings(
        lambda_level: Option<&str>,
        rust_log: Option<&str>,
        default: LevelFilter,
    ) -> Self {
        let from_lambda = lambda_level.and_then(lambda_level_filter);
        let targets = match from_lambda {
            Some(level) => Targets::new().with_default(level),
            None => rust_log
                .filter(|value| !value.trim().is_empty())
                .and_then(|value| Targets::from_str(value).ok())
                .unwrap_or_else(|| Targets::new().with_default(default)),
        };
        Self { targets }
    }

    pub fn enables(&self, target: &str, level: &Level) -> bool {
        self.targets.would_enable(target, level)
    }
}

/// Lambda's application log levels; FATAL has no tracing level of its own.
fn lambda_level_filter(value: &str) -> Option<LevelFilter> {
    match value.trim().to_ascii_uppercase().as_str() {
        "FATAL" => Some(LevelFilter::ERROR),
        other => LevelFilter::from_str(other).ok(),
    }
}

impl<S> Filter<S> for Verbosity {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        if *meta.level() == Level::TRACE && !meta.target().starts_with(OWN_TARGET) {
            // The SDK and HTTP crates print whole requests and responses
            // (phone numbers, message text) at TRACE.
            return false;
        }
        (meta.is_span() && *meta.level() <= Level::INFO)
            || self.targets.would_enable(meta.target(), meta.level())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let events = <Targets as Filter<S>>::max_level_hint(&self.targets)?;
        Some(events.max(LevelFilter::INFO))
    }
}

/// Writes each event as one JSON object a line to `out`.
pub struct LambdaJson<W> {
    service: String,
    function_name: Option<String>,
    /// The first invocation this process served: its lines, and the init
    /// lines before it, are the cold start.
    first_request: OnceLock<String>,
    out: Mutex<W>,
}

impl<W: Write> LambdaJson<W> {
    pub fn new(service: String, function_name: Option<String>, out: W) -> Self {
        Self {
            service,
            function_name,
            first_request: OnceLock::new(),
            out: Mutex::new(out),
        }
    }
}

/// A span's fields, kept in its extensions until the span closes.
#[derive(Default)]
struct SpanFields(Vec<(&'static str, Value)>);

impl SpanFields {
    fn set(&mut self, name: &'static str, value: Value) {
        match self.0.iter_mut().find(|(key, _)| *key == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    fn get_str(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.as_str())
    }
}

impl Visit for SpanFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.set(field.name(), Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.set(field.name(), Value::from(text));
    }
}

/// The keys of one line in the order they are written.
struct Line<'a>(Vec<(&'a str, &'a Value)>);

/// Adds a span's or the event's field; an inner span's or the event's own
/// value wins over an outer one.
fn push_field<'a>(entries: &mut Vec<(&'a str, &'a Value)>, name: &'a str, value: &'a Value) {
    if LAMBDA_KEYS.contains(&name) {
        return;
    }
    match entries.iter_mut().find(|(key, _)| *key == name) {
        Some(slot) => slot.1 = value,
        None => entries.push((name, value)),
    }
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<S, W> Layer<S> for LambdaJson<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: Write + Send + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut fields);
        if attrs.metadata().name() == INVOCATION_SPAN
            && let Some(request_id) = fields.get_str(RUNTIME_REQUEST_ID)
        {
            self.first_request.get_or_init(|| request_id.to_owned());
        }
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if let Some(fields) = span.extensions_mut().get_mut::<SpanFields>() {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut own = SpanFields::default();
        event.record(&mut own);

        let mut request_id = None;
        let mut trace_id = None;
        let mut inherited: Vec<(&'static str, Value)> = Vec::new();
        for span in ctx
            .event_scope(event)
            .into_iter()
            .flat_map(|s| s.from_root())
        {
            let extensions = span.extensions();
            let Some(fields) = extensions.get::<SpanFields>() else {
                continue;
            };
            if span.name() == INVOCATION_SPAN {
                request_id = fields.get_str(RUNTIME_REQUEST_ID).map(str::to_owned);
                trace_id = fields.get_str(RUNTIME_TRACE_ID).map(str::to_owned);
                continue;
            }
            inherited.extend(fields.0.iter().cloned());
        }
        let cold_start = match (&request_id, self.first_request.get()) {
            (Some(current), Some(first)) => current == first,
            // Outside an invocation: the init phase until the first one.
            (None, first) => first.is_none(),
            (Some(_), None) => true,
        };

        let level = Value::from(meta.level().as_str());
        let message = own
            .0
            .iter()
            .find(|(key, _)| *key == "message")
            .map(|(_, value)| value.clone())
            .unwrap_or(Value::from(""));
        let timestamp =
            Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        let service = Value::from(self.service.as_str());
        let cold_start = Value::from(cold_start);
        let request_id = request_id.map(Value::from);
        let trace_id = trace_id.map(Value::from);
        let function_name = self.function_name.as_deref().map(Value::from);
        let target = Value::from(meta.target());

        let mut entries: Vec<(&str, &Value)> = vec![
            ("level", &level),
            ("message", &message),
            ("timestamp", &timestamp),
            ("service", &service),
            ("cold_start", &cold_start),
        ];
        if let Some(id) = &request_id {
            entries.push(("function_request_id", id));
        }
        if let Some(id) = &trace_id {
            entries.push(("xray_trace_id", id));
        }
        if let Some(name) = &function_name {
            entries.push(("function_name", name));
        }
        entries.push(("target", &target));
        for (name, value) in inherited.iter().chain(own.0.iter()) {
            push_field(&mut entries, name, value);
        }

        let Ok(mut text) = serde_json::to_vec(&Line(entries)) else {
            return;
        };
        text.push(b'\n');
        // One write a line, so lines from concurrent tasks never interleave.
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(&text);
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tracing::{debug, info, info_span, warn};
    use tracing_subscriber::Registry;

    use super::*;

    /// A writer the test can read back after the subscriber is done.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<serde_json::Map<String, Value>> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .map(|line| match serde_json::from_str(line) {
                    Ok(Value::Object(map)) => map,
                    other => panic!("not a JSON object: {line} ({other:?})"),
                })
                .collect()
        }
    }

    fn logged(verbosity: Verbosity, run: impl FnOnce()) -> Vec<serde_json::Map<String, Value>> {
        let out = Captured::default();
        let layer = LambdaJson::new("earshot".into(), Some("webhook".into()), out.clone());
        let subscriber = Registry::default().with(layer.with_filter(verbosity));
        tracing::subscriber::with_default(subscriber, run);
        out.lines()
    }

    fn at(level: &str) -> Verbosity {
        Verbosity::from_settings(Some(level), None, LevelFilter::INFO)
    }

    /// What lambda_runtime does around one invocation.
    fn invocation(request_id: &str, trace_id: Option<&str>, body: impl FnOnce()) {
        let span = match trace_id {
            Some(trace) => info_span!(
                "Lambda runtime invoke",
                requestId = request_id,
                xrayTraceId = trace
            ),
            None => info_span!("Lambda runtime invoke", requestId = request_id),
        };
        span.in_scope(body);
    }

    #[test]
    fn each_line_carries_the_lambda_keys_and_the_structured_fields() {
        let lines = logged(at("INFO"), || {
            invocation("req-1", Some("Root=1-abc"), || {
                info_span!("handle", path = "/x").in_scope(|| {
                    info!(stored = 2, platform = "x", "delivery stored");
                });
            });
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "delivery stored");
        assert_eq!(line["service"], "earshot");
        assert_eq!(line["function_name"], "webhook");
        assert_eq!(line["cold_start"], true);
        assert_eq!(line["function_request_id"], "req-1");
        assert_eq!(line["xray_trace_id"], "Root=1-abc");
        assert_eq!(line["stored"], 2);
        assert_eq!(line["platform"], "x");
        assert_eq!(line["path"], "/x");
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
            "{timestamp}"
        );
        // The runtime's own field names are not repeated.
        assert!(!line.contains_key("requestId"), "{line:?}");
    }

    #[test]
    fn only_the_first_invocation_and_the_init_before_it_are_the_cold_start() {
        let lines = logged(at("INFO"), || {
            info!("configuration read");
            invocation("req-1", None, || info!("first"));
            info!("between invocations");
            invocation("req-2", None, || info!("second"));
        });
        let cold: Vec<(&Value, &Value)> = lines
            .iter()
            .map(|line| (&line["message"], &line["cold_start"]))
            .collect();
        assert_eq!(
            cold,
            [
                (&Value::from("configuration read"), &Value::from(true)),
                (&Value::from("first"), &Value::from(true)),
                (&Value::from("between invocations"), &Value::from(false)),
                (&Value::from("second"), &Value::from(false)),
            ]
        );
        assert!(!lines[0].contains_key("function_request_id"));
        assert!(
            !lines[3].contains_key("xray_trace_id"),
            "no trace id, no key"
        );
    }

    #[test]
    fn lambda_log_level_wins_over_rust_log_and_fatal_means_error() {
        let warn_only = Verbosity::from_settings(Some("WARN"), Some("debug"), LevelFilter::INFO);
        assert!(!warn_only.enables("earshot", &Level::INFO));
        assert!(warn_only.enables("earshot", &Level::WARN));

        let fatal = Verbosity::from_settings(Some("FATAL"), None, LevelFilter::INFO);
        assert!(!fatal.enables("earshot", &Level::WARN));
        assert!(fatal.enables("earshot", &Level::ERROR));

        let rust_log =
            Verbosity::from_settings(None, Some("earshot=debug,warn"), LevelFilter::INFO);
        assert!(rust_log.enables("earshot::webhook", &Level::DEBUG));
        assert!(!rust_log.enables("aws_smithy_runtime", &Level::INFO));

        let unreadable = Verbosity::from_settings(Some("loud"), None, LevelFilter::INFO);
        assert!(unreadable.enables("earshot", &Level::INFO));
        assert!(!unreadable.enables("earshot", &Level::DEBUG));
    }

    #[test]
    fn a_warning_under_a_warn_level_still_names_its_request() {
        let lines = logged(at("WARN"), || {
            invocation("req-9", None, || {
                info!("not written");
                debug!("not written either");
                warn!(reason = "timeout", "SMS failed");
            });
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["message"], "SMS failed");
        assert_eq!(lines[0]["function_request_id"], "req-9");
        assert_eq!(lines[0]["reason"], "timeout");
    }

    #[test]
    fn only_earshot_itself_is_written_at_trace() {
        let lines = logged(at("TRACE"), || {
            tracing::trace!(target: "aws_smithy_runtime::client", body = "PhoneNumber=%2B15555550142", "transmitting request");
            tracing::debug!(target: "aws_smithy_runtime::client", "retrying");
            tracing::trace!(target: "earshot::ingest", "triaged");
        });
        let messages: Vec<&Value> = lines.iter().map(|line| &line["message"]).collect();
        assert_eq!(
            messages,
            [&Value::from("retrying"), &Value::from("triaged")]
        );
    }

    #[test]
    fn a_field_named_like_a_lambda_key_does_not_replace_it() {
        let lines = logged(at("INFO"), || {
            info!(service = "sns", level = "high", "sent");
        });
        assert_eq!(lines[0]["service"], "earshot");
        assert_eq!(lines[0]["level"], "INFO");
    }
}
