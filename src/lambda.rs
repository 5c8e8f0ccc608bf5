//! What every Lambda function does at cold start, before it takes events.

use aws_config::SdkConfig;

use crate::adapters::dynamo::DynamoStore;
use crate::adapters::{Deps, aws_sdk_config, dynamo_store_from_env};
use crate::config::{ConfigError, FunctionBudget};

/// A function's AWS clients, built once per instance.
pub struct ColdStart {
    /// For the SSM look-ups of the function's own secrets, and the clients
    /// only some functions use (voice, public replies).
    pub sdk: SdkConfig,
    /// The ingest and paging ports; a function that follows through adds
    /// [`crate::adapters::FollowThrough`] on `store`.
    pub deps: Deps<()>,
    /// The store itself: for the functions that keep a cursor in it, and
    /// for the follow-through ports.
    pub store: DynamoStore,
}

/// Turns the JSON log lines on, then builds the SDK configuration for the
/// function's time budget and the stores the environment names.
pub async fn cold_start(budget: FunctionBudget) -> Result<ColdStart, ConfigError> {
    crate::telemetry::init_json();
    let sdk = aws_sdk_config(budget).await;
    let (deps, store) = Deps::aws_from_env(&sdk)?;
    Ok(ColdStart { sdk, deps, store })
}

/// The cold start of a function that only keeps records in the store
/// (delivery): no SMS client, and no port it does not call, is linked in.
pub async fn cold_start_store(budget: FunctionBudget) -> Result<DynamoStore, ConfigError> {
    crate::telemetry::init_json();
    let sdk = aws_sdk_config(budget).await;
    dynamo_store_from_env(&sdk)
}
