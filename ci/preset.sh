#!/usr/bin/env bash
# ci/preset.sh NAME: configure, build and test one preset (default, release, asan, tsan, fuzz).
# The single definition of a matrix cell, used by .ci/run and .github/workflows/ci.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
preset=${1:?usage: ci/preset.sh PRESET}
ci/install-deps.sh >/dev/null
run=()
if [ "$preset" = tsan ]; then
  # ThreadSanitizer dies with "unexpected memory mapping" when vm.mmap_rnd_bits > 28.
  bits=$(sysctl -n vm.mmap_rnd_bits 2>/dev/null || echo 0)
  if [ "$bits" -gt 28 ]; then
    sysctl -qw vm.mmap_rnd_bits=28 2>/dev/null || run=(setarch "$(uname -m)" -R)
  fi
fi
echo "=== preset $preset"
"${run[@]}" cmake --workflow --preset "$preset"
