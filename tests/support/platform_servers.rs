//! Platform API answers more than one suite serves from its loopback
//! server (wiremock), in each platform's own format.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Bluesky's `app.bsky.actor.getProfiles` on `server`, answering each DID
/// asked for (`actors`, repeated) with `profile_of(did)`. Returns nothing:
/// what it was asked is on the server's received requests.
pub async fn bluesky_profiles(
    server: &MockServer,
    profile_of: impl Fn(&str) -> Value + Send + Sync + 'static,
) {
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfiles"))
        .respond_with(move |request: &Request| {
            let profiles: Vec<Value> = request
                .url
                .query_pairs()
                .filter(|(key, _)| key == "actors")
                .map(|(_, did)| profile_of(&did))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "profiles": profiles }))
        })
        .mount(server)
        .await;
}
