//! The X API v2 post and user shapes, shared by X Activity API webhook
//! events and recent-search pages.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::html;
use crate::domain::{Author, Mention, MentionId, Platform, Voice};

#[derive(Deserialize)]
pub struct Post {
    pub id: String,
    text: String,
    pub author_id: String,
    created_at: Option<DateTime<Utc>>,
    /// Long posts carry their full text here.
    note_tweet: Option<NoteTweet>,
    #[serde(default)]
    referenced_tweets: Vec<Reference>,
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
    let author = users.iter().find(|u| u.id == post.author_id);
    let handle = author.map_or_else(|| post.author_id.clone(), |u| u.username.clone());
    let referenced = |kind: &str| {
        post.referenced_tweets
            .iter()
            .find(|r| r.kind == kind && is_post_id(&r.id))
            .map(|r| MentionId::new(Platform::X, &r.id))
    };
    let voice = if own(&post.author_id, &handle) {
        Voice::Brand
    } else {
        Voice::Customer
    };
    Mention {
        id: MentionId::new(Platform::X, &post.id),
        platform: Platform::X,
        url: format!("https://x.com/{handle}/status/{}", post.id),
        author: Author {
            id: post.author_id.clone(),
            handle,
            display_name: author.and_then(|u| u.name.clone()),
            followers: author
                .and_then(|u| u.public_metrics.as_ref())
                .and_then(|m| m.followers_count),
        },
        // X escapes `&`, `<` and `>` in post text.
        text: html::decode_entities(&post.note_tweet.map_or(post.text, |note| note.text)),
        created_at: post.created_at.unwrap_or(received_at),
        received_at,
        in_reply_to: referenced("replied_to"),
        quotes: referenced("quoted"),
        brand,
        voice,
    }
}
