//! firehose function, every minute: reads Bluesky's Jetstream from the
//! stored cursor until the deadline. Logic: `earshot::firehose`.

use std::sync::Arc;

use earshot::config::FunctionBudget;
use earshot::domain::Clock;
use earshot::firehose::{Firehose, FirehoseSettings, FirehoseSummary, WebSocketConnector};
use earshot::lambda::{ColdStart, cold_start};
use earshot::platforms::bluesky_profiles::BlueskyProfiles;
use earshot::poll::deadline_from;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ColdStart { deps, store, .. } = cold_start(FunctionBudget::Firehose).await?;
    let settings = FirehoseSettings::from_env()?;
    let profiles = BlueskyProfiles::from_env()?;
    let firehose = &Firehose::new(
        &deps,
        store,
        Arc::new(WebSocketConnector),
        settings,
        Clock::System,
    )
    .with_profiles(profiles);
    // The schedule's payload carries nothing Earshot needs.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_from(event.context.deadline());
        Ok::<FirehoseSummary, Error>(firehose.run(deadline).await?)
    }))
    .await
}
