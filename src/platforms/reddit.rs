//! Reddit search (`/search.json?sort=new`), polled by time: newest first,
//! paged with `after`, and stopped at posts older than the cursor (with a
//! small overlap, since search indexes late).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Deserialize;

use super::PolledPlatform;
use super::http::{self, FetchError, Http, Response};
use super::{UNKNOWN_AUTHOR, lenient, or_default};
use crate::config;
use crate::domain::Watch;
use crate::domain::{Author, Mention, MentionId, Platform, Voice};
use crate::ports::{Page, PageRequest, SearchSource};

/// Reddit search; public, no token.
pub const SEARCH: PolledPlatform = PolledPlatform {
    platform: Platform::Reddit,
    api: config::REDDIT_API,
    token_var: None,
    build: |http, base_url, _| Arc::new(RedditSearch::new(http, base_url)),
};
pub const OVERLAP: Duration = Duration::minutes(5);

pub struct RedditSearch {
    http: Http,
    base_url: String,
}

impl RedditSearch {
    pub fn new(http: Http, base_url: impl Into<String>) -> Self {
        Self {
            http,
            base_url: base_url.into(),
        }
    }
}

#[derive(Deserialize)]
struct Listing {
    data: ListingData,
}

#[derive(Deserialize)]
struct ListingData {
    #[serde(default)]
    children: Vec<serde_json::Value>,
    after: Option<String>,
}

#[derive(Deserialize)]
struct Thing {
    kind: String,
    data: Post,
}

/// A post or comment; everything but its `name` (`t3_…`, `t1_…`) may be
/// missing or odd and is then stored as unknown.
#[derive(Deserialize)]
struct Post {
    name: String,
    #[serde(default, deserialize_with = "lenient")]
    author: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    author_fullname: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    title: String,
    #[serde(default, deserialize_with = "or_default")]
    selftext: String,
    #[serde(default, deserialize_with = "or_default")]
    body: String,
    #[serde(default, deserialize_with = "lenient")]
    permalink: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    created_utc: Option<f64>,
}

fn time_of(created_utc: f64) -> Option<DateTime<Utc>> {
    if !created_utc.is_finite() || created_utc < 0.0 {
        return None;
    }
    Utc.timestamp_opt(created_utc.trunc() as i64, 0).single()
}

/// The time before which posts are already stored (less the overlap), or
/// the horizon on a first run.
fn since(request: &PageRequest<'_>) -> DateTime<Utc> {
    request
        .cursor
        .and_then(|c| c.parse::<i64>().ok())
        .and_then(|secs| Utc.timestamp_opt(secs, 0).single())
        .map_or(request.horizon, |t| t - OVERLAP)
}

pub fn parse_page(body: &[u8], request: &PageRequest<'_>) -> Result<Page, FetchError> {
    let listing: Listing = http::json(body)?;
    let since = since(request);
    let watch = request.watch;
    let mut page = Page::default();
    let mut newest: Option<DateTime<Utc>> = None;
    let mut reached_stored = false;
    for raw in listing.data.children {
        // Only a thing without a post or comment name is refused: it could
        // be neither stored nor recognised when read again.
        let Some(post) = Thing::deserialize(&raw)
            .ok()
            .filter(|t| t.kind == "t3" || t.kind == "t1")
            .map(|t| t.data)
            .filter(|post| post.name.starts_with("t3_") || post.name.starts_with("t1_"))
        else {
            page.rejected += 1;
            continue;
        };
        // A post without a readable time is stored (dedupe absorbs a
        // second reading) but moves no cursor and ends no paging.
        let created_at = post.created_utc.and_then(time_of);
        newest = newest.max(created_at);
        if created_at.is_some_and(|at| at < since) {
            reached_stored = true;
            continue;
        }
        page.mentions.push(mention(
            post,
            created_at.unwrap_or(request.now),
            watch,
            request.now,
        ));
    }
    page.newest = newest.map(|t| t.timestamp().to_string());
    if !reached_stored {
        page.next = listing.data.after.filter(|a| !a.is_empty());
    }
    Ok(page)
}

fn mention(post: Post, created_at: DateTime<Utc>, watch: &Watch, now: DateTime<Utc>) -> Mention {
    let text = match (post.title.trim(), post.selftext.trim(), post.body.trim()) {
        (title, "", "") => title.to_owned(),
        ("", self_text, "") => self_text.to_owned(),
        ("", "", body) => body.to_owned(),
        (title, self_text, _) if !self_text.is_empty() => format!("{title}\n\n{self_text}"),
        (title, _, body) => format!("{title}\n\n{body}"),
    };
    let handle = post
        .author
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| UNKNOWN_AUTHOR.to_owned());
    let author_id = post.author_fullname.unwrap_or_else(|| handle.clone());
    let voice = if handle != UNKNOWN_AUTHOR && watch.is_own(Platform::Reddit, &author_id, &handle) {
        Voice::Brand
    } else {
        Voice::Customer
    };
    let url = match post.permalink.filter(|p| p.starts_with('/')) {
        Some(permalink) => format!("https://www.reddit.com{permalink}"),
        // Reddit finds any post or comment by its full name.
        None => format!("https://www.reddit.com/by_id/{}", post.name),
    };
    Mention {
        id: MentionId::new(Platform::Reddit, &post.name),
        platform: Platform::Reddit,
        url,
        author: Author {
            id: author_id,
            handle,
            display_name: None,
            followers: None,
        },
        text,
        created_at,
        received_at: now,
        in_reply_to: None,
        quotes: None,
        brand: watch.brand.clone(),
        voice,
    }
}

/// `x-ratelimit-reset` is seconds from now, not a time.
const QUOTA: http::Quota = http::Quota {
    remaining_header: "x-ratelimit-remaining",
    reset: reset_at,
};

fn reset_at(response: &Response, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let secs: f64 = response.header("x-ratelimit-reset")?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| now + Duration::seconds(secs.ceil() as i64))
}

#[async_trait]
impl SearchSource for RedditSearch {
    fn platform(&self) -> Platform {
        Platform::Reddit
    }

    async fn fetch(&self, request: &PageRequest<'_>) -> Result<Page, FetchError> {
        let mut params = vec![
            ("q", request.watch.query.as_str()),
            ("sort", "new"),
            ("limit", "100"),
            ("raw_json", "1"),
        ];
        if let Some(after) = request.page {
            params.push(("after", after));
        }
        let url = http::url(&self.base_url, "/search.json", &params);
        self.http
            .search_page(&url, None, request, &QUOTA, |r| {
                parse_page(&r.body, request)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn posts_older_than_the_cursor_end_the_paging() {
        let watch = Watch::new(
            "Northwind",
            "northwind",
            vec![Platform::Reddit],
            vec![crate::domain::Account::parse("reddit:NorthwindAir").unwrap()],
            "2026-11-24T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let now: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
        let cursor = (now - Duration::hours(1)).timestamp().to_string();
        let request = PageRequest {
            watch: &watch,
            cursor: Some(&cursor),
            page: None,
            horizon: now - Duration::days(1),
            now,
            timeout: std::time::Duration::from_secs(5),
        };
        let post = |name: &str, author: &str, at: DateTime<Utc>| {
            json!({"kind": "t3", "data": {"name": name, "author": author, "title": "Northwind lost my bag",
                "selftext": "Third day without it", "permalink": format!("/r/travel/comments/{name}/x/"),
                "created_utc": at.timestamp() as f64}})
        };
        let body = json!({"kind": "Listing", "data": {"after": "t3_old", "children": [
            post("t3_new", "traveller", now - Duration::minutes(2)),
            post("t3_brand", "NorthwindAir", now - Duration::minutes(3)),
            post("t3_old", "traveller", now - Duration::hours(2)),
            {"kind": "t5", "data": {}}
        ]}});
        let page = parse_page(body.to_string().as_bytes(), &request).unwrap();
        assert_eq!(page.mentions.len(), 2);
        assert_eq!(page.rejected, 1);
        assert_eq!(page.next, None, "older posts are stored already");
        assert_eq!(
            page.newest,
            Some((now - Duration::minutes(2)).timestamp().to_string())
        );
        assert_eq!(
            page.mentions[0].text,
            "Northwind lost my bag\n\nThird day without it"
        );
        assert_eq!(page.mentions[1].voice, Voice::Brand);
        assert_eq!(page.mentions[0].id.as_str(), "reddit:t3_new");
    }
}
