#!/usr/bin/env bash
# test/bench/worst_payload.sh -- the slowest requests under 1 MiB we can make.
#
# Not a test: timings never gate CI.  Each payload below is built to make
# one part of a call as expensive as the request size allows (the 1 MiB
# limit is measured on the jsonb value).  Every payload is sent once to
# create_profile (register_user_profile for the SDK ones) as an admin, in a
# tenant without limits, under statement_timeout = 300 s; the script prints
# the milliseconds each took and the slowest.  A well-formed profile is
# timed the same way for scale.
#
# Usage: bash test/bench/worst_payload.sh
# (as root on a fresh machine; SKIP_APT=1 SKIP_BUILD=1 to reuse what is
# installed, for example to measure another build of the extension)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

bench_prepare
dir=/tmp/profile_ext_bench_worst
cluster_start "$dir" 54332
trap '[ -n "${KEEP:-}" ] || cluster_stop "$dir"' EXIT

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION profile_ext;
SELECT profile.create_tenant('w', '{"required_contract": null, "rate_limit": {"per_second": 0, "per_minute": 0}}') IS NOT NULL;
ALTER DATABASE postgres SET profile_ext.password_memlimit = '64kB';
CREATE TABLE payloads (name text, fn text, body jsonb);
INSERT INTO payloads VALUES
	('a well-formed profile (for scale)', 'create',
	 '{"tenantName": "w", "username": "john.doe", "email": "john@example.com", "full_name": "John"}'),
	('roles: a comma-separated string of 120000 distinct roles (950 KB)', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com',
		'role', (SELECT string_agg('r' || i, ',') FROM generate_series(1, 120000) i))),
	('roles: a comma-separated string of 480000 roles (962 KB)', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com', 'role', repeat('a,', 480000))),
	('roles: an array of 100000 distinct roles', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com',
		'roles', (SELECT jsonb_agg('r' || i) FROM generate_series(1, 100000) i))),
	('role_ids: 60000 integers', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com',
		'role_ids', (SELECT jsonb_agg(i) FROM generate_series(1, 60000) i))),
	('stored_selectors: 1000 strings of 1000 characters', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com',
		'stored_selectors', (SELECT jsonb_agg(repeat('é', 500)) FROM generate_series(1, 1000) i))),
	('stored_selectors: 100000 strings', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com',
		'stored_selectors', (SELECT jsonb_agg('s' || i) FROM generate_series(1, 100000) i))),
	('attributes: a string nested 450000 levels', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com',
		'attributes', '{"a":' || repeat('[', 450000) || repeat(']', 450000) || '}')),
	('attributes: an object of 40000 keys', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com',
		'attributes', (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 40000) i))),
	('30000 unknown keys', 'create',
	 (SELECT jsonb_object_agg('unknown' || i, i) FROM generate_series(1, 30000) i)
		|| '{"tenantName": "w", "email": "a@example.com"}'),
	('a username of 250000 characters', 'create',
	 jsonb_build_object('tenantName', 'w', 'email', 'a@example.com', 'username', repeat('é', 250000))),
	('1000 SDK events, each with an audit object of 40 keys', 'register',
	 jsonb_build_object('tenantName', 'w', 'countryCode', 'FI', 'sdkAuditEvents',
		(SELECT jsonb_agg(jsonb_build_object('dateTime', '2026-01-01T00:00:00Z',
			'audit', (SELECT jsonb_object_agg('k' || j, j) FROM generate_series(1, 40) j)))
		   FROM generate_series(1, 1000) i))),
	('1000 SDK events, each with 50 unknown keys', 'register',
	 jsonb_build_object('tenantName', 'w', 'countryCode', 'FI', 'sdkAuditEvents',
		(SELECT jsonb_agg((SELECT jsonb_object_agg('x' || j, 1) FROM generate_series(1, 50) j)
			|| '{"dateTime": "2026-01-01T00:00:00Z"}') FROM generate_series(1, 1000) i)));
-- the limit is on the jsonb value itself, not on its compressed form
-- every payload its own address, so that each could be stored
UPDATE payloads SET body = jsonb_set(body, '{email}', to_jsonb(md5(name) || '@example.com')) WHERE body ? 'email';
SELECT name AS "left out: larger than 1 MiB" FROM payloads WHERE pg_column_size(body || '{}'::jsonb) > 1024 * 1024;
DELETE FROM payloads WHERE pg_column_size(body || '{}'::jsonb) > 1024 * 1024;
SQL

echo "payload | size (bytes) | ms | outcome"
slowest=0
while IFS='|' read -r name; do
	[ -n "$name" ] || continue
	out=$(psql -X -qAt -v ON_ERROR_STOP=0 -v name="$name" 2>&1 <<'SQL'
SET statement_timeout = '300s';
SELECT pg_column_size(body || '{}'::jsonb) AS size, fn FROM payloads WHERE name = :'name' \gset
\timing on
SELECT CASE WHEN :'fn' = 'create' THEN profile.create_profile(body)
			ELSE profile.register_user_profile(gen_random_uuid(), body) END IS NOT NULL
  FROM payloads WHERE name = :'name';
\timing off
\echo size :size
SQL
	)
	ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)
	size=$(sed -n 's/^size \([0-9]*\)/\1/p' <<<"$out")
	outcome=$(grep -o 'ERROR: .*' <<<"$out" | head -1 | cut -c1-80 || true)
	[ -n "$outcome" ] || outcome="stored"
	echo "$name | $size | ${ms:-?} | $outcome"
	if [ -n "$ms" ] && awk "BEGIN { exit !($ms > $slowest) }"; then
		slowest=$ms
	fi
done < <(psql -X -qAt -c "SELECT name FROM payloads ORDER BY name")
echo "slowest: $slowest ms"
