//! sms-reply function: staff replies (ACK, DONE, WHO, ...) arriving through
//! the inbound-SMS SNS topic. All logic lives in `earshot::sms_reply`.

use std::sync::Arc;

use earshot::adapters::{FollowThrough, aws_public_replies};
use earshot::config::FunctionBudget;
use earshot::domain::Clock;
use earshot::lambda::{ColdStart, cold_start};
use earshot::sms_reply::{ReplySummary, SnsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ColdStart { sdk, deps, store } = cold_start(FunctionBudget::SmsReply).await?;
    let platforms = Arc::new(aws_public_replies(&sdk).await?);
    let replies = &deps
        .with_follow_through(FollowThrough::on_store(store))
        .sms_replies(Clock::System, platforms)?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        // A storage failure is returned as an error so SNS retries the event.
        Ok::<ReplySummary, Error>(replies.handle(&event.payload).await?)
    }))
    .await
}
