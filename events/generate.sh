#!/usr/bin/env bash
# Rebuilds the signed sample events from events/payloads/ with `earshot event`.
# They are signed with the demo secret (see `earshot demo`), except the one
# that shows a bad signature. Run from the repository root.
set -euo pipefail
earshot() { cargo run --quiet --bin earshot -- "$@"; }
demo_secret=earshot-demo-secret

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
