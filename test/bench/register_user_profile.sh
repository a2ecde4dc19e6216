#!/usr/bin/env bash
# test/bench/register_user_profile.sh -- register_user_profile against a
# baseline that inserts the same rows straight into the tables.
#
# Not a test: timings never gate CI.  Reports SDK events stored per second
# and the ratio against the baseline, measured in the same run.
#
# Payloads: the SDK seed's example body (2 events), and the same with 1000
# events (the seed's event with a smaller "audit" object, so that the body
# stays under the 1 MiB request limit: about 480 KiB).  Baseline: one plain SQL statement per call that writes what
# register_user_profile writes -- the profile row, its profile.created
# event, one event per SDK event (typed columns, the rest as data, a
# SHA-256 in the hash column) and the user_profile.registered event -- into
# tables made LIKE the extension's (same columns and indexes), with no
# checks and no chaining.  Each measurement runs its calls in one
# transaction (rolled back); the median of ROUNDS rounds.
#
# Usage: bash test/bench/register_user_profile.sh [ROUNDS]
# (as root on a fresh machine; SKIP_APT=1 SKIP_BUILD=1 to reuse what is there)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

ROUNDS=${1:-5}

bench_prepare
dir=/tmp/profile_ext_bench
bench_cluster "$dir" 54331

bench_tenant
psql -X -q -v ON_ERROR_STOP=1 -v seed="$(cat test/sdk_seed.json)" <<'SQL'
CREATE TABLE bench.profiles (LIKE profile_data.profiles INCLUDING ALL);
CREATE TABLE bench.audit_events (LIKE profile_data.audit_events INCLUDING ALL);
\i test/bench/sdk_payloads.sql

-- calls of one kind in a loop; SDK events stored per second
CREATE FUNCTION bench.events_per_second(kind text, tok text, payload text, calls int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	body jsonb := (SELECT p.body FROM bench.payloads p WHERE p.name = payload) || jsonb_build_object('accessTokenId', tok);
	n int := jsonb_array_length(body->'sdkAuditEvents');
	id uuid;
BEGIN
	t0 := clock_timestamp();
	FOR i IN 1..calls LOOP
		id := gen_random_uuid();
		IF kind = 'register_user_profile' THEN
			PERFORM profile.register_user_profile(id, body);
		ELSE
			WITH p AS (
				INSERT INTO bench.profiles (tenant_id, id, country_code, created_at, updated_at)
				VALUES (1, id, body->>'countryCode', now(), now()) RETURNING *),
			c AS (
				INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event,
												trace_id, data, chain_seq, hash)
				SELECT 1, now(), p.id, 'bench-client', 'db', 'profile.created', gen_random_uuid(),
					   to_jsonb(p) - 'password_hash', 1, sha256(convert_to(to_jsonb(p)::text, 'UTF8'))
				  FROM p),
			e AS (
				INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event,
												session_id, transaction_group_id, trace_id, data, chain_seq, hash)
				SELECT 1, (ev->>'dateTime')::timestamptz, id, 'bench-client', 'sdk', 'sdk.event',
					   (ev->>'sessionId')::uuid, (ev->>'transactionGroupId')::uuid, gen_random_uuid(),
					   ev - '{dateTime,sessionId,transactionGroupId}'::text[], 1 + o,
					   sha256(convert_to(ev::text, 'UTF8'))
				  FROM jsonb_array_elements(body->'sdkAuditEvents') WITH ORDINALITY AS x(ev, o))
			INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event,
											session_id, transaction_group_id, trace_id, data, chain_seq, hash)
			VALUES (1, now(), id, 'bench-client', 'db', 'user_profile.registered',
					(body->'tpAuditMetadata'->>'sessionId')::uuid,
					(body->'tpAuditMetadata'->>'transactionGroupId')::uuid, gen_random_uuid(),
					jsonb_build_object('arid', body->'arid', 'sdkVersion', body->'sdkVersion',
									   'tpAuditMetadata', body->'tpAuditMetadata'),
					n + 2, sha256(convert_to(body->>'arid', 'UTF8')));
		END IF;
	END LOOP;
	RETURN calls * n / extract(epoch FROM clock_timestamp() - t0);
END
$$;
SQL
tok=$(psql -X -At -c "SELECT profile.issue_access_token('bench-client', '{bench}')")

declare -A res
for payload in seed 1000; do
	calls=$([ "$payload" = seed ] && echo 2000 || echo 20)
	echo "== payload $payload: $calls calls per round, $ROUNDS rounds"
	for kind in register_user_profile baseline; do
		vals=()
		for r in $(seq 1 "$ROUNDS"); do
			v=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
BEGIN;
SELECT round(bench.events_per_second('$kind', '$tok', '$payload', $calls)::numeric);
ROLLBACK;
SQL
)
			vals+=("$v")
		done
		res[$payload,$kind]=$(median "${vals[@]}")
		echo "  $kind: ${vals[*]} events/s (median ${res[$payload,$kind]})"
	done
done

echo
echo "== results (PostgreSQL $(psql -X -At -c 'SHOW server_version'), $(nproc) cores)"
for payload in seed 1000; do
	awk -v p="$payload" -v e="${res[$payload,register_user_profile]}" -v b="${res[$payload,baseline]}" \
		'BEGIN {printf "payload %-4s: register_user_profile %.0f events/s, baseline %.0f events/s, ratio %.2f x\n", p, e, b, e / b}'
done
echo "(aim: >= 0.8 x for the 1000-event call)"
