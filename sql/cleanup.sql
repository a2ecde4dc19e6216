-- cleanup: the extension drops cleanly, with everything it made
DROP EXTENSION profile_ext;
SELECT count(*) FROM pg_namespace WHERE nspname IN ('profile', 'profile_data');
DROP SCHEMA regress CASCADE;
DROP ROLE regress_member, regress_admin, regress_api, regress_nobody;
