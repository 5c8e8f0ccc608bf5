//! firehose function, every minute: reads Bluesky's Jetstream from the
//! stored cursor until the deadline. Logic: `earshot::firehose`.

use std::sync::Arc;

use earshot::adapters::Deps;
use earshot::domain::Clock;
use earshot::firehose::{Firehose, FirehoseSettings, FirehoseSummary, WebSocketConnector};
use earshot::poll::deadline_from;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    earshot::telemetry::init_json();
    let sdk = earshot::adapters::aws_sdk_config(earshot::config::FunctionBudget::Firehose).await;
    let (deps, store) = Deps::aws_from_env(&sdk).await?;
    let settings = FirehoseSettings::from_env()?;
    let firehose = Firehose::new(
        &deps,
        store,
        Arc::new(WebSocketConnector),
        settings,
        Clock::System,
    );
    let firehose = &firehose;
    // The schedule's payload carries nothing Earshot needs.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_from(event.context.deadline());
        Ok::<FirehoseSummary, Error>(firehose.run(deadline).await?)
    }))
    .await
}
