//! Secrets for Lambda: from the environment, or from an SSM SecureString
//! parameter named in `<NAME>_PARAM`, fetched once per cold start.

use aws_sdk_ssm::error::DisplayErrorContext;

use crate::config::{self, ConfigError, SECRET_PARAM_SUFFIX, Secret};
use crate::platforms::reply::ReplyCredentials;

/// Reads secret `name`: the variable itself when set (local use), else the
/// SSM parameter named by `<name>_PARAM`.
pub async fn resolve(
    sdk: &aws_config::SdkConfig,
    name: &'static str,
) -> Result<Secret, ConfigError> {
    if let Some(value) = config::optional(name) {
        return Ok(Secret::new(value));
    }
    let param_var = format!("{name}{SECRET_PARAM_SUFFIX}");
    // An empty parameter name means "not used" (optional platforms).
    let Some(parameter) = std::env::var(&param_var)
        .ok()
        .filter(|p| !p.trim().is_empty())
    else {
        return Err(ConfigError::Missing(name));
    };
    let output = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(&parameter)
        .with_decryption(true)
        .send()
        .await
        .map_err(|err| ConfigError::Invalid {
            name,
            reason: format!(
                "cannot read SSM parameter {parameter}: {}",
                DisplayErrorContext(err)
            ),
        })?;
    output
        .parameter
        .and_then(|p| p.value)
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .ok_or_else(|| ConfigError::Invalid {
            name,
            reason: format!("SSM parameter {parameter} is empty"),
        })
}

/// Reads secret `name` like [`resolve`]; `None` when it is not configured.
pub async fn optional(
    sdk: &aws_config::SdkConfig,
    name: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    match resolve(sdk, name).await {
        Ok(secret) => Ok(Some(secret)),
        Err(ConfigError::Missing(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The public-reply credentials, each from the environment or its SSM
/// parameter, read once per cold start; a platform left out cannot be
/// answered on.
pub async fn reply_credentials(
    sdk: &aws_config::SdkConfig,
) -> Result<ReplyCredentials, ConfigError> {
    let bluesky_password = optional(sdk, config::BLUESKY_APP_PASSWORD_VAR).await?;
    Ok(ReplyCredentials {
        x_token: optional(sdk, config::X_REPLY_TOKEN_VAR).await?,
        bluesky: config::optional(config::BLUESKY_REPLY_HANDLE_VAR).zip(bluesky_password),
        mastodon_token: optional(sdk, config::MASTODON_REPLY_TOKEN_VAR).await?,
        meta_token: optional(sdk, config::META_REPLY_TOKEN_VAR).await?,
    })
}
