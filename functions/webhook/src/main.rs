//! Webhook function: X, Meta and Mastodon challenges and deliveries via a Function URL or an
//! HTTP API (payload 2.0). All logic lives in `earshot::webhook`.

use earshot::adapters::Deps;
use earshot::domain::Clock;
use earshot::http::HttpRequest;
use earshot::webhook::{Webhook, WebhookSecrets};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    earshot::telemetry::init_json();
    let sdk = earshot::adapters::aws_sdk_config(earshot::config::FunctionBudget::Webhook).await;
    let secrets = WebhookSecrets::resolve(&sdk).await?;
    let (deps, _) = Deps::aws_from_env(&sdk).await?;
    let webhook = Webhook::new(secrets, &deps, Clock::System)?;
    let webhook = &webhook;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<HttpRequest>| async move {
            Ok::<_, Error>(webhook.handle(&event.payload).await)
        },
    ))
    .await
}
