/*-------------------------------------------------------------------------
 *
 * src/api/register.c
 *		profile.register_user_profile(user_profile_id uuid, payload jsonb)
 *		(README, Reference): the identity SDK's registration.
 *
 * One transaction stores the profile (id, tenant, country code), one audit
 * event per SDK event -- occurred_at from dateTime, the session and
 * transaction-group ids in their columns, the rest of the event (with
 * "audit" as given) in data -- and a user_profile.registered event with
 * arid, sdkVersion and tpAuditMetadata.  The SDK events go in one
 * set-based INSERT.  Any invalid event rejects the whole call.
 *
 * Ids.  The profile id is the client's.  It is claimed in
 * profile_data.profile_ids by the statement that stores the profile
 * (store/profiles.c): an id any profile of any tenant holds, or held, is
 * PROFILE_EXISTS, and of two registrations of one id at once, in one tenant
 * or in two, exactly one succeeds (the other waits for it, then finds the
 * id taken).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "base/json.h"
#include "core/pe_validate.h"
#include "model/caller.h"
#include "store/idempotency.h"
#include "store/profiles.h"

static const PeRule r_uuid = {"format", "must be a UUID"};
static const PeRule r_required = {"required", "is required"};
static const PeRule r_mismatch = {"mismatch", "must equal user_profile_id"};
static const PeRule r_string = {"type", "must be a string"};
static const PeRule r_object = {"type", "must be an object"};
static const PeRule r_array = {"type", "must be an array"};
static const PeRule r_unknown = {"unknown", "is not a known field"};
static const PeRule r_datetime = {"format", "must be an RFC 3339 date-time, such as 2020-01-28T13:16:01.714-05:00"};

/* A UUID given as a JSON string; NULL with *rule set if it is not one. */
static pg_uuid_t *
json_uuid(const JsonbValue *v, const PeRule **rule)
{
	pg_uuid_t  *u;

	if (v->type != jbvString)
	{
		*rule = &r_string;
		return NULL;
	}
	u = palloc(sizeof(pg_uuid_t));
	if (!pe_parse_uuid(v->val.string.val, v->val.string.len, u->data))
	{
		*rule = &r_uuid;
		return NULL;
	}
	return u;
}

/* TimestampTz of microseconds since the Unix epoch. */
static TimestampTz
from_unix_us(int64 us)
{
	return us - (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

/* Check one SDK event and turn it into an audit event; false on errors. */
static bool
read_sdk_event(const JsonbValue *v, int index, AuditEvent *ev, FieldErrors *errs)
{
	JsonbIterator *it;
	JsonbValue	k,
				val;
	JsonbIteratorToken tok;
	JsonbParseState *st = NULL;
	bool		have_time = false;
	int			before = errs->count;

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
	{
		profile_add_rule(errs, psprintf("sdkAuditEvents[%d]", index), &r_object);
		return false;
	}
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		int			key;
		const PeRule *r = NULL;
		bool		typed = false;

		CHECK_FOR_INTERRUPTS();
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &val, true);
		key = pe_sdk_event_key_lookup(k.val.string.val, k.val.string.len);
		if (val.type == jbvNull && key != PE_EV_DATE_TIME)
			continue;
		switch (key)
		{
			case PE_EV_DATE_TIME:
				{
					int64		us;

					if (val.type != jbvString)
						r = &r_string;
					else if (!pe_parse_rfc3339(val.val.string.val, val.val.string.len, &us))
						r = &r_datetime;
					else
					{
						ev->occurred_at = from_unix_us(us);
						have_time = true;
					}
					typed = true;
					break;
				}
			case PE_EV_SESSION_ID:
				ev->session_id = json_uuid(&val, &r);
				typed = true;
				break;
			case PE_EV_TRANSACTION_GROUP_ID:
				ev->transaction_group_id = json_uuid(&val, &r);
				typed = true;
				break;
			case PE_EV_USER_PROFILE_ID:
				(void) json_uuid(&val, &r);
				break;
			case PE_EV_AUDIT:
				if (val.type != jbvBinary || !JsonContainerIsObject(val.val.binary.data))
					r = &r_object;
				else if (profile_jsonb_depth(val.val.binary.data, PE_MAX_ATTR_DEPTH) > PE_MAX_ATTR_DEPTH)
					r = &pe_rule_attr_depth;
				break;
			case -1:
				r = &r_unknown;
				break;
			default:
				if (val.type != jbvString)
					r = &r_string;
				else if (pe_utf8_chars(val.val.string.val, val.val.string.len) > PE_MAX_SDK_STRING)
					r = &pe_rule_sdk_string;
				break;
		}
		if (r)
			profile_add_rule(errs, psprintf("sdkAuditEvents[%d].%.*s", index,
											k.val.string.len, k.val.string.val), r);
		else if (!typed)
		{
			/* the rest of the event goes to data, "audit" as given */
			pushJsonbValue(&st, WJB_KEY, &k);
			pushJsonbValue(&st, WJB_VALUE, &val);
		}
	}
	if (!have_time && errs->count == before)
		profile_add_rule(errs, psprintf("sdkAuditEvents[%d].dateTime", index), &r_required);
	ev->data = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	ev->source = "sdk";
	ev->event = "sdk.event";
	return errs->count == before;
}

/* tpAuditMetadata: {sessionId, transactionGroupId}, both UUIDs. */
static void
read_tp_metadata(const JsonbValue *v, AuditEvent *ev, FieldErrors *errs)
{
	JsonbIterator *it;
	JsonbValue	k,
				val;
	JsonbIteratorToken tok;

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
	{
		profile_add_rule(errs, "tpAuditMetadata", &r_object);
		return;
	}
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		const PeRule *r = NULL;
		char	   *field;

		CHECK_FOR_INTERRUPTS();
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &val, true);
		field = psprintf("tpAuditMetadata.%.*s", k.val.string.len, k.val.string.val);
		if (val.type == jbvNull)
			continue;
		if (k.val.string.len == 9 && memcmp(k.val.string.val, "sessionId", 9) == 0)
			ev->session_id = json_uuid(&val, &r);
		else if (k.val.string.len == 18 && memcmp(k.val.string.val, "transactionGroupId", 18) == 0)
			ev->transaction_group_id = json_uuid(&val, &r);
		else
			r = &r_unknown;
		if (r)
			profile_add_rule(errs, field, r);
	}
}

static Jsonb *
register_internal(const pg_uuid_t *user_profile_id, Jsonb *payload)
{
	ApiCall		ctx;
	ProfileInput in;
	JsonbValue	raw[PE_SDK__COUNT];
	bool		present[PE_SDK__COUNT] = {0};
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	FieldErrors errs;
	char		country[3];
	AuditEvent *events = NULL;
	int			nevents = 0;
	AuditEvent	registered;
	ProfileRow	row;
	JsonbParseState *st = NULL;
	Jsonb	   *result;
	Idempotency idem;

	profile_call_begin(&ctx, "register_user_profile()");
	profile_check_request(&ctx, payload);

	/* one pass over the keys: the request-level ones go where §2 reads them */
	memset(&in, 0, sizeof(in));
	it = JsonbIteratorInit(&payload->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		bool		alias;
		int			key;

		CHECK_FOR_INTERRUPTS();
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &v, true);
		if (k.val.string.len == 14 && memcmp(k.val.string.val, "idempotencyKey", 14) == 0)
		{
			in.present[PE_F_IDEMPOTENCY_KEY] = v.type != jbvNull;
			in.cleared[PE_F_IDEMPOTENCY_KEY] = v.type == jbvNull;
			in.raw[PE_F_IDEMPOTENCY_KEY] = v;
			continue;
		}
		key = pe_sdk_key_lookup(k.val.string.val, k.val.string.len, &alias);
		if (key < 0)
		{
			profile_add_rule(&in.errs, pnstrdup(k.val.string.val, k.val.string.len), &r_unknown);
			continue;
		}
		if (v.type == jbvNull)
			continue;
		if (present[key])
		{
			profile_add_error(&in.errs, pe_sdk_key_names[key], "conflict",
							  "must not be given together with its alias");
			if (key == PE_SDK_ACCESS_TOKEN || key == PE_SDK_TENANT)
				in.alias_conflict = true;
			continue;
		}
		present[key] = true;
		raw[key] = v;
		if (key == PE_SDK_ACCESS_TOKEN || key == PE_SDK_TENANT)
		{
			int			f = key == PE_SDK_ACCESS_TOKEN ? PE_F_ACCESS_TOKEN : PE_F_TENANT;

			in.present[f] = true;
			in.raw[f] = v;
			in.key[f] = alias ? pe_fields[f].alias : pe_fields[f].name;
		}
	}
	result = profile_idempotency_begin(&ctx, &in, "register_user_profile", &idem, payload, 1, user_profile_id);
	if (result)
		return result;

	/* every field, all errors together */
	errs = in.errs;
	if (user_profile_id == NULL)
		profile_add_rule(&errs, "user_profile_id", &r_required);
	if (!present[PE_SDK_COUNTRY])
		profile_add_rule(&errs, "countryCode", &r_required);
	else if (raw[PE_SDK_COUNTRY].type != jbvString)
		profile_add_rule(&errs, "countryCode", &r_string);
	else
	{
		const PeRule *r = pe_normalize_country(raw[PE_SDK_COUNTRY].val.string.val,
											   raw[PE_SDK_COUNTRY].val.string.len, country);

		if (r)
			profile_add_rule(&errs, "countryCode", r);
	}
	if (present[PE_SDK_USER_PROFILE_ID])
	{
		const PeRule *r = NULL;
		pg_uuid_t  *u = json_uuid(&raw[PE_SDK_USER_PROFILE_ID], &r);

		if (r == NULL && user_profile_id && memcmp(u, user_profile_id, sizeof(pg_uuid_t)) != 0)
			r = &r_mismatch;
		if (r)
			profile_add_rule(&errs, "userProfileId", r);
	}
	memset(&registered, 0, sizeof(registered));
	if (present[PE_SDK_TP_METADATA])
		read_tp_metadata(&raw[PE_SDK_TP_METADATA], &registered, &errs);
	if (present[PE_SDK_ARID])
	{
		const PeRule *r = NULL;

		(void) json_uuid(&raw[PE_SDK_ARID], &r);
		if (r)
			profile_add_rule(&errs, "arid", r);
	}
	if (present[PE_SDK_VERSION])
	{
		const JsonbValue *sv = &raw[PE_SDK_VERSION];

		if (sv->type != jbvString)
			profile_add_rule(&errs, "sdkVersion", &r_string);
		else if (pe_utf8_chars(sv->val.string.val, sv->val.string.len) > PE_MAX_SDK_VERSION)
			profile_add_rule(&errs, "sdkVersion", &pe_rule_sdk_version);
	}
	if (present[PE_SDK_EVENTS])
	{
		const JsonbValue *ev = &raw[PE_SDK_EVENTS];

		if (ev->type != jbvBinary || !JsonContainerIsArray(ev->val.binary.data))
			profile_add_rule(&errs, "sdkAuditEvents", &r_array);
		else if (JsonContainerSize(ev->val.binary.data) > PE_MAX_SDK_EVENTS)
			profile_add_rule(&errs, "sdkAuditEvents", &pe_rule_sdk_events);
		else
		{
			JsonbValue	e;

			events = palloc0(sizeof(AuditEvent) * Max(JsonContainerSize(ev->val.binary.data), 1));
			it = JsonbIteratorInit(ev->val.binary.data);
			while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
			{
				CHECK_FOR_INTERRUPTS();
				if (tok != WJB_ELEM)
					continue;
				read_sdk_event(&e, nevents, &events[nevents], &errs);
				nevents++;
			}
		}
	}
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	/* the profile: id, tenant, country code, the defaults */
	memset(&row, 0, sizeof(row));
	profile_apply_defaults(&row, NULL, ctx.tenant);
	row.tenant_id = ctx.tenant->id;
	row.tenant_name = ctx.tenant->name;
	row.id = *user_profile_id;
	row.values[PE_F_COUNTRY] = CStringGetTextDatum(country);
	row.isnull[PE_F_COUNTRY] = false;
	profile_start_unverified(&row, ctx.tenant);
	row.created_at = row.updated_at = ctx.now;
	profile_identity_keys(&row, ctx.tenant);
	/* of two tenants registering the id at once, one wins its claim */
	profile_insert_row(&ctx, &row);

	/* the SDK's events, then the registration itself */
	for (int i = 0; i < nevents; i++)
	{
		events[i].tenant_id = row.tenant_id;
		events[i].profile_id = row.id;
		events[i].recorded_at = ctx.now;
		events[i].client = ctx.client;
		events[i].trace_id = &ctx.trace_id;
	}
	profile_audit_append_batch(events, nevents);

	registered.tenant_id = row.tenant_id;
	registered.profile_id = row.id;
	registered.recorded_at = registered.occurred_at = ctx.now;
	registered.client = ctx.client;
	registered.source = "db";
	registered.event = "user_profile.registered";
	registered.trace_id = &ctx.trace_id;
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	if (present[PE_SDK_ARID])
	{
		profile_push_key(&st, "arid");
		pushJsonbValue(&st, WJB_VALUE, &raw[PE_SDK_ARID]);
	}
	if (present[PE_SDK_VERSION])
	{
		profile_push_key(&st, "sdkVersion");
		pushJsonbValue(&st, WJB_VALUE, &raw[PE_SDK_VERSION]);
	}
	if (present[PE_SDK_TP_METADATA])
	{
		profile_push_key(&st, "tpAuditMetadata");
		pushJsonbValue(&st, WJB_VALUE, &raw[PE_SDK_TP_METADATA]);
	}
	profile_push_int(&st, "sdk_events", nevents);
	registered.data = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	profile_audit_append(&registered);
	profile_audit_clear_context();
	ctx.http_status = 201;

	st = NULL;
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	profile_push_uuid(&st, "id", &row.id);
	profile_push_text(&st, "tenant", row.tenant_name);
	profile_push_text(&st, "country_code", country);
	profile_push_timestamp(&st, "created_at", row.created_at);
	profile_push_int(&st, "audit_events", nevents);
	profile_push_uuid(&st, "trace_id", &ctx.trace_id);
	result = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
	if (idem.key)
		profile_idempotency_keep(&ctx, &idem, result, ctx.http_status, &row.id, 1);
	profile_call_end(&ctx);
	return result;
}

/* The body of register_user_profile, for profile_api_call. */
static Jsonb *
register_body(FunctionCallInfo fcinfo)
{
	return register_internal(PG_ARGISNULL(0) ? NULL : PG_GETARG_UUID_P(0),
							 profile_payload_arg(fcinfo, 1));
}

PG_FUNCTION_INFO_V1(register_user_profile);

/* profile.register_user_profile(user_profile_id uuid, payload jsonb) RETURNS jsonb */
Datum
register_user_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, register_body));
}
