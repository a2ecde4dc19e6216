#!/usr/bin/env bash
# test/bench/create_profile.sh -- create_profile against a plain-SQL baseline.
#
# Not a test: timings never gate CI.  Reports ratios against a baseline
# measured in the same run, on the same throwaway cluster.
#
# Baseline: one plain SQL statement (two INSERTs in a CTE) that writes the
# same profile row and the same audit row (the row as jsonb without the
# password hash, its chain position and a SHA-256) into tables made LIKE
# the extension's (same columns, defaults and indexes), with no checks.
# Payload for both: an access token in a contract-gated tenant, no password,
# a unique username, email and phone per call.
#
#   1. CPU per call: N calls in one transaction in one backend (rolled back,
#      so commits stay out of the picture), microseconds per call; the median
#      of ROUNDS alternating rounds.
#   2. Throughput: pgbench -M prepared, 2 clients, DURATION seconds per run,
#      alternating, the better of two runs each.
#
# Usage: bash test/bench/create_profile.sh [N] [ROUNDS] [DURATION]
# (as root on a fresh machine; SKIP_APT=1 SKIP_BUILD=1 to reuse what is there)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/deps.sh
. test/cluster.sh

N=${1:-20000}
ROUNDS=${2:-5}
DURATION=${3:-15}

install_deps
[ "${SKIP_BUILD:-0}" = 1 ] || build_install
dir=/tmp/profile_ext_bench
cluster_start "$dir" 54331
trap 'cluster_stop "$dir"' EXIT
work=$(mktemp -d)
chmod 755 "$work"

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION profile_ext;
SELECT profile.create_tenant('bench') IS NOT NULL;
SELECT profile.create_client('bench-client') IS NOT NULL;
SELECT profile.grant_contract('bench-client', 'create_customer_api');
CREATE SCHEMA bench;
CREATE SEQUENCE bench.seq;
CREATE TABLE bench.profiles (LIKE profile_data.profiles INCLUDING ALL);
CREATE TABLE bench.audit_events (LIKE profile_data.audit_events INCLUDING ALL);
-- N calls in one statement; microseconds per call.  The baseline is the
-- plain statement (its plan cached by PL/pgSQL); create_profile's side also
-- pays for building the request document, as a client would.
CREATE FUNCTION bench.per_call(kind text, tok text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	base bigint := nextval('bench.seq') * 10000000;
BEGIN
	t0 := clock_timestamp();
	IF kind = 'create_profile' THEN
		FOR g IN base + 1 .. base + n LOOP
			PERFORM profile.create_profile(jsonb_build_object('accessTokenId', tok, 'tenantName', 'bench',
				'username', 'u' || g, 'email', 'u' || g || '@example.com',
				'mobile_phone_number', '+4930' || g));
		END LOOP;
	ELSE
		FOR g IN base + 1 .. base + n LOOP
			WITH r AS (
				INSERT INTO bench.profiles (tenant_id, id, username, email, mobile_phone_number,
											created_at, updated_at)
				VALUES (1, gen_random_uuid(), 'u' || g, 'u' || g || '@example.com', '+4930' || g,
						now(), now())
				RETURNING *)
			INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source,
											event, trace_id, data, chain_seq, hash)
			SELECT tenant_id, now(), id, 'bench-client', 'db', 'profile.created',
				   gen_random_uuid(), to_jsonb(r) - 'password_hash', 1,
				   sha256(convert_to(to_jsonb(r)::text, 'UTF8'))
			  FROM r;
		END LOOP;
	END IF;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
END
$$;
SQL
tok=$(psql -X -At -c "SELECT profile.issue_access_token('bench-client', '{bench}')")

echo "== CPU per call: $N calls in one transaction, $ROUNDS rounds"
declare -a ext_us base_us
for r in $(seq 1 "$ROUNDS"); do
	for kind in create_profile baseline; do
		us=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
BEGIN;
SELECT round(bench.per_call('$kind', '$tok', $N)::numeric, 2);
ROLLBACK;
SQL
)
		if [ "$kind" = baseline ]; then base_us+=("$us"); else ext_us+=("$us"); fi
		echo "  round $r  $kind: $us us/call"
	done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ext_med=$(median "${ext_us[@]}")
base_med=$(median "${base_us[@]}")

echo "== throughput: pgbench -M prepared, 2 clients, ${DURATION}s per run"
cat >"$work/create_profile.sql" <<SQL
SELECT profile.create_profile(jsonb_build_object('accessTokenId', '$tok', 'tenantName', 'bench', 'username', 'p' || s, 'email', 'p' || s || '@example.com', 'mobile_phone_number', '+4940' || s)) FROM nextval('bench.seq') AS s;
SQL
cat >"$work/baseline.sql" <<'SQL'
WITH s AS (SELECT nextval('bench.seq') AS s), r AS (INSERT INTO bench.profiles (tenant_id, id, username, email, mobile_phone_number, created_at, updated_at) SELECT 1, gen_random_uuid(), 'p' || s, 'p' || s || '@example.com', '+4940' || s, now(), now() FROM s RETURNING *) INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event, trace_id, data, chain_seq, hash) SELECT tenant_id, now(), id, 'bench-client', 'db', 'profile.created', gen_random_uuid(), to_jsonb(r) - 'password_hash', 1, sha256(convert_to(to_jsonb(r)::text, 'UTF8')) FROM r;
SQL
psql -X -q -At -c "SELECT setval('bench.seq', 100000000)" >/dev/null
declare -A best
for r in 1 2; do
	for kind in create_profile baseline; do
		tps=$("$PG_BIN/pgbench" -n -M prepared -c 2 -j 2 -T "$DURATION" -f "$work/$kind.sql" 2>&1 |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p')
		echo "  run $r  $kind: $tps tps"
		if [ -z "${best[$kind]:-}" ] || awk "BEGIN {exit !($tps > ${best[$kind]})}"; then
			best[$kind]=$tps
		fi
	done
done
rm -rf "$work"

echo
echo "== results (PostgreSQL $(psql -X -At -c 'SHOW server_version'), $(nproc) cores)"
awk -v e="$ext_med" -v b="$base_med" 'BEGIN {printf "CPU per call:  create_profile %.2f us, baseline %.2f us, ratio %.2f x (goal <= 2, aim now <= 3)\n", e, b, e / b}'
awk -v e="${best[create_profile]}" -v b="${best[baseline]}" 'BEGIN {printf "throughput:    create_profile %.0f tps, baseline %.0f tps, ratio %.2f x (goal >= 0.8, aim now >= 0.6)\n", e, b, e / b}'
