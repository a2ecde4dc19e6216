#!/usr/bin/env bash
# test/check.sh -- run the whole test suite on a fresh Debian 12 machine.
#
# Installs the Debian packages, builds and installs the extension, checks
# the layering of the C modules (test/tools/check_layers.py), and runs
# "make installcheck" as the postgres user: the rule core's unit tests, the
# pg_regress files (sql/, expected/) and the isolation specs (test/specs),
# each on a throwaway server of its own, and the TAP tests (test/t).  Ends
# with one line "N passed, M failed" and a non-zero exit status on any
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/deps.sh
. test/cluster.sh

install_deps || exit 1
# with our Assert()s checked, as a CI build should
build_install ASSERTS=1 || { echo "0 passed, 1 failed"; exit 1; }

# Citus for the multi-node test (test/t/007_citus.pl): the installed one,
# or one built from the source tarball CITUS_TARBALL names
if [ -n "${CITUS_TARBALL:-}" ]; then
	bash test/tools/citus_install.sh "$CITUS_TARBALL" ||
		{ echo "could not build Citus from $CITUS_TARBALL"; echo "0 passed, 1 failed"; exit 1; }
fi

# the module graph: no circle, no call up into a higher layer
layers_ok=0
/usr/bin/python3 test/tools/check_layers.py . && layers_ok=1

dir=/tmp/profile_ext_check
rm -rf "$dir" && mkdir -p "$dir"

# The upgrade test (test/t/006_upgrade.pl) needs release 1.0, built from
# this repository's history into a private copy of the installation.
old_install=$(bash test/tools/release_install.sh 1.0 "$dir/release-1.0") ||
	{ echo "could not build release 1.0 for the upgrade test"; echo "0 passed, 1 failed"; exit 1; }

# The TAP tests start clusters of their own, which PostgreSQL refuses to do
# as root: the suite runs as postgres, in a copy of the tree it owns.
tree="$dir/tree"
rm -rf "$tree" && mkdir -p "$tree"
tar --exclude=./.git -cf - . | tar -xf - -C "$tree"
[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$tree"
log="$dir/installcheck.log"
(cd "$tree" && as_postgres env PROFILE_EXT_OLD_INSTALL="$old_install" \
	make installcheck) 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

unit_ok=$(grep -cE '^ok [0-9]+ - ' "$log")
unit_bad=$(grep -cE '^not ok [0-9]+ - ' "$log")
pg_ok=$(grep -cE '\.\.\. ok( |$)' "$log")
pg_bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log")
passed=$((unit_ok + pg_ok + layers_ok))
failed=$((unit_bad + pg_bad + 1 - layers_ok))
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
	failed=1	# the suite stopped before reporting a failure
fi
for diffs in "$tree/regression.diffs" "$tree/output_iso/regression.diffs"; do
	[ -s "$diffs" ] && { echo "---- $diffs"; head -200 "$diffs"; }
done
grep -q '^# SKIPPED: no Citus' "$log" &&
	echo "SKIPPED: test/t/007_citus.pl (no Citus installed; set CITUS_TARBALL to a Citus source tarball)"
echo "layering: $layers_ok passed; unit and TAP checks: $unit_ok passed, $unit_bad failed; pg_regress and isolation: $pg_ok passed, $pg_bad failed"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
