//! Mastodon: statuses from polling one server's search or hashtag
//! timeline, and `status.created`/`status.updated` webhook deliveries.
//!
//! A status is identified by its `uri`, which is the same on every server,
//! so a post heard by webhook and by search is stored once. Its `content`
//! is HTML and becomes plain text.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::PolledPlatform;
use super::http::{self, FetchError, Http, Response};
use super::{PayloadError, UNKNOWN_AUTHOR, html, lenient, or_default};
use crate::config::{self, Secret};
use crate::domain::Watch;
use crate::domain::{Author, Mention, MentionId, Platform, Voice};
use crate::ports::{Page, PageRequest, SearchSource};

/// Mastodon search, with an optional access token.
pub const SEARCH: PolledPlatform = PolledPlatform {
    platform: Platform::Mastodon,
    api: config::MASTODON_API,
    token_var: Some(config::MASTODON_ACCESS_TOKEN_VAR),
    build: |http, base_url, token| Arc::new(MastodonSearch::new(http, base_url, token)),
};
/// Statuses per page, the API's maximum.
pub const PAGE_SIZE: usize = 40;

/// A status; everything but its `id` and `uri` may be missing or odd and
/// is then stored as unknown.
#[derive(Deserialize)]
pub struct Status {
    pub id: String,
    pub uri: String,
    #[serde(default, deserialize_with = "lenient")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "or_default")]
    pub content: String,
    #[serde(default, deserialize_with = "or_default")]
    pub spoiler_text: String,
    #[serde(default, deserialize_with = "or_default")]
    pub account: Account,
    pub reblog: Option<serde::de::IgnoredAny>,
    #[serde(default, deserialize_with = "lenient")]
    pub edited_at: Option<DateTime<Utc>>,
    /// The accounts the status @mentions.
    #[serde(default, deserialize_with = "or_default")]
    pub mentions: Vec<MentionedAccount>,
    /// The parent's id on the server that sent this status.
    #[serde(default, deserialize_with = "lenient")]
    pub in_reply_to_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub in_reply_to_account_id: Option<String>,
}

#[derive(Deserialize)]
pub struct MentionedAccount {
    pub id: String,
    /// `user` for local accounts, `user@server` for remote ones.
    pub acct: String,
}

#[derive(Deserialize)]
pub struct Account {
    pub id: String,
    pub acct: String,
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub followers_count: Option<u64>,
}

/// An account the status did not name.
impl Default for Account {
    fn default() -> Self {
        Self {
            id: String::new(),
            acct: UNKNOWN_AUTHOR.to_owned(),
            display_name: None,
            followers_count: None,
        }
    }
}

/// `https://server/users/name/statuses/1` → `server/users/name/statuses/1`.
fn native_id(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))
        .unwrap_or(uri);
    (!rest.trim().is_empty()).then(|| rest.to_owned())
}

pub fn status_id(uri: &str) -> Option<MentionId> {
    native_id(uri).map(|native| MentionId::new(Platform::Mastodon, &native))
}

/// The parent of a reply, when it can be named by its `uri`. Statuses give
/// only the parent's server-local id; when the reply and its parent were
/// both written on the reply's own server, Mastodon's URI scheme
/// (`https://server/users/<name>/statuses/<id>`) names the parent.
fn reply_target(status: &Status) -> Option<MentionId> {
    let parent_id = status.in_reply_to_id.as_deref()?;
    let parent_account = status.in_reply_to_account_id.as_deref()?;
    let parent_acct = if parent_account == status.account.id {
        status.account.acct.as_str()
    } else {
        status
            .mentions
            .iter()
            .find(|m| m.id == parent_account)?
            .acct
            .as_str()
    };
    let unnamed = |acct: &str| acct.is_empty() || acct == UNKNOWN_AUTHOR;
    if parent_acct.contains('@')
        || status.account.acct.contains('@')
        || unnamed(parent_acct)
        || unnamed(&status.account.acct)
    {
        return None;
    }
    let rest = status.uri.split_once("://")?.1;
    let server = rest.split('/').next().filter(|s| !s.is_empty())?;
    status_id(&format!(
        "https://{server}/users/{parent_acct}/statuses/{parent_id}"
    ))
}

/// A status as a mention of `brand`; `None` for reblogs and unusable ids.
pub fn mention(
    status: Status,
    brand: &str,
    own: bool,
    received_at: DateTime<Utc>,
) -> Option<Mention> {
    if status.reblog.is_some() {
        return None;
    }
    let id = status_id(&status.uri)?;
    let in_reply_to = reply_target(&status);
    let body = html::to_text(&status.content);
    // A content warning is part of what the author said.
    let text = if status.spoiler_text.trim().is_empty() {
        body
    } else {
        format!("{}\n\n{body}", status.spoiler_text.trim())
    };
    Some(Mention {
        id,
        platform: Platform::Mastodon,
        url: status.url.unwrap_or(status.uri),
        author: Author {
            id: status.account.id,
            handle: Some(status.account.acct)
                .filter(|acct| !acct.trim().is_empty())
                .unwrap_or_else(|| UNKNOWN_AUTHOR.to_owned()),
            display_name: status.account.display_name.filter(|n| !n.is_empty()),
            followers: status.account.followers_count,
        },
        text,
        created_at: status.created_at.unwrap_or(received_at),
        received_at,
        in_reply_to,
        quotes: None,
        brand: brand.to_owned(),
        voice: if own { Voice::Brand } else { Voice::Customer },
    })
}

/// The watch a webhook status concerns: one whose account it mentions or
/// wrote it, else one whose search terms it contains. Servers fire
/// webhooks for every local status, so most concern no watch at all.
pub fn watch_for<'w>(status: &Status, watches: &'w [Watch]) -> Option<&'w Watch> {
    let by_account = watches.iter().find(|watch| {
        is_own(watch, &status.account)
            || status
                .mentions
                .iter()
                .any(|m| watch.is_own(Platform::Mastodon, &m.id, &m.acct))
    });
    by_account.or_else(|| {
        let text = html::to_text(&status.content).to_lowercase();
        watches.iter().find(|watch| {
            let terms = watch.query.trim().trim_start_matches('#').to_lowercase();
            !terms.is_empty() && text.contains(&terms)
        })
    })
}

fn is_own(watch: &Watch, account: &Account) -> bool {
    // An unnamed account is nobody's own.
    !account.id.is_empty() && watch.is_own(Platform::Mastodon, &account.id, &account.acct)
}

/// Status ids are numbers in strings; longer is newer.
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

pub struct MastodonSearch {
    http: Http,
    base_url: String,
    token: Option<Secret>,
}

impl MastodonSearch {
    pub fn new(http: Http, base_url: impl Into<String>, token: Option<Secret>) -> Self {
        Self {
            http,
            base_url: base_url.into(),
            token,
        }
    }
}

/// A query that is one hashtag reads that tag's timeline; anything else
/// uses full-text search (which needs a token and a server with search).
fn hashtag(query: &str) -> Option<&str> {
    let tag = query.trim().strip_prefix('#')?;
    (!tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(tag)
}

/// The `max_id` of the `rel="next"` link, if the header has one.
pub fn next_max_id(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"next\"") {
            return None;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        let query = target.split_once('?')?.1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "max_id")
            .map(|(_, v)| v.into_owned())
    })
}

#[derive(Deserialize)]
struct SearchResults {
    #[serde(default)]
    statuses: Vec<serde_json::Value>,
}

/// Reads one page of statuses (newest first). Statuses older than the
/// horizon (first runs) end the paging.
pub fn parse_statuses(
    raw: Vec<serde_json::Value>,
    watch: &Watch,
    request: &PageRequest<'_>,
) -> Page {
    let full = raw.len() >= PAGE_SIZE;
    let mut page = Page::default();
    let mut oldest: Option<String> = None;
    let mut past_horizon = false;
    for value in raw {
        let Ok(status) = Status::deserialize(&value) else {
            page.rejected += 1;
            continue;
        };
        if oldest.as_deref().is_none_or(|o| newer(o, &status.id)) {
            oldest = Some(status.id.clone());
        }
        if page.newest.as_deref().is_none_or(|n| newer(&status.id, n)) {
            page.newest = Some(status.id.clone());
        }
        if request.cursor.is_none() && status.created_at.is_some_and(|at| at < request.horizon) {
            past_horizon = true;
            continue;
        }
        let own = is_own(watch, &status.account);
        if let Some(mention) = mention(status, &watch.brand, own, request.now) {
            page.mentions.push(mention);
        }
    }
    if full && !past_horizon {
        page.next = oldest;
    }
    page
}

/// `X-RateLimit-Reset` is an ISO 8601 time.
const QUOTA: http::Quota = http::Quota {
    remaining_header: "x-ratelimit-remaining",
    reset: |response, _| reset_at(response),
};

fn reset_at(response: &Response) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(response.header("x-ratelimit-reset")?.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[async_trait]
impl SearchSource for MastodonSearch {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    async fn fetch(&self, request: &PageRequest<'_>) -> Result<Page, FetchError> {
        let limit = PAGE_SIZE.to_string();
        let token = self.token.as_ref().map(Secret::expose_str);
        let query = request.watch.query.as_str();
        let url = match hashtag(query) {
            Some(tag) => {
                let mut params = vec![("limit", limit.as_str())];
                if let Some(since) = request.cursor {
                    params.push(("since_id", since));
                }
                if let Some(max_id) = request.page {
                    params.push(("max_id", max_id));
                }
                let path = format!("/api/v1/timelines/tag/{}", encode_segment(tag));
                http::url(&self.base_url, &path, &params)
            }
            None => {
                let mut params = vec![
                    ("q", query),
                    ("type", "statuses"),
                    ("resolve", "false"),
                    ("limit", limit.as_str()),
                ];
                if let Some(since) = request.cursor {
                    params.push(("min_id", since));
                }
                if let Some(max_id) = request.page {
                    params.push(("max_id", max_id));
                }
                http::url(&self.base_url, "/api/v2/search", &params)
            }
        };
        self.http
            .search_page(&url, token, request, &QUOTA, |r| {
                let statuses = match hashtag(query) {
                    Some(_) => http::json::<Vec<serde_json::Value>>(&r.body)?,
                    None => http::json::<SearchResults>(&r.body)?.statuses,
                };
                let mut page = parse_statuses(statuses, request.watch, request);
                // Timelines say where the next page is; trust the link over counting.
                if hashtag(query).is_some() && page.next.is_some() {
                    page.next = r.header("link").and_then(next_max_id);
                }
                Ok(page)
            })
            .await
    }
}

fn encode_segment(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// A Mastodon webhook body: `{"event", "created_at", "object": Status}`.
#[derive(Deserialize)]
struct WebhookEvent {
    event: String,
    object: Option<serde_json::Value>,
}

/// What a Mastodon webhook delivered.
pub enum WebhookStatus {
    Created(Status),
    Updated(Status),
    /// Another event (reports, sign-ups...).
    Other(String),
}

pub fn parse_webhook(body: &[u8]) -> Result<WebhookStatus, PayloadError> {
    let event: WebhookEvent = serde_json::from_slice(body).map_err(PayloadError::from_json)?;
    let status = |object: Option<serde_json::Value>| {
        let object =
            object.ok_or_else(|| PayloadError::Shape("the event has no `object`".into()))?;
        Status::deserialize(object)
            .map_err(|err| PayloadError::Shape(format!("`object` is not a status: {err}")))
    };
    match event.event.as_str() {
        "status.created" => Ok(WebhookStatus::Created(status(event.object)?)),
        "status.updated" => Ok(WebhookStatus::Updated(status(event.object)?)),
        other => Ok(WebhookStatus::Other(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_gives_the_max_id() {
        let link = r#"<https://social.example/api/v1/timelines/tag/northwind?max_id=113500000000000001>; rel="next", <https://social.example/api/v1/timelines/tag/northwind?min_id=113500000000000090>; rel="prev""#;
        assert_eq!(next_max_id(link).as_deref(), Some("113500000000000001"));
        assert_eq!(next_max_id(r#"<https://a/?min_id=1>; rel="prev""#), None);
        assert_eq!(next_max_id("garbage"), None);
    }

    #[test]
    fn hashtag_queries_use_the_timeline() {
        assert_eq!(hashtag("#northwind"), Some("northwind"));
        assert_eq!(hashtag("northwind air"), None);
        assert_eq!(hashtag("#north wind"), None);
    }

    #[test]
    fn ids_compare_as_numbers() {
        assert!(newer("113500000000000010", "99999999999999999"));
        assert!(!newer("113500000000000009", "113500000000000010"));
    }

    fn reply(acct: &str, uri: &str, parent: (&str, &str), mentions: &str) -> Status {
        serde_json::from_str(&format!(
            r#"{{"id":"2","uri":"{uri}","url":null,"created_at":"2026-11-24T10:00:00Z",
                "content":"<p>We are on it, DM us</p>","account":{{"id":"900","acct":"{acct}"}},
                "reblog":null,"edited_at":null,"in_reply_to_id":"{}","in_reply_to_account_id":"{}",
                "mentions":{mentions}}}"#,
            parent.0, parent.1
        ))
        .unwrap()
    }

    #[test]
    fn a_local_reply_names_its_local_parent() {
        let status = reply(
            "NorthwindAir",
            "https://social.example/users/NorthwindAir/statuses/2",
            ("113540000000000123", "42"),
            r#"[{"id":"42","acct":"ana"}]"#,
        );
        assert_eq!(
            reply_target(&status).as_ref().map(MentionId::as_str),
            Some("mastodon:social.example/users/ana/statuses/113540000000000123")
        );
    }

    #[test]
    fn a_parent_on_another_server_cannot_be_named() {
        let status = reply(
            "NorthwindAir",
            "https://social.example/users/NorthwindAir/statuses/2",
            ("113540000000000123", "42"),
            r#"[{"id":"42","acct":"ana@elsewhere.example"}]"#,
        );
        assert_eq!(reply_target(&status), None);
        let unknown_parent = reply(
            "NorthwindAir",
            "https://social.example/users/NorthwindAir/statuses/2",
            ("1", "43"),
            "[]",
        );
        assert_eq!(reply_target(&unknown_parent), None);
    }
}
