#!/usr/bin/env bash
# test/bench/batch.sh -- create_profiles against single create_profile
# calls with the same payloads.
#
# Not a test: timings never gate CI.  The same kind of 1000 payloads
# (username, email, phone, full name; no password), in a tenant whose
# client calls with an access token and a contract, each measurement in a
# transaction of its own that is rolled back (commits stay out of the
# picture); the median of ROUNDS alternating rounds, in microseconds per
# profile.
#
# 1. As a client calls (the goal's measure; test/bench/calls.c): one
#    connection with a prepared statement, executed 1000 times with one
#    profile each (as a driver or PostgREST sends single calls), against
#    once with all 1000; the backend's CPU time (/proc/PID/schedstat),
#    after a warm-up of 10 profiles.  A single call costs its statement
#    and its round trip besides the profile: that is the per-call work a
#    batch saves.  Goal (issue "Batches"): the batch at most 0.5x.
# 2. Inside the server (clock time of one backend, nothing else running):
#    1000 create_profile calls from a PL/pgSQL loop (each a simple
#    expression: no statement, portal or round trip of its own) against
#    one batch; and a floor: the rows the batch stores (a profile, the
#    claim of its id, an audit row with data '{}' and a SHA-256) written
#    by three plain multi-row INSERTs, one statement, into tables with
#    the same columns, defaults and indexes and no checks or triggers (no
#    validation, no normalisation, no audit document, no result).  Since
#    single calls store their rows without statements (1.1), a batch
#    saves less against the loop: most of a profile's cost is storing and
#    checking its rows.
#
# Usage: bash test/bench/batch.sh [ROUNDS]
# (as root on a fresh machine; SKIP_APT=1 SKIP_BUILD=1 to reuse what is there)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

ROUNDS=${1:-7}

bench_prepare
dir=/tmp/profile_ext_bench
bench_cluster "$dir" 54331

bench_tenant
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE SEQUENCE bench.seq;
CREATE TABLE bench.profiles (LIKE profile_data.profiles INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bench.profile_ids (LIKE profile_data.profile_ids INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bench.audit_events (LIKE profile_data.audit_events INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE FUNCTION bench.items(base bigint) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_agg(jsonb_build_object('username', 'user_' || g, 'email', 'u' || g || '@example.com',
		'mobile_phone_number', '+49 30 ' || (10000000 + g % 90000000), 'full_name', 'User ' || g) ORDER BY g)
	  FROM generate_series(base + 1, base + 1000) g
$$;
-- microseconds per profile
CREATE FUNCTION bench.per_profile(kind text, tok text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	items jsonb := bench.items(nextval('bench.seq') * 1000000);
	t0 timestamptz;
	r jsonb;
BEGIN
	t0 := clock_timestamp();
	IF kind = 'single' THEN
		FOR i IN 0 .. 999 LOOP
			PERFORM profile.create_profile(jsonb_build_object('accessTokenId', tok) || (items->i));
		END LOOP;
	ELSIF kind = 'batch' THEN
		r := profile.create_profiles(jsonb_build_object('accessTokenId', tok, 'profiles', items));
		IF (r->>'created')::int <> 1000 THEN
			RAISE EXCEPTION 'batch stored % of 1000', r->>'created';
		END IF;
	ELSE
		-- the floor: the stored values, as the batch stores them for these items
		WITH x AS (
			SELECT gen_random_uuid() AS id, it->>'username' AS u, it->>'email' AS e,
				   '+4930' || substr(it->>'mobile_phone_number', 8) AS ph, it
			  FROM jsonb_array_elements(items) it),
		c AS (
			INSERT INTO bench.profile_ids (id, tenant_id) SELECT id, 1 FROM x),
		p AS (
			INSERT INTO bench.profiles (tenant_id, id, username, email, mobile_phone_number, full_name,
										country_code, username_key, email_key, phone_key)
			SELECT 1, id, u, e, ph, it->>'full_name', 'DE', u, e, ph FROM x
			RETURNING tenant_id, id)
		INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event,
										trace_id, data, chain_seq, hash)
		SELECT tenant_id, now(), id, 'bench-client', 'db', 'profile.created', gen_random_uuid(),
			   '{}', 1, sha256(convert_to(id::text, 'UTF8'))
		  FROM p;
	END IF;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / 1000;
END
$$;
SQL
tok=$(psql -X -At -c "SELECT profile.issue_access_token('bench-client', '{bench}')")

# new WAL segments are made sparse, not zero-filled: the zeroing of a fresh
# cluster's first segments is not what either path costs
measure() {
	psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
SET wal_init_zero = off;
BEGIN;
SELECT round(bench.per_profile('$1', '$tok')::numeric, 2);
ROLLBACK;
SQL
}

# calls as a client makes them: the profiles of a fresh range each time
work=$(mktemp -d)
trap 'cluster_stop "$dir"; rm -rf "$work"' EXIT
cc -O2 -o "$work/calls" test/bench/calls.c -I"$(pg_config --includedir)" -lpq
client() {
	local first
	first=$(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT nextval('bench.seq') * 1000000") || exit 1
	"$work/calls" "$1" 1000 "$first" "$tok"
}

csingle=() cbatch=() single=() batch=() floor=()
for r in $(seq 1 "$ROUNDS"); do
	csingle+=("$(client single)")
	cbatch+=("$(client batch)")
	single+=("$(measure single)")
	batch+=("$(measure batch)")
	floor+=("$(measure floor)")
	echo "  round $r: client: single calls ${csingle[-1]} us/profile, batch ${cbatch[-1]};" \
		"in the server: single calls ${single[-1]}, batch ${batch[-1]}, floor ${floor[-1]}"
done
cs=$(median "${csingle[@]}")
cb=$(median "${cbatch[@]}")
s=$(median "${single[@]}")
b=$(median "${batch[@]}")
f=$(median "${floor[@]}")
awk -v cs="$cs" -v cb="$cb" -v s="$s" -v b="$b" -v f="$f" 'BEGIN {
	printf "== 1000 profiles as a client sends them, server CPU us per profile (median of rounds)\n"
	printf "  create_profile, 1000 calls   %8.2f\n", cs
	printf "  create_profiles, one call    %8.2f\n", cb
	printf "  ratio batch / single         %8.3f   (goal: <= 0.5)\n", cb / cs
	printf "== inside the server, us per profile (median of rounds)\n"
	printf "  create_profile, PL/pgSQL loop %7.2f\n", s
	printf "  create_profiles, one batch   %8.2f\n", b
	printf "  floor, plain multi-row INSERT %7.2f\n", f
	printf "  ratio batch / loop           %8.3f\n", b / s
	printf "  ratio batch / floor          %8.3f\n", b / f
	printf "  ratio floor / loop           %8.3f\n", f / s
}'
