//! poll function, on a schedule: reads each watched platform's search for
//! new mentions and ingests them. Logic: `earshot::poll`.

use earshot::adapters::Deps;
use earshot::domain::Clock;
use earshot::poll::setup::{PollSecrets, search_sources};
use earshot::poll::{PollRequest, PollSummary, Poller, deadline_from};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    earshot::telemetry::init_json();
    let sdk = earshot::adapters::aws_sdk_config(earshot::config::FunctionBudget::Poll).await;
    let (deps, store) = Deps::aws_from_env(&sdk).await?;
    let platforms = search_sources(PollSecrets::resolve(&sdk).await?)?;
    let poller = Poller::new(&deps, store, platforms, Clock::System);
    let poller = &poller;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let request = PollRequest::from_event(&event.payload)?;
        let deadline = deadline_from(event.context.deadline());
        Ok::<PollSummary, Error>(poller.run(&request, deadline).await?)
    }))
    .await
}
