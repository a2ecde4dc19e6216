/*-------------------------------------------------------------------------
 *
 * src/errors.c
 *		Raising the contract's errors (SPEC section 5).
 *
 * Every failure an API or admin call can report goes through
 * profile_raise: the SQLSTATE comes from the core's code table, the
 * message is written in PostgreSQL's style, and the detail is a JSON
 * object {"code", "trace_id", ["errors"], ["field"]}.  The statement is
 * kept out of the server log (errhidestmt), since it may carry a password
 * or an access token.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/json.h"

#include "profile_ext.h"

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

/* The canonical text form of a UUID, palloc'd. */
char *
profile_uuid_text(const pg_uuid_t *uuid)
{
	static const char hex[] = "0123456789abcdef";
	char	   *out = palloc(37);
	char	   *p = out;

	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid->data[i] >> 4];
		*p++ = hex[uuid->data[i] & 0x0F];
	}
	*p = '\0';
	return out;
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

/* The JSON detail of SPEC section 5. */
static char *
error_detail(PeErrorCode code, const pg_uuid_t *trace_id,
			 const FieldErrors *errs, const char *field)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"code\": ");
	escape_json(&buf, pe_error_defs[code].code);
	append_json_pair(&buf, "trace_id",
					 trace_id ? profile_uuid_text(trace_id) : NULL);
	if (field)
		append_json_pair(&buf, "field", field);
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
 * Raise a contract error.  errs (validation) and field (PROFILE_EXISTS)
 * may be NULL.
 */
void
profile_raise(PeErrorCode code, const pg_uuid_t *trace_id,
			  const FieldErrors *errs, const char *field, const char *fmt,...)
{
	const PeErrorDef *def = &pe_error_defs[code];
	StringInfoData msg;
	char	   *detail;

	initStringInfo(&msg);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&msg, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}
	detail = error_detail(code, trace_id, errs, field);

	ereport(ERROR,
			errcode(MAKE_SQLSTATE(def->sqlstate[0], def->sqlstate[1],
								  def->sqlstate[2], def->sqlstate[3],
								  def->sqlstate[4])),
			errmsg_internal("%s", msg.data),
			errdetail_internal("%s", detail),
			errhidestmt(true));
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

/*
 * Re-throw the error being handled with its statement kept out of the
 * server log.  API calls wrap their whole body in PG_TRY with this in
 * PG_CATCH, so that no error raised during the call -- ours, or one
 * PostgreSQL raises underneath (a read-only transaction, a cancel, a
 * serialization failure) -- writes a statement that may carry a password
 * or an access token to the log.  cxt: the function's own memory context.
 */
void
profile_rethrow_hiding_statement(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	edata->hide_stmt = true;
	ReThrowError(edata);
}
