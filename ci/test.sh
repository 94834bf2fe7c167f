#!/usr/bin/env bash
# The README's test command: install what is missing, then configure, build and test the
# default preset (g++, RelWithDebInfo, -Werror). ctest fails if no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
ci/install-deps.sh
cmake --workflow --preset default
