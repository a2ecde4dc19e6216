#!/usr/bin/env bash
# test/bench/ratelimit.sh -- what the rate limit costs a create_profile
# call (test/bench/performance.sh measures create_profile against its
# floor).
#
# Not a test: timings never gate CI.  Two tenants, "bench" with its limits
# off and "bench-limited" with limits on but too high ever to refuse, and
# in the same run, the median of ROUNDS alternating rounds:
#
#   1. N calls that pass the limit and then fail validation (an invalid
#      email), so that nothing is written: the check alone.
#   2. N full calls (an access token behind a contract, a unique username,
#      email and phone each), in one transaction that is rolled back.
#
# Usage: bash test/bench/ratelimit.sh [N] [ROUNDS]
# (as root on a fresh machine; SKIP_APT=1 SKIP_BUILD=1 to reuse what is there)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

N=${1:-20000}
ROUNDS=${2:-5}

bench_prepare
dir=/tmp/profile_ext_bench
bench_cluster "$dir" 54331
bench_tenant
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT profile.create_tenant('bench-limited', '{"rate_limit": {"per_second": 1000000000, "per_minute": 1000000000}}') IS NOT NULL;
CREATE SEQUENCE bench.seq;
-- full calls in one statement; microseconds per call
CREATE FUNCTION bench.full_call(tenant text, tok text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	g bigint := nextval('bench.seq') * 10000000;
BEGIN
	FOR i IN 1 .. n LOOP
		g := g + 1;
		PERFORM profile.create_profile(jsonb_build_object('accessTokenId', tok, 'tenantName', tenant,
			'username', 'u' || g, 'email', 'u' || g || '@example.com', 'mobile_phone_number', '+4930' || g));
	END LOOP;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
END
$$;
-- calls that pass the limit and then fail validation: nothing is written
CREATE FUNCTION bench.rejected_call(tenant text, tok text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	FOR i IN 1 .. n LOOP
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

declare -a rej_on rej_off full_on full_off
for r in $(seq 1 "$ROUNDS"); do
	for tenant in bench-limited bench; do
		rej=$(psql -X -q -At -c "SELECT round(bench.rejected_call('$tenant', '$tok', $N)::numeric, 3)")
		full=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
BEGIN;
SELECT round(bench.full_call('$tenant', '$tok', $N)::numeric, 2);
ROLLBACK;
SQL
)
		if [ "$tenant" = bench ]; then
			rej_off+=("$rej")
			full_off+=("$full")
		else
			rej_on+=("$rej")
			full_on+=("$full")
		fi
		echo "  round $r  $tenant: rejected call $rej us, full call $full us"
	done
done

echo
echo "== results (PostgreSQL $(psql -X -At -c 'SHOW server_version'), $(nproc) cores)"
awk -v l="$(median "${full_on[@]}")" -v e="$(median "${full_off[@]}")" 'BEGIN {printf "full call:     limits on %.2f us, off %.2f us, ratio %.3f x (noisy: table growth)\n", l, e, l / e}'
awk -v l="$(median "${rej_on[@]}")" -v e="$(median "${rej_off[@]}")" 'BEGIN {printf "rejected call: limits on %.3f us, off %.3f us, ratio %.3f x, the check costs %+.3f us\n", l, e, l / e, l - e}'
