-- install: what CREATE EXTENSION profile_ext makes (the released 1.0
-- script, then each upgrade script): schemas, functions and what PUBLIC may
-- do with them, comments, and the tables pg_dump keeps
\set ECHO none
\i test/fresh.sql
\set ECHO all
SELECT extversion FROM pg_extension WHERE extname = 'profile_ext';
-- the schemas and what PUBLIC may do with them
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'profile%' ORDER BY 1;
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer,
	   p.provolatile, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
	   obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('profile', 'profile_data') ORDER BY 1;
-- every SECURITY DEFINER function pins search_path
SELECT p.oid::regprocedure, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = 'profile'::regnamespace AND p.prosecdef ORDER BY 1;
-- every table and view is commented
SELECT c.oid::regclass, c.relkind FROM pg_class c
 WHERE c.relnamespace IN ('profile'::regnamespace, 'profile_data'::regnamespace)
   AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL;
-- pg_dump keeps the data of every table
SELECT unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'profile_ext' ORDER BY 1;
