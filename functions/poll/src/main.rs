//! poll function, on a schedule: reads each watched platform's search for
//! new mentions and ingests them. Logic: `earshot::poll`.

use earshot::config::FunctionBudget;
use earshot::domain::Clock;
use earshot::lambda::{ColdStart, cold_start};
use earshot::poll::setup::{PollSecrets, search_sources};
use earshot::poll::{PollRequest, PollSummary, Poller, deadline_from};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ColdStart { sdk, deps, store } = cold_start(FunctionBudget::Poll).await?;
    let platforms = search_sources(PollSecrets::resolve(&sdk).await?)?;
    let poller = &Poller::new(&deps, store, platforms, Clock::System);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let request = PollRequest::from_event(&event.payload)?;
        let deadline = deadline_from(event.context.deadline());
        Ok::<PollSummary, Error>(poller.run(&request, deadline).await?)
    }))
    .await
}
