//! The `earshot` command as a person uses it: sign a real-shaped delivery,
//! replay it, and look at what was stored and sent, on the embedded default
//! and with `--aws` against moto.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

use earshot::http::HttpRequest;
use earshot::signature::{verify_hex, verify_x};

const DEMO_SECRET: &str = "earshot-demo-secret";
/// The command that puts Sam on the roster.
const ADD_SAM: [&str; 6] = ["roster", "add", "--name", "Sam", "--phone", "+15555550123"];

fn earshot(home: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(args)
        .current_dir(support::repo_path(""))
        .env_remove("EARSHOT_BACKEND")
        .env_remove("X_CONSUMER_SECRET")
        .env("EARSHOT_HOME", home)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("earshot runs")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "earshot failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The reply code an alert SMS (an outbox row) ends with.
fn reply_code(alert: &serde_json::Value) -> String {
    let body = alert["body"].as_str().expect("an SMS body");
    body.rsplit(' ').next().unwrap_or_default().to_owned()
}

fn status_of(response: &str) -> u64 {
    let json: serde_json::Value = serde_json::from_str(response).expect("handler JSON on stdout");
    json["statusCode"].as_u64().expect("statusCode")
}

/// Signs a payload with `secret` through `earshot event x`, into `dir`.
fn signed_event(dir: &Path, payload: &str, secret: &str) -> std::path::PathBuf {
    let payload = support::repo_path(&format!("events/payloads/{payload}"));
    let event = ok(earshot(
        dir,
        &[("X_CONSUMER_SECRET", secret.into())],
        &["event", "x", payload.to_str().unwrap()],
    ));
    let path = dir.join(format!("event-{secret}.json"));
    std::fs::write(&path, event).unwrap();
    path
}

/// A fresh embedded home with Sam on the roster.
fn home_with_sam() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    add_sam(home.path(), &[]);
    home
}

/// The environment that makes `secret` X's consumer secret.
fn x_secret(secret: &str) -> [(&'static str, String); 1] {
    [("X_CONSUMER_SECRET", secret.to_owned())]
}

/// Puts Sam (+15555550123) on the roster of the backend `env` names.
fn add_sam(home: &Path, env: &[(&str, String)]) {
    ok(earshot(home, env, &ADD_SAM));
}

/// Every stored mention, one JSON line each.
fn all_mentions(home: &Path, env: &[(&str, String)]) -> String {
    ok(earshot(
        home,
        env,
        &["mentions", "--json", "--since", "3650d"],
    ))
}

/// The webhook handler's answer to the signed delivery in `event`.
fn invoke_webhook(home: &Path, env: &[(&str, String)], event: &Path) -> String {
    let event = event.to_str().expect("UTF-8 path");
    ok(earshot(home, env, &["invoke", "webhook", event]))
}

/// Adds a watch on `brand` (query "northwind") over `platforms`, with
/// `accounts` as the brand's own.
fn add_watch(home: &Path, env: &[(&str, String)], brand: &str, platforms: &str, accounts: &[&str]) {
    let mut args = vec![
        "watch",
        "add",
        brand,
        "--query",
        "northwind",
        "--platforms",
        platforms,
    ];
    for account in accounts {
        args.extend(["--account", account]);
    }
    ok(earshot(home, env, &args));
}

/// Creates the DynamoDB table when `env` points the command at AWS.
fn set_up_if_on_aws(home: &Path, env: &[(&str, String)]) {
    if env.iter().any(|(name, _)| *name == "EARSHOT_BACKEND") {
        assert!(ok(earshot(home, env, &["setup"])).contains("created DynamoDB table"));
    }
}

/// The local SMS outbox, one JSON line per SMS.
fn outbox(home: &Path) -> String {
    ok(earshot(home, &[], &["outbox", "--json"]))
}

#[test]
fn a_delivery_replayed_twice_gives_one_mention_and_one_sms() {
    let home = home_with_sam();
    let home = home.path();
    let secret = x_secret("replay-secret");
    let event = signed_event(home, "x-urgent-complaint.json", "replay-secret");

    for _ in 0..2 {
        let response = invoke_webhook(home, &secret, &event);
        assert_eq!(status_of(&response), 200, "{response}");
    }

    let mentions = all_mentions(home, &[]);
    assert_eq!(mentions.lines().count(), 1, "{mentions}");
    assert!(mentions.contains("\"x:1862511734012345678\""));
    let outbox = outbox(home);
    assert_eq!(outbox.lines().count(), 1, "{outbox}");
    let sms: serde_json::Value = serde_json::from_str(outbox.lines().next().unwrap()).unwrap();
    assert_eq!(sms["to"], "+15555550123");
    assert!(sms["body"].as_str().unwrap().contains("Reply ACK "));
}

#[test]
fn a_delivery_signed_with_another_secret_is_refused_and_not_stored() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let event = signed_event(home, "x-urgent-complaint.json", "not-our-secret");
    let secret = x_secret("our-secret");
    let response = invoke_webhook(home, &secret, &event);
    assert_eq!(status_of(&response), 401);
    let mentions = all_mentions(home, &[]);
    assert!(mentions.is_empty(), "{mentions}");
}

#[test]
fn a_missing_secret_is_named() {
    let home = tempfile::tempdir().unwrap();
    let event = support::repo_path("events/webhook-x-02-urgent-complaint.json");
    let output = earshot(
        home.path(),
        &[],
        &["invoke", "webhook", event.to_str().unwrap()],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("X_CONSUMER_SECRET"));
}

#[test]
fn phones_are_checked_when_added() {
    let home = tempfile::tempdir().unwrap();
    let output = earshot(
        home.path(),
        &[],
        &["roster", "add", "--name", "Sam", "--phone", "555-0123"],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("E.164"));
    let roster = ok(earshot(home.path(), &[], &["roster", "list", "--json"]));
    assert!(roster.is_empty());
}

#[test]
fn the_demo_pages_for_the_four_urgent_posts_only() {
    let home = tempfile::tempdir().unwrap();
    let output = ok(earshot(home.path(), &[], &["demo"]));
    // Two on X, one on Facebook, one on Mastodon; the edit, removal and
    // duplicate page nobody.
    assert!(output.contains("4 SMS in the outbox"), "{output}");
    assert!(output.contains("edited or removed in place"), "{output}");
    assert!(
        output.contains("duplicate: already stored, no second SMS"),
        "{output}"
    );
    assert!(output.contains("HTTP 401"), "{output}");
    assert!(output.contains("HTTP 400"), "{output}");
}

#[test]
fn sample_events_are_signed_with_the_demo_secret_over_their_payloads() {
    let events = support::repo_path("events");
    let mut checked = 0;
    for entry in std::fs::read_dir(&events).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("webhook-") {
            continue;
        }
        let request: HttpRequest =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if request.method() == "GET" {
            continue;
        }
        let body = request.raw_body().unwrap();
        let valid = if name.starts_with("webhook-x-") {
            let signature = request
                .header("x-twitter-webhooks-signature")
                .expect("signed");
            verify_x(DEMO_SECRET.as_bytes(), &body, signature)
        } else {
            // Meta and Mastodon sign the same way, under different headers.
            let signature = request
                .header("x-hub-signature-256")
                .or_else(|| request.header("x-hub-signature"))
                .expect("signed");
            verify_hex(DEMO_SECRET.as_bytes(), &body, signature)
        };
        assert_eq!(valid, !name.contains("bad-signature"), "{name}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} signed events found");
}

#[test]
fn with_aws_the_same_replay_gives_one_mention_and_one_sms_in_sns() {
    let moto = support::Moto::start();
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let mut env = moto.cli_env(&support::unique_table("cli"));
    assert!(ok(earshot(home, &env, &["setup"])).contains("created DynamoDB table"));
    add_sam(home, &env);
    let event = signed_event(home, "x-urgent-complaint.json", "aws-secret");
    env.push(("X_CONSUMER_SECRET", "aws-secret".into()));

    for _ in 0..2 {
        let response = invoke_webhook(home, &env, &event);
        assert_eq!(status_of(&response), 200, "{response}");
    }
    let sms = moto.sms_sent();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0].0, "+15555550123");
    let mentions = all_mentions(home, &env);
    assert_eq!(mentions.lines().count(), 1, "{mentions}");
    // Nothing was written to the embedded store on the way.
    assert!(!home.join("earshot.db").exists());
}

#[test]
fn the_report_times_each_step_from_the_customers_post() {
    let home = home_with_sam();
    let home = home.path();
    let secret = x_secret("report-secret");
    let at = |time: &str| format!("2026-11-24T{time}Z");
    for (payload, time) in [
        ("x-urgent-complaint.json", "09:45:07"),
        ("x-brand-reply.json", "09:49:30"),
    ] {
        let event = signed_event(home, payload, "report-secret");
        ok(earshot(
            home,
            &secret,
            &[
                "invoke",
                "webhook",
                event.to_str().unwrap(),
                "--now",
                &at(time),
            ],
        ));
    }
    let outbox = outbox(home);
    let alert: serde_json::Value = serde_json::from_str(outbox.lines().next().unwrap()).unwrap();
    assert_eq!(
        alert["sent_at"],
        at("09:45:07"),
        "stamped by --now: {alert}"
    );
    let code = reply_code(&alert);
    ok(earshot(
        home,
        &[],
        &[
            "sms",
            "+15555550123",
            &format!("ACK {code}"),
            "--now",
            &at("09:51:07"),
        ],
    ));
    ok(earshot(
        home,
        &[],
        &[
            "sms",
            "+15555550123",
            &format!("DONE {code}"),
            "--now",
            &at("10:11:07"),
        ],
    ));

    // The carrier reports the alert SMS delivered 3 s after it was sent.
    let receipt = earshot::delivery::LogsEvent::encode(&earshot::delivery::LogsBatch {
        message_type: earshot::delivery::DATA_MESSAGE.into(),
        log_group: "sns/us-east-1/123456789012/DirectPublishToPhoneNumber".into(),
        log_events: vec![earshot::delivery::LogLine {
            id: "1".into(),
            timestamp: 0,
            message: earshot::delivery::delivery_log_line(
                "outbox-1",
                &earshot::domain::PhoneNumber::parse("+15555550123").unwrap(),
                true,
                "Message has been accepted by phone",
                at("09:45:07").parse().unwrap(),
                3_000,
            ),
        }],
    });
    let receipt_file = home.join("delivery.json");
    std::fs::write(&receipt_file, serde_json::to_string(&receipt).unwrap()).unwrap();
    ok(earshot(
        home,
        &[],
        &["invoke", "delivery", receipt_file.to_str().unwrap()],
    ));

    let report = ok(earshot(
        home,
        &[],
        &[
            "report",
            "--json",
            "--since",
            "1d",
            "--now",
            &at("10:30:00"),
        ],
    ));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let phone = &report["by_phone"]["+15555550123"];
    assert_eq!(
        (phone["sms"].as_u64(), phone["failed"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(phone["failure_rate"], 0.0);
    assert_eq!(phone["to_delivered"]["p50_seconds"], 3);
    // The post was created at 09:41:07.
    let brand = &report["by_brand"]["NorthwindAir"];
    assert_eq!(brand["alerts"], 1);
    assert_eq!(brand["to_first_sms"]["p50_seconds"], 4 * 60);
    assert_eq!(brand["to_ack"]["p50_seconds"], 10 * 60);
    assert_eq!(brand["to_done"]["p90_seconds"], 30 * 60);
    assert_eq!(brand["to_brand_reply"]["p50_seconds"], 8 * 60 + 5);
    assert_eq!(report["by_person"]["Sam"]["to_ack"]["count"], 1);
    let table = ok(earshot(
        home,
        &[],
        &["report", "--since", "1d", "--now", &at("10:30:00")],
    ));
    assert!(
        table.contains("NorthwindAir") && table.contains("10m 00s / 10m 00s"),
        "{table}"
    );
    assert!(
        table.contains("+15555550123") && table.contains("0%"),
        "{table}"
    );

    // The mention list says who has the alert and who closed it.
    let listed = ok(earshot(
        home,
        &[],
        &[
            "mentions",
            "--json",
            "--since",
            "1d",
            "--now",
            &at("10:30:00"),
        ],
    ));
    let alerted: Vec<serde_json::Value> = listed
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|row: &serde_json::Value| row["alert_code"] == code.as_str())
        .collect();
    assert_eq!(alerted.len(), 1, "{listed}");
    assert_eq!(alerted[0]["owner"], "Sam");
    assert_eq!(alerted[0]["closed_by"], "Sam");
    let table = ok(earshot(
        home,
        &[],
        &["mentions", "--since", "1d", "--now", &at("10:30:00")],
    ));
    assert!(table.contains(&format!("{code} Sam done")), "{table}");
}

/// `earshot invoke poll` against a Reddit search replayed by a local
/// server: the first run stores both posts, the second finds them again
/// and stores nothing, on the embedded store and with `--aws` on moto.
#[tokio::test(flavor = "multi_thread")]
async fn invoke_poll_stores_each_post_once_on_both_backends() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let reddit = MockServer::start().await;
    let post = |id: &str, minute: u32| {
        serde_json::json!({"kind": "t3", "data": {
            "id": id, "name": format!("t3_{id}"), "author": "stranded_in_oslo",
            "title": "Northwind cancelled our flight and nobody answers the phone",
            "selftext": "Two kids, no hotel, desk closed.", "subreddit": "travel",
            "permalink": format!("/r/travel/comments/{id}/northwind/"),
            "url": format!("https://www.reddit.com/r/travel/comments/{id}/northwind/"),
            "created_utc": 1_795_513_200.0 + f64::from(minute) * 60.0
        }})
    };
    Mock::given(method("GET"))
        .and(path("/search.json"))
        .and(query_param("q", "northwind"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "kind": "Listing",
            "data": {"after": null, "before": null, "children": [post("p2", 5), post("p1", 2)]}
        })))
        .mount(&reddit)
        .await;

    let moto = support::Moto::start();
    let aws_env = moto.cli_env(&support::unique_table("clipoll"));
    for env in [Vec::new(), aws_env] {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let mut env = env;
        env.push(("REDDIT_API_BASE_URL", reddit.uri()));
        set_up_if_on_aws(home, &env);
        add_watch(home, &env, "Northwind", "reddit", &[]);
        let event = support::repo_path("events/poll-schedule.json");
        let run = |minute: &str| {
            let now = format!("2026-11-24T09:{minute}:00Z");
            let output = ok(earshot(
                home,
                &env,
                &["invoke", "poll", event.to_str().unwrap(), "--now", &now],
            ));
            let summary: serde_json::Value = serde_json::from_str(&output).unwrap();
            let source = &summary["sources"][0];
            assert_eq!(source["platform"], "reddit", "{output}");
            (
                source["stored"].as_u64().unwrap(),
                source["duplicates"].as_u64().unwrap(),
            )
        };
        assert_eq!(run("50"), (2, 0));
        let (stored, _) = run("51");
        assert_eq!(stored, 0, "the second run stores nothing new");

        let mentions = all_mentions(home, &env);
        assert_eq!(mentions.lines().count(), 2, "{mentions}");
        let sources = ok(earshot(home, &env, &["sources", "--json"]));
        let source: serde_json::Value =
            serde_json::from_str(sources.lines().next().unwrap()).unwrap();
        assert_eq!(source["consecutive_failures"], 0, "{sources}");
        assert!(source["last_success"].is_string(), "{sources}");
    }
}

/// A watch's triage settings reach the webhook: the brand's VIP pages for
/// a complaint that would otherwise wait for the day, and the mention is
/// filed under the watch that lists the X account.
#[test]
fn a_watchs_vip_pages_where_others_would_not() {
    let secret = x_secret("vip-secret");
    let replay = |vip: Option<&str>| {
        let home = home_with_sam();
        let home = home.path();
        add_watch(home, &[], "Northwind", "reddit", &["x:NorthwindAir"]);
        if let Some(vip) = vip {
            let tuned = ok(earshot(
                home,
                &[],
                &[
                    "watch",
                    "triage",
                    "Northwind",
                    "--vip",
                    vip,
                    "--reach",
                    "500",
                ],
            ));
            assert!(
                tuned.contains("\"vip_authors\":[\"priya_travels\"]"),
                "{tuned}"
            );
            let listed = ok(earshot(home, &[], &["watch", "list", "--json"]));
            assert!(listed.contains("\"reach_threshold\":500"), "{listed}");
        }
        let event = signed_event(home, "x-mild-complaint.json", "vip-secret");
        let response = invoke_webhook(home, &secret, &event);
        let json: serde_json::Value = serde_json::from_str(&response).unwrap();
        let body: serde_json::Value = serde_json::from_str(json["body"].as_str().unwrap()).unwrap();
        let mentions = all_mentions(home, &[]);
        assert!(mentions.contains("\"brand\":\"Northwind\""), "{mentions}");
        let outbox = outbox(home);
        (body["mentions"][0].clone(), outbox)
    };

    let (plain, outbox) = replay(None);
    assert_eq!(plain["priority"], "P2", "{plain}");
    assert!(outbox.trim().is_empty(), "{outbox}");

    let (tuned, outbox) = replay(Some("@priya_travels"));
    assert_eq!(tuned["priority"], "P1", "{tuned}");
    assert_eq!(tuned["sms_sent"], 1);
    assert!(outbox.contains("VIP"), "{outbox}");
}

/// The sample Meta and Mastodon events through `earshot invoke webhook`,
/// on the embedded store and with `--aws` on moto: each stored once, the
/// edit applied in place, and the same SMS count on both.
#[test]
fn meta_and_mastodon_samples_replay_alike_on_both_backends() {
    let moto = support::Moto::start();
    let aws_env = moto.cli_env(&support::unique_table("clihooks"));
    let events = [
        "webhook-meta-01-verify.json",
        "webhook-meta-02-page-comment.json",
        "webhook-meta-04-comment-edited.json",
        "webhook-mastodon-01-status-created.json",
        "webhook-mastodon-02-status-updated.json",
    ];
    let mut answers = Vec::new();
    for mut env in [Vec::new(), aws_env] {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        set_up_if_on_aws(home, &env);
        for secret in [
            "X_CONSUMER_SECRET",
            "META_APP_SECRET",
            "META_VERIFY_TOKEN",
            "MASTODON_WEBHOOK_SECRET",
        ] {
            env.push((secret, DEMO_SECRET.into()));
        }
        add_sam(home, &env);
        add_watch(
            home,
            &env,
            "NorthwindAir",
            "none",
            &["facebook:104200000000777", "mastodon:NorthwindAir"],
        );
        let mut statuses = Vec::new();
        for event in events {
            let path = support::repo_path(&format!("events/{event}"));
            let response = invoke_webhook(home, &env, &path);
            statuses.push(status_of(&response));
            if event.contains("verify") {
                assert!(response.contains("1158201444"), "{response}");
            }
        }
        let mentions = all_mentions(home, &env);
        assert_eq!(mentions.lines().count(), 2, "{mentions}");
        assert!(
            mentions.contains("3 hours now."),
            "the edit is stored: {mentions}"
        );
        assert!(mentions.contains("She is having a reaction."), "{mentions}");
        answers.push(statuses);
    }
    assert_eq!(answers[0], vec![200; 5]);
    assert_eq!(answers[0], answers[1]);
    assert_eq!(moto.sms_sent().len(), 2, "{:?}", moto.sms_sent());
}

/// Staff verdicts become training data: an alert closed with DONE is a
/// complaint, one called NOISE is not, and `earshot train --also` fits a
/// model on them together with the project's corpus.
#[test]
fn staff_verdicts_are_exported_as_labelled_posts_and_train_a_model() {
    let home = home_with_sam();
    let home = home.path();
    let secret = x_secret("feedback-secret");
    for payload in ["x-urgent-complaint.json", "x-activity-mention.json"] {
        let event = signed_event(home, payload, "feedback-secret");
        invoke_webhook(home, &secret, &event);
        std::fs::remove_file(event).unwrap();
    }
    let outbox = outbox(home);
    let codes: Vec<String> = outbox
        .lines()
        .map(|line| reply_code(&serde_json::from_str(line).unwrap()))
        .collect();
    assert_eq!(codes.len(), 2, "{outbox}");
    let reply = |text: String| ok(earshot(home, &[], &["sms", "+15555550123", &text]));
    reply(format!("NOISE {}", codes[0]));
    reply(format!("ACK {}", codes[1]));
    reply(format!("DONE {}", codes[1]));

    let csv_path = home.join("feedback.csv");
    ok(earshot(
        home,
        &[],
        &["feedback", "--output", csv_path.to_str().unwrap()],
    ));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let mut labels: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[2].to_owned())
        })
        .collect();
    labels.sort();
    assert_eq!(labels.len(), 2, "{labels:?}");
    let noise_id = labels
        .iter()
        .find(|(_, label)| label == "0")
        .map(|(id, _)| id.clone());
    let done_id = labels
        .iter()
        .find(|(_, label)| label == "1")
        .map(|(id, _)| id.clone());
    assert!(noise_id.is_some() && done_id.is_some(), "{labels:?}");
    assert_ne!(noise_id, done_id);

    let model = home.join("model.bin");
    let corpus = support::repo_path("data/triage-corpus.csv");
    let trained = ok(earshot(
        home,
        &[],
        &[
            "train",
            "--input",
            corpus.to_str().unwrap(),
            "--also",
            csv_path.to_str().unwrap(),
            "--output",
            model.to_str().unwrap(),
        ],
    ));
    let corpus_posts = csv::Reader::from_path(&corpus).unwrap().records().count();
    let expected = format!("trained on {} posts", corpus_posts + 2);
    assert!(trained.contains(&expected), "{trained}");
    assert!(model.metadata().unwrap().len() > 0);
}

/// `earshot sms ... "REPLY <code> 1"` posts the approved reply to the X base
/// URL from the environment (a loopback server here), once.
#[tokio::test(flavor = "multi_thread")]
async fn reply_by_sms_posts_the_approved_template_to_the_configured_platform() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let x = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(support::X_POSTS_ROUTE))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            serde_json::json!({"data": {"id": "1864771234567890123", "text": "Sorry"}}),
        ))
        .expect(1)
        .mount(&x)
        .await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let env = [
        ("X_CONSUMER_SECRET", "reply-secret".to_owned()),
        ("X_API_BASE_URL", x.uri()),
        ("X_REPLY_TOKEN", "x-user-token".to_owned()),
    ];
    let run = |args: &[&str]| ok(earshot(home, &env, args));
    run(&[&ADD_SAM[..], &["--can-reply"]].concat());
    assert!(run(&["roster", "list"]).contains("can reply"));
    add_watch(home, &env, "Northwind", "none", &["x:NorthwindAir"]);
    let added = run(&[
        "watch",
        "reply-template",
        "Northwind",
        "add",
        "We're so sorry, {first_name}. We'll DM you within 15 minutes.",
        "--within-minutes",
        "15",
    ]);
    assert!(added.contains("reply 1 approved"), "{added}");
    let refused = earshot(
        home,
        &[],
        &["watch", "reply-template", "Northwind", "add", "Hi {name}"],
    );
    assert!(!refused.status.success());
    let event = signed_event(home, "x-urgent-complaint.json", "reply-secret");
    run(&["invoke", "webhook", event.to_str().unwrap()]);
    let outbox = run(&["outbox", "--json"]);
    let alert: serde_json::Value = serde_json::from_str(outbox.lines().next().unwrap()).unwrap();
    let code = reply_code(&alert);

    let summary = run(&["sms", "+15555550123", &format!("REPLY {code} 1")]);
    assert!(summary.contains("Posted reply 1"), "{summary}");
    let again = run(&["sms", "+15555550123", &format!("REPLY {code} 1")]);
    assert!(again.contains("already posted"), "{again}");
    let sent: serde_json::Value = x.received_requests().await.unwrap()[0].body_json().unwrap();
    assert_eq!(
        sent["text"],
        "We're so sorry, Dana. We'll DM you within 15 minutes."
    );
}

#[test]
fn the_rota_names_who_is_on_shift_across_a_dst_change_and_refuses_bad_input() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| earshot(home.path(), &[], args);
    for (name, phone) in [("Sam", "+15555550100"), ("Kim", "+15555550101")] {
        ok(run(&["roster", "add", "--name", name, "--phone", phone]));
    }
    let add = |people: &str| {
        run(&[
            "rota",
            "add",
            "--tier",
            "1",
            "--people",
            people,
            "--handover",
            "Mon 09:00",
            "--time-zone",
            "Europe/London",
            "--from",
            "2026-03-16",
        ])
    };
    // Someone not on the roster cannot be put on shift; nothing is stored.
    let refused = add("+15555550100,+15555550199");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not on the roster"));
    assert!(ok(run(&["rota", "list"])).starts_with("No rota"));
    ok(add("+15555550100,+15555550101"));
    // Monday 09:00 in London is 08:00 UTC once summer time starts (29 March).
    let at = |now: &str| ok(run(&["rota", "list", "--now", now]));
    assert!(at("2026-03-30T07:59:00Z").contains("on shift now: Kim, until 2026-03-30 08:00 UTC"));
    assert!(at("2026-03-30T08:00:00Z").contains("on shift now: Sam, until 2026-04-06 08:00 UTC"));
    let cover = ok(run(&[
        "rota",
        "override",
        "--tier",
        "1",
        "--phone",
        "+15555550101",
        "--from",
        "2026-03-31T12:00:00Z",
        "--until",
        "2026-03-31T18:00:00Z",
    ]));
    assert!(cover.contains("override T1-20260331T1200-0101"), "{cover}");
    assert!(at("2026-03-31T13:00:00Z").contains("on shift now: Kim, until 2026-03-31 18:00 UTC"));
    let backwards = run(&[
        "rota",
        "override",
        "--tier",
        "1",
        "--phone",
        "+15555550100",
        "--from",
        "2026-03-31T12:00:00Z",
        "--until",
        "2026-03-31T11:00:00Z",
    ]);
    assert!(String::from_utf8_lossy(&backwards.stderr).contains("must end after it starts"));
    ok(run(&[
        "rota",
        "remove",
        "--override",
        "T1-20260331T1200-0101",
    ]));
    ok(run(&["rota", "remove", "--tier", "1"]));
    assert!(!run(&["rota", "remove", "--tier", "1"]).status.success());
    assert!(at("2026-03-31T13:00:00Z").starts_with("No rota"));
}

#[test]
fn a_number_whose_sms_failed_shows_in_the_roster_once_per_receipt() {
    let home = home_with_sam();
    let run = |args: &[&str]| earshot(home.path(), &[], args);
    assert!(!ok(run(&["roster", "list"])).contains("FAILING"));
    // The same receipt delivered twice counts once.
    for _ in 0..2 {
        ok(run(&["invoke", "delivery", "events/delivery-failure.json"]));
    }
    let listed = ok(run(&["roster", "list"]));
    assert!(
        listed.contains("SMS FAILING: 1 in a row (Phone is currently unreachable/unavailable)"),
        "{listed}"
    );
    let json: serde_json::Value =
        serde_json::from_str(ok(run(&["roster", "list", "--json"])).trim()).unwrap();
    assert_eq!(json["sms_failures"], 1);
    assert_eq!(json["name"], "Sam");
}
