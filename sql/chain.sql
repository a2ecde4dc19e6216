-- tamper evidence: hash chains per profile, tenant seals, the verifier
\set ECHO none
\i test/fresh.sql
\set ECHO all
SELECT regress.standard_roles();
\set VERBOSITY terse
CREATE FUNCTION regress.chain_tenant(name text, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM profile.create_tenant(name, '{"required_contract": null}');
	FOR i IN 1..n LOOP
		PERFORM profile.create_profile(jsonb_build_object('tenantName', name, 'email', 'p' || i || '@example.com'));
	END LOOP;
	UPDATE profile_data.profiles SET full_name = 'First Update'
	 WHERE tenant_id = (SELECT id FROM profile_data.tenants t WHERE t.name = chain_tenant.name);
	UPDATE profile_data.profiles SET full_name = 'Second Update'
	 WHERE tenant_id = (SELECT id FROM profile_data.tenants t WHERE t.name = chain_tenant.name);
END
$$;
-- one event of a tenant, by the profile's email and its place in the chain
CREATE FUNCTION regress.event_id(tenant text, email text, seq int) RETURNS bigint LANGUAGE sql AS $$
	SELECT e.id FROM profile_data.audit_events e JOIN profile_data.tenants t ON t.id = e.tenant_id
	  JOIN profile_data.audit_events c ON c.tenant_id = e.tenant_id AND c.profile_id = e.profile_id AND c.chain_seq = 1
	 WHERE t.name = tenant AND c.data->>'email' = email AND e.chain_seq = seq
$$;

SELECT regress.chain_tenant('ch-' || x, 3) FROM unnest('{ok,alter,middle,tail,forge,whole,seal}'::text[]) x;
SELECT profile.verify_audit_chain('ch-ok');
SELECT chain_seq, event, prev_hash IS NULL AS first, length(hash) FROM profile_data.audit_events
 WHERE id IN (SELECT regress.event_id('ch-ok', 'p1@example.com', s) FROM generate_series(1, 3) s) ORDER BY chain_seq;
SELECT x, (profile.seal_audit_chain('ch-' || x) - 'hash') FROM unnest('{ok,tail,whole,seal}'::text[]) x;
SELECT profile.seal_audit_chain('ch-ok') - 'hash' AS nothing_new;
SELECT profile.verify_audit_chain('ch-ok');
SELECT regress.err($$SELECT profile.verify_audit_chain('nope')$$);

-- everything below goes behind the triggers' back, as only an owner can
ALTER TABLE profile_data.audit_events DISABLE TRIGGER append_only;
ALTER TABLE profile_data.audit_seals DISABLE TRIGGER append_only;

-- an event altered
UPDATE profile_data.audit_events SET data = jsonb_set(data, '{changes,full_name,new}', '"Mallory"')
 WHERE id = regress.event_id('ch-alter', 'p2@example.com', 3);
SELECT (profile.verify_audit_chain('ch-alter')->'broken') - '{event_id,profile_id}'::text[] AS broken;
-- an event removed from the middle of a chain
DELETE FROM profile_data.audit_events WHERE id = regress.event_id('ch-middle', 'p1@example.com', 2);
SELECT (profile.verify_audit_chain('ch-middle')->'broken') - '{event_id,profile_id}'::text[] AS broken;
-- the newest event removed: invisible to the chain alone, caught by the seal
DELETE FROM profile_data.audit_events WHERE id = regress.event_id('ch-tail', 'p3@example.com', 3);
SELECT (profile.verify_audit_chain('ch-tail')->'broken') - '{event_id,profile_id}'::text[] AS broken;
-- an event inserted with a made-up hash
INSERT INTO profile_data.audit_events (tenant_id, occurred_at, profile_id, client, source, event, data, chain_seq, prev_hash, hash)
SELECT tenant_id, now(), profile_id, 'mallory', 'db', 'profile.updated', '{}', 4, hash, sha256('forged')
  FROM profile_data.audit_events WHERE id = regress.event_id('ch-forge', 'p1@example.com', 3);
SELECT (profile.verify_audit_chain('ch-forge')->'broken') - '{event_id,profile_id}'::text[] AS broken;
-- a whole chain removed after it was sealed
DELETE FROM profile_data.audit_events e USING profile_data.audit_events c
 WHERE c.id = regress.event_id('ch-whole', 'p2@example.com', 1) AND e.profile_id = c.profile_id;
SELECT (profile.verify_audit_chain('ch-whole')->'broken') - '{event_id,profile_id}'::text[] AS broken;
-- a seal altered
UPDATE profile_data.audit_seals SET heads = heads + 1
 WHERE tenant_id = (SELECT id FROM profile_data.tenants WHERE name = 'ch-seal');
SELECT (profile.verify_audit_chain('ch-seal')->'broken') - '{event_id,profile_id}'::text[] AS broken;

ALTER TABLE profile_data.audit_events ENABLE TRIGGER append_only;
ALTER TABLE profile_data.audit_seals ENABLE TRIGGER append_only;
-- the untouched tenant still verifies
SELECT profile.verify_audit_chain('ch-ok');
-- API roles cannot run the verifier or the sealer
SET ROLE regress_api;
SELECT profile.verify_audit_chain('ch-ok');
RESET ROLE;
