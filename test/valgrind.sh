#!/usr/bin/env bash
# test/valgrind.sh -- the regression and isolation suites against a server
# running under valgrind's memcheck (slow; not part of CI).
#
# Reports invalid reads and writes, uses of uninitialised values and bad
# frees in any backend; exits non-zero if valgrind saw an error in code of
# profile_ext.  Debian's server is not built with USE_VALGRIND, so reuse of
# palloc'd memory inside one memory context is not seen; freed and
# unmapped blocks are.  Timing-sensitive files (ratelimit: eleven calls
# within a tenth of a second; limits: a statement timeout of 5 s) fail
# under valgrind's slowness; the verdict is valgrind's.
#
# Usage: bash test/valgrind.sh   (as root; SKIP_APT=1 SKIP_BUILD=1 to reuse)
set -uo pipefail
cd "$(dirname "$0")/.."
. test/deps.sh
. test/cluster.sh

install_deps || exit 1
[ "${SKIP_BUILD:-0}" = 1 ] || build_install || exit 1
command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null

dir=/tmp/profile_ext_valgrind
cluster_start "$dir" 54332 || exit 1
cluster_stop "$dir"
# as the suites' own servers (test/regress.conf): logical decoding
printf 'wal_level = logical\nmax_replication_slots = 4\n' >>"$dir/data/postgresql.conf"
as_postgres valgrind --quiet --trace-children=yes --track-origins=no --leak-check=no \
	--error-limit=no --num-callers=30 --suppressions=test/valgrind.supp \
	--log-file="$dir/valgrind.%p.log" \
	"$PG_BIN/postgres" -D "$dir/data" >"$dir/server.log" 2>&1 &
for i in $(seq 1 120); do
	psql -X -c 'SELECT 1' >/dev/null 2>&1 && break
	sleep 1
done
trap 'cluster_stop "$dir"' EXIT

# against this server, not the suites' own throwaway ones (the Makefile's
# --temp-instance options are left out); no TAP files
make -k installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
	REGRESS_OPTS=--inputdir=. ISOLATION_OPTS=--inputdir=test TAP_TESTS= PROVE_TESTS= 2>&1 | grep -E '\.\.\. |tests'
cluster_stop "$dir"
trap - EXIT

errors=$(cat "$dir"/valgrind.*.log 2>/dev/null | grep -c 'profile_ext')
echo "valgrind: $(cat "$dir"/valgrind.*.log 2>/dev/null | grep -c '^==[0-9]*== [A-Z]') error or warning lines, $errors in profile_ext frames"
if [ "$errors" -gt 0 ]; then
	grep -l 'profile_ext' "$dir"/valgrind.*.log | head -3 | xargs cat | head -80
	exit 1
fi
