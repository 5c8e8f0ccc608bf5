//! Webhook function: X, Meta and Mastodon challenges and deliveries via a Function URL or an
//! HTTP API (payload 2.0). All logic lives in `earshot::webhook`.

use earshot::config::FunctionBudget;
use earshot::domain::Clock;
use earshot::http::HttpRequest;
use earshot::lambda::{ColdStart, cold_start};
use earshot::webhook::{Webhook, WebhookSecrets};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ColdStart { sdk, deps, .. } = cold_start(FunctionBudget::Webhook).await?;
    let secrets = WebhookSecrets::resolve(&sdk).await?;
    let webhook = &Webhook::new(secrets, &deps, Clock::System)?;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<HttpRequest>| async move {
            Ok::<_, Error>(webhook.handle(&event.payload).await)
        },
    ))
    .await
}
