//! Earshot's integration tests, one module per capability, built as one test
//! binary: linked once rather than once per file, the suite builds in a
//! fraction of the disk and time. Run one part with its module path, e.g.
//! `cargo test --test integration chaos::`.
//!
//! Suites that need AWS start their own moto server on a free loopback port
//! (`support::Moto`); platform APIs are loopback servers speaking each
//! platform's format.

mod support;
// Helpers some suites share; kept out of `support`, which the webhook's
// bootstrap test includes by path without their dependencies.
#[path = "support/builders.rs"]
mod builders;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/platform_servers.rs"]
mod platform_servers;
#[path = "support/three_tiers.rs"]
mod three_tiers;

// Stores: one contract, run on the embedded SQLite store and on DynamoDB.
mod budget_contract;
mod handover_contract;
mod receipts_contract;
mod replies_contract;
mod rota_contract;
mod sources_contract;
mod store_contract;

// Functions end to end on DynamoDB and SNS (moto).
mod delivery_receipts;
mod escalate_aws;
mod incident_aws;
mod reach_aws;
mod reply_sms_aws;
mod secrets_aws;
mod sms_reply_aws;
mod webhook_aws;
mod webhook_meta_mastodon;

// Faults between Earshot and AWS.
mod chaos;

// Ingest: webhooks, polling, the firehose and every parser of outside input.
mod firehose;
mod parser_properties;
mod poll_partial_posts;
mod poll_sources;
mod webhook_http;

// Talking back: public replies, voice, TLS checks.
mod public_replies;
mod tls;
mod voice_api;

// Triage and urgency models.
mod triage;
mod urgency;

// The command line and the deployment template.
mod cli;
mod infra;
