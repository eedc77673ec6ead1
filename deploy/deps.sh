#!/bin/sh
# deps.sh - install the Debian 12 packages ClubOS needs, if any are missing.
# Called by `make up`, `make test` and `make bench`; needs root (or sudo)
# only when something is missing.
set -eu

PACKAGES="build-essential pkg-config libnng-dev libpq-dev libcurl4-openssl-dev
libcjson-dev libhiredis-dev libsodium-dev libcmocka-dev postgresql redis-server
python3 python3-pytest wrk curl clang-format cppcheck iproute2 nftables chromium nodejs
gdb openssl"
# npm (for the browser tests' playwright-core): Debian's, unless an npm is
# already there; NodeSource's nodejs bundles one and conflicts with Debian's.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing packages:$missing (run as root or install sudo)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; a stale one may have old ones.
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian's postgresql package starts a system cluster; ClubOS runs its own
# under var/ and leaves the system one alone.
echo "deps: done"
