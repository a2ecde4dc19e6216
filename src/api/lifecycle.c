/*-------------------------------------------------------------------------
 *
 * src/api/lifecycle.c
 *		profile.get_profile, find_profile, delete_profile and erase_profile
 *		(README, "Reading, deleting and erasing profiles").
 *
 * A call on a profile id acts in the profile's own tenant (ids are unique
 * across tenants; profile_data.profile_ids holds the tenant of every id
 * ever stored).  An id no profile has, one of a tenant the caller may not
 * use, and one of a tenant other than the one the request names are all
 * PROFILE_NOT_FOUND, so a caller learns nothing of other tenants.
 *
 * get_profile and find_profile are STABLE and write nothing, so PostgREST
 * can run them in a read-only transaction (GET /rpc/get_profile?id=...).
 * find_profile looks a profile up by the keys uniqueness uses -- the
 * username's NFKC_Casefold key (and, in a "confusable" tenant, its
 * skeleton), the email lower-cased in ASCII, the phone number in E.164 --
 * computed from the request exactly as for a write, so it finds whatever
 * uniqueness calls the same.
 *
 * delete_profile removes the row (the audit trigger records
 * profile.deleted with the values it had) with its verification tokens
 * and mails; the id stays claimed.  erase_profile is the right to erasure:
 * the row goes without a profile.deleted, every event of the profile
 * loses its content (audit/erasure.c), the verification tokens and mails
 * go, and one profile.erased event records that it happened.  A deleted
 * profile can still be erased (its events still hold its values); an
 * erased one is PROFILE_NOT_FOUND for every function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "api/lifecycle.h"
#include "audit/audit.h"
#include "audit/erasure.h"
#include "base/json.h"
#include "core/pe_identity.h"
#include "core/pe_phone.h"
#include "model/caller.h"
#include "model/document.h"
#include "store/idempotency.h"
#include "store/profiles.h"
#include "store/verification.h"

static SavedPlan lock_id_plan = {
	"SELECT erased_at IS NOT NULL FROM profile_data.profile_ids"
	" WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
	1, {UUIDOID}
};

/*
 * The request keys a function takes besides the principal's: none of the
 * profile fields, unless allowed (find_profile's lookup).
 */
static void
refuse_fields(ApiCall *ctx, const ProfileInput *in, const bool *allowed,
			  const char *function)
{
	FieldErrors errs = in->errs;

	for (int f = PE_F_IDEMPOTENCY_KEY; f < PE_F__COUNT; f++)
		if ((in->present[f] || in->cleared[f]) && !(allowed && allowed[f]))
			profile_add_error(&errs, in->key[f], "unknown",
							  psprintf("is not a parameter of %s", function));
	if (errs.count > 0)
		profile_raise_validation(&ctx->trace_id, &errs);
}

static void
raise_not_found(ApiCall *ctx, const pg_uuid_t *id)
{
	profile_raise(PE_E_PROFILE_NOT_FOUND, &ctx->trace_id, NULL, NULL,
				  "profile %s does not exist", profile_uuid_text(id));
}

/*
 * The opening of a call on a profile id: the request, the principal, the
 * profile's tenant, contract (writers) and rate limit; PROFILE_NOT_FOUND
 * for an id the caller cannot use.  function: its SQL name, "name()";
 * writes: it changes data; fields: it takes the profile fields
 * (update_profile).
 */
void
profile_call_open_on_id(ApiCall *ctx, const char *function, bool writes, Jsonb *payload,
						ProfileInput *in, const pg_uuid_t *id, bool fields)
{
	int64		tenant_id = -1;
	bool		erased = false;
	FieldErrors errs = {0};

	profile_call_begin(ctx, writes ? function : NULL);
	profile_check_request(ctx, payload);
	profile_read_payload(payload, in);
	if (id == NULL)
	{
		profile_add_error(&errs, "id", "required", "is required");
		profile_raise_validation(&ctx->trace_id, &errs);
	}
	if (!fields)
		refuse_fields(ctx, in, NULL, function);
	else if (in->present[PE_F_IDEMPOTENCY_KEY])
	{
		profile_add_error(&errs, "idempotencyKey", "unknown",
						  psprintf("is not a parameter of %s", function));
		profile_raise_validation(&ctx->trace_id, &errs);
	}
	if (!profile_id_tenant(id, &tenant_id, &erased, writes) || erased)
		tenant_id = -1;
	if (!profile_resolve_caller_for_profile(ctx, in, tenant_id))
		raise_not_found(ctx, id);
}

/* The document of a stored profile, as get_profile and find_profile give it. */
static Jsonb *
read_document(ApiCall *ctx, ProfileRow *row)
{
	row->tenant_name = ctx->tenant->name;
	row->message = "profile found";
	if (row->incomplete)
		row->wizard_url = profile_wizard_url(ctx->tenant->wizard_url, &row->id);
	return profile_result(row, &ctx->trace_id);
}

static Jsonb *
get_body(FunctionCallInfo fcinfo)
{
	const pg_uuid_t *id = PG_ARGISNULL(0) ? NULL : PG_GETARG_UUID_P(0);
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	row;
	Jsonb	   *result;

	profile_call_open_on_id(&ctx, "get_profile()", false, profile_payload_arg(fcinfo, 1),
							&in, id, false);
	memset(&row, 0, sizeof(row));
	if (!profile_read(ctx.tenant->id, id, &row))
		raise_not_found(&ctx, id);
	result = read_document(&ctx, &row);
	profile_call_end(&ctx);
	return result;
}

PG_FUNCTION_INFO_V1(get_profile);

/* profile.get_profile(id uuid, payload jsonb) RETURNS jsonb */
Datum
get_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, get_body));
}

/*
 * The key find_profile looks field f's value up by, into lookup (keys and
 * keynull of a ProfileRow, as profile_identity_keys makes them).
 */
static void
lookup_keys(ApiCall *ctx, PeField f, const JsonbValue *v, ProfileRow *lookup)
{
	memset(lookup, 0, sizeof(*lookup));
	for (int i = 0; i < PE_F__COUNT; i++)
		lookup->isnull[i] = true;
	if (f == PE_F_PHONE)
	{
		PePhone		p;
		PePhoneStatus st = pe_phone_parse(v->val.string.val, v->val.string.len, &p);

		if (st == PE_PHONE_INTERNAL)
			ereport(ERROR,
					errcode(ERRCODE_OUT_OF_MEMORY),
					errmsg("out of memory"),
					errdetail("Could not compile a pattern of the phone number rule."));
		/* a value that does not parse is its own key (profile_data.phone_key) */
		lookup->values[f] = (st == PE_PHONE_OK || st == PE_PHONE_INVALID) ?
			CStringGetTextDatum(p.e164) :
			PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
	}
	else
		lookup->values[f] = PointerGetDatum(cstring_to_text_with_len(v->val.string.val,
																	 v->val.string.len));
	lookup->isnull[f] = false;
	profile_identity_keys(lookup, ctx->tenant);
}

static Jsonb *
find_body(FunctionCallInfo fcinfo)
{
	static const PeField lookups[] = {PE_F_USERNAME, PE_F_EMAIL, PE_F_PHONE};
	static const ProfileKey keys[] = {PROFILE_KEY_USERNAME, PROFILE_KEY_EMAIL, PROFILE_KEY_PHONE};
	bool		allowed[PE_F__COUNT] = {0};
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	lookup;
	ProfileRow	row;
	FieldErrors errs = {0};
	int			given = 0,
				which = -1;
	Jsonb	   *payload = profile_payload_arg(fcinfo, 0);
	Jsonb	   *result;

	profile_call_begin(&ctx, NULL);
	profile_check_request(&ctx, payload);
	profile_read_payload(payload, &in);
	for (int i = 0; i < lengthof(lookups); i++)
	{
		allowed[lookups[i]] = true;
		if (in.present[lookups[i]])
		{
			given++;
			which = i;
		}
	}
	refuse_fields(&ctx, &in, allowed, "find_profile()");
	profile_resolve_caller(&ctx, &in);
	if (given != 1)
	{
		profile_add_error(&errs, "payload", "lookup",
						  "must name exactly one of username, email and mobile_phone_number");
		profile_raise_validation(&ctx.trace_id, &errs);
	}
	if (in.raw[lookups[which]].type != jbvString)
	{
		profile_add_error(&errs, in.key[lookups[which]], "type", "must be a string");
		profile_raise_validation(&ctx.trace_id, &errs);
	}
	lookup_keys(&ctx, lookups[which], &in.raw[lookups[which]], &lookup);
	memset(&row, 0, sizeof(row));
	if (lookup.keynull[keys[which]] ||
		!profile_find_by_key(ctx.tenant->id, keys[which], lookup.keys[keys[which]],
							 lookup.keys[PROFILE_KEY_SKELETON],
							 lookup.keys[PROFILE_KEY_SHAPE],
							 keys[which] == PROFILE_KEY_USERNAME &&
							 !lookup.keynull[PROFILE_KEY_SKELETON], &row))
		profile_raise(PE_E_PROFILE_NOT_FOUND, &ctx.trace_id, NULL, NULL,
					  "no profile of tenant \"%s\" has this %s", ctx.tenant->name,
					  pe_fields[lookups[which]].name);
	result = read_document(&ctx, &row);
	profile_call_end(&ctx);
	return result;
}

PG_FUNCTION_INFO_V1(find_profile);

/* profile.find_profile(payload jsonb) RETURNS jsonb */
Datum
find_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, find_body));
}

static Jsonb *
delete_body(FunctionCallInfo fcinfo)
{
	const pg_uuid_t *id = PG_ARGISNULL(0) ? NULL : PG_GETARG_UUID_P(0);
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	row;
	JsonbParseState *st = NULL;
	Jsonb	   *result;

	profile_call_open_on_id(&ctx, "delete_profile()", true, profile_payload_arg(fcinfo, 1),
							&in, id, false);
	memset(&row, 0, sizeof(row));
	if (!profile_select_for_update(ctx.tenant->id, id, &row))
		raise_not_found(&ctx, id);
	profile_delete_row(&ctx, &row, false);
	profile_audit_clear_context();

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_uuid(&st, "id", id);
	profile_push_bool(&st, "deleted", true);
	profile_push_uuid(&st, "trace_id", &ctx.trace_id);
	result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	profile_call_end(&ctx);
	return result;
}

PG_FUNCTION_INFO_V1(delete_profile);

/* profile.delete_profile(id uuid, payload jsonb) RETURNS jsonb */
Datum
delete_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, delete_body));
}

static Jsonb *
erase_body(FunctionCallInfo fcinfo)
{
	const pg_uuid_t *id = PG_ARGISNULL(0) ? NULL : PG_GETARG_UUID_P(0);
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	row;
	AuditEvent	ev;
	ErasureResult res;
	Datum		arg;
	JsonbParseState *st = NULL;
	Jsonb	   *result;

	profile_call_open_on_id(&ctx, "erase_profile()", true, profile_payload_arg(fcinfo, 1),
							&in, id, false);

	/* one erasure of an id at a time; a second one finds it erased */
	arg = UUIDPGetDatum(id);
	profile_exec(&lock_id_plan, &arg, NULL, false, 1);
	if (SPI_processed == 0 || DatumGetBool(profile_spi_required(0, 1, "profile_ids")))
		raise_not_found(&ctx, id);

	memset(&row, 0, sizeof(row));
	if (profile_select_for_update(ctx.tenant->id, id, &row))
		profile_delete_row(&ctx, &row, true);
	else
	{
		/* deleted earlier: its events and mails may still hold its values */
		profile_audit_set_context(ctx.tenant->id, id);
		profile_forget_verifications(ctx.tenant->id, id);
	}

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = ctx.tenant->id;
	ev.profile_id = *id;
	ev.recorded_at = ev.occurred_at = ctx.now;
	ev.client = ctx.client;
	ev.trace_id = &ctx.trace_id;
	profile_audit_erase(&ev, &res);
	profile_mark_erased(ctx.tenant->id, id, ctx.now);
	profile_idempotency_forget(ctx.tenant->id, id);
	profile_audit_clear_context();
	if (!res.verified)
		ereport(WARNING,
				errmsg("the audit chain of profile %s did not verify before it was erased",
					   profile_uuid_text(id)),
				errdetail("The profile.erased event records it; verify_audit_chain reports the chain as broken."));

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_uuid(&st, "id", id);
	profile_push_bool(&st, "erased", true);
	profile_push_int(&st, "events_erased", res.events_erased);
	profile_push_uuid(&st, "trace_id", &ctx.trace_id);
	result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	profile_call_end(&ctx);
	return result;
}

PG_FUNCTION_INFO_V1(erase_profile);

/* profile.erase_profile(id uuid, payload jsonb) RETURNS jsonb */
Datum
erase_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, erase_body));
}
