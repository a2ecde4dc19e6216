#!/usr/bin/env bash
# test/tools/citus_install.sh -- build and install Citus from a source
# tarball, for the multi-node test (test/t/007_citus.pl).
#
#   bash test/tools/citus_install.sh TARBALL
#
# Citus is not among Debian 12's packages.  Needs root: it installs the
# build dependencies with apt-get and Citus into the server's directories.
# A patch beside the tarball named like it (citus-X.Y.Z-*.patch) is applied
# first (for example one that makes a Citus release build against a newer
# PostgreSQL minor release).  About two minutes on two cores.  Does nothing
# when Citus is installed already.
set -euo pipefail
tarball=$(realpath "$1")
pg_config=${PG_CONFIG:-pg_config}
if [ -f "$("$pg_config" --pkglibdir)/citus.so" ]; then
	echo "Citus is installed already"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "building Citus needs root (apt-get install, make install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends libcurl4-openssl-dev liblz4-dev libzstd-dev \
	libkrb5-dev libssl-dev libselinux1-dev libxslt1-dev libpam0g-dev autoconf flex bison >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
for patch in "${tarball%.tar.gz}"-*.patch; do
	[ -f "$patch" ] && (cd "$src" && patch -s -p1 < "$patch")
done
(cd "$src" && ./configure PG_CONFIG="$pg_config" >/dev/null && make -s -j"$(nproc)" >/dev/null 2>&1 &&
	make -s install >/dev/null)
echo "Citus installed from $(basename "$tarball")"
