/*-------------------------------------------------------------------------
 *
 * src/base/errors.c
 *		Raising the contract's errors (README, "Errors").
 *
 * Every failure an API or admin call can report goes through
 * profile_raise: the SQLSTATE comes from the core's code table, the
 * message is written in PostgreSQL's style, and the detail is a JSON
 * object {"code", "trace_id", ["errors"], ["field"], ["retry_after"]}.  The
 * statement is kept out of the server log (errhidestmt), since it may carry
 * a password or an access token.
 *
 * Called through PostgREST (the setting request.method is set), the same
 * error is raised with SQLSTATE PGRST instead: the message is the JSON
 * {"code", "message", "details", "hint"} (details: the JSON detail above,
 * as a string) and the detail is {"status": HTTP, "headers": {...}}, which
 * PostgREST turns into the response (its RAISE SQLSTATE 'PGRST' protocol,
 * v12 and later; README, "Exposing through PostgREST").  Errors that
 * are not ours become a 500 with no internals in the body (their text goes
 * to the server log), except the ones PostgREST must see as they are:
 * serialization failures and deadlocks (it retries them), a read-only
 * transaction (405), cancels and resource errors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "base/crypto.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/postgrest.h"
#include "base/spi.h"

/* Append one field error; past the limit, only note that some were cut. */
void
profile_add_error(FieldErrors *errs, const char *field, const char *rule,
				  const char *message)
{
	if (errs->count >= PROFILE_MAX_FIELD_ERRORS)
	{
		errs->truncated = true;
		return;
	}
	errs->items[errs->count].field = field;
	errs->items[errs->count].rule = rule;
	errs->items[errs->count].message = message;
	errs->count++;
}

/* Append the error for a broken core rule. */
void
profile_add_rule(FieldErrors *errs, const char *field, const PeRule *rule)
{
	profile_add_error(errs, field, rule->rule, rule->message);
}

static void
append_json_pair(StringInfo buf, const char *key, const char *value)
{
	appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

/* The JSON detail of contract §5. */
static char *
error_detail(PeErrorCode code, const pg_uuid_t *trace_id,
			 const FieldErrors *errs, const char *field, int retry_after)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"code\": ");
	escape_json(&buf, pe_error_defs[code].code);
	append_json_pair(&buf, "trace_id",
					 trace_id ? profile_uuid_text(trace_id) : NULL);
	if (field)
		append_json_pair(&buf, "field", field);
	if (retry_after >= 0)
		appendStringInfo(&buf, ", \"retry_after\": %d", retry_after);
	if (errs)
	{
		appendStringInfoString(&buf, ", \"errors\": [");
		for (int i = 0; i < errs->count; i++)
		{
			const FieldError *e = &errs->items[i];

			appendStringInfoString(&buf, i ? ", {\"field\": " : "{\"field\": ");
			if (e->field)
				escape_json(&buf, e->field);
			else
				appendStringInfoString(&buf, "null");
			append_json_pair(&buf, "rule", e->rule);
			append_json_pair(&buf, "message", e->message);
			appendStringInfoChar(&buf, '}');
		}
		if (errs->truncated)
			appendStringInfo(&buf, ", {\"field\": null, \"rule\": \"too_many_errors\", "
							 "\"message\": \"only the first %d errors are reported\"}",
							 PROFILE_MAX_FIELD_ERRORS);
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * An error as a value rather than raised (a failed item of a batch): the
 * detail of contract §5 without a trace id, {"code", "errors"?, "field"?}.
 */
Jsonb	   *
profile_error_document(PeErrorCode code, const FieldErrors *errs, const char *field)
{
	Datum		doc = DirectFunctionCall1(jsonb_in,
										  CStringGetDatum(error_detail(code, NULL, errs, field, -1)));

	return DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, doc,
											  CStringGetTextDatum("trace_id")));
}

#define PGRST_SQLSTATE MAKE_SQLSTATE('P', 'G', 'R', 'S', 'T')

static void raise_for_postgrest(const char *code, const char *message,
								const char *details, int http, int retry_after)
			pg_attribute_noreturn();
static void raise_error(PeErrorCode code, const pg_uuid_t *trace_id,
						const FieldErrors *errs, const char *field,
						int retry_after, const char *message)
			pg_attribute_noreturn();
static char *format_message(const char *fmt, va_list args) pg_attribute_printf(1, 0);

/* Raise an error for PostgREST: SQLSTATE PGRST with its JSON message and detail. */
static void
raise_for_postgrest(const char *code, const char *message, const char *details,
					int http, int retry_after)
{
	StringInfoData msg;
	StringInfoData det;

	initStringInfo(&msg);
	appendStringInfoString(&msg, "{\"code\": ");
	escape_json(&msg, code);
	append_json_pair(&msg, "message", message);
	append_json_pair(&msg, "details", details);
	appendStringInfoString(&msg, ", \"hint\": null}");

	initStringInfo(&det);
	appendStringInfo(&det, "{\"status\": %d, \"headers\": {", http);
	if (http == 401)
		appendStringInfoString(&det, "\"WWW-Authenticate\": \"Bearer\"");
	else if (retry_after >= 0)
		appendStringInfo(&det, "\"Retry-After\": \"%d\"", retry_after);
	appendStringInfoString(&det, "}}");

	ereport(ERROR,
			errcode(PGRST_SQLSTATE),
			errmsg_internal("%s", msg.data),
			errdetail_internal("%s", det.data),
			errhidestmt(true));
	pg_unreachable();
}

static void
raise_error(PeErrorCode code, const pg_uuid_t *trace_id, const FieldErrors *errs,
			const char *field, int retry_after, const char *message)
{
	const PeErrorDef *def = &pe_error_defs[code];
	char	   *detail = error_detail(code, trace_id, errs, field, retry_after);

	if (profile_in_postgrest())
		raise_for_postgrest(def->code, message, detail, def->http, retry_after);
	ereport(ERROR,
			errcode(MAKE_SQLSTATE(def->sqlstate[0], def->sqlstate[1],
								  def->sqlstate[2], def->sqlstate[3],
								  def->sqlstate[4])),
			errmsg_internal("%s", message),
			errdetail_internal("%s", detail),
			errhidestmt(true));
	pg_unreachable();
}

static char *
format_message(const char *fmt, va_list args)
{
	StringInfoData msg;

	initStringInfo(&msg);
	for (;;)
	{
		va_list		copy;
		int			needed;

		va_copy(copy, args);
		needed = appendStringInfoVA(&msg, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}
	return msg.data;
}

/*
 * Raise a contract error.  errs (validation) and field (PROFILE_EXISTS)
 * may be NULL.
 */
void
profile_raise(PeErrorCode code, const pg_uuid_t *trace_id,
			  const FieldErrors *errs, const char *field, const char *fmt,...)
{
	va_list		args;
	char	   *message;

	va_start(args, fmt);
	message = format_message(fmt, args);
	va_end(args);
	raise_error(code, trace_id, errs, field, -1, message);
	pg_unreachable();
}

/* RATE_LIMITED, with the seconds to wait. */
void
profile_raise_rate_limited(const pg_uuid_t *trace_id, int retry_after,
						   const char *fmt,...)
{
	va_list		args;
	char	   *message;

	va_start(args, fmt);
	message = format_message(fmt, args);
	va_end(args);
	raise_error(PE_E_RATE_LIMITED, trace_id, NULL, NULL, retry_after, message);
	pg_unreachable();
}

/* VALIDATION_FAILED with the collected field errors. */
void
profile_raise_validation(const pg_uuid_t *trace_id, const FieldErrors *errs)
{
	if (errs->count == 1)
		profile_raise(PE_E_VALIDATION_FAILED, trace_id, errs, NULL,
					  "invalid value for field \"%s\": %s",
					  errs->items[0].field ? errs->items[0].field : "?",
					  errs->items[0].message);
	profile_raise(PE_E_VALIDATION_FAILED, trace_id, errs, NULL,
				  "invalid values for %d fields%s", errs->count,
				  errs->truncated ? " or more" : "");
}

/* Errors PostgREST must see as they are. */
static bool
postgrest_passes_through(int sqlerrcode)
{
	return ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_TRANSACTION_ROLLBACK ||
		sqlerrcode == ERRCODE_READ_ONLY_SQL_TRANSACTION ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_INSUFFICIENT_RESOURCES ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_PROGRAM_LIMIT_EXCEEDED;
}

/*
 * Re-throw the error being handled with its statement kept out of the
 * server log.  API calls wrap their whole body in PG_TRY with this in
 * PG_CATCH, so that no error raised during the call -- ours, or one
 * PostgreSQL raises underneath (a read-only transaction, a cancel, a
 * serialization failure) -- writes a statement that may carry a password
 * or an access token to the log.  Under PostgREST, an error that is not
 * ours becomes a 500 whose body carries only a trace id; its text goes to
 * the server log with that trace id.  cxt: the function's memory context.
 */
void
profile_rethrow_hiding_statement(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	if (edata->sqlerrcode != PGRST_SQLSTATE && profile_in_postgrest() &&
		!postgrest_passes_through(edata->sqlerrcode))
	{
		pg_uuid_t	trace_id;
		StringInfoData det;
		char	   *trace;

		profile_uuid_v4(&trace_id);
		trace = profile_uuid_text(&trace_id);
		ereport(LOG,
				errmsg("internal error in a PostgREST call (trace_id %s): %s",
					   trace, edata->message),
				errhidestmt(true));
		initStringInfo(&det);
		appendStringInfoString(&det, "{\"code\": \"INTERNAL_ERROR\", \"trace_id\": ");
		escape_json(&det, trace);
		appendStringInfoChar(&det, '}');
		raise_for_postgrest("INTERNAL_ERROR", "internal error", det.data, 500, -1);
	}
	edata->hide_stmt = true;
	ReThrowError(edata);
}

/*
 * PROFILE_EXISTS for a username, email, phone or id that another profile
 * holds: the one place that says so.  The detail names the field, never
 * the other profile.
 */
void
profile_raise_taken(const pg_uuid_t *trace_id, const char *field)
{
	profile_raise(PE_E_PROFILE_EXISTS, trace_id, NULL, field,
				  "a profile with this %s already exists", field);
}

/*
 * The unique constraint an error names, as the extension named it.  An
 * error Citus relays from a worker names no constraint, only the shard's
 * in its message ("... violates unique constraint \"x_102008\"").
 */
static const char *
violated_constraint(const ErrorData *edata)
{
	static const char marker[] = "unique constraint \"";
	const char *p;
	const char *end;

	if (edata->constraint_name)
		return profile_unshard_name(edata->constraint_name);
	if (edata->message == NULL || (p = strstr(edata->message, marker)) == NULL)
		return NULL;
	p += strlen(marker);
	end = strchr(p, '"');
	if (end == NULL)
		return NULL;
	return profile_unshard_name(pnstrdup(p, end - p));
}

/*
 * As profile_rethrow_hiding_statement, but a unique violation on one of
 * the profile's unique keys -- a concurrent writer that got past the probe
 * -- becomes PROFILE_EXISTS naming the field.
 */
void
profile_rethrow_unique_as_exists(MemoryContext cxt)
{
	profile_rethrow_unique_as_exists_traced(cxt, NULL, false);
}

/*
 * As profile_rethrow_unique_as_exists, with the call's trace id (NULL: a
 * new one).  new_profile: the statement stored a new profile with its
 * first event, so an event already at the start of the id's chain means
 * the id is taken.
 */
void
profile_rethrow_unique_as_exists_traced(MemoryContext cxt, const pg_uuid_t *trace_id,
										bool new_profile)
{
	static const struct
	{
		const char *constraint;
		const char *field;
	}			keys[] = {
		{"profiles_username_key", "username"},
		{"profiles_username_skeleton_key", "username"},
		{"profiles_username_shape_key", "username"},
		{"profiles_email_key", "email"},
		{"profiles_phone_key", "mobile_phone_number"},
		{"profile_ids_pkey", "id"},
		{"profiles_pkey", "id"},
	};
	ErrorData  *edata;
	const char *constraint = NULL;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	if (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION)
		constraint = violated_constraint(edata);
	if (constraint && new_profile &&
		strcmp(constraint, "audit_events_tenant_id_profile_id_chain_seq_key") == 0)
		constraint = "profile_ids_pkey";
	if (constraint)
	{
		for (int i = 0; i < lengthof(keys); i++)
		{
			if (strcmp(constraint, keys[i].constraint) == 0)
			{
				pg_uuid_t	new_trace_id;

				FlushErrorState();
				if (trace_id == NULL)
				{
					profile_uuid_v4(&new_trace_id);
					trace_id = &new_trace_id;
				}
				profile_raise_taken(trace_id, keys[i].field);
			}
		}
	}
	FreeErrorData(edata);
	profile_rethrow_hiding_statement(cxt);
}
