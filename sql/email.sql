-- email: syntax (RFC 5322 dot-atom local part, DNS-style domain), domain lower-cased
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('e', '{"required_contract": null}') IS NOT NULL;

SELECT input, coalesce(r->>'email', r->'detail'->'errors'->0->>'message') AS result
  FROM (VALUES ('john.doe@example.com'), ('Mixed.Case@Example.COM'), ('a.b+tag@sub.example.co.uk'),
			   ('x!#$%&''*+/=?^_`{|}~-@example.org'), ('user@xn--bcher-kva.example'),
			   ('d@a1.b2'), ('n@123.example')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'e', 'email', input)) AS r;

SELECT left(input, 40) AS input, r->'detail'->'errors'->0->>'rule' AS rule, r->'detail'->'errors'->0->>'message' AS message
  FROM (VALUES ('plainaddress'), ('@example.com'), ('john@'), ('a@b@example.com'), ('john@example'),
			   ('.john@example.com'), ('john.@example.com'), ('jo..hn@example.com'),
			   ('"john"@example.com'), ('john(comment)@example.com'), ('john@[192.0.2.1]'),
			   ('john@-example.com'), ('john@example-.com'), ('john@exa_mple.com'),
			   ('john@example..com'), ('john@example.123'), ('john doe@example.com'),
			   ('jöhn@example.com'), ('john@exämple.com'), ('john@example.com.'),
			   (repeat('l', 65) || '@example.com'), ('a@' || repeat('d', 64) || '.com'),
			   ('a@' || repeat(repeat('d', 60) || '.', 5) || 'com'), ('')) AS v(input),
	   LATERAL regress.try(jsonb_build_object('tenantName', 'e', 'email', input)) AS r;
-- the limits themselves are accepted
SELECT length(r->>'email') FROM regress.try(jsonb_build_object('tenantName', 'e',
	'email', repeat('l', 64) || '@' || repeat('d', 63) || '.com')) AS r;
SELECT regress.try('{"tenantName": "e", "email": 5}')->'detail'->'errors';

SELECT email FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id
 WHERE t.name = 'e' ORDER BY 1;
