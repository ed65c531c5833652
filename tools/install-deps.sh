#!/usr/bin/env bash
# Installs the Debian packages spanwatch needs to build and test, only when
# one is missing, so a warm machine pays nothing and a fresh one needs no
# manual step (CI runs on fresh clones).
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  libpcap-dev libndpi-dev libhyperscan-dev libmaxminddb-dev zlib1g-dev
  libyaml-dev libcmocka-dev libpsl-dev publicsuffix libpcre2-dev
  libmagic-dev libssl-dev libhiredis-dev
  python3 python3-jsonschema python3-yaml python3-cryptography tshark tcpreplay iproute2 redis-server
  clang libclang-rt-14-dev valgrind openssl
  chromium
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
