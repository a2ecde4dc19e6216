#!/usr/bin/env bash
# test/tools/release_install.sh -- a private PostgreSQL installation with a
# released version of profile_ext in it, for the upgrade test
# (test/t/006_upgrade.pl).
#
#   bash test/tools/release_install.sh VERSION DEST
#
# Takes the release's source from this repository's history (the last
# commit whose profile_ext.control has default_version = 'VERSION'), builds
# it against the installed PostgreSQL, and makes DEST a copy of that
# installation (binaries, libraries, share) with the release installed into
# it instead of the current version.  PostgreSQL finds its share and lib
# directories relative to its binaries, so the copy runs on its own:
# DEST/usr/lib/postgresql/15 is the install_path to give
# PostgreSQL::Test::Cluster.  Prints that path.
set -euo pipefail
version=$1
dest=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
pg_config=${PG_CONFIG:-pg_config}
bindir=$("$pg_config" --bindir)
prefix_lib=$(dirname "$bindir")			# /usr/lib/postgresql/15
sharedir=$("$pg_config" --sharedir)		# /usr/share/postgresql/15
pkglibdir=$("$pg_config" --pkglibdir)

# the release: the newest commit that still had it as default_version
commit=$(git -C "$top" log --format=%H -1 -G"^default_version = '$version'\$" -- profile_ext.control)
[ -n "$commit" ] || { echo "no commit with default_version = '$version'" >&2; exit 1; }
if [ "$(git -C "$top" show "$commit:profile_ext.control" | sed -n "s/^default_version = '\(.*\)'/\1/p")" != "$version" ]; then
	commit=$(git -C "$top" rev-parse "$commit^")
fi
[ "$(git -C "$top" show "$commit:profile_ext.control" | sed -n "s/^default_version = '\(.*\)'/\1/p")" = "$version" ] ||
	{ echo "could not find release $version" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest/src" "$dest$(dirname "$prefix_lib")" "$dest$(dirname "$sharedir")"
git -C "$top" archive "$commit" | tar -x -C "$dest/src"
# the frozen install script must be the one this repository still ships
cmp -s "$dest/src/profile_ext--$version.sql" "$top/profile_ext--$version.sql" ||
	{ echo "profile_ext--$version.sql differs from release $version" >&2; exit 1; }
make -s -C "$dest/src" PG_CONFIG="$pg_config" >/dev/null

cp -a "$prefix_lib" "$dest$(dirname "$prefix_lib")/"
cp -a "$sharedir" "$dest$(dirname "$sharedir")/"
rm -f "$dest$sharedir"/extension/profile_ext*
make -s -C "$dest/src" PG_CONFIG="$pg_config" DESTDIR="$dest" install >/dev/null
[ -f "$dest$pkglibdir/profile_ext.so" ] || { echo "the release did not install" >&2; exit 1; }
echo "$dest$prefix_lib"
