#!/usr/bin/env bash
# test/bench/batch.sh -- create_profiles against single create_profile calls.
#
# Not a test: timings never gate CI.  The same 1000 payloads (username,
# email, phone, full name; no password), once as 1000 create_profile calls
# and once as one create_profiles batch, each in a transaction of its own
# (rolled back, so commits stay out of the picture), in a tenant whose
# client calls with an access token and a contract; CPU time of the
# backend per profile (clock time in one backend, nothing else running),
# the median of ROUNDS alternating rounds.  Goal (issue "Batches"): the
# batch at most 0.5x the single calls per profile.
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
	ELSE
		r := profile.create_profiles(jsonb_build_object('accessTokenId', tok, 'profiles', items));
		IF (r->>'created')::int <> 1000 THEN
			RAISE EXCEPTION 'batch stored % of 1000', r->>'created';
		END IF;
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

single=() batch=()
for r in $(seq 1 "$ROUNDS"); do
	single+=("$(measure single)")
	batch+=("$(measure batch)")
	echo "  round $r: single calls ${single[-1]} us/profile, batch ${batch[-1]} us/profile"
done
s=$(median "${single[@]}")
b=$(median "${batch[@]}")
awk -v s="$s" -v b="$b" 'BEGIN {
	printf "== 1000 profiles, us per profile (median of rounds)\n"
	printf "  create_profile, 1000 calls   %8.2f\n", s
	printf "  create_profiles, one batch   %8.2f\n", b
	printf "  ratio batch / single         %8.3f   (goal: <= 0.5)\n", b / s
}'
