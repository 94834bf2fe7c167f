# Sourced by every ci/ script. ccache (installed by ci/install-deps.sh, used by CMake when
# present) with paths made relative to the checkout, so that a fresh clone, each preset and the
# mutants' scratch copy reuse objects compiled from the same source; it changes no result.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
