#!/usr/bin/env bash
# Builds the Debian package with CPack, installs it with dpkg -i and checks
# the installed sensor: files, user, log directory, unit file, and
# `spanwatch -T -c /etc/spanwatch/spanwatch.yaml` from the installed paths.
# Needs root (dpkg -i); exits 77 (skipped) otherwise.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "test_package: SKIP: needs root to dpkg -i the package" >&2
    exit 77
fi
SRC=${SW_SOURCE_DIR:?SW_SOURCE_DIR not set}
if dpkg-query -W -f='${Status}' spanwatch 2>/dev/null | grep -q "install ok installed"; then
    echo "test_package: SKIP: a spanwatch package is already installed here; not touching it" >&2
    exit 77
fi

WORK=$(mktemp -d /tmp/sw-pkg-XXXXXX)
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then dpkg --purge spanwatch >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "test_package: FAIL: $*" >&2; exit 1; }

# A release build with the package's prefix (SW_DATADIR=/usr/share/spanwatch).
cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_INSTALL_PREFIX=/usr -DSW_TESTS=OFF >"$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log" >&2; fail "cmake configure"; }
cmake --build "$WORK/build" -j2 --target spanwatch >"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log" >&2; fail "build"; }
(cd "$WORK/build" && cpack -G DEB >"$WORK/cpack.log" 2>&1) ||
    { cat "$WORK/cpack.log" >&2; fail "cpack"; }
DEB=$(ls "$WORK"/build/spanwatch_*.deb)

# Dependencies were computed from the binary (shlibdeps), not hand-written.
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for lib in libpcap0.8 libmaxminddb0 libhiredis0.14 libyaml-0-2; do
    echo "$DEPENDS" | grep -q "$lib" || fail "Depends lacks $lib: $DEPENDS"
done
# Hardened binary: PIE and full RELRO.
dpkg-deb -x "$DEB" "$WORK/root"
readelf -h "$WORK/root/usr/bin/spanwatch" | grep -q "DYN" || fail "binary is not PIE"
readelf -d "$WORK/root/usr/bin/spanwatch" | grep -q "BIND_NOW" || fail "no full RELRO (BIND_NOW)"
readelf -lW "$WORK/root/usr/bin/spanwatch" | grep -q "GNU_RELRO" || fail "no RELRO segment"

dpkg -i "$DEB" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; fail "dpkg -i"; }
installed=1

for f in /usr/bin/spanwatch /etc/spanwatch/spanwatch.yaml /etc/spanwatch/classification.config \
         /etc/default/spanwatch /etc/logrotate.d/spanwatch /lib/systemd/system/spanwatch.service; do
    [ -e "$f" ] || fail "$f not installed"
done
ls /usr/share/spanwatch/rules/*.rules >/dev/null 2>&1 || fail "no bundled rules"
getent passwd spanwatch >/dev/null || fail "user spanwatch not created"
[ "$(stat -c %U /var/log/spanwatch)" = spanwatch ] || fail "/var/log/spanwatch not owned by spanwatch"
grep -q '^User=spanwatch' /lib/systemd/system/spanwatch.service || fail "unit runs as root"
grep -q '^CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN$' /lib/systemd/system/spanwatch.service ||
    fail "unit capability set"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /lib/systemd/system/spanwatch.service 2>"$WORK/verify.log" || true
    if grep -qi "spanwatch.service.*\(error\|unknown\)" "$WORK/verify.log"; then
        cat "$WORK/verify.log" >&2
        fail "systemd-analyze verify"
    fi
fi
if command -v logrotate >/dev/null; then
    logrotate -d /etc/logrotate.d/spanwatch >"$WORK/lr.log" 2>&1 || { cat "$WORK/lr.log" >&2; fail "logrotate config"; }
fi

# The installed sensor accepts its own default config, as the unit's user.
out=$(runuser -u spanwatch -- /usr/bin/spanwatch -T -c /etc/spanwatch/spanwatch.yaml 2>&1) ||
    { echo "$out" >&2; fail "spanwatch -T on the packaged config"; }
echo "$out" | tail -3
echo "$out" | grep -q '^rules: loaded=[1-9]' || fail "-T loaded no rules: $out"

dpkg --purge spanwatch >/dev/null 2>&1 || fail "dpkg --purge"
installed=0
[ ! -e /usr/bin/spanwatch ] || fail "binary left after purge"
echo "test_package: OK"
