//! The deployment template, checked by the real linters and against the
//! code: every function is declared, every variable the code reads is set,
//! and the table has exactly the indexes the code queries.

use crate::support;

use std::collections::BTreeSet;
use std::process::Command;

use earshot::adapters::dynamo::{BY_AUTHOR_INDEX, BY_DAY_INDEX, OPEN_ALERTS_INDEX, TTL_ATTRIBUTE};
use earshot::config::{FUNCTION_ENVIRONMENT, FunctionBudget, SECRET_PARAM_SUFFIX};
use serde_norway::Value;

const TEMPLATE: &str = "infra/template.yaml";
const INSTALL_HINT: &str =
    "install the checkers with: python3 -m pip install -r tests/requirements.txt";
/// aws-sam-cli pins its own cfn-lint and boto3, so scripts/test.sh installs
/// it into a virtualenv of its own and names the program here.
const SAM_VAR: &str = "EARSHOT_SAM";

fn template() -> Value {
    let text = std::fs::read_to_string(support::repo_path(TEMPLATE)).expect("template readable");
    serde_norway::from_str(&text).expect("template is YAML")
}

fn run(tool: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .current_dir(support::repo_path(""))
        // checkov looks up guideline links online unless told not to.
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap_or_else(|err| panic!("cannot run {tool}: {err}; {INSTALL_HINT}"))
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn cfn_lint_finds_no_errors_or_warnings() {
    let output = run("cfn-lint", &[TEMPLATE]);
    // Exit 0 is clean; 8 means informational notes only.
    assert!(
        matches!(output.status.code(), Some(0 | 8)),
        "cfn-lint: {}",
        text(&output)
    );
}

#[test]
fn sam_validate_lint_accepts_the_template_offline() {
    let sam = std::env::var(SAM_VAR).unwrap_or_else(|_| "sam".to_owned());
    let home = tempfile::tempdir().expect("temp dir");
    let output = Command::new(&sam)
        .args(["validate", "--lint", "--template-file", TEMPLATE])
        .current_dir(support::repo_path(""))
        // Validation is local: no credentials, a placeholder region, no
        // usage reports, and a home of its own so no profile is read.
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("SAM_CLI_TELEMETRY", "0")
        .env("HOME", home.path())
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run {sam}: {err}; scripts/test.sh installs it and sets {SAM_VAR}")
        });
    let report = text(&output);
    assert!(output.status.success(), "sam validate --lint: {report}");
    assert!(report.contains("is a valid SAM Template"), "{report}");
}

#[test]
fn checkov_finds_no_failed_checks() {
    let output = run(
        "checkov",
        &[
            "-f",
            TEMPLATE,
            "--framework",
            "cloudformation",
            "--compact",
            "--quiet",
            "--skip-download",
        ],
    );
    let report = text(&output);
    assert!(output.status.success(), "checkov: {report}");
    assert!(report.contains("Failed checks: 0"), "checkov: {report}");
}

fn resources(template: &Value) -> impl Iterator<Item = (&str, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(name, resource)| (name.as_str().expect("resource name"), resource))
}

#[test]
fn every_checkov_skip_says_why() {
    let template = template();
    let mut skips = 0;
    for (name, resource) in resources(&template) {
        for skip in resource["Metadata"]["checkov"]["skip"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let comment = skip["comment"].as_str().unwrap_or_default();
            assert!(
                comment.split_whitespace().count() >= 6,
                "{name} skips {:?} without a reason",
                skip["id"]
            );
            skips += 1;
        }
    }
    assert!(
        skips > 0,
        "the reasons above were checked on at least one skip"
    );
}

/// Function resources by the binary they build.
fn declared_functions(template: &Value) -> Vec<(String, Value)> {
    resources(template)
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, r)| {
            let binary = r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} names no binary"));
            (binary.to_owned(), r.clone())
        })
        .collect()
}

#[test]
fn every_function_folder_is_declared_and_every_declared_function_exists() {
    let folders: BTreeSet<String> = std::fs::read_dir(support::repo_path("functions"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let template = template();
    let declared: BTreeSet<String> = declared_functions(&template)
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert!(!folders.is_empty());
    assert_eq!(folders, declared);
    for (binary, resource) in declared_functions(&template) {
        assert_eq!(
            resource["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{binary}"
        );
    }
}

fn environment_keys(block: &Value) -> BTreeSet<String> {
    block["Environment"]["Variables"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn every_variable_the_code_reads_is_set_for_its_function() {
    let template = template();
    let global = environment_keys(&template["Globals"]["Function"]);
    let functions = declared_functions(&template);
    for wanted in FUNCTION_ENVIRONMENT {
        let (_, resource) = functions
            .iter()
            .find(|(binary, _)| binary == wanted.function)
            .unwrap_or_else(|| panic!("{} is not in the template", wanted.function));
        let set: BTreeSet<String> = global
            .union(&environment_keys(&resource["Properties"]))
            .cloned()
            .collect();
        for variable in wanted.settings() {
            assert!(
                set.contains(variable),
                "{} does not set {variable}",
                wanted.function
            );
        }
        for secret in wanted.secrets {
            let param = format!("{secret}{SECRET_PARAM_SUFFIX}");
            assert!(
                set.contains(&param),
                "{} does not set {param}",
                wanted.function
            );
            assert!(
                !set.contains(*secret),
                "{} puts the secret {secret} in plain environment",
                wanted.function
            );
        }
    }
}

#[test]
fn the_table_has_exactly_the_indexes_and_ttl_the_code_uses() {
    let template = template();
    let table = resources(&template)
        .find(|(_, r)| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .map(|(_, r)| r["Properties"].clone())
        .expect("a table");
    let indexes: BTreeSet<&str> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes")
        .iter()
        .filter_map(|i| i["IndexName"].as_str())
        .collect();
    assert_eq!(
        indexes,
        BTreeSet::from([BY_DAY_INDEX, BY_AUTHOR_INDEX, OPEN_ALERTS_INDEX])
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        TTL_ATTRIBUTE
    );
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

#[test]
fn every_metric_filter_reads_a_key_the_lambda_log_lines_have() {
    let template = template();
    let mut filters = 0;
    for (name, resource) in
        resources(&template).filter(|(_, r)| r["Type"].as_str() == Some("AWS::Logs::MetricFilter"))
    {
        let pattern = resource["Properties"]["FilterPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no pattern"));
        let key = pattern
            .split("$.")
            .nth(1)
            .and_then(|rest| rest.split([' ', '=', '!', '<', '>']).next())
            .unwrap_or_else(|| panic!("{name} matches no JSON key: {pattern}"));
        assert!(
            earshot::telemetry::LAMBDA_KEYS.contains(&key),
            "{name} reads `{key}`, which no log line has at the top level"
        );
        filters += 1;
    }
    assert!(filters > 0, "the template counts at least one log line");
}

/// `!GetAtt X.Arn` or `!Ref X` as written; a plain string as itself.
fn written(value: &Value) -> String {
    match value {
        Value::Tagged(tagged) => format!("{} {}", tagged.tag, written(&tagged.value)),
        Value::String(text) => text.clone(),
        Value::Sequence(items) => items.iter().map(written).collect::<Vec<_>>().join(", "),
        other => format!("{other:?}"),
    }
}

/// Every statement of a function's inline policies, as (actions, resources).
fn statements(resource: &Value) -> Vec<(Vec<String>, Vec<String>)> {
    let as_list = |value: &Value| match value {
        Value::Sequence(items) => items.iter().map(written).collect(),
        other => vec![written(other)],
    };
    resource["Properties"]["Policies"]
        .as_sequence()
        .expect("a list of policies")
        .iter()
        .flat_map(|policy| {
            // A role names each document; SAM takes documents as they are.
            let document = if policy["PolicyDocument"].is_mapping() {
                &policy["PolicyDocument"]
            } else {
                policy
            };
            document["Statement"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .map(|statement| {
            assert_eq!(statement["Effect"], "Allow", "{statement:?}");
            (
                as_list(&statement["Action"]),
                as_list(&statement["Resource"]),
            )
        })
        .collect()
}

#[test]
fn sms_delivery_status_reaches_the_delivery_function_from_its_two_log_groups_only() {
    let template = template();
    let resource = |name: &str| &template["Resources"][name];
    let groups = [
        (
            "SmsDeliveryLogGroup",
            "!Sub sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber",
        ),
        (
            "SmsDeliveryFailureLogGroup",
            "!Sub sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber/Failure",
        ),
    ];
    let group_arns: Vec<String> = groups
        .iter()
        .map(|(group, _)| format!("!GetAtt {group}.Arn"))
        .collect();
    for (group, name) in groups {
        // SNS fixes these names; anything else would never be written.
        assert_eq!(
            written(&resource(group)["Properties"]["LogGroupName"]),
            name
        );
        let arn = format!("!GetAtt {group}.Arn");
        let subscriptions: Vec<&str> = resources(&template)
            .filter(|(_, r)| {
                r["Type"] == "AWS::Logs::SubscriptionFilter"
                    && written(&r["Properties"]["LogGroupName"]) == format!("!Ref {group}")
            })
            .map(|(name, r)| {
                assert_eq!(
                    written(&r["Properties"]["DestinationArn"]),
                    "!GetAtt DeliveryFunction.Arn",
                    "{name}"
                );
                assert_eq!(r["Properties"]["FilterPattern"], "", "{name} drops lines");
                name
            })
            .collect();
        assert_eq!(subscriptions.len(), 1, "{group}: {subscriptions:?}");
        let invokers: Vec<&str> = resources(&template)
            .filter(|(_, r)| r["Type"] == "AWS::Lambda::Permission")
            .filter(|(_, r)| written(&r["Properties"]["SourceArn"]) == arn)
            .map(|(name, r)| {
                assert_eq!(r["Properties"]["Principal"], "logs.amazonaws.com", "{name}");
                assert_eq!(
                    written(&r["Properties"]["FunctionName"]),
                    "!GetAtt DeliveryFunction.Arn",
                    "{name}"
                );
                name
            })
            .collect();
        assert_eq!(invokers.len(), 1, "{group} may not invoke: {invokers:?}");
    }

    // The role SNS assumes writes those two groups and nothing else.
    let role = resource("SmsDeliveryStatusRole");
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "sns.amazonaws.com"
    );
    for (actions, targets) in statements(role) {
        for action in &actions {
            assert!(
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents"
                ]
                .contains(&action.as_str()),
                "the SNS role may {action}"
            );
        }
        assert_eq!(targets, group_arns);
    }

    // The function updates receipt items (nothing else on the table) and
    // hands failed batches to the dead-letter queue.
    let function = resource("DeliveryFunction");
    assert_eq!(
        statements(function),
        vec![
            (
                vec!["dynamodb:UpdateItem".to_owned()],
                vec!["!GetAtt MentionsTable.Arn".to_owned()]
            ),
            (
                vec!["sqs:SendMessage".to_owned()],
                vec!["!GetAtt FailedInvocationsQueue.Arn".to_owned()]
            ),
        ]
    );
}

/// The binary each budget is for; a new budget must be named here.
fn binary_of(budget: FunctionBudget) -> &'static str {
    match budget {
        FunctionBudget::Webhook => "webhook",
        FunctionBudget::Poll => "poll",
        FunctionBudget::SmsReply => "sms-reply",
        FunctionBudget::Escalate => "escalate",
        FunctionBudget::Firehose => "firehose",
        FunctionBudget::Delivery => "delivery",
    }
}

/// Claims and SDK timeouts are sized from the budget: a function that may
/// run longer than its budget says could outlive its delivery claims.
#[test]
fn every_function_runs_for_exactly_its_budget() {
    let budgets = [
        FunctionBudget::Webhook,
        FunctionBudget::Poll,
        FunctionBudget::SmsReply,
        FunctionBudget::Escalate,
        FunctionBudget::Firehose,
        FunctionBudget::Delivery,
    ];
    let template = template();
    for (binary, resource) in declared_functions(&template) {
        let budget = budgets
            .into_iter()
            .find(|b| binary_of(*b) == binary)
            .unwrap_or_else(|| panic!("{binary} has no FunctionBudget"));
        assert_eq!(
            resource["Properties"]["Timeout"].as_i64(),
            Some(budget.timeout().num_seconds()),
            "{binary}'s Timeout is not its budget"
        );
    }
}
