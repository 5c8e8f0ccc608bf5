//! delivery function: SNS's SMS delivery-status logs, by CloudWatch Logs
//! subscription. All logic lives in `earshot::delivery`.

use std::sync::Arc;

use earshot::config::FunctionBudget;
use earshot::delivery::{DeliveryReceipts, DeliverySummary, LogsEvent};
use earshot::lambda::cold_start_store;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = cold_start_store(FunctionBudget::Delivery).await?;
    let receipts = &DeliveryReceipts::new(Arc::new(store));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LogsEvent>| async move {
            // A storage failure is returned as an error so Lambda retries the
            // batch; receipts already stored count once.
            Ok::<DeliverySummary, Error>(receipts.handle(&event.payload).await?)
        },
    ))
    .await
}
