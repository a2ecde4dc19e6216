-- test/identity_cases.sql -- the identity cases of sql/identity.sql, run in
-- one database of each locale: the verdicts must not depend on it.
\set ECHO none
\i test/fresh.sql
\set ECHO all

-- where we are: lower() follows the database's locale, the keys do not
SELECT datlocprovider AS provider, coalesce(daticulocale, datcollate) AS locale,
	   lower('ADMIN_1') = 'admin_1' AS lower_is_ascii
  FROM pg_database WHERE datname = current_database();

SELECT profile.create_tenant('id', '{"required_contract": null}') IS NOT NULL;
SELECT profile.create_tenant('id-c', '{"required_contract": null, "username_uniqueness": "confusable"}') IS NOT NULL;

-- a username's verdict: "created", the rules it breaks, or the field taken
CREATE FUNCTION regress.verdict(tenant text, username text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	r := regress.try(jsonb_build_object('tenantName', tenant, 'username', username,
		'email', 'u' || replace(gen_random_uuid()::text, '-', '') || '@example.com'));
	IF NOT r ? 'error' THEN
		RETURN 'created';
	ELSIF r->'detail'->>'code' = 'VALIDATION_FAILED' THEN
		RETURN (SELECT string_agg(e->>'field' || ': ' || (e->>'rule'), ', ')
				  FROM jsonb_array_elements(r->'detail'->'errors') e);
	END IF;
	RETURN (r->'detail'->>'code') || ' ' || (r->'detail'->>'field');
END
$$;

-- the same username written two ways: the first is created, the second taken
SELECT label, regress.verdict('id', a) AS first, regress.verdict('id', b) AS second
  FROM (VALUES
	(1, 'upper / lower', 'ADMIN_1', 'admin_1'),
	(2, 'lower / upper', 'admin_2', 'ADMIN_2'),
	(3, 'Turkish I', 'ILKER_1', 'ilker_1'),
	(4, 'dotted capital I', U&'\0130stanbul_1', U&'i\0307stanbul_1'),
	(5, 'sharp s', 'STRASSE_1', U&'stra\00DFe_1'),
	(6, 'capital sharp s', U&'STRA\1E9EE_2', 'strasse_2'),
	(7, 'NFC / NFD', U&'jos\00E9_1', U&'jose\0301_1'),
	(8, 'full-width', U&'\FF21\FF2C\FF29\FF23\FF25\FF11', 'alice1'),
	(9, 'Greek final sigma', U&'\039F\0394\039F\03A3_1', U&'\03BF\03B4\03BF\03C2_1'),
	(10, 'Greek sigma forms', U&'\03C3\03B9\03C3\03C5\03C6\03BF\03C2', U&'\03A3\0399\03A3\03A5\03A6\039F\03A3'),
	(11, 'ligature fi', U&'\FB01nance_1', 'finance_1'),
	(12, 'Kelvin sign', U&'\212Aelvin_1', 'kelvin_1'),
	(13, 'titlecase digraph', U&'\01C5emal_1', U&'d\017Eemal_1'),
	(14, 'Roman numeral', U&'\216B_roman', 'xii_roman'),
	(15, 'superscript two', U&'user\00B2_1', 'user2_1'),
	(16, 'Angstrom sign', U&'\212Bngstrom_1', U&'\00E5ngstrom_1'),
	(17, 'Cyrillic case', U&'\0418\0412\0410\041D_1', U&'\0438\0432\0430\043D_1')
  ) AS v(n, label, a, b) ORDER BY n;

-- alike, yet different usernames: both created
SELECT label, regress.verdict('id', a) AS first, regress.verdict('id', b) AS second
  FROM (VALUES
	(1, 'dotless i is its own letter', 'ILKER_2', U&'\0131lker_2'),
	(2, 'accents count', 'resume_1', U&'r\00E9sum\00E9_1'),
	(3, 'Cyrillic a-c-e beside Latin', 'ace_01', U&'\0430\0441\0435_01'),
	(4, 'digit one beside l', 'will_1', 'wi1l_1'),
	(5, 'rn beside m', 'modern_1', 'rnodern_1')
  ) AS v(n, label, a, b) ORDER BY n;

-- the stored form is NFC; the key is NFKC_Casefold, computed in C
SELECT username = normalize(username, NFC) AS nfc, username_key
  FROM profile_data.profiles
 WHERE username_key IN ('jos' || U&'\00E9' || '_1', 'strasse_1', 'alice1', U&'\03BF\03B4\03BF\03C3_1', 'i' || U&'\0307' || 'stanbul_1')
 ORDER BY username_key;

-- invisible and other characters a username never holds: nothing written
SELECT * FROM regress.counts() \gset before_
SELECT label, regress.verdict('id', 'mal' || c || 'lory_9') AS verdict
  FROM (VALUES
	(1, 'zero-width space', U&'\200B'), (2, 'soft hyphen', U&'\00AD'),
	(3, 'byte order mark', U&'\FEFF'), (4, 'word joiner', U&'\2060'),
	(5, 'bidi override', U&'\202E'), (6, 'zero-width joiner', U&'\200D'),
	(7, 'zero-width non-joiner', U&'\200C'), (8, 'variation selector 16', U&'\FE0F'),
	(9, 'Hangul filler', U&'\3164'), (10, 'combining grapheme joiner', U&'\034F'),
	(11, 'Mongolian vowel separator', U&'\180E'), (12, 'private use', U&'\E000'),
	(13, 'unassigned', U&'\0378'), (14, 'bell', U&'\0007'), (15, 'tab', U&'\0009'),
	(16, 'space', ' '), (17, 'no-break space', U&'\00A0'), (18, 'ideographic space', U&'\3000'),
	(19, 'line separator', U&'\2028'), (20, 'next line', U&'\0085'),
	(21, 'language tag', U&'\+0E0001'), (22, 'musical begin beam', U&'\+01D173'),
	(23, 'Hangul choseong filler', U&'\115F'), (24, 'half-width Hangul filler', U&'\FFA0'),
	(25, 'supplementary private use', U&'\+0F0000'), (26, 'noncharacter', U&'\FFFF'),
	(27, 'left-to-right mark', U&'\200E'), (28, 'interlinear annotation', U&'\FFF9'),
	(29, 'Braille blank', U&'\2800')
  ) AS v(n, label, c) ORDER BY n;
SELECT * FROM regress.counts() \gset after_
SELECT :after_profiles - :before_profiles AS written, :after_events - :before_events AS audited;

-- scripts: one script, or a mix UTS #39 calls moderately restrictive
SELECT label, regress.verdict('id', u) AS verdict
  FROM (VALUES
	(1, 'Latin + Han + Hiragana', U&'tanaka\6F22\5B57\3072\3089\304C\306A'),
	(2, 'Latin + Katakana', U&'\30A2\30EA\30B9_alice'),
	(3, 'Latin + Hangul + Han', U&'user_\D55C\AD6D\C5B4_\6F22'),
	(4, 'Cyrillic', U&'\0438\0432\0430\043D_42'),
	(5, 'Greek', U&'\0395\03BB\03AD\03BD\03B7_1'),
	(6, 'Arabic', U&'\0639\0644\064A_123'),
	(7, 'Latin + Arabic', U&'ali_\0639\0644\064A'),
	(8, 'Devanagari', U&'\0926\0940\092A\0915_1'),
	(9, 'Latin with accents', U&'m\00FCller_1'),
	(10, 'Latin + one Cyrillic a', U&'p\0430ypal_1'),
	(11, 'Cyrillic + Latin', U&'\0438\0432\0430\043D_ivan'),
	(12, 'Greek + Latin', U&'\0395\03BB\03AD\03BD\03B7_anna'),
	(13, 'Latin + Arabic + Devanagari', U&'ali_\0639\0644\064A_\0926\0940'),
	(14, 'Han + Cyrillic', U&'\6F22\5B57_\0438\0432\0430\043D'),
	(15, 'Latin + Cherokee', U&'jo\13A0_12')
  ) AS v(n, label, u) ORDER BY n;

-- a tenant with username_uniqueness "confusable": skeletons are unique too
SELECT label, regress.verdict('id-c', a) AS first, regress.verdict('id-c', b) AS second
  FROM (VALUES
	(1, 'digit one as l', 'will_1', 'wi1l_1'),
	(2, 'rn as m', 'modern_1', 'rnodern_1'),
	(3, 'Cyrillic a-c-e as Latin', 'ace_01', U&'\0430\0441\0435_01'),
	(4, 'Greek omicrons as o', 'ooo_1', U&'\039F\039F\039F_1'),
	(5, 'and still case', 'Bob_1', 'BOB_1'),
	(7, 'Greek capitals as Latin capitals', 'BETH_1', U&'\0392\0395\03A4\0397_1'),
	(8, 'Cyrillic capitals as Latin capitals', 'HTBMK', U&'\041D\0422\0412\041C\041A'),
	(9, 'Latin capitals as Greek capitals', U&'\039A\0391\03A4\039F\039D', 'KATON'),
	(6, 'different enough', 'alice_1', 'alicia_1')
  ) AS v(n, label, a, b) ORDER BY n;

-- switching a tenant to "confusable" lists its collisions and refuses
SELECT regress.verdict('id', 'paypal_7') AS latin, regress.verdict('id', 'paypa1_7') AS with_one;
SELECT e->'detail'->>'code' AS code, x->>'field' AS field, x->>'rule' AS rule,
	   x->>'message' LIKE '%' || (SELECT string_agg(id::text, ', ' ORDER BY created_at, id) FROM profile_data.profiles
								   WHERE username IN ('paypal_7', 'paypa1_7')) || '%' AS names_both
  FROM regress.err($$SELECT profile.alter_tenant('id', '{"username_uniqueness": "confusable"}')$$) e,
	   jsonb_array_elements(e->'detail'->'errors') x
 WHERE x->>'message' LIKE '%' || (SELECT id::text FROM profile_data.profiles WHERE username = 'paypal_7') || '%';
SELECT count(*) AS groups
  FROM regress.err($$SELECT profile.alter_tenant('id', '{"username_uniqueness": "confusable"}')$$) e,
	   jsonb_array_elements(e->'detail'->'errors') x;
SELECT settings->>'username_uniqueness' AS still FROM profile_data.tenants WHERE name = 'id';
-- the admin resolves the collisions; then the switch fills the skeletons,
-- without an audit event
DELETE FROM profile_data.profiles p USING profile_data.tenants t
 WHERE t.id = p.tenant_id AND t.name = 'id'
   AND p.username IN ('paypa1_7', 'wi1l_1', 'rnodern_1', U&'\0430\0441\0435_01', U&'\0131lker_2');
SELECT * FROM regress.counts() \gset before_
SELECT profile.alter_tenant('id', '{"username_uniqueness": "confusable"}')->'settings'->>'username_uniqueness' AS now;
SELECT * FROM regress.counts() \gset after_
SELECT :after_events - :before_events AS audited,
	   count(*) FILTER (WHERE username_skeleton IS NULL) AS without_skeleton
  FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id
 WHERE t.name = 'id' AND p.username IS NOT NULL;
SELECT regress.verdict('id', 'paypa1_7') AS confusable_now;
SELECT profile.alter_tenant('id', '{"username_uniqueness": "casefold"}')->'settings'->>'username_uniqueness' AS back;
SELECT count(*) FILTER (WHERE username_skeleton IS NOT NULL) AS with_skeleton
  FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id WHERE t.name = 'id';
SELECT regress.verdict('id', 'paypa1_7') AS casefold_again;

-- direct writes get the same keys and the same verdicts
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, email)
	VALUES (%s, gen_random_uuid(), 'STRASSE_1', 'direct1@example.com')$$,
	(SELECT id FROM profile_data.tenants WHERE name = 'id')))->'detail' AS taken;
SELECT regress.err(format($$INSERT INTO profile_data.profiles (tenant_id, id, username, email)
	VALUES (%s, gen_random_uuid(), %L, 'direct2@example.com')$$,
	(SELECT id FROM profile_data.tenants WHERE name = 'id'), U&'direct\0065\0301_1')) AS stored;
SELECT username = U&'direct\00E9_1' AS nfc, username_key FROM profile_data.profiles WHERE email = 'direct2@example.com';
SELECT regress.err($$UPDATE profile_data.profiles SET username_key = 'forged' WHERE email = 'direct2@example.com'$$) AS forged,
	   (SELECT username_key FROM profile_data.profiles WHERE email = 'direct2@example.com') AS key;

-- emails: the key is the address lower-cased in ASCII
SELECT label, regress.try(jsonb_build_object('tenantName', 'id', 'email', a)) ? 'state' AS first,
	   regress.try(jsonb_build_object('tenantName', 'id', 'email', b))->'detail' AS second
  FROM (VALUES
	(1, 'case', 'John.Doe@Example.COM', 'john.doe@example.com'),
	(2, 'Turkish I', 'IRMAK@EXAMPLE.COM', 'irmak@example.com'),
	(3, 'no Unicode folding', 'kelvin@example.com', U&'\212Aelvin@example.com')
  ) AS v(n, label, a, b) ORDER BY n;
SELECT email, email_key FROM profile_data.profiles WHERE email_key IN ('john.doe@example.com', 'irmak@example.com') ORDER BY 2;

-- the keys as SQL functions (for admins resolving conflicts)
SELECT u, profile_data.username_key(u) AS key, profile_data.username_skeleton(u) AS skeleton,
	   profile_data.username_rule(u) AS rule
  FROM (VALUES ('ADMIN_1'), (U&'STRA\00DFE'), (U&'\FF21\FF2C\FF29\FF23\FF25\FF11'), ('wi1l_1'),
			   (U&'p\0430ypal_1'), (U&'mal\200Blory_1'), ('abc'), (U&'jose\0301_1'), (NULL)) AS v(u);
SELECT profile_data.email_key('John.Doe@Example.COM') AS email_key, profile_data.email_key(NULL) AS null_key;

-- phones: libphonenumber's example number of every type of every region,
-- the same with a trunk prefix and with 00, non-geographic numbers,
-- numbers of a possible length that are not valid, and the hand-picked
-- cases of test/unit/phone_cases.tsv (made with python3-phonenumbers).
-- Each is stored (and rolled back) in a tenant that accepts only the type
-- libphonenumber gives it: accepted, in E.164, with the right country.
CREATE TEMP TABLE phone_cases (category text, input text, status text, e164 text, region text, type text);
\copy phone_cases FROM 'test/unit/phone_cases.tsv'
SELECT count(*) FILTER (WHERE profile.create_tenant('pt-' || t, jsonb_build_object('required_contract', NULL,
		'phone_types', jsonb_build_array(t), 'rate_limit', jsonb_build_object('per_second', 0, 'per_minute', 0))) IS NOT NULL) AS tenants
  FROM unnest(ARRAY['fixed_line', 'mobile', 'fixed_line_or_mobile', 'toll_free', 'premium_rate', 'shared_cost',
					'voip', 'personal_number', 'pager', 'uan', 'voicemail']) t;
CREATE FUNCTION pg_temp.phone_verdict(tenant text, phone text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
	det text;
BEGIN
	r := profile.create_profile(jsonb_build_object('tenantName', tenant, 'mobile_phone_number', phone));
	RAISE SQLSTATE 'PXTST' USING MESSAGE = 'ok ' || (r->>'mobile_phone_number') || ' ' || coalesce(r->>'country_code', '-');
EXCEPTION
	WHEN SQLSTATE 'PXTST' THEN
		RETURN SQLERRM;		-- stored, and rolled back
	WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
		RETURN CASE (det::jsonb)->'errors'->0->>'rule' WHEN 'invalid' THEN 'invalid'
			   WHEN 'type' THEN 'wrong type' ELSE 'rejected' END;
END
$$;
SELECT category, count(*) AS cases, count(*) FILTER (WHERE verdict = expected) AS agree,
	   string_agg(input || ': ' || verdict || ' <> ' || expected, '; ') FILTER (WHERE verdict <> expected) AS disagreements
  FROM (SELECT category, input,
			   CASE status WHEN 'ok' THEN 'ok ' || e164 || ' ' ||
						   CASE WHEN region IN ('001', 'AC', 'TA', 'XK') THEN '-' ELSE region END
					WHEN 'invalid' THEN 'invalid' ELSE 'rejected' END AS expected,
			   pg_temp.phone_verdict('pt-' || coalesce(nullif(type, ''), 'fixed_line'), input) AS verdict
		  FROM phone_cases WHERE category <> 'fuzz') c
 GROUP BY category ORDER BY category;
-- a valid number of another type breaks rule "type"
SELECT pg_temp.phone_verdict('pt-toll_free', '+44 20 7946 0958') AS fixed_line_in_toll_free,
	   pg_temp.phone_verdict('pt-fixed_line', '+800 1234 5678') AS toll_free_in_fixed_line;
SELECT count(*) AS stored FROM profile_data.profiles p JOIN profile_data.tenants t ON t.id = p.tenant_id
 WHERE t.name LIKE 'pt-%';
