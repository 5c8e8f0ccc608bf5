//! Secrets for Lambda: from the environment, or from SSM SecureString
//! parameters named in `<NAME>_PARAM`. A function's secrets are fetched
//! together once per cold start (`ssm::ParameterStore`: one GetParameters
//! call for up to ten of them), not a round trip each.

use std::collections::BTreeMap;

use super::ssm::{Parameter, ParameterStore};
use crate::config::{self, ConfigError, SECRET_PARAM_SUFFIX, Secret};
use crate::platforms::reply::ReplyCredentials;

/// The secrets a function asked for, as found.
pub struct Secrets {
    found: BTreeMap<&'static str, Secret>,
}

impl Secrets {
    /// Reads every secret in `names`: the variable itself when set (local
    /// use), else the SSM parameter named by `<name>_PARAM`. A name with
    /// neither is left out; a parameter that is named but missing or empty
    /// is an error.
    pub async fn fetch(
        sdk: &aws_config::SdkConfig,
        names: &[&'static str],
    ) -> Result<Self, ConfigError> {
        Self::fetch_with(sdk, names, |var| std::env::var(var).ok()).await
    }

    /// As [`fetch`](Self::fetch), with variables read by `var` instead of
    /// from the process environment.
    pub async fn fetch_with(
        sdk: &aws_config::SdkConfig,
        names: &[&'static str],
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        // Blank counts as unset, as everywhere in the configuration; an
        // empty parameter name means "not used" (optional platforms).
        let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let mut found = BTreeMap::new();
        let mut stored = Vec::new();
        for &name in names {
            if let Some(value) = set(name) {
                found.insert(name, Secret::new(value));
            } else if let Some(parameter) = set(&format!("{name}{SECRET_PARAM_SUFFIX}")) {
                stored.push((name, parameter));
            }
        }
        if stored.is_empty() {
            return Ok(Self { found });
        }
        let ssm = ParameterStore::new(sdk).map_err(|err| ConfigError::Invalid {
            name: stored[0].0,
            reason: err.to_string(),
        })?;
        let parameters: Vec<String> = stored.iter().map(|(_, p)| p.clone()).collect();
        let answered =
            ssm.get_parameters(&parameters)
                .await
                .map_err(|err| ConfigError::Invalid {
                    name: stored[0].0,
                    reason: format!(
                        "cannot read SSM parameters {}: {err}",
                        parameters.join(", ")
                    ),
                })?;
        for (name, requested) in stored {
            let value = answered
                .iter()
                .find(|parameter| answers(parameter, &requested))
                .map(|parameter| parameter.value.as_str())
                .ok_or_else(|| ConfigError::Invalid {
                    name,
                    reason: format!("SSM parameter {requested} not found"),
                })?;
            if value.is_empty() {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!("SSM parameter {requested} is empty"),
                });
            }
            found.insert(name, Secret::new(value));
        }
        Ok(Self { found })
    }

    /// Secret `name`; an error naming it when it was not configured.
    pub fn required(&mut self, name: &'static str) -> Result<Secret, ConfigError> {
        self.found.remove(name).ok_or(ConfigError::Missing(name))
    }

    /// Secret `name`, `None` when it was not configured.
    pub fn optional(&mut self, name: &'static str) -> Option<Secret> {
        self.found.remove(name)
    }
}

/// Whether `parameter` is the answer to `requested`, which may name it, give
/// its ARN, or name one version or label of it (`name:3`).
fn answers(parameter: &Parameter, requested: &str) -> bool {
    let name = parameter.name.as_str();
    let selector = parameter.selector.as_deref().unwrap_or_default();
    requested == name
        || parameter.arn.as_deref() == Some(requested)
        || requested.strip_prefix(name) == Some(selector) && !selector.is_empty()
}

/// The public-reply credentials, each from the environment or its SSM
/// parameter, read once per cold start; a platform left out cannot be
/// answered on.
pub async fn reply_credentials(
    sdk: &aws_config::SdkConfig,
) -> Result<ReplyCredentials, ConfigError> {
    let mut secrets = Secrets::fetch(
        sdk,
        &[
            config::BLUESKY_APP_PASSWORD_VAR,
            config::X_REPLY_TOKEN_VAR,
            config::MASTODON_REPLY_TOKEN_VAR,
            config::META_REPLY_TOKEN_VAR,
        ],
    )
    .await?;
    let bluesky_password = secrets.optional(config::BLUESKY_APP_PASSWORD_VAR);
    Ok(ReplyCredentials {
        x_token: secrets.optional(config::X_REPLY_TOKEN_VAR),
        bluesky: config::optional(config::BLUESKY_REPLY_HANDLE_VAR).zip(bluesky_password),
        mastodon_token: secrets.optional(config::MASTODON_REPLY_TOKEN_VAR),
        meta_token: secrets.optional(config::META_REPLY_TOKEN_VAR),
    })
}
