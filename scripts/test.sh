#!/usr/bin/env bash
# The whole test suite: installs the Python tools the tests drive (moto's
# server for DynamoDB and SNS, the template linters, aws-sam-cli), then runs
# every test.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
# The tests start moto_server, cfn-lint and checkov by name: make sure the
# folder pip installs scripts into is on PATH (version managers may not have
# linked them yet).
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH

# aws-sam-cli pins versions of cfn-lint and boto3 that clash with the ones
# above: it gets a virtualenv of its own (kept under target/, reused).
sam_venv="${EARSHOT_SAM_VENV:-target/sam-cli}"
[ -x "$sam_venv/bin/python" ] || python3 -m venv "$sam_venv"
"$sam_venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/sam-requirements.txt
EARSHOT_SAM="$(cd "$sam_venv/bin" && pwd)/sam"
export EARSHOT_SAM

# A fresh clone builds once: incremental state would only fill the disk.
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL=0
fi

cargo test --workspace --locked
