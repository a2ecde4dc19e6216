-- profile fields (contract §3): types, limits, aliases, defaults
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('f', '{"required_contract": null}') IS NOT NULL;
SELECT * FROM regress.counts() \gset before_

-- the smallest profile: an email, as the admin principal
SELECT regress.try('{"tenantName": "f", "email": "min@example.com"}');
-- the whole field set, canonical names
SELECT regress.try('{"tenantName": "f", "username": "full.user", "password": "s3cret-pass",
	"email": "Full.User@Example.COM", "mobile_phone_number": "+33 6 12 34 56 78",
	"country_code": "fr", "full_name": "Full User", "language": "fr", "enabled": false,
	"roles": ["user", "editor", "user"], "attributes": {"a": 1, "b": [true, null]},
	"verificationUrl": "https://example.com/verify", "access_level": 100,
	"membership_id": 0, "pending_membership_id": 2147483647, "role_ids": [1, 2, 3],
	"mail_chimp_lists": [], "mail_chimp_interests": [7], "mail_chimp_segments": [8, 9],
	"stored_selectors": ["#a", ".b"], "social_login_provider": "github",
	"social_login_id": "gh-1", "concierge_user_id": "c-1", "stripe_customer_id": "cus_1",
	"ga_client_id": "GA1.2.3", "status_comment": "ok", "referer": "https://ref.example",
	"force_change_password": true}');
-- the password is stored as an Argon2id hash and never returned
SELECT password_hash LIKE '$argon2id$v=19$m=64,t=1,p=1$%' AS argon2id,
	   password_hash NOT LIKE '%s3cret-pass%' AS not_plain
  FROM profile_data.profiles WHERE username = 'full.user';
-- aliases
SELECT regress.try('{"tenantName": "f", "login": "alias.user", "phone": "0049 658 245685",
	"countryCode": "AT", "status": "D", "role": "a, b ,a", "verification_url": "http://example.com/v"}');
-- enabled as text, status E
SELECT regress.try('{"tenantName": "f", "email": "t1@example.com", "enabled": "true"}')->'enabled';
SELECT regress.try('{"tenantName": "f", "email": "t2@example.com", "enabled": "FALSE"}')->'enabled';
SELECT regress.try('{"tenantName": "f", "email": "t3@example.com", "status": "E"}')->'enabled';
-- attributes as a string holding a JSON object (Crafter)
SELECT regress.try('{"tenantName": "f", "email": "t4@example.com", "attributes": "{\"firstName\":\"John\",\"n\":{\"x\":1}}"}')->'attributes';
-- JSON null counts as not given
SELECT regress.try('{"tenantName": "f", "email": "t5@example.com", "username": null, "password": null,
	"membership_id": null, "social_login_id": null, "phone": null}');
-- the country comes from the phone when the calling code has one country
SELECT regress.try('{"tenantName": "f", "phone": "+49 658 245686"}')->'country_code';
SELECT regress.try('{"tenantName": "f", "phone": "+1 415 555 2671"}')->'country_code';
SELECT regress.try('{"tenantName": "f", "phone": "+44 20 7946 0958", "country_code": "gb"}')->'country_code';
-- an empty string is a value like any other: an empty verificationUrl
-- breaks the URL rule; JSON null is "not given"
SELECT r->'detail'->'errors' AS errors
  FROM regress.try('{"tenantName": "f", "email": "t6@example.com", "verificationUrl": ""}') r;
SELECT r->>'state' AS state, r ? 'verificationUrl' AS has_url
  FROM regress.try('{"tenantName": "f", "email": "t6@example.com", "verificationUrl": null}') r;
SELECT * FROM regress.counts() \gset good_
SELECT :good_profiles - :before_profiles AS created, :good_events - :before_events AS audited;

-- bad values, one at a time
SELECT key, regress.try(jsonb_build_object('tenantName', 'f', 'email', 'bad@example.com', key, value))->'detail'->'errors' AS errors
  FROM (VALUES
	('username', '"abcd"'), ('username', '"has space"'), ('username', '5'), ('login', to_jsonb(repeat('x', 129))),
	('password', '"short"'), ('password', 'true'), ('password', to_jsonb(repeat('p', 129))),
	('full_name', '""'), ('full_name', '"tab\there"'), ('full_name', to_jsonb(repeat('n', 257))),
	('language', '"EN"'), ('language', '"xx"'), ('language', '"eng"'),
	('country_code', '"XX"'), ('country_code', '"DEU"'), ('country_code', '49'),
	('enabled', '"yes"'), ('enabled', '1'), ('status', '"A"'), ('status', 'true'),
	('roles', '["ok", "not ok"]'), ('roles', '[1]'), ('roles', '{"a": 1}'), ('role', '"a,,b"'),
	('roles', to_jsonb(ARRAY[repeat('r', 65)])),
	('attributes', '[1, 2]'), ('attributes', '"not json"'), ('attributes', '"[1]"'), ('attributes', '"{\"a\":\"\\u0000\"}"'),
	('attributes', '5'),
	('verificationUrl', '"ftp://example.com"'), ('verificationUrl', '"/relative"'),
	('verificationUrl', to_jsonb('https://example.com/' || repeat('x', 2030))),
	('access_level', '50'), ('access_level', '"100"'), ('access_level', '1.5'),
	('membership_id', '-1'), ('membership_id', '2147483648'), ('pending_membership_id', '"1"'),
	('role_ids', '[1, -2]'), ('role_ids', '[1.5]'), ('role_ids', '"1,2"'), ('mail_chimp_lists', '["a"]'),
	('stored_selectors', '[1]'), ('stored_selectors', to_jsonb(ARRAY[repeat('s', 1025)])),
	('social_login_provider', to_jsonb(repeat('s', 129))), ('stripe_customer_id', '{}'),
	('ga_client_id', to_jsonb(repeat('g', 2049))), ('referer', '[]'),
	('force_change_password', '"true"'), ('force_change_password', '0'),
	('nickname', '"nick"'), ('Email', '"x@example.com"')
  ) AS v(key, value);

-- attributes: nesting and size limits
SELECT regress.try(jsonb_build_object('tenantName', 'f', 'email', 'deep16@example.com', 'attributes',
	(SELECT string_agg('{"a":', '') || '1' || repeat('}', 16) FROM generate_series(1, 16))::jsonb))->>'state';
SELECT regress.try(jsonb_build_object('tenantName', 'f', 'email', 'deep17@example.com', 'attributes',
	(SELECT string_agg('{"a":', '') || '1' || repeat('}', 17) FROM generate_series(1, 17))::jsonb))->'detail';
SELECT regress.try(jsonb_build_object('tenantName', 'f', 'email', 'big@example.com', 'attributes',
	jsonb_build_object('x', repeat('y', 65536))))->'detail';

-- every error of a request is reported together, in one VALIDATION_FAILED
SELECT regress.try('{"tenantName": "f", "username": "abc", "password": "123", "email": "nope",
	"phone": "12", "language": "EN", "access_level": 3, "colour": "red", "login": "other"}');
-- contact_required: an email or a phone
SELECT regress.try('{"tenantName": "f", "username": "nocontact"}');
SELECT regress.try('{"tenantName": "f", "username": "nocontact", "email": null, "phone": null}');
-- a key and its alias together
SELECT regress.try('{"tenantName": "f", "email": "c@example.com", "username": "u.one", "login": "u.two"}');
SELECT regress.try('{"tenantName": "f", "email": "c@example.com", "enabled": true, "status": "E"}');
-- more errors than are reported
SELECT jsonb_array_length(regress.try(jsonb_object_agg('k' || g, g) || '{"tenantName": "f"}')->'detail'->'errors'),
	   regress.try(jsonb_object_agg('k' || g, g) || '{"tenantName": "f"}')->'detail'->'errors'->-1,
	   regress.try(jsonb_object_agg('k' || g, g) || '{"tenantName": "f"}')->>'message'
  FROM generate_series(1, 100) g;

-- request shape: INVALID_REQUEST
SELECT regress.try('[]');
SELECT regress.try('"text"');
SELECT regress.try('42');
SELECT regress.try(jsonb_build_object('tenantName', 'f', 'email', 'x@example.com', 'attributes',
	(SELECT string_agg('{"a":', '') || '1' || repeat('}', 32) FROM generate_series(1, 32))::jsonb));
SELECT regress.try(jsonb_build_object('tenantName', 'f', 'email', 'x@example.com', 'referer', repeat('r', 1048576)));
SELECT profile.create_profile(NULL) IS NULL AS strict;

-- none of the bad requests wrote anything
SELECT profiles - :good_profiles AS profiles_written, events - :good_events AS events_written FROM regress.counts();

-- roles: tenant defaults and the allowed list
SELECT profile.create_tenant('f-roles', '{"required_contract": null, "default_roles": ["member"], "allowed_roles": ["member", "editor"]}') IS NOT NULL;
SELECT regress.try('{"tenantName": "f-roles", "email": "r1@example.com"}')->'roles';
SELECT regress.try('{"tenantName": "f-roles", "email": "r2@example.com", "roles": []}')->'roles';
SELECT regress.try('{"tenantName": "f-roles", "email": "r3@example.com", "role": "editor"}')->'roles';
SELECT regress.try('{"tenantName": "f-roles", "email": "r4@example.com", "roles": ["editor", "owner"]}')->'detail';

-- complete_fields: required (incomplete profiles not allowed)
SELECT profile.create_tenant('f-complete', '{"required_contract": null, "complete_fields": ["full_name", "mobile_phone_number"]}') IS NOT NULL;
SELECT regress.try('{"tenantName": "f-complete", "email": "q1@example.com"}');
SELECT regress.try('{"tenantName": "f-complete", "email": "q1@example.com", "full_name": "Q", "phone": "+49 658 245687"}')->>'state';
-- with incomplete_profiles the profile is stored as incomplete
SELECT profile.create_tenant('f-wizard', '{"required_contract": null, "complete_fields": ["full_name"],
	"incomplete_profiles": true, "wizard_url": "https://onboard.example/continue/{id}"}') IS NOT NULL;
SELECT regress.try('{"tenantName": "f-wizard", "email": "w1@example.com"}');
SELECT state FROM profile_data.profiles WHERE email = 'w1@example.com';

-- an API call records its profile.created event itself, from the values it
-- wrote: the document equals the one the trigger makes of the stored row
-- (every non-null column but the password hash, the keys, the mark, and
-- the tenant and id, which are the event's own columns),
-- for every profile of this file (all fields, defaults, incomplete ones)
SELECT * FROM regress.created_documents();
