//! The webhook's HTTP contract: routes, challenges, limits and bad input,
//! on the embedded store (no AWS needed for these answers).

use crate::support;

use earshot::adapters::Deps;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::http::HttpRequest;
use earshot::signature::x_signature;
use earshot::webhook::{MAX_BODY_BYTES, Webhook, WebhookSecrets, X_PATH};

const SECRET: &str = "http-test-secret";

struct Local {
    _home: tempfile::TempDir,
    webhook: Webhook,
    store: earshot::adapters::embedded::EmbeddedStore,
}

async fn local() -> Local {
    let home = tempfile::tempdir().unwrap();
    let (deps, store) = Deps::embedded(home.path(), false, Clock::System).unwrap();
    support::seat_on_call(deps.roster.as_ref(), &[("Sam", "+15555550100", 1)]).await;
    let webhook = Webhook::new(
        WebhookSecrets::x_only(Secret::new(SECRET)),
        &deps,
        Clock::System,
    )
    .unwrap();
    Local {
        _home: home,
        webhook,
        store,
    }
}

impl Local {
    /// The webhook's answer to an unsigned `method` on `path`.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> earshot::http::HttpResponse {
        let request = HttpRequest::new(method, path, "", &[], body);
        self.webhook.handle(&request).await
    }
}

fn signed(body: &str) -> HttpRequest {
    support::signed_x_delivery(SECRET, body.to_owned())
}

fn error_of(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).expect("JSON error body");
    json["error"].as_str().expect("an error message").to_owned()
}

#[tokio::test]
async fn the_crc_challenge_is_answered_with_the_signed_token() {
    let local = local().await;
    let request = HttpRequest::new("GET", X_PATH, "crc_token=abc%2B123", &[], None);
    let response = local.webhook.handle(&request).await;
    assert_eq!(response.status_code, 200);
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(
        body["response_token"],
        x_signature(SECRET.as_bytes(), b"abc+123")
    );
}

#[tokio::test]
async fn a_challenge_without_a_token_is_a_400() {
    let local = local().await;
    let response = local.call("GET", X_PATH, None).await;
    assert_eq!(response.status_code, 400);
    assert!(error_of(&response.body).contains("crc_token"));
}

#[tokio::test]
async fn unknown_paths_are_404_and_other_methods_405() {
    let local = local().await;
    let response = local.call("POST", "/webhooks/myspace", None).await;
    assert_eq!(response.status_code, 404);
    let response = local.call("DELETE", X_PATH, None).await;
    assert_eq!(response.status_code, 405);
    assert_eq!(
        response.headers.get("allow").map(String::as_str),
        Some("GET, POST")
    );
}

#[tokio::test]
async fn a_missing_signature_is_a_401() {
    let local = local().await;
    let body = support::payload("x-urgent-complaint.json");
    let response = local.call("POST", X_PATH, Some(body)).await;
    assert_eq!(response.status_code, 401);
    assert!(local.store.outbox().unwrap().is_empty());
}

#[tokio::test]
async fn malformed_json_is_a_400_that_says_so() {
    let local = local().await;
    let response = local
        .webhook
        .handle(&signed("{\"for_user_id\": \"1\", "))
        .await;
    assert_eq!(response.status_code, 400);
    assert!(error_of(&response.body).starts_with("body is not valid JSON"));
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_a_413() {
    let local = local().await;
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES));
    let response = local.webhook.handle(&signed(&huge)).await;
    assert_eq!(response.status_code, 413);
}

#[tokio::test]
async fn base64_bodies_are_verified_after_decoding() {
    use base64::Engine;
    let local = local().await;
    let body = support::payload("x-mild-complaint.json");
    let mut request = signed(&body);
    request.body = Some(base64::engine::general_purpose::STANDARD.encode(&body));
    request.is_base64_encoded = true;
    let response = local.webhook.handle(&request).await;
    assert_eq!(response.status_code, 200, "{}", response.body);

    request.body = Some("%%% not base64 %%%".into());
    assert_eq!(local.webhook.handle(&request).await.status_code, 400);
}

#[tokio::test]
async fn no_truncation_or_mangling_of_a_delivery_makes_the_handler_panic() {
    let local = local().await;
    let body = support::payload("x-urgent-complaint.json");
    let mut seen = std::collections::BTreeSet::new();
    // Every prefix of a real delivery, then every single-byte swap to a
    // character that changes JSON types.
    let mut variants: Vec<String> = (0..body.len())
        .filter_map(|n| body.get(..n).map(str::to_owned))
        .collect();
    for (i, c) in body.char_indices().step_by(7) {
        for replacement in ["\"", "{", "]", "0", "-", "null"] {
            let mut mangled = body.clone();
            mangled.replace_range(i..i + c.len_utf8(), replacement);
            variants.push(mangled);
        }
    }
    for variant in &variants {
        let response = local.webhook.handle(&signed(variant)).await;
        assert!(
            matches!(response.status_code, 200 | 400),
            "status {} for {variant}",
            response.status_code
        );
        seen.insert(response.status_code);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [200, 400],
        "both outcomes were exercised"
    );
}
