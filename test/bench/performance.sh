#!/usr/bin/env bash
# test/bench/performance.sh -- the performance goals of release 1.1, side
# by side with their floors, in one run on one throwaway cluster.
#
# Not a test: timings never gate CI.  Every figure is a ratio against a
# floor measured in the same run.
#
# The floor of create_profile: the same profile row (the same columns and
# identity keys) and one audit row (data '{}', a SHA-256 in its hash
# column), written by one plain SQL statement into tables with the same
# columns, defaults and indexes as the extension's and no CHECK
# constraints or triggers.  Payload for both: an access token in a tenant
# behind a contract, a unique username, email and phone per call.
#
#   1. CPU per call: N calls in one transaction in one backend, rolled
#      back (commits out of the picture); microseconds per call, the
#      median of ROUNDS alternating rounds.            goal <= 1.5 x
#   2. Throughput: pgbench -M prepared, 2 clients, DURATION seconds a run,
#      alternating, the best of three runs each.       goal >= 0.85 x
#   3. WAL bytes per call: pgbench -t, one client, the WAL position before
#      and after, divided by the calls.  full_page_writes is off for this
#      phase only, so that where the checkpoints fall does not count.
#                                                      goal <= 1.5 x
#   4. register_user_profile with 1000 SDK events (the seed's example with
#      1000 events) against a bare multi-row INSERT of the same events
#      (typed columns, the rest as data, chain position, a constant hash)
#      into a table like audit_events; events per second, median of
#      ROUNDS alternating rounds.                      goal >= 0.9 x
#   5. Scale: pgbench TPS of create_profile with 10 k stored profiles and
#      again after one backend has made BIG more calls (committing every
#      10 000), and that backend's memory (the sum of its memory contexts,
#      and its anonymous resident memory) sampled along the way.
#                                         goal TPS >= 0.9 x, memory flat
#
# Usage: bash test/bench/performance.sh [N] [ROUNDS] [DURATION] [BIG]
# defaults 20000 5 15 1000000 (about 10 minutes on 2 cores).
# (as root on a fresh machine; SKIP_APT=1 SKIP_BUILD=1 to reuse what is there)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/lib.sh

N=${1:-20000}
ROUNDS=${2:-5}
DURATION=${3:-15}
BIG=${4:-1000000}

bench_prepare
dir=/tmp/profile_ext_bench
bench_cluster "$dir" 54331
# room for a million profiles in memory, as a server would give it
echo "shared_buffers = '2GB'" >>"$dir/data/postgresql.conf"
as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w restart >/dev/null
work=$(mktemp -d)
chmod 755 "$work"

bench_tenant
psql -X -q -v ON_ERROR_STOP=1 -v seed="$(cat test/sdk_seed.json)" <<'SQL'
CREATE SEQUENCE bench.seq;
-- the floor's tables: columns, defaults and indexes, no checks, no triggers
CREATE TABLE bench.profiles (LIKE profile_data.profiles INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE bench.audit_events (LIKE profile_data.audit_events INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE FUNCTION bench.request(tok text, g bigint) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('accessTokenId', tok, 'tenantName', 'bench',
		'username', 'u' || g, 'email', 'u' || g || '@example.com',
		'mobile_phone_number', '+4930' || g)
$$;
-- n calls in one statement; microseconds per call.  Both sides build the
-- request document the same way; the floor is the row create_profile
-- stores for it, written by hand (its plan cached by PL/pgSQL).
CREATE FUNCTION bench.per_call(kind text, tok text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	g bigint := nextval('bench.seq') * 10000000;
BEGIN
	t0 := clock_timestamp();
	IF kind = 'create_profile' THEN
		FOR i IN 1 .. n LOOP
			g := g + 1;
			PERFORM profile.create_profile(bench.request(tok, g));
		END LOOP;
	ELSE
		FOR i IN 1 .. n LOOP
			g := g + 1;
			PERFORM bench.request(tok, g);
			WITH r AS (
				INSERT INTO bench.profiles (tenant_id, id, username, email, mobile_phone_number,
											country_code, created_at, updated_at,
											username_key, email_key, phone_key)
				VALUES (1, gen_random_uuid(), 'u' || g, 'u' || g || '@example.com', '+4930' || g,
						'DE', now(), now(), 'u' || g, 'u' || g || '@example.com', '+4930' || g)
				RETURNING tenant_id, id)
			INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event,
											trace_id, data, chain_seq, hash)
			SELECT tenant_id, now(), id, 'bench-client', 'db', 'profile.created', gen_random_uuid(),
				   '{}', 1, sha256(convert_to(id::text, 'UTF8'))
			  FROM r;
		END LOOP;
	END IF;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
END
$$;

-- register_user_profile: the seed's example with 1000 events
\i test/bench/sdk_payloads.sql
CREATE FUNCTION bench.events_per_second(kind text, tok text, calls int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	body jsonb := (SELECT p.body FROM bench.payloads p WHERE p.name = '1000') || jsonb_build_object('accessTokenId', tok);
	n int := jsonb_array_length(body->'sdkAuditEvents');
	id uuid;
BEGIN
	t0 := clock_timestamp();
	FOR i IN 1..calls LOOP
		id := gen_random_uuid();
		IF kind = 'register_user_profile' THEN
			PERFORM profile.register_user_profile(id, body);
		ELSE
			INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event,
											session_id, transaction_group_id, trace_id, data, chain_seq, hash)
			SELECT 1, (ev->>'dateTime')::timestamptz, id, 'bench-client', 'sdk', 'sdk.event',
				   (ev->>'sessionId')::uuid, (ev->>'transactionGroupId')::uuid, gen_random_uuid(),
				   ev - '{dateTime,sessionId,transactionGroupId}'::text[], 1 + o,
				   '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
			  FROM jsonb_array_elements(body->'sdkAuditEvents') WITH ORDINALITY AS x(ev, o);
		END IF;
	END LOOP;
	RETURN calls * n / extract(epoch FROM clock_timestamp() - t0);
END
$$;

-- one backend making many calls, committing every 10 000; its memory
CREATE TABLE bench.memory (calls bigint, contexts bigint, rss_anon_kb bigint);
CREATE PROCEDURE bench.sample(calls bigint) LANGUAGE sql AS $$
	INSERT INTO bench.memory
	SELECT calls, (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
		   (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+)'))[1]::bigint
$$;
CREATE PROCEDURE bench.many_calls(tok text, total bigint, start bigint) LANGUAGE plpgsql AS $$
DECLARE
	g bigint := start;
BEGIN
	FOR c IN 0 .. total / 10000 - 1 LOOP
		FOR i IN 1 .. 10000 LOOP
			g := g + 1;
			PERFORM profile.create_profile(bench.request(tok, g));
		END LOOP;
		COMMIT;
		IF c IN (0, 1, 9) OR (c + 1) % greatest(total / 100000, 1) = 0 THEN
			CALL bench.sample((c + 1) * 10000);
			COMMIT;
		END IF;
	END LOOP;
END
$$;
SQL
tok=$(psql -X -At -c "SELECT profile.issue_access_token('bench-client', '{bench}')")

echo "== 1. CPU per call: $N calls in one transaction, $ROUNDS rounds"
declare -a ext_us base_us
for r in $(seq 1 "$ROUNDS"); do
	for kind in create_profile floor; do
		us=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
BEGIN;
SELECT round(bench.per_call('$kind', '$tok', $N)::numeric, 2);
ROLLBACK;
SQL
)
		if [ "$kind" = floor ]; then base_us+=("$us"); else ext_us+=("$us"); fi
		echo "  round $r  $kind: $us us/call"
	done
done
ext_med=$(median "${ext_us[@]}")
base_med=$(median "${base_us[@]}")

# the request built from a column, not from nextval() itself: PostgreSQL
# inlines bench.request only then (a volatile argument used three times
# would make it a SQL function call, parsed and planned on every call)
cat >"$work/create_profile.sql" <<SQL
SELECT profile.create_profile(bench.request('$tok', g)) FROM nextval('bench.seq') AS g;
SQL
cat >"$work/floor.sql" <<SQL
WITH s AS (SELECT g, bench.request('$tok', g) FROM nextval('bench.seq') AS g),
r AS (INSERT INTO bench.profiles (tenant_id, id, username, email, mobile_phone_number, country_code, created_at, updated_at, username_key, email_key, phone_key) SELECT 1, gen_random_uuid(), 'u' || g, 'u' || g || '@example.com', '+4930' || g, 'DE', now(), now(), 'u' || g, 'u' || g || '@example.com', '+4930' || g FROM s RETURNING tenant_id, id)
INSERT INTO bench.audit_events (tenant_id, occurred_at, profile_id, client, source, event, trace_id, data, chain_seq, hash) SELECT tenant_id, now(), id, 'bench-client', 'db', 'profile.created', gen_random_uuid(), '{}', 1, sha256(convert_to(id::text, 'UTF8')) FROM r;
SQL
psql -X -q -At -c "SELECT setval('bench.seq', 100000000)" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
tps() { # kind clients seconds
	"$PG_BIN/pgbench" -n -M prepared -c "$2" -j "$2" -T "$3" -f "$work/$1.sql" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
echo "== 2. throughput: pgbench -M prepared, 2 clients, ${DURATION}s per run"
declare -A best
for r in 1 2 3; do
	for kind in create_profile floor; do
		t=$(tps "$kind" 2 "$DURATION")
		echo "  run $r  $kind: $t tps"
		if [ -z "${best[$kind]:-}" ] || awk "BEGIN {exit !($t > ${best[$kind]})}"; then
			best[$kind]=$t
		fi
	done
done

echo "== 3. WAL bytes per call: pgbench -t 20000, 1 client, full_page_writes off"
psql -X -q -c "ALTER SYSTEM SET full_page_writes = off" -c "SELECT pg_reload_conf()" >/dev/null
declare -A wal
for kind in create_profile floor; do
	start=$(psql -X -At -c "SELECT pg_current_wal_insert_lsn()")
	"$PG_BIN/pgbench" -n -M prepared -c 1 -t 20000 -f "$work/$kind.sql" >/dev/null
	wal[$kind]=$(psql -X -At -c "SELECT round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$start') / 20000)")
	echo "  $kind: ${wal[$kind]} bytes/call"
done
psql -X -q -c "ALTER SYSTEM RESET full_page_writes" -c "SELECT pg_reload_conf()" >/dev/null

echo "== 4. register_user_profile, 1000 events per call, 20 calls a round, $ROUNDS alternating rounds"
declare -A reg
reg_vals=() bare_vals=()
for r in $(seq 1 "$ROUNDS"); do
	for kind in register_user_profile bare_insert; do
		v=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -1
BEGIN;
SELECT round(bench.events_per_second('$kind', '$tok', 20)::numeric);
ROLLBACK;
SQL
)
		if [ "$kind" = bare_insert ]; then bare_vals+=("$v"); else reg_vals+=("$v"); fi
	done
done
reg[register_user_profile]=$(median "${reg_vals[@]}")
reg[bare_insert]=$(median "${bare_vals[@]}")
echo "  register_user_profile: ${reg_vals[*]} events/s (median ${reg[register_user_profile]})"
echo "  bare_insert: ${bare_vals[*]} events/s (median ${reg[bare_insert]})"

echo "== 5. scale: TPS at 10 k profiles and after $BIG more calls from one backend"
stored() { psql -X -At -c "SELECT count(*) FROM profile_data.profiles"; }
psql -X -q -c "TRUNCATE bench.profiles, bench.audit_events" \
	-c "SET session_replication_role = replica" -c "DELETE FROM profile_data.profiles" \
	-c "DELETE FROM profile_data.audit_events" -c "DELETE FROM profile_data.profile_ids" \
	-c "VACUUM ANALYZE" >/dev/null
psql -X -q -c "CALL bench.many_calls('$tok', 10000, 500000000)" -c "TRUNCATE bench.memory" -c "VACUUM ANALYZE" >/dev/null
small_n=$(stored)
small_tps=$(tps create_profile 2 "$DURATION")
echo "  $small_n profiles: $small_tps tps"
t0=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -c "CALL bench.many_calls('$tok', $BIG, 600000000)"
t1=$(date +%s)
psql -X -q -c "VACUUM ANALYZE" >/dev/null
big_n=$(stored)
big_tps=$(tps create_profile 2 "$DURATION")
echo "  $big_n profiles: $big_tps tps ($BIG calls took $((t1 - t0)) s)"
echo "  memory of the backend that made them:"
psql -X -At -F ' ' -c "SELECT calls, contexts, rss_anon_kb FROM bench.memory ORDER BY calls" |
	awk '{printf "    after %8d calls: memory contexts %8d bytes, RssAnon %6d kB\n", $1, $2, $3}'
mem=$(psql -X -At -F ' ' -c "SELECT min(contexts), max(contexts), min(rss_anon_kb), max(rss_anon_kb) FROM bench.memory WHERE calls >= (SELECT max(calls) / 10 FROM bench.memory)")
rm -rf "$work"

echo
echo "== results (PostgreSQL $(psql -X -At -c 'SHOW server_version'), $(nproc) cores)"
printf '| goal | create_profile / register | floor | ratio | goal |\n|---|---|---|---|---|\n'
awk -v e="$ext_med" -v b="$base_med" 'BEGIN {printf "| CPU per call | %.2f us | %.2f us | %.2f x | <= 1.5 x |\n", e, b, e / b}'
awk -v e="${best[create_profile]}" -v b="${best[floor]}" 'BEGIN {printf "| TPS, 2 clients | %.0f | %.0f | %.2f x | >= 0.85 x |\n", e, b, e / b}'
awk -v e="${wal[create_profile]}" -v b="${wal[floor]}" 'BEGIN {printf "| WAL per call | %d B | %d B | %.2f x | <= 1.5 x |\n", e, b, e / b}'
awk -v e="${reg[register_user_profile]}" -v b="${reg[bare_insert]}" 'BEGIN {printf "| register, 1000 events | %.0f events/s | %.0f events/s | %.2f x | >= 0.9 x |\n", e, b, e / b}'
awk -v e="$big_tps" -v b="$small_tps" -v bn="$big_n" -v sn="$small_n" 'BEGIN {printf "| TPS at %d vs %d profiles | %.0f | %.0f | %.2f x | >= 0.9 x |\n", bn, sn, e, b, e / b}'
echo "$mem" | awk '{printf "| backend memory from a tenth of the calls on | contexts %d..%d bytes | RssAnon %d..%d kB | %.2f x | flat |\n", $1, $2, $3, $4, $4 / $3}'
