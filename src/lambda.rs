//! What every Lambda function does at cold start, before it takes events.

use aws_config::SdkConfig;

use crate::adapters::dynamo::DynamoStore;
use crate::adapters::{Deps, aws_sdk_config};
use crate::config::{ConfigError, FunctionBudget};

/// A function's AWS clients, built once per instance.
pub struct ColdStart {
    /// For the SSM look-ups of the function's own secrets, and the clients
    /// only some functions use (voice, public replies).
    pub sdk: SdkConfig,
    pub deps: Deps,
    /// The store itself, for the functions that keep a cursor in it.
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
