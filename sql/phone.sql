-- mobile phone numbers (contract §3 1.1): parsed and judged as
-- libphonenumber does for a number in international form -- E.164, the
-- trunk prefix, valid numbers, the exact region, the tenant's phone_types
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('ph', '{"required_contract": null}') IS NOT NULL;

-- accepted: the stored E.164 form and the country derived from it, shared
-- calling codes included; none for a non-geographic number
SELECT input, r->>'mobile_phone_number' AS e164, r->>'country_code' AS country
  FROM (VALUES ('+49658245684'), ('0049 658 245 684 1'), ('+49 (658) 245-684-2'),
			   ('+1 (415) 555-2671'), ('+1 416 555 0199'), ('+1 (212) 736-5000'),
			   ('+44 20 7946 0958'), ('+44 1534 456789'), ('+44 1624 756789'),
			   ('+7 912 345-67-89'), ('+7 701 123 4567'),
			   ('+33.6.12.34.56.78'), ('+381/64/123 4567'), ('+39 06 6982 1234'),
			   ('+39 06 698 12345'), ('+358 40 123 4567'), ('+358 18 12345'),
			   ('+86 139 1234 5678'), ('+91 98765 43210'),
			   ('+800 1234 5678'), ('+882 34 21234')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'ph', 'phone', input)) AS r;

-- a trunk prefix written after the calling code is dropped
SELECT input, r->>'mobile_phone_number' AS e164, r->>'country_code' AS country
  FROM (VALUES ('+44 (0)20 7946 0959'), ('+49 (0)30 1234567'), ('+33 (0)1 23 45 67 89'),
			   ('+31 (0)20 123 4567'), ('+7 (8) 495 123 4567'), ('+61 (0)8 9164 1234'),
			   ('+54 0 11 15 1234 5678')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'ph', 'phone', input)) AS r;
-- and the number is the same as without it
SELECT regress.try('{"tenantName": "ph", "phone": "+44 20 7946 0959", "email": "t@example.com"}')->'detail';

-- rejected, and nothing written
SELECT * FROM regress.counts() \gset before_
SELECT left(input, 40) AS input, r->'detail'->'errors'->0->>'rule' AS rule, r->'detail'->'errors'->0->>'message' AS message
  FROM (VALUES ('49658245684'), ('0 49 658245684'), ('+49 658a245684'), ('+49_658245684'),
			   ('+49 658 245684 ext 1'), ('tel:+49658245684'), ('+1 800 FLOWERS'), ('+44 + 20'),
			   ('+'), ('+12'), ('+49 65'), ('+4420794609581234567890'),
			   ('+999 1234567'), ('+0 1234567'),
			   ('+1 415 555 26'), ('+33 6 12 34 56 78 9'), ('+1 212 111 0123'), ('+49 31123456'),
			   ('+7 7'), ('+44 (0)'), (''), (repeat(' ', 250) || '+49658245684')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'ph', 'phone', input)) AS r;
SELECT regress.try('{"tenantName": "ph", "phone": 49658245684}')->'detail'->'errors';
SELECT * FROM regress.counts() \gset after_
SELECT :after_profiles - :before_profiles AS written, :after_events - :before_events AS audited;

-- a given country_code wins over the derived one
SELECT regress.try('{"tenantName": "ph", "phone": "+49 30 1234568", "country_code": "AT"}')->>'country_code';

SELECT mobile_phone_number, country_code, phone_key = mobile_phone_number AS key_is_e164
  FROM profile_data.profiles p
  JOIN profile_data.tenants t ON t.id = p.tenant_id WHERE t.name = 'ph' ORDER BY 1;

-- phone_types: the number's type must be listed
SELECT profile.create_tenant('ph-mobile', '{"required_contract": null, "phone_types": ["mobile", "fixed_line_or_mobile"]}')->'settings'->'phone_types';
SELECT input, coalesce(r->>'mobile_phone_number', r->'detail'->'errors'->0->>'rule') AS verdict
  FROM (VALUES ('+358 40 765 4321'), ('+1 415 555 2671'), ('+49 30 1234567'), ('+800 1234 5678'),
			   ('+44 20 7946 0958')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'ph-mobile', 'phone', input)) AS r;
SELECT regress.try('{"tenantName": "ph-mobile", "phone": "+49 30 1234567"}')->'detail'->'errors';
SELECT regress.err($$SELECT profile.alter_tenant('ph-mobile', '{"phone_types": ["mobile", "landline"]}')$$)->'detail';
SELECT regress.err($$SELECT profile.alter_tenant('ph-mobile', '{"phone_types": []}')$$)->'detail';
SELECT regress.err($$SELECT profile.alter_tenant('ph-mobile', '{"phone_types": "mobile"}')$$)->'detail';
-- direct writes meet phone_types too
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, mobile_phone_number)
	VALUES (%s, gen_random_uuid(), '+49 30 1234569')$$, (SELECT id FROM profile_data.tenants WHERE name = 'ph-mobile')))->'detail';
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, mobile_phone_number)
	VALUES (%s, gen_random_uuid(), '+44 (0)7400 123456')$$, (SELECT id FROM profile_data.tenants WHERE name = 'ph-mobile')));
SELECT mobile_phone_number, phone_key FROM profile_data.profiles WHERE mobile_phone_number LIKE '+44740%';

-- the keys as SQL functions (for admins resolving conflicts)
SELECT v, profile_data.phone_key(v) AS key, profile_data.phone_rule(v) AS rule
  FROM (VALUES ('+442079460958'), ('+4402079460958'), ('+44 20 7946 0958'), ('+12121110123'),
			   ('+999123'), ('not a number'), (NULL)) AS x(v);
