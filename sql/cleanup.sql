-- cleanup: the extension drops cleanly, with everything it made
\set ECHO none
\i test/fresh.sql
\set ECHO all
DROP EXTENSION profile_ext;
SELECT count(*) FROM pg_namespace WHERE nspname IN ('profile', 'profile_data');
SELECT count(*) FROM pg_proc WHERE probin LIKE '%profile_ext%';
DROP SCHEMA regress CASCADE;
