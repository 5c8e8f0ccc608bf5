#!/usr/bin/env bash
# Checks a deployed stack from outside: X's challenge and one signed mention
# sent to the real webhook URL. Not run in CI (it needs a deployed stack).
#
#   X_CONSUMER_SECRET=... scripts/smoke-test.sh https://<id>.lambda-url.<region>.on.aws/webhooks/x
#
# The mention is a mild complaint (P2): it is stored, and pages nobody.
# With META_VERIFY_TOKEN and META_APP_SECRET set, the Meta route is checked
# too (handshake, and a signed Page comment that is a reaction: ignored).
set -euo pipefail
url="${1:?usage: $0 <webhook URL ending in /webhooks/x>}"
: "${X_CONSUMER_SECRET:?set X_CONSUMER_SECRET to the deployed consumer secret}"
cd "$(dirname "$0")/.."

sign() { # body -> sha256=<base64 HMAC-SHA256>
  printf 'sha256=%s' "$(printf '%s' "$1" | openssl dgst -sha256 -hmac "$X_CONSUMER_SECRET" -binary | base64)"
}

answer_file=$(mktemp)
trap 'rm -f "$answer_file"' EXIT

token="smoke-$(date +%s)"
expected="{\"response_token\":\"$(sign "$token")\"}"
answer=$(curl -fsS "$url?crc_token=$token")
[ "$answer" = "$expected" ] || { echo "challenge: expected $expected, got $answer" >&2; exit 1; }
echo "challenge answered"

# A fresh id each run, so the mention is new rather than a duplicate.
id="9$(date +%s%N | cut -c1-18)"
body=$(sed "s/1862512678012345601/$id/g" events/payloads/x-mild-complaint.json)
status=$(curl -sS -o "$answer_file" -w '%{http_code}' -X POST "$url" \
  -H 'content-type: application/json' \
  -H "x-twitter-webhooks-signature: $(sign "$body")" \
  --data-binary "$body")
[ "$status" = 200 ] || { echo "delivery: HTTP $status: $(cat "$answer_file")" >&2; exit 1; }
grep -q '"stored":1' "$answer_file" || { echo "delivery not stored: $(cat "$answer_file")" >&2; exit 1; }
echo "signed mention x:$id stored"

status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$url" -H 'x-twitter-webhooks-signature: sha256=AAAA' --data-binary "$body")
[ "$status" = 401 ] || { echo "bad signature: expected 401, got $status" >&2; exit 1; }
echo "bad signature refused"

if [ -n "${META_VERIFY_TOKEN:-}" ] && [ -n "${META_APP_SECRET:-}" ]; then
  meta="${url%/webhooks/x}/webhooks/meta"
  challenge="$(date +%s)"
  answer=$(curl -fsS --get "$meta" --data-urlencode "hub.mode=subscribe" \
    --data-urlencode "hub.challenge=$challenge" --data-urlencode "hub.verify_token=$META_VERIFY_TOKEN")
  [ "$answer" = "$challenge" ] || { echo "Meta handshake: expected $challenge, got $answer" >&2; exit 1; }
  echo "Meta handshake answered"
  # Only a reaction: verifies the signature path without storing anything.
  body='{"object":"page","entry":[{"id":"0","time":0,"changes":[{"field":"feed","value":{"item":"reaction","verb":"add","post_id":"0_0"}}]}]}'
  hex=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$META_APP_SECRET" | sed 's/^.*= //')
  status=$(curl -sS -o "$answer_file" -w '%{http_code}' -X POST "$meta" \
    -H 'content-type: application/json' -H "x-hub-signature-256: sha256=$hex" --data-binary "$body")
  [ "$status" = 200 ] || { echo "Meta delivery: HTTP $status: $(cat "$answer_file")" >&2; exit 1; }
  echo "signed Meta delivery accepted"
fi
