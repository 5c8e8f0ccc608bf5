//! escalate function, on a schedule: unacknowledged urgent alerts climb the
//! on-call tiers and failed alerts are sent again. Logic: `earshot::escalate`.

use earshot::adapters::FollowThrough;
use earshot::config::FunctionBudget;
use earshot::domain::Clock;
use earshot::escalate::EscalationSummary;
use earshot::lambda::{ColdStart, cold_start};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ColdStart { sdk, deps, store } = cold_start(FunctionBudget::Escalate).await?;
    let follow_through = FollowThrough::on_store(store).with_voice_from_env(&sdk);
    let escalator = &deps
        .with_follow_through(follow_through)
        .escalator(Clock::System)?;
    // The schedule's payload carries nothing Earshot needs.
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        Ok::<EscalationSummary, Error>(escalator.run().await?)
    }))
    .await
}
