#!/usr/bin/env bash
# Rebuilds the signed sample events from events/payloads/ with `earshot event`.
# They are signed with the demo secret (see `earshot demo`; Meta and Mastodon
# use it too, and as Meta's verify token), except the one
# that shows a bad signature. Run from the repository root.
set -euo pipefail
earshot() { cargo run --quiet --bin earshot -- "$@"; }
demo_secret=earshot-demo-secret

hex_sign() { # meta|mastodon, payload, output
  META_APP_SECRET=$demo_secret MASTODON_WEBHOOK_SECRET=$demo_secret \
    earshot event "$1" "events/payloads/$2" > "events/$3"
}

sign() { # payload, output, [secret]
  X_CONSUMER_SECRET="${3:-$demo_secret}" earshot event x "events/payloads/$1" > "events/$2"
}

earshot event x-crc crc-challenge-from-x > events/webhook-x-01-challenge.json
sign x-urgent-complaint.json webhook-x-02-urgent-complaint.json
# X delivers the same post again (one delivery per subscription, retries).
sign x-urgent-complaint.json webhook-x-03-duplicate-delivery.json
sign x-mild-complaint.json webhook-x-04-mild-complaint.json
sign x-praise.json webhook-x-05-praise.json
sign x-brand-reply.json webhook-x-06-brand-reply.json
sign x-activity-mention.json webhook-x-07-activity-api-mention.json
sign x-urgent-complaint.json webhook-x-08-bad-signature.json not-the-consumer-secret
sign x-malformed.json webhook-x-09-malformed-json.json

META_VERIFY_TOKEN=$demo_secret earshot event meta-verify 1158201444 > events/webhook-meta-01-verify.json
hex_sign meta meta-page-comment.json webhook-meta-02-page-comment.json
hex_sign meta meta-page-mention-legacy.json webhook-meta-03-page-mention-legacy.json
hex_sign meta meta-page-comment-edited.json webhook-meta-04-comment-edited.json
hex_sign meta meta-page-comment-removed.json webhook-meta-05-comment-removed.json
hex_sign meta instagram-comment.json webhook-meta-06-instagram-comment.json
hex_sign meta instagram-mention.json webhook-meta-07-instagram-mention.json
hex_sign mastodon mastodon-status-created.json webhook-mastodon-01-status-created.json
hex_sign mastodon mastodon-status-updated.json webhook-mastodon-02-status-updated.json
