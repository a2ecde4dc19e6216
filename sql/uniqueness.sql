-- uniqueness of username, email and phone per tenant
\set ECHO none
\i test/fresh.sql
\set ECHO all
\set VERBOSITY terse
SELECT profile.create_tenant('u1', '{"required_contract": null}') IS NOT NULL;
SELECT profile.create_tenant('u2', '{"required_contract": null}') IS NOT NULL;

SELECT regress.try('{"tenantName": "u1", "username": "Same.User", "email": "Same@Example.com", "phone": "+49 658 245690"}')->>'username';
SELECT * FROM regress.counts() \gset before_
-- username, case-insensitively
SELECT regress.try('{"tenantName": "u1", "username": "same.user", "email": "other1@example.com"}');
-- email, case-insensitively (the domain is lower-cased anyway)
SELECT regress.try('{"tenantName": "u1", "username": "other.2", "email": "SAME@example.COM"}');
-- phone, after normalisation
SELECT regress.try('{"tenantName": "u1", "username": "other.3", "phone": "0049 (658) 245-690"}');
-- with several taken, the first of username, email, phone is named
SELECT regress.try('{"tenantName": "u1", "username": "SAME.USER", "email": "same@example.com", "phone": "+49658245690"}')->'detail';
SELECT profiles - :before_profiles AS written, events - :before_events AS audited FROM regress.counts();
-- the same values are free in another tenant
SELECT regress.try('{"tenantName": "u2", "username": "Same.User", "email": "Same@Example.com", "phone": "+49 658 245690"}')->>'tenant';
-- a raw unique violation never reaches the caller
SELECT profile.create_profile('{"tenantName": "u1", "login": "same.user", "email": "x9@example.com"}');
