#!/usr/bin/env bash
# Builds a Lambda `bootstrap` for every function under functions/ and prints
# its size; with `--check`, fails when one is over the 6,000,000-byte target.
#
# Deployment target (provided.al2023 on arm64) needs cargo-lambda and zig:
#     cargo install cargo-lambda   # once
#     cargo lambda build --release --arm64
# which is also what `sam build` runs (BuildMethod: rust-cargolambda).
#
# Without cargo-lambda this script builds for the host target instead, into
# target/lambda/<function>/bootstrap: the same code and profile, useful to
# check sizes and to run a bootstrap against a local runtime API.
set -euo pipefail
cd "$(dirname "$0")/.."

functions=()
for dir in functions/*/; do
  [ -f "$dir/Cargo.toml" ] && functions+=("$(basename "$dir")")
done

if command -v cargo-lambda >/dev/null 2>&1; then
  cargo lambda build --release --arm64 "${functions[@]/#/--package=}"
else
  echo "cargo-lambda not found: building for $(rustc -vV | sed -n 's/^host: //p') instead of arm64" >&2
  cargo build --release --locked "${functions[@]/#/--package=}"
  for fn in "${functions[@]}"; do
    mkdir -p "target/lambda/$fn"
    cp "target/release/$fn" "target/lambda/$fn/bootstrap"
  done
fi

# The size every bootstrap is held to (x86_64 release, the build measured
# in benches/README.md): a smaller binary loads faster at each cold start.
limit=6000000
over=0
for fn in "${functions[@]}"; do
  size=$(wc -c < "target/lambda/$fn/bootstrap")
  note=""
  if [ "$size" -gt "$limit" ]; then
    note="  over the $limit-byte target by $((size - limit))"
    over=1
  fi
  printf '%-12s %8d bytes (%s MiB)%s\n' "$fn" "$size" "$(awk "BEGIN { printf \"%.1f\", $size / 1048576 }")" "$note"
done
# `--check` turns a bootstrap over the target into a failure.
if [ "${1:-}" = "--check" ] && [ "$over" -ne 0 ]; then
  exit 1
fi
