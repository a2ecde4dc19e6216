#!/usr/bin/env bash
# test/bench/citus.sh -- create_profile through a Citus coordinator against
# one node.
#
# Not a test: timings never gate CI.  Two set-ups on this machine: one
# server, and a Citus coordinator with two workers (profile.distribute()).
# Each gets 8 tenants with a client, access token and contract, and the
# same pgbench script: create_profile with a username, an email and a
# phone, in a random one of the tenants, CLIENTS connections for SECONDS
# seconds.  Reports transactions per second and the CPU time per call of
# each server (every process of it, from /proc: the postmaster, its
# backends and their exited children), and the ratios to the one server.
#
# Usage: bash test/bench/citus.sh [SECONDS] [CLIENTS]
# (as root; needs Citus installed: bash test/tools/citus_install.sh TARBALL;
# SKIP_APT=1 SKIP_BUILD=1 to reuse what is there)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

SECONDS_RUN=${1:-15}
CLIENTS=${2:-4}

bench_prepare
if [ ! -f "$(pg_config --pkglibdir)/citus.so" ]; then
	echo "Citus is not installed: bash test/tools/citus_install.sh citus-13.2.2.tar.gz" >&2
	exit 1
fi

base=/tmp/profile_ext_bench_citus
# start DIR PORT PRELOAD
start() {
	cluster_start "$1" "$2"
	echo "shared_preload_libraries = '$3'" >>"$1/data/postgresql.conf"
	echo "max_prepared_transactions = 40" >>"$1/data/postgresql.conf"
	echo "max_connections = 80" >>"$1/data/postgresql.conf"
	as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w restart >/dev/null
}
start "$base/single" 54361 profile_ext
start "$base/coord" 54362 citus,profile_ext
start "$base/w1" 54363 citus,profile_ext
start "$base/w2" 54364 citus,profile_ext
trap 'for n in single coord w1 w2; do cluster_stop "$base/$n"; done' EXIT

for n in coord w1 w2; do
	psql -X -q -h "$base/$n" -p "$(sed -n 's/^port = //p' "$base/$n/data/postgresql.conf" | tail -1)" \
		-c 'CREATE EXTENSION citus'
done
psql -X -q -h "$base/coord" -p 54362 >/dev/null <<SQL
SELECT citus_set_coordinator_host('$base/coord', 54362);
SELECT citus_add_node('$base/w1', 54363);
SELECT citus_add_node('$base/w2', 54364);
SQL

setup() {
	psql -X -q -v ON_ERROR_STOP=1 -h "$1" -p "$2" >/dev/null <<SQL
CREATE EXTENSION profile_ext;
$3
SELECT profile.create_client('bench-client');
SELECT profile.grant_contract('bench-client', 'create_customer_api');
SELECT profile.create_tenant('bench' || g, '{"rate_limit": {"per_second": 0, "per_minute": 0}}')
  FROM generate_series(1, 8) g;
CREATE SCHEMA bench;
CREATE SEQUENCE bench.seq;
CREATE TABLE bench.tok AS
SELECT g AS n, profile.issue_access_token('bench-client', ARRAY['bench' || g]) AS token
  FROM generate_series(1, 8) g;
SQL
}
setup "$base/single" 54361 ""
setup "$base/coord" 54362 "SELECT profile.distribute();"

cat >"$base/call.sql" <<'SQL'
\set t random(1, 8)
SELECT profile.create_profile(jsonb_build_object(
	'accessTokenId', (SELECT token FROM bench.tok WHERE n = :t),
	'username', 'user_' || s, 'email', 'u' || s || '@example.com',
	'mobile_phone_number', '+49 30 ' || (10000000 + s), 'full_name', 'Bench User'))->>'id'
  FROM nextval('bench.seq') s;
SQL
chown postgres "$base/call.sql"

# CPU seconds of a server so far: the postmaster and its children, with
# the children they reaped (utime, stime, cutime, cstime)
cpu() {
	/usr/bin/python3 - "$1" <<'PY'
import os, sys
pid = int(open(sys.argv[1] + "/data/postmaster.pid").readline())
tck = os.sysconf("SC_CLK_TCK")
total = 0
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if int(p) == pid or int(f[1]) == pid:
        total += sum(int(x) for x in f[11:15])
print(total / tck)
PY
}

# run NAME HOST PORT -> "tps calls"
run() {
	local out
	out=$(as_postgres pgbench -n -h "$2" -p "$3" -c "$CLIENTS" -j 2 -T "$SECONDS_RUN" \
		-f "$base/call.sql" postgres 2>&1) || { echo "$out" >&2; return 1; }
	echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
	echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p'
}

echo "create_profile, $CLIENTS clients, $SECONDS_RUN s each:"
s0=$(cpu "$base/single")
read -r tps1 n1 < <(run single "$base/single" 54361 | paste -sd' ')
s1=$(cpu "$base/single")
c0=$(cpu "$base/coord"); a0=$(cpu "$base/w1"); b0=$(cpu "$base/w2")
read -r tps2 n2 < <(run citus "$base/coord" 54362 | paste -sd' ')
c1=$(cpu "$base/coord"); a1=$(cpu "$base/w1"); b1=$(cpu "$base/w2")

/usr/bin/python3 - "$tps1" "$n1" "$s0" "$s1" "$tps2" "$n2" "$c0" "$c1" "$a0" "$a1" "$b0" "$b1" <<'PY'
import sys
tps1, n1, s0, s1, tps2, n2, c0, c1, a0, a1, b0, b1 = map(float, sys.argv[1:])
one = (s1 - s0) / n1 * 1e3
coord = (c1 - c0) / n2 * 1e3
w = ((a1 - a0) + (b1 - b0)) / n2 * 1e3
print(f"  one server:       {tps1:8.1f} calls/s, CPU {one:6.3f} ms per call")
print(f"  Citus (1 + 2):    {tps2:8.1f} calls/s, CPU {coord:6.3f} ms per call on the coordinator,"
      f" {w:6.3f} ms on the workers, {coord + w:6.3f} ms in all")
print(f"  ratio Citus / one server: {tps2 / tps1:.2f} x the calls per second,"
      f" {(coord + w) / one:.2f} x the CPU per call")
PY
