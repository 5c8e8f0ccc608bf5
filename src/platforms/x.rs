//! X deliveries: Account Activity (v1.1 tweet objects) and the X Activity
//! API envelope (v2 posts), parsed into [`Mention`]s.
//!
//! Ids are always read from their string forms: numeric X ids exceed 2^53
//! and arrive already rounded from some relays.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::html;
use super::x_v2::{self, Post as V2Post, User as V2User};
use super::{Delivery, PayloadError, RejectedPost};
use crate::domain::{Author, Mention, MentionId, Platform, Voice};

/// Parses one signed webhook body. Fails only when the body as a whole is
/// unusable; a single bad post inside is reported in [`Delivery::rejected`].
pub fn parse_delivery(body: &[u8], received_at: DateTime<Utc>) -> Result<Delivery, PayloadError> {
    let envelope: Value = serde_json::from_slice(body).map_err(PayloadError::from_json)?;
    let Value::Object(fields) = &envelope else {
        return Err(PayloadError::Shape("expected a JSON object".into()));
    };
    if let Some(events) = fields.get("tweet_create_events") {
        let for_user_id = fields
            .get("for_user_id")
            .and_then(Value::as_str)
            .ok_or_else(|| PayloadError::Shape("`for_user_id` (a string) is missing".into()))?;
        return account_activity(for_user_id, events, received_at);
    }
    if let Some(data) = fields.get("data").filter(|d| d.get("event_type").is_some()) {
        return activity_event(data, received_at);
    }
    // Other Account Activity events (likes, follows, DMs, deletes) are
    // valid deliveries that carry no mention.
    let kinds = fields
        .keys()
        .filter(|k| k.ends_with("_events"))
        .cloned()
        .collect::<Vec<_>>();
    if kinds.is_empty() {
        return Err(PayloadError::Shape(
            "neither `tweet_create_events` nor an X Activity `data.event_type` is present".into(),
        ));
    }
    Ok(Delivery {
        ignored: kinds,
        ..Delivery::default()
    })
}

#[derive(Deserialize)]
struct V1Tweet {
    id_str: String,
    created_at: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    full_text: Option<String>,
    #[serde(default)]
    truncated: bool,
    extended_tweet: Option<ExtendedTweet>,
    entities: Option<Entities>,
    user: V1User,
    in_reply_to_status_id_str: Option<String>,
    in_reply_to_user_id_str: Option<String>,
    in_reply_to_screen_name: Option<String>,
    quoted_status_id_str: Option<String>,
    retweeted_status: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ExtendedTweet {
    full_text: String,
    entities: Option<Entities>,
}

#[derive(Deserialize, Default)]
struct Entities {
    #[serde(default)]
    user_mentions: Vec<UserMention>,
}

#[derive(Deserialize)]
struct UserMention {
    id_str: String,
    screen_name: String,
}

#[derive(Deserialize)]
struct V1User {
    id_str: String,
    screen_name: String,
    name: Option<String>,
    followers_count: Option<u64>,
}

fn account_activity(
    for_user_id: &str,
    events: &Value,
    received_at: DateTime<Utc>,
) -> Result<Delivery, PayloadError> {
    let events = events
        .as_array()
        .ok_or_else(|| PayloadError::Shape("`tweet_create_events` must be an array".into()))?;
    let mut delivery = Delivery::default();
    for (index, raw) in events.iter().enumerate() {
        let tweet = match V1Tweet::deserialize(raw) {
            Ok(tweet) => tweet,
            Err(err) => {
                delivery.rejected.push(RejectedPost {
                    index,
                    reason: err.to_string(),
                });
                continue;
            }
        };
        if tweet.retweeted_status.is_some() {
            delivery.ignored.push(format!("retweet x:{}", tweet.id_str));
            continue;
        }
        match v1_mention(tweet, for_user_id, received_at) {
            Ok(mention) => delivery.mentions.push(mention),
            Err(reason) => delivery.rejected.push(RejectedPost { index, reason }),
        }
    }
    Ok(delivery)
}

fn v1_mention(
    tweet: V1Tweet,
    for_user_id: &str,
    received_at: DateTime<Utc>,
) -> Result<Mention, String> {
    if tweet.id_str.is_empty() || !tweet.id_str.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`id_str` {:?} is not a post id", tweet.id_str));
    }
    let created_at = DateTime::parse_from_str(&tweet.created_at, "%a %b %d %H:%M:%S %z %Y")
        .map_err(|err| format!("`created_at` {:?}: {err}", tweet.created_at))?
        .with_timezone(&Utc);
    // A truncated post keeps its real text and mentions in `extended_tweet`.
    let (text, entities) = match tweet.extended_tweet {
        Some(extended) if tweet.truncated => (extended.full_text, extended.entities),
        _ => (tweet.full_text.unwrap_or(tweet.text), tweet.entities),
    };
    let entities = entities.unwrap_or_default();
    let own_post = tweet.user.id_str == for_user_id;
    let brand = entities
        .user_mentions
        .iter()
        .find(|m| m.id_str == for_user_id)
        .map(|m| m.screen_name.clone())
        .or_else(|| own_post.then(|| tweet.user.screen_name.clone()))
        .or_else(|| {
            (tweet.in_reply_to_user_id_str.as_deref() == Some(for_user_id))
                .then(|| tweet.in_reply_to_screen_name.clone())
                .flatten()
        })
        .unwrap_or_else(|| format!("x:{for_user_id}"));
    Ok(Mention {
        id: MentionId::new(Platform::X, &tweet.id_str),
        platform: Platform::X,
        url: format!(
            "https://x.com/{}/status/{}",
            tweet.user.screen_name, tweet.id_str
        ),
        author: Author {
            id: tweet.user.id_str,
            handle: tweet.user.screen_name,
            display_name: tweet.user.name,
            followers: tweet.user.followers_count,
        },
        // X escapes `&`, `<` and `>` in post text.
        text: html::decode_entities(&text),
        created_at,
        received_at,
        in_reply_to: tweet
            .in_reply_to_status_id_str
            .map(|id| MentionId::new(Platform::X, &id)),
        quotes: tweet
            .quoted_status_id_str
            .map(|id| MentionId::new(Platform::X, &id)),
        brand,
        voice: if own_post {
            Voice::Brand
        } else {
            Voice::Customer
        },
    })
}

#[derive(Deserialize)]
struct ActivityEvent {
    event_type: String,
    filter: Option<ActivityFilter>,
    payload: Option<Value>,
    includes: Option<ActivityIncludes>,
}

#[derive(Deserialize)]
struct ActivityFilter {
    user_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct ActivityIncludes {
    #[serde(default)]
    users: Vec<Value>,
}

/// Mentions of the watched account, and the account's own posts.
const MENTION_EVENT: &str = "post.mention.create";
const OWN_POST_EVENT: &str = "post.create";

fn activity_event(data: &Value, received_at: DateTime<Utc>) -> Result<Delivery, PayloadError> {
    let event = ActivityEvent::deserialize(data)
        .map_err(|err| PayloadError::Shape(format!("X Activity event: {err}")))?;
    if event.event_type != MENTION_EVENT && event.event_type != OWN_POST_EVENT {
        return Ok(Delivery {
            ignored: vec![event.event_type],
            ..Delivery::default()
        });
    }
    let Some(payload) = event.payload else {
        return Err(PayloadError::Shape(
            "X Activity event has no `payload`".into(),
        ));
    };
    let watched = event.filter.and_then(|f| f.user_id).unwrap_or_default();
    // Some deliveries wrap each included user in `{"data": {...}}`.
    let users: Vec<V2User> = event
        .includes
        .unwrap_or_default()
        .users
        .iter()
        .filter_map(|u| V2User::deserialize(u.get("data").unwrap_or(u)).ok())
        .collect();

    let mut delivery = Delivery::default();
    match v2_mention(payload, &watched, &users, received_at) {
        Ok(mention) => delivery.mentions.push(mention),
        Err(reason) => delivery.rejected.push(RejectedPost { index: 0, reason }),
    }
    Ok(delivery)
}

fn v2_mention(
    payload: Value,
    watched: &str,
    users: &[V2User],
    received_at: DateTime<Utc>,
) -> Result<Mention, String> {
    let post = V2Post::deserialize(payload).map_err(|err| err.to_string())?;
    if !x_v2::is_post_id(&post.id) {
        return Err(format!("`id` {:?} is not a post id", post.id));
    }
    let brand = users
        .iter()
        .find(|u| u.id == watched)
        .map_or_else(|| format!("x:{watched}"), |u| u.username.clone());
    Ok(x_v2::mention(
        post,
        users,
        brand,
        |author_id, _| author_id == watched,
        received_at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-24T10:00:00Z".parse().unwrap()
    }

    fn v1_tweet(id: &str, author_id: &str, text: &str) -> Value {
        json!({
            "created_at": "Tue Nov 24 09:58:00 +0000 2026",
            "id": 1.0e18,
            "id_str": id,
            "text": text,
            "truncated": false,
            "entities": {"user_mentions": [{"id_str": "900", "screen_name": "skyways", "id": 900}]},
            "user": {"id_str": author_id, "screen_name": "dana_r", "name": "Dana R", "followers_count": 45200},
            "in_reply_to_status_id_str": null,
            "in_reply_to_user_id_str": null
        })
    }

    fn parse(value: Value) -> Delivery {
        parse_delivery(value.to_string().as_bytes(), now()).unwrap()
    }

    #[test]
    fn account_activity_posts_become_mentions_by_id_str() {
        let delivery = parse(json!({
            "for_user_id": "900",
            "user_has_blocked": "false",
            "tweet_create_events": [v1_tweet("1862000000000000001", "42", "@skyways stuck &lt;1h&gt; &amp; counting")]
        }));
        let mention = &delivery.mentions[0];
        assert_eq!(
            mention.text, "@skyways stuck <1h> & counting",
            "X escapes these three"
        );
        assert_eq!(mention.id.as_str(), "x:1862000000000000001");
        assert_eq!(mention.brand, "skyways");
        assert_eq!(mention.author.followers, Some(45_200));
        assert_eq!(mention.voice, Voice::Customer);
        assert_eq!(
            mention.url,
            "https://x.com/dana_r/status/1862000000000000001"
        );
        assert_eq!(
            mention.created_at,
            "2026-11-24T09:58:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn truncated_posts_take_text_and_mentions_from_extended_tweet() {
        let mut tweet = v1_tweet(
            "1862000000000000002",
            "42",
            "We have been waiting for… https://t.co/x",
        );
        tweet["truncated"] = json!(true);
        tweet["entities"] = json!({"user_mentions": []});
        tweet["extended_tweet"] = json!({
            "full_text": "We have been waiting for three hours at gate 12 @skyways",
            "entities": {"user_mentions": [{"id_str": "900", "screen_name": "skyways"}]}
        });
        let delivery = parse(json!({"for_user_id": "900", "tweet_create_events": [tweet]}));
        assert_eq!(
            delivery.mentions[0].text,
            "We have been waiting for three hours at gate 12 @skyways"
        );
        assert_eq!(delivery.mentions[0].brand, "skyways");
    }

    #[test]
    fn the_brands_own_posts_are_its_replies() {
        let mut tweet = v1_tweet("1862000000000000003", "900", "@dana_r so sorry, DM us");
        tweet["user"]["screen_name"] = json!("skyways");
        tweet["in_reply_to_status_id_str"] = json!("1862000000000000001");
        let delivery = parse(json!({"for_user_id": "900", "tweet_create_events": [tweet]}));
        let reply = &delivery.mentions[0];
        assert_eq!(reply.voice, Voice::Brand);
        assert_eq!(
            reply.in_reply_to.as_ref().unwrap().as_str(),
            "x:1862000000000000001"
        );
    }

    #[test]
    fn one_malformed_post_does_not_sink_the_others() {
        let delivery = parse(json!({
            "for_user_id": "900",
            "tweet_create_events": [
                {"id_str": "1", "text": "no user or date"},
                v1_tweet("1862000000000000004", "42", "@skyways hello")
            ]
        }));
        assert_eq!(delivery.mentions.len(), 1);
        assert_eq!(delivery.rejected.len(), 1);
        assert_eq!(delivery.rejected[0].index, 0);
    }

    #[test]
    fn retweets_and_other_events_are_ignored_not_rejected() {
        let mut retweet = v1_tweet("1862000000000000005", "43", "RT @dana_r: stuck");
        retweet["retweeted_status"] = json!({"id_str": "1862000000000000001"});
        let delivery = parse(json!({"for_user_id": "900", "tweet_create_events": [retweet]}));
        assert!(delivery.mentions.is_empty() && delivery.rejected.is_empty());
        let delivery = parse(json!({"for_user_id": "900", "favorite_events": []}));
        assert_eq!(delivery.ignored, vec!["favorite_events"]);
    }

    #[test]
    fn activity_api_mentions_carry_author_reach() {
        let delivery = parse(json!({"data": {
            "event_uuid": "-5",
            "filter": {"user_id": "900"},
            "event_type": "post.mention.create",
            "payload": {
                "id": "1862000000000000006",
                "text": "@skyways my bag &amp; pram never arrived",
                "author_id": "42",
                "created_at": "2026-11-24T09:59:00.000Z",
                "referenced_tweets": [{"type": "quoted", "id": "1862000000000000001"}]
            },
            "includes": {"users": [
                {"data": {"id": "42", "username": "dana_r", "public_metrics": {"followers_count": 812}}},
                {"id": "900", "username": "skyways"}
            ]}
        }}));
        let mention = &delivery.mentions[0];
        assert_eq!(mention.text, "@skyways my bag & pram never arrived");
        assert_eq!(mention.author.handle, "dana_r");
        assert_eq!(mention.author.followers, Some(812));
        assert_eq!(mention.brand, "skyways");
        assert_eq!(
            mention.quotes.as_ref().unwrap().as_str(),
            "x:1862000000000000001"
        );
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let err = parse_delivery(b"{\"for_user_id\": ", now()).unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        let err = parse_delivery(b"[1,2]", now()).unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
        let err = parse_delivery(b"{\"hello\": 1}", now()).unwrap_err();
        assert!(err.to_string().contains("tweet_create_events"), "{err}");
    }
}
