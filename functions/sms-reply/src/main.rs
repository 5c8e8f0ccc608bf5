//! sms-reply function: staff replies (ACK, DONE, WHO, ...) arriving through
//! the inbound-SMS SNS topic. All logic lives in `earshot::sms_reply`.

use earshot::adapters::Deps;
use earshot::domain::Clock;
use earshot::sms_reply::{ReplySummary, SnsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    earshot::telemetry::init_json();
    let sdk = earshot::adapters::aws_sdk_config(earshot::config::FunctionBudget::SmsReply).await;
    let (deps, _) = Deps::aws_from_env(&sdk).await?;
    let replies = deps.sms_replies(Clock::System)?;
    let replies = &replies;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        // A storage failure is returned as an error so SNS retries the event.
        Ok::<ReplySummary, Error>(replies.handle(&event.payload).await?)
    }))
    .await
}
