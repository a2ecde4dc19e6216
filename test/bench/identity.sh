#!/usr/bin/env bash
# test/bench/identity.sh -- what the 1.1 identity rules cost per call.
#
# Not a test: timings never gate CI.  Measures, in the same run:
#
#   1. create_profile with username, email and phone against the same call
#      with the email only, in release 1.0 (built from this repository's
#      history into a private installation, test/tools/release_install.sh)
#      and in the current version, each on a throwaway cluster of its own:
#      the difference is what the username and phone rules and their
#      uniqueness cost per call in each version.
#   2. The rules alone, in the current version: profile_data.username_key,
#      username_skeleton and phone_key over N distinct values in one
#      statement, against the same statement without the call.
#
# Each measurement: N calls in one transaction (rolled back), microseconds
# per call; the median of ROUNDS alternating rounds.
#
# Usage: bash test/bench/identity.sh [N] [ROUNDS]
# (as root on a fresh machine; SKIP_APT=1 SKIP_BUILD=1 to reuse what is
# there; OLD_INSTALL=<dir> to reuse a 1.0 installation)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

N=${1:-20000}
ROUNDS=${2:-5}

bench_prepare
old=${OLD_INSTALL:-}
if [ -z "$old" ]; then
	old=$(bash test/tools/release_install.sh 1.0 /tmp/profile_ext_bench_1.0)
fi
current_bin=$PG_BIN

setup_sql() {
	psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION profile_ext;
SET profile_ext.password_memlimit = '64kB';
SELECT profile.create_tenant('bench', '{"required_contract": null, "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
CREATE SCHEMA bench;
CREATE SEQUENCE bench.seq;
CREATE FUNCTION bench.per_call(kind text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	base bigint := nextval('bench.seq') * 10000000;
BEGIN
	t0 := clock_timestamp();
	IF kind = 'full' THEN
		FOR g IN base + 1 .. base + n LOOP
			PERFORM profile.create_profile(jsonb_build_object('tenantName', 'bench',
				'username', 'User.' || g, 'email', 'u' || g || '@example.com',
				'mobile_phone_number', '+49 30 ' || (g % 100000000)));
		END LOOP;
	ELSE
		FOR g IN base + 1 .. base + n LOOP
			PERFORM profile.create_profile(jsonb_build_object('tenantName', 'bench',
				'email', 'u' || g || '@example.com'));
		END LOOP;
	END IF;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
END
$$;
SQL
}

measure() {
	psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
BEGIN;
SELECT round(bench.per_call('$1', $N)::numeric, 2);
ROLLBACK;
SQL
}


declare -A results
for version in 1.0 current; do
	dir=/tmp/profile_ext_bench_$version
	if [ "$version" = 1.0 ]; then
		PG_BIN=$old/bin
	else
		PG_BIN=$current_bin
	fi
	cluster_start "$dir" 54332
	setup_sql >/dev/null
	full=() email=()
	for r in $(seq 1 "$ROUNDS"); do
		email+=("$(measure email)")
		full+=("$(measure full)")
		echo "  $version round $r: email only ${email[-1]} us, username + email + phone ${full[-1]} us"
	done
	results[$version.email]=$(median "${email[@]}")
	results[$version.full]=$(median "${full[@]}")
	if [ "$version" = current ]; then
		echo "== the rules alone (current): $N distinct values in one statement"
		psql -X -q -At -v ON_ERROR_STOP=1 <<SQL >"$dir/rules.txt"
CREATE TEMP TABLE v AS
	SELECT 'User.' || g || '.' || chr(945 + g % 20) AS latin_greek, 'Jos' || chr(233) || '.' || g AS latin,
		   '+49 30 ' || (1000000 + g) AS phone, '+44 (0)20 7946 ' || lpad((g % 10000)::text, 4, '0') AS trunk
	  FROM generate_series(1, $N) g;
ANALYZE v;
CREATE FUNCTION pg_temp.us(q text) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best float8 := 1e9; d float8;
BEGIN
	FOR i IN 1 .. $ROUNDS LOOP
		t0 := clock_timestamp();
		EXECUTE q;
		d := extract(epoch FROM clock_timestamp() - t0) * 1e6 / $N;
		best := least(best, d);
	END LOOP;
	RETURN round(best::numeric, 3);
END \$\$;
SELECT 'baseline ' || pg_temp.us('SELECT count(length(latin)) FROM v');
SELECT 'username_key ' || pg_temp.us('SELECT count(profile_data.username_key(latin)) FROM v');
SELECT 'username_skeleton ' || pg_temp.us('SELECT count(profile_data.username_skeleton(latin)) FROM v');
SELECT 'username_rule ' || pg_temp.us('SELECT count(profile_data.username_rule(latin)) FROM v');
SELECT 'phone_key ' || pg_temp.us('SELECT count(profile_data.phone_key(phone)) FROM v');
SELECT 'phone_key_trunk ' || pg_temp.us('SELECT count(profile_data.phone_key(trunk)) FROM v');
SQL
		while read -r name us; do results[rule.$name]=$us; done <"$dir/rules.txt"
	fi
	cluster_stop "$dir"
done
PG_BIN=$current_bin

awk -v oe="${results[1.0.email]}" -v of="${results[1.0.full]}" \
	-v ce="${results[current.email]}" -v cf="${results[current.full]}" 'BEGIN {
	printf "== create_profile, us per call (median of rounds)\n"
	printf "  %-8s  email only %8.2f  username+email+phone %8.2f  added by username and phone %7.2f\n", "1.0", oe, of, of - oe
	printf "  %-8s  email only %8.2f  username+email+phone %8.2f  added by username and phone %7.2f\n", "current", ce, cf, cf - ce
	printf "  change of the added cost: %+.2f us per call\n", (cf - ce) - (of - oe)
}'
b=${results[rule.baseline]}
echo "== the rules alone, us per value (best of $ROUNDS, baseline subtracted: $b us)"
for k in username_key username_skeleton username_rule phone_key phone_key_trunk; do
	awk -v n="$k" -v v="${results[rule.$k]}" -v b="$b" 'BEGIN { printf "  %-18s %7.3f\n", n, v - b }'
done
