//! escalate function, on a schedule: unacknowledged urgent alerts climb the
//! on-call tiers and failed alerts are sent again. Logic: `earshot::escalate`.

use earshot::adapters::Deps;
use earshot::domain::Clock;
use earshot::escalate::EscalationSummary;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    earshot::telemetry::init_json();
    let sdk = earshot::adapters::aws_sdk_config(earshot::config::FunctionBudget::Escalate).await;
    let (deps, _) = Deps::aws_from_env(&sdk).await?;
    let escalator = deps.escalator(Clock::System)?;
    let escalator = &escalator;
    // The schedule's payload carries nothing Earshot needs.
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        Ok::<EscalationSummary, Error>(escalator.run().await?)
    }))
    .await
}
