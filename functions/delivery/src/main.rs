//! delivery function: SNS's SMS delivery-status logs, by CloudWatch Logs
//! subscription. All logic lives in `earshot::delivery`.

use earshot::adapters::Deps;
use earshot::delivery::{DeliverySummary, LogsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    earshot::telemetry::init_json();
    let sdk = earshot::adapters::aws_sdk_config(earshot::config::FunctionBudget::Delivery).await;
    let (deps, _) = Deps::aws_from_env(&sdk).await?;
    let receipts = deps.delivery_receipts();
    let receipts = &receipts;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LogsEvent>| async move {
            // A storage failure is returned as an error so Lambda retries the
            // batch; receipts already stored count once.
            Ok::<DeliverySummary, Error>(receipts.handle(&event.payload).await?)
        },
    ))
    .await
}
