/*-------------------------------------------------------------------------
 *
 * src/base/errors.h
 *		Raising the contract's errors (errors.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_ERRORS_H
#define PROFILE_ERRORS_H

#include "utils/uuid.h"

#include "compat.h"
#include "utils/jsonb.h"

#include "core/pe_errors.h"
#include "core/pe_rule.h"

/* One field error of a VALIDATION_FAILED detail. */
typedef struct FieldError
{
	const char *field;
	const char *rule;
	const char *message;
} FieldError;

/* At most this many field errors are reported; a last item says so. */
#define PROFILE_MAX_FIELD_ERRORS 64

typedef struct FieldErrors
{
	int			count;
	bool		truncated;
	FieldError	items[PROFILE_MAX_FIELD_ERRORS];
} FieldErrors;

extern void profile_add_error(FieldErrors *errs, const char *field,
							  const char *rule, const char *message);
extern void profile_add_rule(FieldErrors *errs, const char *field,
							 const PeRule *rule);
extern void profile_raise(PeErrorCode code, const pg_uuid_t *trace_id,
						  const FieldErrors *errs, const char *field,
						  const char *fmt,...)
			pg_attribute_printf(5, 6) pg_attribute_noreturn();
extern void profile_raise_rate_limited(const pg_uuid_t *trace_id, int retry_after,
									   const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();
extern Jsonb *profile_error_document(PeErrorCode code, const FieldErrors *errs,
									 const char *field);
extern void profile_raise_validation(const pg_uuid_t *trace_id,
									 const FieldErrors *errs)
			pg_attribute_noreturn();
extern void profile_raise_taken(const pg_uuid_t *trace_id, const char *field)
			pg_attribute_noreturn();
extern void profile_rethrow_hiding_statement(MemoryContext cxt)
			pg_attribute_noreturn();
extern void profile_rethrow_unique_as_exists(MemoryContext cxt)
			pg_attribute_noreturn();
extern void profile_rethrow_unique_as_exists_traced(MemoryContext cxt,
													const pg_uuid_t *trace_id,
													bool new_profile)
			pg_attribute_noreturn();

#endif							/* PROFILE_ERRORS_H */
