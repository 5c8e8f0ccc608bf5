//! What a Bluesky post alone does not say about its author, read from
//! `app.bsky.actor.getProfiles` (25 actors a call, public, no token): the
//! follower count, which triage weighs as reach and the SMS header shows,
//! and, for posts from the firehose (which names authors by DID only), the
//! handle and display name. Kept for the life of the function instance.
//!
//! Best effort: a failed or slow lookup leaves the author as it was, and
//! the post goes on without it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Deserialize;

use super::UNKNOWN_AUTHOR;
use super::http::{self, Http};
use crate::config;
use crate::domain::Mention;
use crate::https::HttpSetupError;

const PROFILES_PATH: &str = "/xrpc/app.bsky.actor.getProfiles";
/// Actors per `getProfiles` call, the API's maximum.
pub const PROFILE_BATCH: usize = 25;
/// The cache is dropped when it grows past this many accounts.
const CACHE_LIMIT: usize = 20_000;
/// The handle Bluesky shows for an account whose handle no longer
/// resolves; the DID names such an author better.
const INVALID_HANDLE: &str = "handle.invalid";

#[derive(Deserialize)]
struct Profiles {
    #[serde(default)]
    profiles: Vec<Profile>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    did: String,
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    followers_count: Option<u64>,
}

/// The profile look-up, with what it has read so far.
pub struct BlueskyProfiles {
    http: Http,
    base_url: String,
    known: Mutex<HashMap<String, Profile>>,
}

impl BlueskyProfiles {
    pub fn new(http: Http, base_url: impl Into<String>) -> Self {
        Self {
            http,
            base_url: base_url.into(),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The look-up at the AppView `BLUESKY_API_BASE_URL` names (the
    /// public one by default), on its own platform HTTP client.
    pub fn from_env() -> Result<Self, HttpSetupError> {
        Ok(Self::new(Http::new()?, config::BLUESKY_APP_VIEW.url()))
    }

    fn known(&self) -> MutexGuard<'_, HashMap<String, Profile>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fills in each author's follower count, and the handle and display
    /// name of an author named only by DID, reading the profiles not yet
    /// known in batches, each call given `timeout`. The first failed call
    /// ends the look-up: the rest keep what their post said.
    pub async fn complete(&self, mentions: &mut [Mention], timeout: Duration) {
        let mut unknown: Vec<String> = Vec::new();
        {
            let known = self.known();
            for mention in mentions.iter() {
                let did = &mention.author.id;
                if did.starts_with("did:") && !known.contains_key(did) && !unknown.contains(did) {
                    unknown.push(did.clone());
                }
            }
        }
        for batch in unknown.chunks(PROFILE_BATCH) {
            let Some(profiles) = self.read(batch, timeout).await else {
                break;
            };
            let mut known = self.known();
            if known.len() + profiles.len() > CACHE_LIMIT {
                known.clear();
            }
            for profile in profiles {
                known.insert(profile.did.clone(), profile);
            }
        }
        let known = self.known();
        for mention in mentions.iter_mut() {
            if let Some(profile) = known.get(&mention.author.id) {
                fill_in(mention, profile);
            }
        }
    }

    async fn read(&self, dids: &[String], timeout: Duration) -> Option<Vec<Profile>> {
        let params: Vec<(&str, &str)> = dids.iter().map(|did| ("actors", did.as_str())).collect();
        let url = http::url(&self.base_url, PROFILES_PATH, &params);
        match self.http.get(&url, None, timeout).await {
            Ok(response) if response.status == 200 => {
                match serde_json::from_slice::<Profiles>(&response.body) {
                    Ok(profiles) => Some(profiles.profiles),
                    Err(err) => {
                        tracing::warn!(error = %err, "Bluesky profiles not readable");
                        None
                    }
                }
            }
            Ok(response) => {
                tracing::warn!(status = response.status, "Bluesky profiles refused");
                None
            }
            Err(err) => {
                tracing::warn!(error = %err, "Bluesky profiles not reached");
                None
            }
        }
    }
}

/// What `profile` adds to the post's own account of its author: the
/// follower count always; handle and display name only where the post
/// named the author by DID (or not at all).
fn fill_in(mention: &mut Mention, profile: &Profile) {
    let author = &mut mention.author;
    author.followers = profile.followers_count.or(author.followers);
    let unnamed = author.handle == author.id || author.handle == UNKNOWN_AUTHOR;
    let handle = profile
        .handle
        .as_deref()
        .map(str::trim)
        .filter(|handle| !handle.is_empty() && *handle != INVALID_HANDLE);
    if let (true, Some(handle)) = (unnamed, handle) {
        author.handle = handle.to_owned();
    }
    if author.display_name.is_none() {
        author.display_name = profile
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Author, MentionId, Platform, Voice};
    use chrono::{TimeZone, Utc};

    fn by_did(did: &str) -> Mention {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
        Mention {
            id: MentionId::new(
                Platform::Bluesky,
                &format!("at://{did}/app.bsky.feed.post/1"),
            ),
            platform: Platform::Bluesky,
            url: format!("https://bsky.app/profile/{did}/post/1"),
            author: Author {
                id: did.to_owned(),
                handle: did.to_owned(),
                display_name: None,
                followers: None,
            },
            text: "stuck on the tarmac".to_owned(),
            created_at: at,
            received_at: at,
            in_reply_to: None,
            quotes: None,
            brand: "northwind".to_owned(),
            voice: Voice::Customer,
        }
    }

    fn profile(handle: Option<&str>, name: Option<&str>, followers: Option<u64>) -> Profile {
        Profile {
            did: "did:plc:zoe".to_owned(),
            handle: handle.map(str::to_owned),
            display_name: name.map(str::to_owned),
            followers_count: followers,
        }
    }

    /// The author of `mention` once `profile` is filled in: handle,
    /// display name, followers.
    fn completed(mut mention: Mention, profile: Profile) -> (String, Option<String>, Option<u64>) {
        fill_in(&mut mention, &profile);
        assert_eq!(mention.author.id, "did:plc:zoe", "the id stays the DID");
        let author = mention.author;
        (author.handle, author.display_name, author.followers)
    }

    #[test]
    fn an_author_named_by_did_gets_handle_name_and_reach() {
        assert_eq!(
            completed(
                by_did("did:plc:zoe"),
                profile(Some("zoe.example"), Some("Zoë"), Some(12_400))
            ),
            (
                "zoe.example".to_owned(),
                Some("Zoë".to_owned()),
                Some(12_400)
            )
        );
    }

    #[test]
    fn a_handle_the_post_gave_is_kept_and_an_invalid_one_is_not_taken() {
        let mut named = by_did("did:plc:zoe");
        named.author.handle = "zoe.bsky.social".to_owned();
        named.author.display_name = Some("Zoe".to_owned());
        assert_eq!(
            completed(named, profile(Some("other.example"), Some("Z"), Some(3))),
            (
                "zoe.bsky.social".to_owned(),
                Some("Zoe".to_owned()),
                Some(3)
            )
        );
        assert_eq!(
            completed(
                by_did("did:plc:zoe"),
                profile(Some(INVALID_HANDLE), Some(" "), None)
            ),
            ("did:plc:zoe".to_owned(), None, None)
        );
    }
}
