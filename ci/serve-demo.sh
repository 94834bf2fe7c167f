#!/usr/bin/env bash
# ci/serve-demo.sh [HTTPOWER-ARGS...]: the README's first command. Installs what is missing,
# builds the release preset, generates the demo's large file (not committed: 8 MiB of
# deterministic bytes, made once), then serves www/ on port 8080. Extra arguments are passed
# to httpower (e.g. --listing, -p 0, --quiet). Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
cmake --preset release
cmake --build --preset release --target httpower
ci/demo-files.sh
exec build/release/server/httpower www -p 8080 "$@"
