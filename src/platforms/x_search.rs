//! X API v2 recent search, polled: `since_id` stays fixed while paging with
//! `next_token`, and the first page's `newest_id` becomes the next cursor.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::PolledPlatform;
use super::http::{self, FetchError, Http};
use super::lenient;
use super::x_v2::{self, Post, User};
use crate::config::{self, Secret};
use crate::domain::Platform;
use crate::domain::Watch;
use crate::ports::{Page, PageRequest, SearchSource};

/// X recent search, with its bearer token.
pub const SEARCH: PolledPlatform = PolledPlatform {
    platform: Platform::X,
    api: config::X_API,
    token_var: Some(config::X_BEARER_TOKEN_VAR),
    build: |http, base_url, token| Arc::new(XSearch::new(http, base_url, token)),
};
const SEARCH_PATH: &str = "/2/tweets/search/recent";
const QUOTA: http::Quota = http::Quota {
    remaining_header: "x-rate-limit-remaining",
    reset: |response, _| http::epoch_header(response, "x-rate-limit-reset"),
};

pub struct XSearch {
    http: Http,
    base_url: String,
    bearer: Option<Secret>,
}

impl XSearch {
    pub fn new(http: Http, base_url: impl Into<String>, bearer: Option<Secret>) -> Self {
        Self {
            http,
            base_url: base_url.into(),
            bearer,
        }
    }
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    data: Vec<serde_json::Value>,
    /// Only adds to the posts: an odd shape here costs author details, not
    /// posts.
    #[serde(default, deserialize_with = "lenient")]
    includes: Option<Includes>,
    #[serde(default)]
    meta: Meta,
}

#[derive(Deserialize, Default)]
struct Includes {
    #[serde(default)]
    users: Vec<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct Meta {
    newest_id: Option<String>,
    next_token: Option<String>,
}

/// Reads one search response into mentions for `watch`.
pub fn parse_page(
    body: &[u8],
    watch: &Watch,
    received_at: DateTime<Utc>,
) -> Result<Page, FetchError> {
    let response: SearchResponse = http::json(body)?;
    let mut page = Page {
        next: response.meta.next_token,
        newest: response.meta.newest_id,
        ..Page::default()
    };
    let users: Vec<User> = response
        .includes
        .unwrap_or_default()
        .users
        .iter()
        .filter_map(|user| User::deserialize(user).ok())
        .collect();
    for raw in response.data {
        // Only a post without a usable id is refused: it could be neither
        // stored nor recognised when read again.
        match Post::deserialize(&raw) {
            Ok(post) if x_v2::is_post_id(&post.id) => page.mentions.push(x_v2::mention(
                post,
                &users,
                watch.brand.clone(),
                |id, handle| watch.is_own(Platform::X, id, handle),
                received_at,
            )),
            _ => page.rejected += 1,
        }
    }
    Ok(page)
}

#[async_trait]
impl SearchSource for XSearch {
    fn platform(&self) -> Platform {
        Platform::X
    }

    async fn fetch(&self, request: &PageRequest<'_>) -> Result<Page, FetchError> {
        let bearer = self
            .bearer
            .as_ref()
            .ok_or(FetchError::NotConfigured("X_BEARER_TOKEN is not set"))?;
        let bearer = bearer.expose_str();
        let start_time = request
            .horizon
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut params = vec![
            ("query", request.watch.query.as_str()),
            ("max_results", "100"),
            ("expansions", "author_id"),
            ("user.fields", "public_metrics"),
            ("tweet.fields", "created_at,referenced_tweets,note_tweet"),
        ];
        match request.cursor {
            // The same since_id on every page of one pass.
            Some(since_id) => params.push(("since_id", since_id)),
            None => params.push(("start_time", &start_time)),
        }
        if let Some(token) = request.page {
            params.push(("next_token", token));
        }
        let url = http::url(&self.base_url, SEARCH_PATH, &params);
        self.http
            .search_page(&url, Some(bearer), request, &QUOTA, |r| {
                parse_page(&r.body, request.watch, request.now)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MentionId, Voice};
    use serde_json::json;

    fn watch() -> Watch {
        super::super::northwind_watch(Platform::X, "x:900")
    }

    #[test]
    fn posts_become_mentions_with_reach_and_voice() {
        let body = json!({
            "data": [
                {"id": "1862000000000000011", "text": "@northwind lost my bag", "author_id": "42",
                 "created_at": "2026-11-24T09:58:00.000Z",
                 "referenced_tweets": [{"type": "replied_to", "id": "1862000000000000001"}]},
                {"id": "1862000000000000010", "text": "@dana sorry, DM us", "author_id": "900"},
                {"id": "not-an-id", "text": "x", "author_id": "1"}
            ],
            "includes": {"users": [
                {"id": "42", "username": "dana", "name": "Dana", "public_metrics": {"followers_count": 812}},
                {"id": "900", "username": "northwind"}
            ]},
            "meta": {"newest_id": "1862000000000000011", "oldest_id": "1862000000000000010", "result_count": 3, "next_token": "b26v89"}
        });
        let now = "2026-11-24T10:00:00Z".parse().unwrap();
        let page = parse_page(body.to_string().as_bytes(), &watch(), now).unwrap();
        assert_eq!(page.mentions.len(), 2);
        assert_eq!(page.rejected, 1);
        assert_eq!(page.next.as_deref(), Some("b26v89"));
        assert_eq!(page.newest.as_deref(), Some("1862000000000000011"));
        let first = &page.mentions[0];
        assert_eq!(first.author.followers, Some(812));
        assert_eq!(first.brand, "Northwind");
        assert_eq!(first.voice, Voice::Customer);
        assert_eq!(
            first.in_reply_to.as_ref().map(MentionId::as_str),
            Some("x:1862000000000000001")
        );
        assert_eq!(page.mentions[1].voice, Voice::Brand);
        assert_eq!(page.mentions[1].created_at, now);
    }

    #[test]
    fn an_empty_result_has_no_cursor() {
        let body = br#"{"meta": {"result_count": 0}}"#;
        let page = parse_page(body, &watch(), Utc::now()).unwrap();
        assert!(page.mentions.is_empty() && page.newest.is_none() && page.next.is_none());
    }
}
