//! Bluesky's Jetstream: every public post on the network as a JSON text
//! frame over a WebSocket, each stamped with `time_us` (unix microseconds),
//! the cursor a reader resumes from. This module reads the wire format;
//! [`crate::firehose`] runs the subscription.
//!
//! Frames are `{did, time_us, kind, commit|identity|account}`; a commit is
//! `{rev, operation: create|update|delete, collection, rkey, record?, cid?}`
//! and carries no record on delete. Identity and account events arrive
//! whatever collections were asked for.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use super::bluesky::{Record, parse_time, post_id, post_parts};
use crate::domain::{Author, Mention, MentionId, Platform, Voice};

/// The only collection Earshot subscribes to.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";
const MENTION_FEATURE: &str = "app.bsky.richtext.facet#mention";

/// Bluesky's public Jetstream instances, tried in this order.
pub const DEFAULT_ENDPOINTS: [&str; 4] = [
    "wss://jetstream2.us-east.bsky.network/subscribe",
    "wss://jetstream1.us-east.bsky.network/subscribe",
    "wss://jetstream1.us-west.bsky.network/subscribe",
    "wss://jetstream2.us-west.bsky.network/subscribe",
];

#[derive(Debug, Error)]
pub enum FrameError {
    #[error("frame is not a Jetstream event: {0}")]
    Json(String),
    #[error("{kind} event without its `{kind}` object")]
    Missing { kind: &'static str },
}

/// A post created or edited.
pub struct PostEvent {
    pub did: String,
    pub rkey: String,
    pub time_us: i64,
    pub edited: bool,
    pub(crate) record: Record,
}

/// One frame, read.
pub enum Event {
    Post(Box<PostEvent>),
    /// A post deleted by its author.
    Deleted {
        id: MentionId,
        time_us: i64,
    },
    /// A handle change; a record of any other collection; an account
    /// event. Only its position matters.
    Passed {
        kind: &'static str,
        time_us: i64,
    },
}

impl Event {
    pub fn time_us(&self) -> i64 {
        match self {
            Event::Post(post) => post.time_us,
            Event::Deleted { time_us, .. } | Event::Passed { time_us, .. } => *time_us,
        }
    }
}

#[derive(Deserialize)]
struct Frame {
    did: String,
    time_us: i64,
    kind: String,
    commit: Option<Commit>,
}

#[derive(Deserialize)]
struct Commit {
    operation: String,
    collection: String,
    rkey: String,
    record: Option<Value>,
}

/// The position of a frame whose body could not be read, so the reader
/// can still move past it.
#[derive(Deserialize)]
struct Position {
    time_us: i64,
}

/// The `time_us` of a frame, if it has one, whatever else it holds.
pub fn frame_position(text: &str) -> Option<i64> {
    serde_json::from_str::<Position>(text)
        .ok()
        .map(|p| p.time_us)
}

/// Reads one text frame.
pub fn parse_frame(text: &str) -> Result<Event, FrameError> {
    let frame: Frame =
        serde_json::from_str(text).map_err(|err| FrameError::Json(err.to_string()))?;
    let time_us = frame.time_us;
    let kind = match frame.kind.as_str() {
        "commit" => "commit",
        "identity" => {
            return Ok(Event::Passed {
                kind: "identity",
                time_us,
            });
        }
        "account" => {
            return Ok(Event::Passed {
                kind: "account",
                time_us,
            });
        }
        _ => {
            return Ok(Event::Passed {
                kind: "unknown",
                time_us,
            });
        }
    };
    let commit = frame.commit.ok_or(FrameError::Missing { kind })?;
    if commit.collection != POST_COLLECTION {
        return Ok(Event::Passed {
            kind: "other collection",
            time_us,
        });
    }
    let edited = match commit.operation.as_str() {
        "create" => false,
        "update" => true,
        "delete" => {
            return Ok(Event::Deleted {
                id: MentionId::new(Platform::Bluesky, &format!("{}/{}", frame.did, commit.rkey)),
                time_us,
            });
        }
        _ => {
            return Ok(Event::Passed {
                kind: "unknown operation",
                time_us,
            });
        }
    };
    let record = commit
        .record
        .ok_or(FrameError::Missing { kind: "record" })?;
    let record = Record::deserialize(record).map_err(|err| FrameError::Json(err.to_string()))?;
    Ok(Event::Post(Box::new(PostEvent {
        did: frame.did,
        rkey: commit.rkey,
        time_us,
        edited,
        record,
    })))
}

/// The subscription URL for posts, from `cursor` (unix µs) when given.
pub fn subscribe_url(endpoint: &str, cursor: Option<i64>) -> String {
    let joiner = if endpoint.contains('?') { '&' } else { '?' };
    let mut url = format!("{endpoint}{joiner}wantedCollections={POST_COLLECTION}");
    if let Some(cursor) = cursor {
        url.push_str(&format!("&cursor={cursor}"));
    }
    url
}

/// A `time_us` as a time.
pub fn time_of(time_us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(time_us)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A time as a `time_us`.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The DID of the repository an `at://` URI points into.
fn uri_did(uri: &str) -> Option<&str> {
    uri.strip_prefix("at://")?.split('/').next()
}

impl PostEvent {
    pub fn id(&self) -> MentionId {
        MentionId::new(Platform::Bluesky, &format!("{}/{}", self.did, self.rkey))
    }

    /// Every account the post points at: mentioned in its text, or the
    /// authors of the thread it answers (root and parent).
    pub fn referenced_dids(&self) -> impl Iterator<Item = &str> {
        let mentioned = self
            .record
            .facets()
            .iter()
            .flat_map(|facet| facet.features.iter())
            .filter_map(|feature| {
                (feature.get("$type")?.as_str()? == MENTION_FEATURE)
                    .then(|| feature.get("did")?.as_str())
                    .flatten()
            });
        let thread = self.record.reply.iter().flat_map(|reply| {
            reply
                .root
                .iter()
                .chain(std::iter::once(&reply.parent))
                .filter_map(|strong| uri_did(&strong.uri))
        });
        mentioned.chain(thread)
    }

    /// The text with shortened links in full.
    pub fn text(&self) -> String {
        self.record.display_text()
    }

    pub fn is_reply(&self) -> bool {
        self.record.reply.is_some()
    }

    /// The post as a mention of `brand`. The stream carries no handle or
    /// display name: the author is named by DID until a profile is read.
    pub fn mention(&self, brand: &str, voice: Voice, received_at: DateTime<Utc>) -> Mention {
        let record = &self.record;
        Mention {
            id: self.id(),
            platform: Platform::Bluesky,
            url: format!("https://bsky.app/profile/{}/post/{}", self.did, self.rkey),
            author: Author {
                id: self.did.clone(),
                handle: self.did.clone(),
                display_name: None,
                followers: None,
            },
            text: self.text(),
            created_at: record
                .created_at
                .as_deref()
                .and_then(parse_time)
                .unwrap_or_else(|| time_of(self.time_us)),
            received_at,
            in_reply_to: record.reply.as_ref().and_then(|r| post_id(&r.parent.uri)),
            quotes: record.embed.as_ref().and_then(quoted_post),
            brand: brand.to_owned(),
            voice,
        }
    }
}

/// The post a quote embeds (`app.bsky.embed.record`, or
/// `recordWithMedia` around one).
fn quoted_post(embed: &Value) -> Option<MentionId> {
    let record = embed.get("record")?;
    let uri = record
        .get("uri")
        .or_else(|| record.get("record")?.get("uri"))?
        .as_str()?;
    post_parts(uri)?;
    post_id(uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(value: Value) -> String {
        value.to_string()
    }

    #[test]
    fn a_created_post_carries_its_mentions_and_thread() {
        let text = "@northwind.example my bag is lost";
        let raw = frame(json!({
            "did": "did:plc:cust1", "time_us": 1_764_928_800_000_001_i64, "kind": "commit",
            "commit": {"rev": "3m7aaa", "operation": "create", "collection": "app.bsky.feed.post",
                "rkey": "3m7abc", "cid": "bafyrei1",
                "record": {"$type": "app.bsky.feed.post", "text": text,
                    "createdAt": "2025-12-05T10:00:00.000Z", "langs": ["en"],
                    "facets": [{"index": {"byteStart": 0, "byteEnd": 18},
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:northwind"}]}],
                    "reply": {"root": {"uri": "at://did:plc:root/app.bsky.feed.post/3m1", "cid": "c1"},
                              "parent": {"uri": "at://did:plc:parent/app.bsky.feed.post/3m2", "cid": "c2"}}}}
        }));
        let Event::Post(post) = parse_frame(&raw).unwrap() else {
            panic!("a post");
        };
        assert!(!post.edited);
        assert_eq!(
            post.referenced_dids().collect::<Vec<_>>(),
            vec!["did:plc:northwind", "did:plc:root", "did:plc:parent"]
        );
        let mention = post.mention("Northwind", Voice::Customer, Utc::now());
        assert_eq!(mention.id.as_str(), "bluesky:did:plc:cust1/3m7abc");
        assert_eq!(
            mention.url,
            "https://bsky.app/profile/did:plc:cust1/post/3m7abc"
        );
        assert_eq!(
            mention.in_reply_to.map(|id| id.to_string()).as_deref(),
            Some("bluesky:did:plc:parent/3m2")
        );
        assert_eq!(mention.text, text);
    }

    #[test]
    fn deletes_identity_and_account_events_keep_their_position() {
        let delete = frame(
            json!({"did": "did:plc:cust1", "time_us": 7, "kind": "commit",
            "commit": {"rev": "r", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3m7abc"}}),
        );
        let Event::Deleted { id, time_us } = parse_frame(&delete).unwrap() else {
            panic!("a deletion");
        };
        assert_eq!((id.as_str(), time_us), ("bluesky:did:plc:cust1/3m7abc", 7));
        let identity = frame(
            json!({"did": "did:plc:cust1", "time_us": 8, "kind": "identity",
            "identity": {"did": "did:plc:cust1", "handle": "zoe.example", "seq": 1, "time": "2025-12-05T10:00:00Z"}}),
        );
        assert!(matches!(
            parse_frame(&identity).unwrap(),
            Event::Passed {
                kind: "identity",
                time_us: 8
            }
        ));
        let account = frame(
            json!({"did": "did:plc:cust1", "time_us": 9, "kind": "account",
            "account": {"active": false, "did": "did:plc:cust1", "seq": 2, "status": "deactivated", "time": "2025-12-05T10:00:00Z"}}),
        );
        assert_eq!(parse_frame(&account).unwrap().time_us(), 9);
    }

    #[test]
    fn a_record_that_is_not_an_object_is_refused_but_its_position_is_read() {
        let raw = frame(json!({"did": "did:plc:a", "time_us": 42, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "k", "record": "not a post"}}));
        assert!(parse_frame(&raw).is_err());
        assert_eq!(frame_position(&raw), Some(42));
        assert_eq!(frame_position("not json"), None);
    }

    #[test]
    fn a_post_with_an_odd_field_is_kept_with_what_can_be_read() {
        let raw = frame(json!({"did": "did:plc:a", "time_us": 42, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "k",
                "record": {"text": "Northwind lost my bag", "createdAt": 5, "facets": "odd"}}}));
        let Ok(Event::Post(post)) = parse_frame(&raw) else {
            panic!("the post was refused");
        };
        let mention = post.mention("Northwind", Voice::Customer, time_of(50));
        assert_eq!(mention.text, "Northwind lost my bag");
        assert_eq!(mention.created_at, time_of(42));
    }

    #[test]
    fn the_subscription_asks_for_posts_from_the_cursor() {
        assert_eq!(
            subscribe_url("ws://127.0.0.1:9/subscribe", Some(1_700_000_000_000_000)),
            "ws://127.0.0.1:9/subscribe?wantedCollections=app.bsky.feed.post&cursor=1700000000000000"
        );
        assert_eq!(
            subscribe_url("wss://h/subscribe?compress=false", None),
            "wss://h/subscribe?compress=false&wantedCollections=app.bsky.feed.post"
        );
    }
}
