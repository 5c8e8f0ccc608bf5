//! Secrets from SSM SecureString parameters on a real moto server, through
//! a pass-through proxy that counts the calls: a function's secrets come in
//! one GetParameters call, the environment wins over SSM, and a parameter
//! that is named but missing stops the cold start, naming the secret. With
//! moto's IAM checks on, the call's SigV4 signature is verified as AWS
//! would; through injected faults, a throttled or lost call is tried again.

use std::collections::HashMap;

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ssm::types::ParameterType;
use earshot::adapters::secrets::Secrets;
use earshot::config::{self, ConfigError, SECRET_PARAM_SUFFIX};

use crate::fault_proxy::{FaultPlan, FaultProxy};
use crate::support::{self, Moto};

/// moto answers this many calls before it starts checking signatures: the
/// IAM set-up of [`signed_in`].
const UNCHECKED_SETUP_CALLS: &str = "3";

/// Twelve secrets: more than one GetParameters call takes.
const MANY: [&str; 12] = [
    "SECRET_A", "SECRET_B", "SECRET_C", "SECRET_D", "SECRET_E", "SECRET_F", "SECRET_G", "SECRET_H",
    "SECRET_I", "SECRET_J", "SECRET_K", "SECRET_L",
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

/// The X secret alone, read as a cold start reads it, with `env` as the
/// environment.
async fn x_secret(
    sdk: &aws_config::SdkConfig,
    env: &HashMap<String, String>,
) -> Result<String, ConfigError> {
    let mut secrets =
        Secrets::fetch_with(sdk, &[config::X_SECRET_VAR], |var| env.get(var).cloned()).await?;
    Ok(secrets
        .required(config::X_SECRET_VAR)?
        .expose_str()
        .to_owned())
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
    assert_eq!(x_secret(&sdk, &env).await.unwrap(), "local");
    assert_eq!(proxy.stats().calls, 0);
}

/// `sdk` with the access key `id` and `secret`.
fn with_key(sdk: &aws_config::SdkConfig, id: &str, secret: &str) -> aws_config::SdkConfig {
    sdk.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            id,
            secret,
            None,
            None,
            "earshot-tests",
        )))
        .build()
}

/// The text of the first `<tag>` in an IAM (XML) answer.
fn xml_field<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|at| at + open.len()).expect(tag);
    let end = xml[start..].find('<').expect(tag);
    &xml[start..start + end]
}

/// A moto server that verifies signatures, and an SDK configuration with
/// an access key it knows, allowed every SSM call. The key is made by the
/// calls moto answers before it starts checking; its id is returned too.
async fn signed_in() -> (Moto, aws_config::SdkConfig, String) {
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", UNCHECKED_SETUP_CALLS)]);
    let http = earshot::https::client_builder().unwrap().build().unwrap();
    let iam = |form: Vec<(&'static str, String)>| {
        let request = http.post(&moto.endpoint).header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=setup/20261206/us-east-1/iam/aws4_request",
        );
        async move {
            let mut form = form;
            form.push(("Version", "2010-05-08".to_owned()));
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            let response = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "IAM set-up refused");
            response.text().await.unwrap()
        }
    };
    let user = || ("UserName", "earshot".to_owned());
    iam(vec![("Action", "CreateUser".into()), user()]).await;
    let key = iam(vec![("Action", "CreateAccessKey".into()), user()]).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}"#;
    iam(vec![
        ("Action", "PutUserPolicy".into()),
        user(),
        ("PolicyName", "ssm".into()),
        ("PolicyDocument", policy.into()),
    ])
    .await;
    let access_key = xml_field(&key, "AccessKeyId");
    let sdk = with_key(
        &moto.sdk_config().await,
        access_key,
        xml_field(&key, "SecretAccessKey"),
    );
    (moto, sdk, access_key.to_owned())
}

#[tokio::test]
async fn the_call_is_signed_as_aws_verifies_it() {
    let (moto, sdk, access_key) = signed_in().await;
    put_secure(&sdk, "/earshot/x-consumer-secret", "signed-for").await;
    let env = environment(&[(
        param_var(config::X_SECRET_VAR),
        "/earshot/x-consumer-secret",
    )]);
    assert_eq!(x_secret(&sdk, &env).await.unwrap(), "signed-for");

    // The same key with a wrong secret: moto computes another signature
    // and refuses, and a refusal is not tried again.
    let proxy = FaultProxy::start(&moto.endpoint, FaultPlan::pass_through()).await;
    let forged = with_key(&sdk, &access_key, "not-the-secret")
        .to_builder()
        .endpoint_url(&proxy.endpoint)
        .build();
    match x_secret(&forged, &env).await {
        Err(ConfigError::Invalid { name, reason }) => {
            assert_eq!(name, config::X_SECRET_VAR);
            assert!(reason.contains("403"), "{reason}");
            assert!(
                !reason.contains("signed-for"),
                "no secret value in the error"
            );
        }
        Err(other) => panic!("expected a refusal, got {other}"),
        Ok(_) => panic!("a forged signature was accepted"),
    }
    assert_eq!(get_parameters_calls(&proxy), 1, "a refusal is final");
}

#[tokio::test]
async fn throttled_failed_and_lost_calls_are_tried_again() {
    let moto = Moto::start();
    let plan = FaultPlan {
        per_mille: 400,
        seed: 11,
        hold: Duration::from_millis(300),
        ..FaultPlan::pass_through()
    };
    let proxy = FaultProxy::start(&moto.endpoint, plan).await;
    let direct = moto.sdk_config().await;
    let sdk = support::sdk_config_with(
        &proxy.endpoint,
        aws_config::retry::RetryConfig::standard().with_max_attempts(6),
        aws_config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(Duration::from_secs(2))
            .build(),
    )
    .await;
    put_secure(&direct, "/earshot/faulty", "through-faults").await;
    let env = environment(&[(param_var(config::X_SECRET_VAR), "/earshot/faulty")]);

    // Twenty cold starts, each reading its secret once.
    for _ in 0..20 {
        assert_eq!(x_secret(&sdk, &env).await.unwrap(), "through-faults");
    }
    let stats = proxy.stats();
    assert!(stats.faults_injected() > 0, "{stats:?}");
    assert_eq!(
        get_parameters_calls(&proxy),
        20 + stats.faults_injected(),
        "each fault costs one more attempt: {stats:?}"
    );
}

#[tokio::test]
async fn an_ssm_that_never_answers_ends_the_cold_start_within_the_operation_timeout() {
    // Accepts connections and never answers: each attempt would wait out
    // its own timeout, and the retries after it, but for the limit on the
    // whole call.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            open.push(connection);
        }
    });
    let sdk = support::sdk_config_with(
        &endpoint,
        aws_config::retry::RetryConfig::standard().with_max_attempts(10),
        aws_config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(Duration::from_secs(30))
            .operation_timeout(Duration::from_millis(300))
            .build(),
    )
    .await;
    let env = environment(&[(param_var(config::X_SECRET_VAR), "/earshot/x")]);
    match x_secret(&sdk, &env).await {
        Err(ConfigError::Invalid { name, reason }) => {
            assert_eq!(name, config::X_SECRET_VAR);
            assert!(reason.contains("did not answer within 300ms"), "{reason}");
        }
        other => panic!("expected the call to time out, got {other:?}"),
    }
    held.abort();
}
