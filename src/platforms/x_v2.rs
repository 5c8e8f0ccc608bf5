//! The X API v2 post and user shapes, shared by X Activity API webhook
//! events and recent-search pages.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{UNKNOWN_AUTHOR, html, lenient};
use crate::domain::{Author, Mention, MentionId, Platform, Voice};

/// A post; everything but its id may be missing (a search without the
/// `author_id` field, say) and is then stored as unknown.
#[derive(Deserialize)]
pub struct Post {
    pub id: String,
    #[serde(default, deserialize_with = "lenient")]
    text: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub author_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    created_at: Option<DateTime<Utc>>,
    /// Long posts carry their full text here.
    #[serde(default, deserialize_with = "lenient")]
    note_tweet: Option<NoteTweet>,
    #[serde(default, deserialize_with = "lenient")]
    referenced_tweets: Option<Vec<Reference>>,
}

#[derive(Deserialize)]
struct NoteTweet {
    text: String,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    name: Option<String>,
    public_metrics: Option<Metrics>,
}

#[derive(Deserialize)]
struct Metrics {
    followers_count: Option<u64>,
}

/// Post ids are 1 to 19 digits (they exceed 2^53, so they travel as text).
pub fn is_post_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The post as a mention of `brand`; `own` says whether an author (id,
/// handle) is the brand's own account.
pub fn mention(
    post: Post,
    users: &[User],
    brand: String,
    own: impl Fn(&str, &str) -> bool,
    received_at: DateTime<Utc>,
) -> Mention {
    let author_id = post.author_id.filter(|id| !id.is_empty());
    let author = author_id
        .as_ref()
        .and_then(|id| users.iter().find(|u| &u.id == id));
    let handle = author
        .map(|u| u.username.clone())
        .filter(|username| !username.is_empty())
        .or_else(|| author_id.clone());
    let referenced = |kind: &str| {
        post.referenced_tweets
            .iter()
            .flatten()
            .find(|r| r.kind == kind && is_post_id(&r.id))
            .map(|r| MentionId::new(Platform::X, &r.id))
    };
    let voice = match (&author_id, &handle) {
        (Some(id), Some(handle)) if own(id, handle) => Voice::Brand,
        _ => Voice::Customer,
    };
    let url = match &handle {
        Some(handle) => format!("https://x.com/{handle}/status/{}", post.id),
        // X's link for a post whose author is not known.
        None => format!("https://x.com/i/web/status/{}", post.id),
    };
    let text = post
        .note_tweet
        .map(|note| note.text)
        .or(post.text)
        .unwrap_or_default();
    Mention {
        id: MentionId::new(Platform::X, &post.id),
        platform: Platform::X,
        url,
        author: Author {
            id: author_id.unwrap_or_default(),
            handle: handle.unwrap_or_else(|| UNKNOWN_AUTHOR.to_owned()),
            display_name: author.and_then(|u| u.name.clone()),
            followers: author
                .and_then(|u| u.public_metrics.as_ref())
                .and_then(|m| m.followers_count),
        },
        // X escapes `&`, `<` and `>` in post text.
        text: html::decode_entities(&text),
        created_at: post.created_at.unwrap_or(received_at),
        received_at,
        in_reply_to: referenced("replied_to"),
        quotes: referenced("quoted"),
        brand,
        voice,
    }
}
