//! Earshot hears customers complain about a brand in public and puts the
//! urgent ones on an on-call phone by SMS.
//!
//! - [`domain`]: mentions, triage, alerts and the roster, free of SDK types.
//! - [`platforms`]: each platform's payloads, parsed into mentions.
//! - [`ports`]: the storage and SMS interfaces; [`adapters`] implement them
//!   on DynamoDB/SNS and on the embedded SQLite/outbox default.
//! - [`sms`]: every SMS Earshot sends, shaped to one GSM-7 segment.
//! - [`triage`]: the complaint model and the signals behind priorities.
//! - [`ingest`]: the one path from a mention to a stored, triaged record.
//! - [`pager`]: delivery, holds, SMS caps, incidents, follow-ups, and what
//!   makes a page reach someone (receipts, voice calls, the chain, the rota).
//! - [`webhook`], [`poll`], [`firehose`], [`sms_reply`], [`escalate`],
//!   [`delivery`]: the functions' handlers; `functions/` only wires them,
//!   after the [`lambda`] cold start.

pub mod adapters;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod escalate;
pub mod firehose;
pub mod http;
pub mod https;
pub mod ingest;
pub mod lambda;
mod packed;
pub mod pager;
pub mod platforms;
pub mod poll;
pub mod ports;
pub mod public_reply;
pub mod report;
pub mod revision;
pub mod signature;
pub mod sms;
pub mod sms_reply;
pub mod telemetry;
pub mod triage;
pub mod watch;
pub mod webhook;
