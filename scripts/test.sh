#!/usr/bin/env bash
# The whole test suite: installs the Python tools the tests drive (moto's
# server for DynamoDB and SNS, the template linters), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
# The tests start moto_server, cfn-lint and checkov by name: make sure the
# folder pip installs scripts into is on PATH (version managers may not have
# linked them yet).
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH
cargo test --workspace --locked
