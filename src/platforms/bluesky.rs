//! Bluesky search (`app.bsky.feed.searchPosts`, newest first), polled by
//! time: the cursor is the newest post's sort time, read again with a small
//! overlap because `since` is inclusive and posts are indexed late.
//! Follower counts come from the profiles (`bluesky_profiles`).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Deserialize;

use super::PolledPlatform;
use super::bluesky_profiles::BlueskyProfiles;
use super::http::{self, FetchError, Http};
use super::{UNKNOWN_AUTHOR, lenient};
use crate::config;
use crate::domain::Watch;
use crate::domain::{Author, Mention, MentionId, Platform, Voice};
use crate::ports::{Page, PageRequest, SearchSource};

/// Bluesky post search; public, no token.
pub const SEARCH: PolledPlatform = PolledPlatform {
    platform: Platform::Bluesky,
    api: config::BLUESKY_APP_VIEW,
    token_var: None,
    build: |http, base_url, _| Arc::new(BlueskySearch::new(http, base_url)),
};
const SEARCH_PATH: &str = "/xrpc/app.bsky.feed.searchPosts";
const QUOTA: http::Quota = http::Quota {
    remaining_header: "ratelimit-remaining",
    reset: |response, _| http::epoch_header(response, "ratelimit-reset"),
};
/// Posts indexed a little after their sort time are still found.
pub const OVERLAP: Duration = Duration::minutes(5);
/// Stands for the text of a post that only carries an image or a link.
pub(crate) const NO_TEXT: &str = "(image or link post without text)";

pub struct BlueskySearch {
    http: Http,
    base_url: String,
    profiles: BlueskyProfiles,
}

impl BlueskySearch {
    pub fn new(http: Http, base_url: impl Into<String>) -> Self {
        let base_url = base_url.into();
        Self {
            profiles: BlueskyProfiles::new(http.clone(), base_url.clone()),
            http,
            base_url,
        }
    }
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    posts: Vec<serde_json::Value>,
    cursor: Option<String>,
}

/// A post; everything but its `uri` may be missing or odd and is then
/// stored as unknown (the author's DID is in the `uri` itself).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    #[serde(default, deserialize_with = "lenient")]
    author: Option<ProfileView>,
    #[serde(default, deserialize_with = "lenient")]
    record: Option<Record>,
    #[serde(default, deserialize_with = "lenient")]
    indexed_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileView {
    did: String,
    handle: String,
    display_name: Option<String>,
}

/// An `app.bsky.feed.post` record, as search and the Jetstream firehose
/// both carry it. Every field is lenient: a post is kept with what can be
/// read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) text: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) reply: Option<Reply>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) facets: Option<Vec<Facet>>,
    pub(crate) embed: Option<serde_json::Value>,
}

impl Record {
    pub(crate) fn raw_text(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }

    pub(crate) fn facets(&self) -> &[Facet] {
        self.facets.as_deref().unwrap_or_default()
    }

    /// The text as shown, links in full; a stand-in for a post that only
    /// carries an image or a link.
    pub(crate) fn display_text(&self) -> String {
        let text = expand_links(self.raw_text(), self.facets());
        if text.trim().is_empty() && self.embed.is_some() {
            return NO_TEXT.into();
        }
        text
    }
}

#[derive(Deserialize)]
pub(crate) struct Reply {
    pub(crate) root: Option<StrongRef>,
    pub(crate) parent: StrongRef,
}

#[derive(Deserialize)]
pub(crate) struct StrongRef {
    pub(crate) uri: String,
}

#[derive(Deserialize)]
pub(crate) struct Facet {
    pub(crate) index: ByteSlice,
    #[serde(default)]
    pub(crate) features: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ByteSlice {
    pub(crate) byte_start: usize,
    pub(crate) byte_end: usize,
}

/// Record times vary (`Z`, `+00:00`, many fractional digits).
pub(crate) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `at://<did>/app.bsky.feed.post/<rkey>` → (`did`, `rkey`).
pub(crate) fn post_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("at://")?;
    let (did, rest) = rest.split_once('/')?;
    let rkey = rest.strip_prefix("app.bsky.feed.post/")?;
    (!did.is_empty() && !rkey.is_empty() && !rkey.contains('/')).then_some((did, rkey))
}

pub(crate) fn post_id(uri: &str) -> Option<MentionId> {
    let (did, rkey) = post_parts(uri)?;
    Some(MentionId::new(Platform::Bluesky, &format!("{did}/{rkey}")))
}

/// The text with each shortened link shown in full: link facets point at
/// UTF-8 byte ranges of the text; ranges that do not fall on character
/// boundaries are left alone.
pub(crate) fn expand_links(text: &str, facets: &[Facet]) -> String {
    let mut links: Vec<(usize, usize, &str)> = facets
        .iter()
        .filter_map(|facet| {
            let uri = facet.features.iter().find_map(|f| {
                (f.get("$type")?.as_str()? == "app.bsky.richtext.facet#link")
                    .then(|| f.get("uri")?.as_str())
                    .flatten()
            })?;
            let (start, end) = (facet.index.byte_start, facet.index.byte_end);
            (start < end
                && end <= text.len()
                && text.is_char_boundary(start)
                && text.is_char_boundary(end))
            .then_some((start, end, uri))
        })
        .collect();
    links.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, uri) in links {
        if start < at {
            continue; // Overlapping facets: keep the first.
        }
        out.push_str(&text[at..start]);
        out.push_str(uri);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Reads one search response into mentions for `watch`; the page's newest
/// sort time becomes the cursor candidate.
pub fn parse_page(
    body: &[u8],
    watch: &Watch,
    received_at: DateTime<Utc>,
) -> Result<Page, FetchError> {
    let response: SearchResponse = http::json(body)?;
    let mut page = Page::default();
    let mut newest: Option<DateTime<Utc>> = None;
    for raw in &response.posts {
        // Only a post without a usable `uri` is refused: it could be
        // neither stored nor recognised when read again.
        let Some((mention, sort_at)) = PostView::deserialize(raw)
            .ok()
            .and_then(|post| mention(post, watch, received_at))
        else {
            page.rejected += 1;
            continue;
        };
        // A post without a readable time is stored but moves no cursor.
        newest = newest.max(sort_at);
        page.mentions.push(mention);
    }
    page.newest = newest.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
    page.next = response
        .cursor
        .filter(|c| !c.is_empty() && !response.posts.is_empty());
    Ok(page)
}

/// The post as a mention, with the time the search sorts it by (the
/// earlier of its record and index times), if either is readable.
fn mention(
    post: PostView,
    watch: &Watch,
    received_at: DateTime<Utc>,
) -> Option<(Mention, Option<DateTime<Utc>>)> {
    let id = post_id(&post.uri)?;
    let (did, rkey) = post_parts(&post.uri)?;
    let record = post.record.unwrap_or_default();
    let created_at = record.created_at.as_deref().and_then(parse_time);
    let indexed_at = post.indexed_at.as_deref().and_then(parse_time);
    let sort_at = match (created_at, indexed_at) {
        (Some(created), Some(indexed)) => Some(created.min(indexed)),
        (created, indexed) => created.or(indexed),
    };
    let text = record.display_text();
    let mut author = post.author.unwrap_or_else(|| ProfileView {
        did: did.to_owned(),
        handle: UNKNOWN_AUTHOR.to_owned(),
        display_name: None,
    });
    if author.handle.trim().is_empty() {
        author.handle = UNKNOWN_AUTHOR.to_owned();
    }
    if author.did.trim().is_empty() {
        author.did = did.to_owned();
    }
    let voice = if watch.is_own(Platform::Bluesky, &author.did, &author.handle) {
        Voice::Brand
    } else {
        Voice::Customer
    };
    // The DID names the profile as well as the handle does.
    let profile = if author.handle == UNKNOWN_AUTHOR {
        did
    } else {
        &author.handle
    };
    let mention = Mention {
        url: format!("https://bsky.app/profile/{profile}/post/{rkey}"),
        id,
        platform: Platform::Bluesky,
        author: Author {
            id: author.did,
            handle: author.handle,
            display_name: author.display_name.filter(|n| !n.is_empty()),
            followers: None,
        },
        text,
        created_at: created_at.or(indexed_at).unwrap_or(received_at),
        received_at,
        in_reply_to: record.reply.and_then(|r| post_id(&r.parent.uri)),
        quotes: None,
        brand: watch.brand.clone(),
        voice,
    };
    Some((mention, sort_at))
}

#[async_trait]
impl SearchSource for BlueskySearch {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    async fn fetch(&self, request: &PageRequest<'_>) -> Result<Page, FetchError> {
        let since = request
            .cursor
            .and_then(parse_time)
            .map_or(request.horizon, |t| t - OVERLAP)
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut params = vec![
            ("q", request.watch.query.as_str()),
            ("sort", "latest"),
            ("limit", "100"),
            ("since", since.as_str()),
        ];
        if let Some(cursor) = request.page {
            params.push(("cursor", cursor));
        }
        let url = http::url(&self.base_url, SEARCH_PATH, &params);
        let mut page = self
            .http
            .search_page(&url, None, request, &QUOTA, |r| {
                parse_page(&r.body, request.watch, request.now)
            })
            .await?;
        self.profiles
            .complete(&mut page.mentions, request.timeout)
            .await;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn watch() -> Watch {
        super::super::northwind_watch(Platform::Bluesky, "bluesky:northwind.example")
    }

    #[test]
    fn link_facets_are_byte_ranges() {
        // "Zoë " is 5 bytes: the link starts at byte 5, not character 4.
        let text = "Zoë status.example/inc… is down again";
        let start = "Zoë ".len();
        let end = start + "status.example/inc…".len();
        let facets = vec![Facet {
            index: ByteSlice {
                byte_start: start,
                byte_end: end,
            },
            features: vec![
                json!({"$type": "app.bsky.richtext.facet#link", "uri": "https://status.example/incidents/42"}),
            ],
        }];
        assert_eq!(
            expand_links(text, &facets),
            "Zoë https://status.example/incidents/42 is down again"
        );
        let split_char = vec![Facet {
            index: ByteSlice {
                byte_start: 3,
                byte_end: 9,
            },
            features: facets[0].features.clone(),
        }];
        assert_eq!(expand_links(text, &split_char), text);
    }

    #[test]
    fn posts_become_mentions_and_the_newest_time_is_the_cursor() {
        let body = json!({
            "cursor": "1732442400000::bafy",
            "posts": [
                {"uri": "at://did:plc:cust1/app.bsky.feed.post/3lbxaaa", "cid": "bafy1",
                 "author": {"did": "did:plc:cust1", "handle": "zoe.example"},
                 "record": {"$type": "app.bsky.feed.post", "text": "@northwind.example refund please", "createdAt": "2026-11-24T09:59:00.123456+00:00",
                    "reply": {"root": {"uri": "at://did:plc:nw/app.bsky.feed.post/3lbroot", "cid": "c"}, "parent": {"uri": "at://did:plc:nw/app.bsky.feed.post/3lbroot", "cid": "c"}}},
                 "indexedAt": "2026-11-24T09:59:01.000Z"},
                {"uri": "at://did:plc:nw/app.bsky.feed.post/3lbxbbb", "cid": "bafy2",
                 "author": {"did": "did:plc:nw", "handle": "northwind.example"},
                 "record": {"text": "we're on it", "createdAt": "2026-11-24T09:58:00Z"},
                 "indexedAt": "2026-11-24T09:58:02Z"},
                {"uri": "not a uri", "author": {"did": "x", "handle": "y"}, "record": {"text": "", "createdAt": "2026-11-24T09:58:00Z"}}
            ]
        });
        let page = parse_page(body.to_string().as_bytes(), &watch(), Utc::now()).unwrap();
        assert_eq!(page.mentions.len(), 2);
        assert_eq!(page.rejected, 1);
        assert_eq!(page.newest.as_deref(), Some("2026-11-24T09:59:00.123Z"));
        assert_eq!(page.next.as_deref(), Some("1732442400000::bafy"));
        let first = &page.mentions[0];
        assert_eq!(first.id.as_str(), "bluesky:did:plc:cust1/3lbxaaa");
        assert_eq!(
            first.url,
            "https://bsky.app/profile/zoe.example/post/3lbxaaa"
        );
        assert_eq!(
            first.in_reply_to.as_ref().map(MentionId::as_str),
            Some("bluesky:did:plc:nw/3lbroot")
        );
        assert_eq!(page.mentions[1].voice, Voice::Brand);
    }
}
