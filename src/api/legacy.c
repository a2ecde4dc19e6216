/*-------------------------------------------------------------------------
 *
 * src/api/legacy.c
 *		The C symbols the released 1.0 install script names.
 *
 * CREATE EXTENSION runs profile_ext--1.0.sql (frozen) and then the upgrade
 * scripts; the 1.0 script binds the trigger functions to the symbols
 * below, and PostgreSQL checks that they exist when it does.  The upgrade
 * to 1.1 rebinds the functions to the symbols named after them
 * (STYLE.md); these only pass the call on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

extern Datum check_profile_row(PG_FUNCTION_ARGS);
extern Datum audit_profile_change(PG_FUNCTION_ARGS);
extern Datum refuse_change(PG_FUNCTION_ARGS);
extern Datum invalidate_caches(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(profile_check_row_trigger);

/* 1.0's name of profile_data.check_profile_row(). */
Datum
profile_check_row_trigger(PG_FUNCTION_ARGS)
{
	return check_profile_row(fcinfo);
}

PG_FUNCTION_INFO_V1(profile_audit_trigger);

/* 1.0's name of profile_data.audit_profile_change(). */
Datum
profile_audit_trigger(PG_FUNCTION_ARGS)
{
	return audit_profile_change(fcinfo);
}

PG_FUNCTION_INFO_V1(profile_refuse_change);

/* 1.0's name of profile_data.refuse_change(). */
Datum
profile_refuse_change(PG_FUNCTION_ARGS)
{
	return refuse_change(fcinfo);
}

PG_FUNCTION_INFO_V1(profile_invalidate_caches);

/* 1.0's name of profile_data.invalidate_caches(). */
Datum
profile_invalidate_caches(PG_FUNCTION_ARGS)
{
	return invalidate_caches(fcinfo);
}
