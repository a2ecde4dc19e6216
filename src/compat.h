/*-------------------------------------------------------------------------
 *
 * src/compat.h
 *		The one place where differences between PostgreSQL 13 to 17 live.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_COMPAT_H
#define PROFILE_COMPAT_H

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

/* makeJsonLexContextCstringLen gained a leading "lex" argument in 17. */
#if PG_VERSION_NUM >= 170000
#define profile_json_lexer(json, len) \
	makeJsonLexContextCstringLen(NULL, (json), (len), PG_UTF8, true)
#else
#define profile_json_lexer(json, len) \
	makeJsonLexContextCstringLen((char *) (json), (len), PG_UTF8, true)
#endif

/* 16 renamed the "noreturn" attribute; 15 and before spell it postfix. */
#ifndef pg_attribute_noreturn
#define pg_attribute_noreturn() __attribute__((noreturn))
#endif

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* 16 folded the per-class owner checks into object_ownercheck. */
#if PG_VERSION_NUM >= 160000
#define profile_rel_ownercheck(relid, role) \
	object_ownercheck(RelationRelationId, (relid), (role))
#else
#define profile_rel_ownercheck(relid, role) pg_class_ownercheck((relid), (role))
#endif

#endif							/* PROFILE_COMPAT_H */
