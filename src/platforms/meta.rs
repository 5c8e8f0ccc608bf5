//! Meta webhooks: Facebook Page `feed` and `mention` changes, Instagram
//! `comments` and `mentions`.
//!
//! A delivery is `{"object": "page"|"instagram", "entry": [{"id", "time",
//! "changes": [{"field", "value"}]}]}`; every entry and every change counts.
//! `entry.id` is the Page or Instagram account that was notified, which is
//! how a change finds its brand.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::http::{self, FetchError, Http};
use super::{PayloadError, RejectedPost};
use crate::config::Secret;
use crate::domain::{Author, Mention, MentionId, Platform, Voice};

/// One change, read.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaChange {
    /// A new post or comment.
    Posted(Mention),
    /// A stored post was edited; carries the whole post in case it was
    /// never stored (an edit can be the first Earshot hears of it).
    Edited(Mention),
    /// A post was removed or hidden.
    Removed { id: MentionId, at: DateTime<Utc> },
    /// Instagram says the account was @mentioned but sends only ids; the
    /// text has to be asked for.
    InstagramMention(InstagramMention),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstagramMention {
    /// The brand's Instagram account that was mentioned.
    pub account: String,
    pub media_id: String,
    /// Set when the mention is in a comment rather than a caption.
    pub comment_id: Option<String>,
}

impl InstagramMention {
    pub fn id(&self) -> MentionId {
        let native = self.comment_id.as_deref().unwrap_or(&self.media_id);
        MentionId::new(Platform::Instagram, native)
    }
}

#[derive(Debug, Default)]
pub struct MetaDelivery {
    pub changes: Vec<MetaChange>,
    pub rejected: Vec<RejectedPost>,
    /// Changes that carry no mention (reactions, likes, other fields).
    pub ignored: Vec<String>,
}

#[derive(Deserialize)]
struct Envelope {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

/// A Page `feed` or `mention` value. Older deliveries name the author with
/// `sender_id`/`sender_name` instead of `from`.
#[derive(Deserialize)]
struct PageValue {
    item: Option<String>,
    verb: Option<String>,
    post_id: Option<String>,
    comment_id: Option<String>,
    parent_id: Option<String>,
    message: Option<String>,
    from: Option<PageUser>,
    sender_id: Option<IdString>,
    sender_name: Option<String>,
    created_time: Option<Value>,
}

#[derive(Deserialize)]
struct PageUser {
    id: IdString,
    name: Option<String>,
}

/// Ids arrive as strings, and in older payloads as numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdString {
    Text(String),
    Number(u64),
}

impl IdString {
    fn into_string(self) -> String {
        match self {
            IdString::Text(text) => text,
            IdString::Number(number) => number.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct InstagramComment {
    id: String,
    text: Option<String>,
    from: Option<InstagramUser>,
    media: Option<InstagramMedia>,
    parent_id: Option<String>,
}

#[derive(Deserialize)]
struct InstagramUser {
    id: String,
    username: Option<String>,
}

#[derive(Deserialize)]
struct InstagramMedia {
    id: String,
}

#[derive(Deserialize)]
struct InstagramMentionValue {
    media_id: IdString,
    comment_id: Option<IdString>,
}

/// Feed items that carry words; reactions, likes and the rest do not.
const WORDED_ITEMS: [&str; 7] = [
    "post", "status", "comment", "photo", "video", "share", "note",
];

/// Parses a delivery. `brand_of` names the brand that owns a Page or
/// Instagram account.
pub fn parse_delivery(
    body: &[u8],
    received_at: DateTime<Utc>,
    brand_of: &dyn Fn(Platform, &str) -> String,
) -> Result<MetaDelivery, PayloadError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(PayloadError::from_json)?;
    let platform = match envelope.object.as_str() {
        "page" => Platform::Facebook,
        "instagram" => Platform::Instagram,
        other => {
            return Err(PayloadError::Shape(format!(
                "`object` {other:?} is neither \"page\" nor \"instagram\""
            )));
        }
    };
    let mut delivery = MetaDelivery::default();
    let mut index = 0;
    for entry in envelope.entry {
        let brand = brand_of(platform, &entry.id);
        let context = ChangeContext {
            account: &entry.id,
            brand: &brand,
            received_at,
        };
        for change in entry.changes {
            let read = match (platform, change.field.as_str()) {
                (Platform::Facebook, "feed" | "mention") => {
                    value_as(change.value).and_then(|value| page_change(value, &context))
                }
                (Platform::Instagram, "comments" | "live_comments") => {
                    value_as(change.value).and_then(|comment| instagram_comment(comment, &context))
                }
                (Platform::Instagram, "mentions") => {
                    value_as(change.value).map(|value| instagram_mention(value, &entry.id))
                }
                (_, field) => Ok(Read::Ignored(format!("{} field {field}", platform.key()))),
            };
            match read {
                Ok(Read::Change(change)) => delivery.changes.push(*change),
                Ok(Read::Ignored(what)) => delivery.ignored.push(what),
                Err(reason) => delivery.rejected.push(RejectedPost { index, reason }),
            }
            index += 1;
        }
    }
    Ok(delivery)
}

enum Read {
    Change(Box<MetaChange>),
    Ignored(String),
}

/// Where a change comes from: the Page or Instagram account the entry is
/// for, that account's brand, and when the delivery arrived.
struct ChangeContext<'a> {
    account: &'a str,
    brand: &'a str,
    received_at: DateTime<Utc>,
}

/// A change's `value` as `T`; one that does not read rejects the change.
fn value_as<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    T::deserialize(value).map_err(|err| err.to_string())
}

fn page_change(value: PageValue, context: &ChangeContext<'_>) -> Result<Read, String> {
    let received_at = context.received_at;
    let item = value.item.as_deref().unwrap_or("post");
    let verb = value.verb.as_deref().unwrap_or("add");
    if !WORDED_ITEMS.contains(&item) {
        return Ok(Read::Ignored(format!("feed {item} {verb}")));
    }
    let native_id = match item {
        "comment" => value.comment_id.clone(),
        _ => value.post_id.clone(),
    }
    .filter(|id| !id.trim().is_empty())
    .ok_or_else(|| format!("a {item} change without its id"))?;
    let id = MentionId::new(Platform::Facebook, &native_id);
    let created_at = value
        .created_time
        .as_ref()
        .and_then(parse_time)
        .unwrap_or(received_at);
    if matches!(verb, "remove" | "hide") {
        return Ok(Read::Change(Box::new(MetaChange::Removed {
            id,
            at: created_at,
        })));
    }
    if !matches!(verb, "add" | "edited" | "edit") {
        return Ok(Read::Ignored(format!("feed {item} {verb}")));
    }
    let text = value.message.unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(Read::Ignored(format!("feed {item} {verb} without text")));
    }
    let (author_id, name) = match (value.from, value.sender_id) {
        (Some(from), _) => (from.id.into_string(), from.name),
        (None, Some(sender)) => (sender.into_string(), value.sender_name),
        // A Page mention names no author; the post id starts with the
        // poster's id.
        (None, None) => (
            value
                .post_id
                .as_deref()
                .and_then(|p| p.split_once('_'))
                .map(|(poster, _)| poster.to_owned())
                .unwrap_or_default(),
            value.sender_name,
        ),
    };
    // Facebook has no handles: the name stands in, or the id.
    let author = Author {
        handle: name.clone().unwrap_or_else(|| author_id.clone()),
        id: author_id,
        display_name: name,
        followers: None,
    };
    let own = author.id == context.account;
    let url = match (item, value.comment_id.as_deref(), value.post_id.as_deref()) {
        ("comment", Some(comment), Some(post)) => {
            let comment = comment.rsplit('_').next().unwrap_or(comment);
            format!("https://www.facebook.com/{post}?comment_id={comment}")
        }
        _ => format!("https://www.facebook.com/{native_id}"),
    };
    let in_reply_to = match item {
        "comment" => value
            .parent_id
            .or(value.post_id)
            .map(|parent| MentionId::new(Platform::Facebook, &parent)),
        _ => None,
    };
    let mention = Mention {
        id,
        platform: Platform::Facebook,
        url,
        author,
        text,
        created_at,
        received_at,
        in_reply_to,
        quotes: None,
        brand: context.brand.to_owned(),
        voice: if own { Voice::Brand } else { Voice::Customer },
    };
    Ok(Read::Change(Box::new(if verb == "add" {
        MetaChange::Posted(mention)
    } else {
        MetaChange::Edited(mention)
    })))
}

fn instagram_comment(
    comment: InstagramComment,
    context: &ChangeContext<'_>,
) -> Result<Read, String> {
    let received_at = context.received_at;
    let text = comment.text.unwrap_or_default();
    if comment.id.trim().is_empty() {
        return Err("a comment without its id".into());
    }
    if text.trim().is_empty() {
        return Ok(Read::Ignored("instagram comment without text".into()));
    }
    let from = comment
        .from
        .ok_or_else(|| "a comment without `from`".to_owned())?;
    let handle = from.username.unwrap_or_else(|| from.id.clone());
    let own = from.id == context.account;
    let media = comment.media.map(|m| m.id);
    Ok(Read::Change(Box::new(MetaChange::Posted(Mention {
        id: MentionId::new(Platform::Instagram, &comment.id),
        platform: Platform::Instagram,
        url: format!("https://www.instagram.com/{handle}/"),
        author: Author {
            id: from.id,
            handle,
            display_name: None,
            followers: None,
        },
        text,
        // Comment notifications carry no time; they arrive within seconds.
        created_at: received_at,
        received_at,
        in_reply_to: comment
            .parent_id
            .or(media)
            .map(|parent| MentionId::new(Platform::Instagram, &parent)),
        quotes: None,
        brand: context.brand.to_owned(),
        voice: if own { Voice::Brand } else { Voice::Customer },
    }))))
}

fn instagram_mention(value: InstagramMentionValue, account: &str) -> Read {
    Read::Change(Box::new(MetaChange::InstagramMention(InstagramMention {
        account: account.to_owned(),
        media_id: value.media_id.into_string(),
        comment_id: value.comment_id.map(IdString::into_string),
    })))
}

/// `created_time` is epoch seconds, or an ISO 8601 time in older payloads
/// (`2016-01-01T12:00:00+0000`).
fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => Utc.timestamp_opt(n.as_i64()?, 0).single(),
        Value::String(s) => s
            .parse::<i64>()
            .ok()
            .and_then(|secs| Utc.timestamp_opt(secs, 0).single())
            .or_else(|| {
                DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
                    .ok()
                    .map(|t| t.with_timezone(&Utc))
            }),
        _ => None,
    }
}

/// Asks the Graph API for the words of an Instagram mention, which the
/// webhook does not carry. Needs a token with `instagram_manage_comments`.
pub struct GraphClient {
    http: Http,
    base_url: String,
    token: Secret,
}

#[derive(Deserialize)]
struct MentionLookup {
    mentioned_comment: Option<MentionedItem>,
    mentioned_media: Option<MentionedItem>,
}

#[derive(Deserialize)]
struct MentionedItem {
    id: String,
    text: Option<String>,
    caption: Option<String>,
    username: Option<String>,
    timestamp: Option<String>,
    permalink: Option<String>,
}

impl GraphClient {
    pub fn new(http: Http, base_url: impl Into<String>, token: Secret) -> Self {
        Self {
            http,
            base_url: base_url.into(),
            token,
        }
    }

    /// The mentioning comment or caption as a mention of `brand`.
    pub async fn mention(
        &self,
        mentioned: &InstagramMention,
        brand: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Mention, FetchError> {
        let fields = match &mentioned.comment_id {
            Some(comment) => {
                format!("mentioned_comment.comment_id({comment}){{id,text,timestamp,username}}")
            }
            None => format!(
                "mentioned_media.media_id({}){{id,caption,timestamp,username,permalink}}",
                mentioned.media_id
            ),
        };
        let url = http::url(
            &self.base_url,
            &format!("/{}", mentioned.account),
            &[("fields", &fields)],
        );
        let token = self.token.expose_str();
        let response = self
            .http
            .get(&url, Some(token), http::REQUEST_TIMEOUT)
            .await?;
        if !(200..300).contains(&response.status) {
            return Err(http::status_error(&response));
        }
        let lookup: MentionLookup = http::json(&response.body)?;
        let item = lookup
            .mentioned_comment
            .or(lookup.mentioned_media)
            .ok_or_else(|| FetchError::Payload("no mentioned comment or media".into()))?;
        let handle = item.username.unwrap_or_default();
        Ok(Mention {
            id: mentioned.id(),
            platform: Platform::Instagram,
            url: item
                .permalink
                .unwrap_or_else(|| format!("https://www.instagram.com/{handle}/")),
            author: Author {
                id: handle.clone(),
                handle,
                display_name: None,
                followers: None,
            },
            text: item.text.or(item.caption).unwrap_or_default(),
            created_at: item
                .timestamp
                .map(Value::String)
                .as_ref()
                .and_then(parse_time)
                .unwrap_or(received_at),
            received_at,
            in_reply_to: (item.id != mentioned.media_id)
                .then(|| MentionId::new(Platform::Instagram, &mentioned.media_id)),
            quotes: None,
            brand: brand.to_owned(),
            voice: Voice::Customer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-20T09:00:00Z".parse().unwrap()
    }

    fn brand_of(platform: Platform, account: &str) -> String {
        match (platform, account) {
            (Platform::Facebook, "5550001") => "northwind".into(),
            _ => format!("{platform}:{account}"),
        }
    }

    fn parse(body: &str) -> MetaDelivery {
        parse_delivery(body.as_bytes(), now(), &brand_of).expect("a readable delivery")
    }

    #[test]
    fn every_entry_and_change_is_read() {
        let delivery = parse(
            r#"{"object":"page","entry":[
              {"id":"5550001","time":1763629000,"changes":[
                {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"77_901","post_id":"5550001_77","parent_id":"5550001_77","from":{"id":"42","name":"Rosa Quint"},"created_time":1763628990,"message":"Still no refund after six weeks"}},
                {"field":"feed","value":{"item":"reaction","verb":"add","reaction_type":"like","post_id":"5550001_77","from":{"id":"43"}}}
              ]},
              {"id":"5550002","time":1763629001,"changes":[
                {"field":"mention","value":{"item":"post","verb":"add","post_id":"88_120","message":"@Northwind Rail lost my bike","created_time":1763628999}}
              ]}
            ]}"#,
        );
        assert_eq!(delivery.changes.len(), 2);
        assert_eq!(delivery.ignored, vec!["feed reaction add".to_owned()]);
        let MetaChange::Posted(comment) = &delivery.changes[0] else {
            panic!("a new comment");
        };
        assert_eq!(comment.id.as_str(), "facebook:77_901");
        assert_eq!(comment.brand, "northwind");
        assert_eq!(comment.author.id, "42");
        assert_eq!(comment.author.handle, "Rosa Quint");
        assert_eq!(comment.voice, Voice::Customer);
        assert_eq!(comment.created_at.timestamp(), 1763628990);
        assert_eq!(
            comment.in_reply_to.as_ref().map(MentionId::as_str),
            Some("facebook:5550001_77")
        );
        assert_eq!(
            comment.url,
            "https://www.facebook.com/5550001_77?comment_id=901"
        );
        let MetaChange::Posted(mention) = &delivery.changes[1] else {
            panic!("a Page mention");
        };
        assert_eq!(mention.brand, "facebook:5550002");
        assert_eq!(mention.author.id, "88", "the poster's id leads the post id");
    }

    #[test]
    fn the_older_sender_shape_is_accepted() {
        let delivery = parse(
            r#"{"object":"page","entry":[{"id":"5550001","changes":[
                {"field":"feed","value":{"item":"status","verb":"add","post_id":"5550001_9","sender_id":4411,"sender_name":"Old Style","created_time":"2016-01-01T12:00:00+0000","message":"Where is my parcel?"}}
            ]}]}"#,
        );
        let MetaChange::Posted(post) = &delivery.changes[0] else {
            panic!("a post");
        };
        assert_eq!(post.author.id, "4411");
        assert_eq!(post.author.display_name.as_deref(), Some("Old Style"));
        assert_eq!(post.created_at.to_rfc3339(), "2016-01-01T12:00:00+00:00");
    }

    #[test]
    fn the_pages_own_comments_are_its_voice() {
        let delivery = parse(
            r#"{"object":"page","entry":[{"id":"5550001","changes":[
                {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"77_902","post_id":"5550001_77","from":{"id":"5550001","name":"Northwind"},"message":"We're sorry, DM us your booking"}}
            ]}]}"#,
        );
        let MetaChange::Posted(reply) = &delivery.changes[0] else {
            panic!("a reply");
        };
        assert_eq!(reply.voice, Voice::Brand);
    }

    #[test]
    fn edits_and_removals_are_told_apart() {
        let delivery = parse(
            r#"{"object":"page","entry":[{"id":"5550001","changes":[
                {"field":"feed","value":{"item":"comment","verb":"edited","comment_id":"77_901","post_id":"5550001_77","from":{"id":"42"},"message":"Still no refund after seven weeks"}},
                {"field":"feed","value":{"item":"comment","verb":"remove","comment_id":"77_903","post_id":"5550001_77","from":{"id":"44"},"created_time":1763629100}},
                {"field":"feed","value":{"item":"post","verb":"hide","post_id":"5550001_78"}}
            ]}]}"#,
        );
        let [edited, removed, hidden] = delivery.changes.as_slice() else {
            panic!("three changes: {:?}", delivery.changes);
        };
        assert!(
            matches!(edited, MetaChange::Edited(m) if m.id.as_str() == "facebook:77_901" && m.text.ends_with("seven weeks"))
        );
        assert!(
            matches!(removed, MetaChange::Removed { id, at } if id.as_str() == "facebook:77_903" && at.timestamp() == 1763629100)
        );
        assert!(
            matches!(hidden, MetaChange::Removed { id, .. } if id.as_str() == "facebook:5550001_78")
        );
    }

    #[test]
    fn instagram_comments_and_mentions_are_read() {
        let delivery = parse(
            r#"{"object":"instagram","entry":[{"id":"1789","time":1763629000,"changes":[
                {"field":"comments","value":{"id":"1801","text":"my order never arrived","from":{"id":"9001","username":"lena.k"},"media":{"id":"1790","media_product_type":"FEED"}}},
                {"field":"mentions","value":{"media_id":"1791","comment_id":"1802"}},
                {"field":"mentions","value":{"media_id":"1792"}},
                {"field":"story_insights","value":{"media_id":"1"}}
            ]}]}"#,
        );
        let MetaChange::Posted(comment) = &delivery.changes[0] else {
            panic!("a comment");
        };
        assert_eq!(comment.id.as_str(), "instagram:1801");
        assert_eq!(comment.author.handle, "lena.k");
        assert_eq!(comment.brand, "instagram:1789");
        let MetaChange::InstagramMention(in_comment) = &delivery.changes[1] else {
            panic!("a mention");
        };
        assert_eq!(in_comment.id().as_str(), "instagram:1802");
        let MetaChange::InstagramMention(in_caption) = &delivery.changes[2] else {
            panic!("a mention");
        };
        assert_eq!(in_caption.id().as_str(), "instagram:1792");
        assert_eq!(delivery.ignored, vec!["instagram field story_insights"]);
    }

    #[test]
    fn unusable_changes_are_rejected_alone() {
        let delivery = parse(
            r#"{"object":"page","entry":[{"id":"5550001","changes":[
                {"field":"feed","value":{"item":"comment","verb":"add","message":"no ids"}},
                {"field":"feed","value":{"item":"post","verb":"add","post_id":"5550001_80","from":{"id":"42"},"message":"fine"}}
            ]}]}"#,
        );
        assert_eq!(delivery.rejected.len(), 1);
        assert_eq!(delivery.rejected[0].index, 0);
        assert_eq!(delivery.changes.len(), 1);
    }

    #[test]
    fn other_objects_and_broken_json_are_refused() {
        let refused = |body: &str| parse_delivery(body.as_bytes(), now(), &brand_of).is_err();
        assert!(refused(r#"{"object":"user","entry":[]}"#));
        assert!(refused(r#"{"object":"page"}"#));
        assert!(refused("not json"));
    }
}
