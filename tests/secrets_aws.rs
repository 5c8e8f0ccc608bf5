//! Secrets from SSM SecureString parameters on a real moto server, through
//! a pass-through proxy that counts the calls: a function's secrets come in
//! one GetParameters call, the environment wins over SSM, and a parameter
//! that is named but missing stops the cold start, naming the secret.

use std::collections::HashMap;

use aws_sdk_ssm::types::ParameterType;
use earshot::adapters::secrets::Secrets;
use earshot::config::{self, ConfigError, SECRET_PARAM_SUFFIX};

use crate::fault_proxy::{FaultPlan, FaultProxy};
use crate::support::{self, Moto};

/// Twelve secrets: more than one GetParameters call takes.
const MANY: [&str; 12] = [
    "EARSHOT_TEST_SECRET_A",
    "EARSHOT_TEST_SECRET_B",
    "EARSHOT_TEST_SECRET_C",
    "EARSHOT_TEST_SECRET_D",
    "EARSHOT_TEST_SECRET_E",
    "EARSHOT_TEST_SECRET_F",
    "EARSHOT_TEST_SECRET_G",
    "EARSHOT_TEST_SECRET_H",
    "EARSHOT_TEST_SECRET_I",
    "EARSHOT_TEST_SECRET_J",
    "EARSHOT_TEST_SECRET_K",
    "EARSHOT_TEST_SECRET_L",
];

/// Moto behind a counting proxy, and an SDK configuration pointed at it.
async fn ssm() -> (Moto, FaultProxy, aws_config::SdkConfig) {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, FaultPlan::pass_through()).await;
    let sdk = support::sdk_config_for(&proxy.endpoint).await;
    (moto, proxy, sdk)
}

async fn put_secure(sdk: &aws_config::SdkConfig, name: &str, value: &str) {
    aws_sdk_ssm::Client::new(sdk)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();
}

fn param_var(name: &str) -> String {
    format!("{name}{SECRET_PARAM_SUFFIX}")
}

/// The variables `pairs` set, as `Secrets::fetch_with` reads them.
fn environment(pairs: &[(String, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(var, value)| (var.clone(), (*value).to_owned()))
        .collect()
}

fn get_parameters_calls(proxy: &FaultProxy) -> u64 {
    let stats = proxy.stats();
    stats.operations.get("GetParameters").copied().unwrap_or(0)
}

#[tokio::test]
async fn a_functions_secrets_come_in_one_call_and_the_environment_wins() {
    let (_moto, proxy, sdk) = ssm().await;
    put_secure(&sdk, "/earshot/x-consumer-secret", "x-from-ssm").await;
    put_secure(&sdk, "/earshot/meta-app-secret", "meta-from-ssm").await;
    put_secure(&sdk, "/earshot/meta-verify-token", "verify-from-ssm").await;
    let env = environment(&[
        (
            param_var(config::X_SECRET_VAR),
            "/earshot/x-consumer-secret",
        ),
        (
            param_var(config::META_APP_SECRET_VAR),
            "/earshot/meta-app-secret",
        ),
        (
            param_var(config::META_VERIFY_TOKEN_VAR),
            "/earshot/meta-verify-token",
        ),
        // Set in the environment too: the environment wins, SSM is not asked.
        (config::META_ACCESS_TOKEN_VAR.to_owned(), "access-from-env"),
        (
            param_var(config::META_ACCESS_TOKEN_VAR),
            "/earshot/never-read",
        ),
        // An empty parameter name: the platform is not used.
        (param_var(config::MASTODON_WEBHOOK_SECRET_VAR), " "),
    ]);

    let names = [
        config::X_SECRET_VAR,
        config::META_APP_SECRET_VAR,
        config::META_VERIFY_TOKEN_VAR,
        config::META_ACCESS_TOKEN_VAR,
        config::MASTODON_WEBHOOK_SECRET_VAR,
    ];
    let mut secrets = Secrets::fetch_with(&sdk, &names, |var| env.get(var).cloned())
        .await
        .unwrap();

    let exposed =
        |secret: Option<earshot::config::Secret>| secret.map(|s| s.expose_str().to_owned());
    assert_eq!(
        secrets.required(config::X_SECRET_VAR).unwrap().expose_str(),
        "x-from-ssm"
    );
    assert_eq!(
        exposed(secrets.optional(config::META_APP_SECRET_VAR)).as_deref(),
        Some("meta-from-ssm")
    );
    assert_eq!(
        exposed(secrets.optional(config::META_VERIFY_TOKEN_VAR)).as_deref(),
        Some("verify-from-ssm")
    );
    assert_eq!(
        exposed(secrets.optional(config::META_ACCESS_TOKEN_VAR)).as_deref(),
        Some("access-from-env")
    );
    assert!(matches!(
        secrets.required(config::MASTODON_WEBHOOK_SECRET_VAR),
        Err(ConfigError::Missing(name)) if name == config::MASTODON_WEBHOOK_SECRET_VAR
    ));
    assert_eq!(
        get_parameters_calls(&proxy),
        1,
        "{:?}",
        proxy.stats().operations
    );
    assert_eq!(proxy.stats().operations.get("GetParameter"), None);
}

#[tokio::test]
async fn more_secrets_than_one_call_takes_are_read_in_batches() {
    let (_moto, proxy, sdk) = ssm().await;
    let mut env = HashMap::new();
    for (n, name) in MANY.iter().enumerate() {
        let parameter = format!("/earshot/many/{n}");
        put_secure(&sdk, &parameter, &format!("value-{n}")).await;
        env.insert(param_var(name), parameter);
    }
    let mut secrets = Secrets::fetch_with(&sdk, &MANY, |var| env.get(var).cloned())
        .await
        .unwrap();
    for (n, name) in MANY.iter().enumerate() {
        let secret = secrets.required(name).unwrap();
        assert_eq!(secret.expose_str(), format!("value-{n}"));
    }
    assert_eq!(get_parameters_calls(&proxy), 2, "ten names a call");
}

#[tokio::test]
async fn a_parameter_named_but_missing_stops_the_cold_start_naming_the_secret() {
    let (_moto, _proxy, sdk) = ssm().await;
    put_secure(&sdk, "/earshot/present", "here").await;
    let env = environment(&[
        (param_var(config::X_SECRET_VAR), "/earshot/present"),
        (param_var(config::META_APP_SECRET_VAR), "/earshot/absent"),
    ]);
    let names = [config::X_SECRET_VAR, config::META_APP_SECRET_VAR];
    let result = Secrets::fetch_with(&sdk, &names, |var| env.get(var).cloned()).await;
    match result {
        Err(ConfigError::Invalid { name, reason }) => {
            assert_eq!(name, config::META_APP_SECRET_VAR);
            assert!(reason.contains("/earshot/absent"), "{reason}");
            assert!(!reason.contains("here"), "no secret value in the error");
        }
        Err(other) => panic!("expected the missing parameter, got {other}"),
        Ok(_) => panic!("a missing parameter was taken for a secret"),
    }
}

#[tokio::test]
async fn no_call_is_made_when_every_secret_is_in_the_environment() {
    let (_moto, proxy, sdk) = ssm().await;
    let env = environment(&[(config::X_SECRET_VAR.to_owned(), "local")]);
    let mut secrets =
        Secrets::fetch_with(&sdk, &[config::X_SECRET_VAR], |var| env.get(var).cloned())
            .await
            .unwrap();
    assert_eq!(
        secrets.required(config::X_SECRET_VAR).unwrap().expose_str(),
        "local"
    );
    assert_eq!(proxy.stats().calls, 0);
}
