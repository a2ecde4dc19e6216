-- test/bench/sdk_payloads.sql -- the SDK's example registration
-- (test/sdk_seed.json, in psql variable seed) as bench.payloads 'seed',
-- and the same with 1000 events as '1000' (the seed's event with a smaller
-- "audit" object, so that the body stays under the 1 MiB request limit:
-- about 480 KiB).  Included by the benchmarks with \i.
CREATE TABLE bench.payloads (name text PRIMARY KEY, body jsonb);
INSERT INTO bench.payloads VALUES ('seed', :'seed'::jsonb - 'userProfileId'),
	('1000', (:'seed'::jsonb - 'userProfileId') || jsonb_build_object('sdkAuditEvents',
		(SELECT jsonb_agg(:'seed'::jsonb->'sdkAuditEvents'->0 || jsonb_build_object('logEvent', 'event ' || g,
				'audit', jsonb_build_object('result', jsonb_build_object('value', 'ok'), 'owner', jsonb_build_object('value', 'sdk'))))
		   FROM generate_series(1, 1000) g)));
