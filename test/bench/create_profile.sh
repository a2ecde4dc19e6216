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
#   3. The rate limit's cost: create_profile in a tenant whose limits are on
#      (but too high to refuse) against the same with limits off.
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
-- limits off for the comparison with the baseline; "bench-limited" has them
-- on, high enough never to refuse, to price the check itself
SELECT profile.create_tenant('bench', '{"rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
SELECT profile.create_tenant('bench-limited', '{"rate_limit": {"per_second": 1000000000, "per_minute": 1000000000}}') IS NOT NULL;
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
	IF kind IN ('create_profile', 'limits_on') THEN
		FOR g IN base + 1 .. base + n LOOP
			PERFORM profile.create_profile(jsonb_build_object('accessTokenId', tok,
				'tenantName', CASE kind WHEN 'limits_on' THEN 'bench-limited' ELSE 'bench' END,
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
-- the rate limit's own cost, where nothing is written: calls that pass
-- the limit and then fail validation (an invalid email), limits on or off
CREATE FUNCTION bench.rejected_call(tenant text, tok text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	FOR g IN 1 .. n LOOP
		BEGIN
			PERFORM profile.create_profile(jsonb_build_object('accessTokenId', tok,
				'tenantName', tenant, 'email', 'not an email'));
		EXCEPTION WHEN check_violation THEN
			NULL;
		END;
	END LOOP;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
END
$$;
SQL
tok=$(psql -X -At -c "SELECT profile.issue_access_token('bench-client', '{bench,bench-limited}')")

echo "== CPU per call: $N calls in one transaction, $ROUNDS rounds"
declare -a ext_us base_us lim_us rej_on rej_off
for r in $(seq 1 "$ROUNDS"); do
	for tenant in bench-limited bench; do
		us=$(psql -X -q -At -c "SELECT round(bench.rejected_call('$tenant', '$tok', $N)::numeric, 3)")
		if [ "$tenant" = bench ]; then rej_off+=("$us"); else rej_on+=("$us"); fi
		echo "  round $r  rejected call, $tenant: $us us/call"
	done
	for kind in create_profile baseline limits_on; do
		us=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
BEGIN;
SELECT round(bench.per_call('$kind', '$tok', $N)::numeric, 2);
ROLLBACK;
SQL
)
		case $kind in
			baseline) base_us+=("$us") ;;
			limits_on) lim_us+=("$us") ;;
			*) ext_us+=("$us") ;;
		esac
		echo "  round $r  $kind: $us us/call"
	done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ext_med=$(median "${ext_us[@]}")
base_med=$(median "${base_us[@]}")
lim_med=$(median "${lim_us[@]}")
rej_on_med=$(median "${rej_on[@]}")
rej_off_med=$(median "${rej_off[@]}")

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
awk -v l="$lim_med" -v e="$ext_med" 'BEGIN {printf "rate limits:   full call, on %.2f us, off %.2f us, ratio %.3f x (noisy: table growth)\n", l, e, l / e}'
awk -v l="$rej_on_med" -v e="$rej_off_med" 'BEGIN {printf "rate limits:   rejected call (no writes), on %.3f us, off %.3f us, ratio %.3f x, the check costs %+.3f us\n", l, e, l / e, l - e}'
