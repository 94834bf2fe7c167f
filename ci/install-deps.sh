#!/usr/bin/env bash
# Idempotent dependency installer (Debian 12). Safe to run again and again: it installs
# only what is missing, waits for the dpkg lock instead of failing, and needs root.
# ci/install-deps.sh browser: also the headless browser that ci/browser.sh drives (Chromium,
# its WebDriver, Selenium), which the README's commands do not need.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build ccache g++ clang clang-14 libclang-rt-14-dev lld
  libgtest-dev libgmock-dev googletest librapidcheck-dev libbenchmark-dev
  libconcurrentqueue-dev libhttp-parser-dev
  spin gcovr stress-ng help2man logrotate man-db bsdextrautils systemd
  curl python3 wrk nginx apache2-utils
  util-linux procps iproute2 patch git
)
if [ "${1:-}" = browser ]; then pkgs+=(chromium chromium-driver python3-selenium); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all ${#pkgs[@]} packages present"
