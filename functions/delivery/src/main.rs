//! delivery function: SNS's SMS delivery-status logs, by CloudWatch Logs
//! subscription. All logic lives in `earshot::delivery`.

use earshot::config::FunctionBudget;
use earshot::delivery::{DeliverySummary, LogsEvent};
use earshot::lambda::{ColdStart, cold_start};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ColdStart { deps, .. } = cold_start(FunctionBudget::Delivery).await?;
    let receipts = &deps.delivery_receipts();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LogsEvent>| async move {
            // A storage failure is returned as an error so Lambda retries the
            // batch; receipts already stored count once.
            Ok::<DeliverySummary, Error>(receipts.handle(&event.payload).await?)
        },
    ))
    .await
}
