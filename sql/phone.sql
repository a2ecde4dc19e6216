-- mobile phone numbers: E.164 normalisation, calling codes, lengths, country
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('ph', '{"required_contract": null}') IS NOT NULL;

SELECT input, r->>'mobile_phone_number' AS e164, r->>'country_code' AS country
  FROM (VALUES ('+49658245684'), ('0049 658 245 684 1'), ('+49 (658) 245-684-2'),
			   ('+1 (415) 555-2671'), ('+44 20 7946 0958'), ('+7 912 345-67-89'),
			   ('+33.6.12.34.56.78'), ('+381/64/123 4567'), ('+39 06 6982 1234'),
			   ('+358 40 123 4567'), ('+86 139 1234 5678'), ('+91 98765 43210'),
			   ('+800 1234 5678'), ('+882 1234 5678 9')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'ph', 'phone', input)) AS r;

SELECT left(input, 40) AS input, r->'detail'->'errors'->0->>'rule' AS rule, r->'detail'->'errors'->0->>'message' AS message
  FROM (VALUES ('49658245684'), ('0 49 658245684'), ('+49 658a245684'), ('+49_658245684'),
			   ('+49 658 245684 ext 1'), ('tel:+49658245684'), ('+'), ('+49 65'),
			   ('+49 1234 5678 9012 34'), ('+999 1234567'), ('+0 1234567'),
			   ('+1 415 555 26'), ('+33 6 12 34 56 78 9'), ('')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'ph', 'phone', input)) AS r;
SELECT regress.try('{"tenantName": "ph", "phone": 49658245684}')->'detail'->'errors';

-- a given country_code wins over the derived one
SELECT regress.try('{"tenantName": "ph", "phone": "+49 30 1234567", "country_code": "AT"}')->>'country_code';

SELECT mobile_phone_number, country_code FROM profile_data.profiles p
  JOIN profile_data.tenants t ON t.id = p.tenant_id WHERE t.name = 'ph' ORDER BY 1;
