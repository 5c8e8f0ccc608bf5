#!/usr/bin/env bash
# The whole test suite: installs the Python tools the tests drive (moto's
# server for DynamoDB and SNS, the template linters), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
cargo test --workspace --locked
