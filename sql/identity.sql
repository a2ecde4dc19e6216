-- identity (contract §3 1.1): the same verdicts in databases of four
-- locales -- C, C.UTF-8, ICU und and ICU tr-TR (test/identity_cases.sql)
\set main :DBNAME
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_identity_c;
DROP DATABASE IF EXISTS regress_identity_c_utf8;
DROP DATABASE IF EXISTS regress_identity_und;
DROP DATABASE IF EXISTS regress_identity_tr;
RESET client_min_messages;
CREATE DATABASE regress_identity_c TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C';
CREATE DATABASE regress_identity_c_utf8 TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8';
CREATE DATABASE regress_identity_und TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'
	LOCALE_PROVIDER icu ICU_LOCALE 'und';
CREATE DATABASE regress_identity_tr TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'
	LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR';
\c regress_identity_c
\i test/identity_cases.sql
\c regress_identity_c_utf8
\i test/identity_cases.sql
\c regress_identity_und
\i test/identity_cases.sql
\c regress_identity_tr
\i test/identity_cases.sql
\c :main
DROP DATABASE regress_identity_c;
DROP DATABASE regress_identity_c_utf8;
DROP DATABASE regress_identity_und;
DROP DATABASE regress_identity_tr;
