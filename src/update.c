/*-------------------------------------------------------------------------
 *
 * src/update.c
 *		profile.update_profile(id uuid, payload jsonb) (SPEC section 3,
 *		"Continuing an incomplete profile").
 *
 * The same names, aliases, rules, principal, tenant, contract and rate
 * limit as create_profile.  A field given as JSON null clears it (enabled
 * goes back to true, roles and attributes to empty); a field not given
 * keeps its value.  The profile row is read FOR UPDATE, merged in C, and
 * written back by one saved UPDATE of every column; the state is derived
 * from the tenant's complete_fields, so an incomplete profile becomes
 * complete when its last missing field arrives.  The audit trigger records
 * the changes as profile.updated.
 *
 * An id the caller's tenant does not hold is PROFILE_NOT_FOUND, whether or
 * not another tenant holds it.  A username, email or phone another profile
 * of the tenant holds is PROFILE_EXISTS: a probe names the field, and a
 * concurrent writer that gets past the probe meets the unique index, whose
 * violation is turned into the same error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "profile_ext.h"

#define N_UPDATE_ARGS (PE_F__COUNT - PE_F_USERNAME + 5)

static SavedPlan select_plan = {
	"SELECT * FROM profile_data.profiles"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2"
	" FOR UPDATE",
	2, {INT8OID, UUIDOID}
};

static SavedPlan update_plan = {NULL, N_UPDATE_ARGS};

/* UPDATE ... SET state, every field column, updated_at; built once. */
static void
build_update_plan(void)
{
	StringInfoData sql;
	int			n = 0;

	if (update_plan.sql)
		return;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "UPDATE profile_data.profiles SET state = $3");
	update_plan.argtypes[n++] = INT8OID;
	update_plan.argtypes[n++] = UUIDOID;
	update_plan.argtypes[n++] = TEXTOID;
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		update_plan.argtypes[n] = profile_field_type(f);
		appendStringInfo(&sql, ", %s = $%d", profile_field_column(f), ++n);
	}
	update_plan.argtypes[n] = BOOLOID;
	appendStringInfo(&sql, ", verified = $%d", ++n);
	update_plan.argtypes[n] = TIMESTAMPTZOID;
	appendStringInfo(&sql, ", updated_at = $%d", ++n);
	appendStringInfoString(&sql, " WHERE tenant_id OPERATOR(pg_catalog.=) $1"
						   " AND id OPERATOR(pg_catalog.=) $2");
	Assert(n == N_UPDATE_ARGS);
	update_plan.sql = MemoryContextStrdup(TopMemoryContext, sql.data);
}

/* The profile's missing complete_fields: is it incomplete? */
static bool
missing_complete(const TenantInfo *t, const ProfileRow *row, FieldErrors *errs)
{
	bool		missing = false;

	for (int i = 0; i < t->n_complete; i++)
	{
		int			f = t->complete_fields[i];

		if (!row->isnull[f])
			continue;
		missing = true;
		if (!t->incomplete_profiles)
			profile_add_error(errs, pe_fields[f].name, "required", "is required by the tenant");
	}
	return missing;
}

typedef enum VerifyAction
{
	VERIFY_NOTHING,
	VERIFY_NEW_ADDRESS,			/* a new token for the new email */
	VERIFY_NO_ADDRESS			/* the email was cleared: tokens end */
} VerifyAction;

/*
 * The verification rules of an update in a verifying tenant (README,
 * "Verification"): while the profile is unverified, enabled can be
 * neither set to true nor reset to its default; a changed email makes the
 * profile unverified and disabled again, with a new token for the new
 * address and every earlier token ended.  An email that differs only in
 * the case of its letters is the same mailbox (the uniqueness key).
 */
static VerifyAction
verification_gate(const ApiCall *ctx, const ProfileInput *in, ProfileRow *row,
				  const char *email_before, FieldErrors *errs,
				  const char **verification_url)
{
	VerifyAction action = VERIFY_NOTHING;
	Datum		in_enabled = row->values[PE_F_ENABLED];
	const char *email_after = row->isnull[PE_F_EMAIL] ? NULL :
	TextDatumGetCString(row->values[PE_F_EMAIL]);

	if ((email_before == NULL) != (email_after == NULL) ||
		(email_before && pg_strcasecmp(email_before, email_after) != 0))
	{
		row->verified = false;
		row->values[PE_F_ENABLED] = BoolGetDatum(false);
		row->isnull[PE_F_ENABLED] = false;
		if (email_after == NULL)
			action = VERIFY_NO_ADDRESS;
		else
		{
			action = VERIFY_NEW_ADDRESS;
			*verification_url = profile_verification_base(ctx->tenant, in);
			if (*verification_url == NULL)
				profile_add_error(errs, "verificationUrl", "required",
								  "is required to verify the new email when the tenant has no verification_url");
		}
	}
	if (!row->verified &&
		((in->present[PE_F_ENABLED] && DatumGetBool(in_enabled)) ||
		 in->cleared[PE_F_ENABLED]))
		profile_add_error(errs, in->key[PE_F_ENABLED], "unverified",
						  "cannot be true while the profile is unverified");
	return action;
}

static Jsonb *
update_internal(const pg_uuid_t *id, Jsonb *payload)
{
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	row;
	ProfileRow	given;
	FieldErrors errs;
	Datum		args[N_UPDATE_ARGS];
	char		nulls[N_UPDATE_ARGS];
	bool		keys_changed = false;
	int			n = 0;
	char	   *email_before;
	VerifyAction verification = VERIFY_NOTHING;
	const char *verification_url = NULL;
	Jsonb	   *result;

	profile_call_open(&ctx, "update_profile()", payload, &in);

	errs = in.errs;
	if (id == NULL)
		profile_add_error(&errs, "id", "required", "is required");
	memset(&given, 0, sizeof(given));
	profile_check_fields(&in, ctx.tenant, &given, &errs, false);
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	/* the profile, if the caller's tenant holds it */
	args[0] = Int64GetDatum(ctx.tenant->id);
	args[1] = UUIDPGetDatum(id);
	profile_exec(&select_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		profile_raise(PE_E_PROFILE_NOT_FOUND, &ctx.trace_id, NULL, NULL,
					  "profile %s does not exist in tenant \"%s\"",
					  profile_uuid_text(id), ctx.tenant->name);
	memset(&row, 0, sizeof(row));
	profile_row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &row);
	row.tenant_name = ctx.tenant->name;
	email_before = row.isnull[PE_F_EMAIL] ? NULL : TextDatumGetCString(row.values[PE_F_EMAIL]);

	/* merge: given values, cleared fields, the rest as they are */
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++)
	{
		if (!in.present[f] && !in.cleared[f])
			continue;
		if (f == PE_F_USERNAME || f == PE_F_EMAIL || f == PE_F_PHONE)
			keys_changed = true;
		if (in.present[f])
		{
			row.values[f] = given.values[f];
			row.isnull[f] = false;
		}
		else if (f == PE_F_ENABLED)
		{
			row.values[f] = BoolGetDatum(true);
			row.isnull[f] = false;
		}
		else if (f == PE_F_ROLES)
		{
			row.values[f] = PointerGetDatum(construct_empty_array(TEXTOID));
			row.isnull[f] = false;
		}
		else if (f == PE_F_ATTRIBUTES)
		{
			row.values[f] = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
			row.isnull[f] = false;
		}
		else
			row.isnull[f] = true;
	}
	/* a new phone gives the country, if the profile has none */
	if (in.present[PE_F_PHONE] && row.isnull[PE_F_COUNTRY])
	{
		text	   *t = DatumGetTextPP(row.values[PE_F_PHONE]);
		char		e164[PE_PHONE_MAX + 1];
		const char *country = NULL;

		if (pe_normalize_phone(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), e164, &country) == NULL &&
			country != NULL)
		{
			row.values[PE_F_COUNTRY] = CStringGetTextDatum(country);
			row.isnull[PE_F_COUNTRY] = false;
		}
	}
	if (row.isnull[PE_F_EMAIL] && row.isnull[PE_F_PHONE])
		profile_add_error(&errs, "email", "contact_required",
						  "an email or a mobile_phone_number is required");
	if (ctx.tenant->verification)
		verification = verification_gate(&ctx, &in, &row, email_before, &errs,
										  &verification_url);
	row.incomplete = missing_complete(ctx.tenant, &row, &errs);
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	if (keys_changed)
	{
		const char *field = profile_taken_field(row.tenant_id, row.values, row.isnull, &row.id);

		if (field)
			profile_raise(PE_E_PROFILE_EXISTS, &ctx.trace_id, NULL, field,
						  "a profile with this %s already exists", field);
	}
	if (in.present[PE_F_PASSWORD])
		profile_hash_row_password(&row);

	/* write it back; the trigger records the changes */
	build_update_plan();
	memset(nulls, ' ', sizeof(nulls));
	args[n++] = Int64GetDatum(row.tenant_id);
	args[n++] = UUIDPGetDatum(&row.id);
	args[n++] = CStringGetTextDatum(row.incomplete ? "incomplete" : "complete");
	for (int f = PE_F_USERNAME; f < PE_F__COUNT; f++, n++)
	{
		args[n] = row.values[f];
		if (row.isnull[f])
			nulls[n] = 'n';
	}
	row.updated_at = ctx.now;
	args[n++] = BoolGetDatum(row.verified);
	args[n++] = TimestampTzGetDatum(row.updated_at);
	profile_audit_set_context(&ctx, row.tenant_id, &row.id, false);
	if (profile_exec(&update_plan, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update profile");
	if (verification == VERIFY_NEW_ADDRESS)
		profile_issue_verification(&ctx, &row, verification_url);
	else if (verification == VERIFY_NO_ADDRESS)
		profile_end_verifications(&ctx, &row.id);
	profile_audit_clear_context();

	if (row.incomplete)
	{
		row.wizard_url = profile_wizard_url(ctx.tenant->wizard_url, &row.id);
		row.message = "profile updated; still incomplete, continue at wizard_url";
	}
	else
		row.message = "profile updated";
	/* before SPI_finish: unchanged values point into the row SPI read */
	result = profile_result(&row, &ctx);
	profile_call_end(&ctx);
	return result;
}

/* The body of update_profile, for profile_api_call. */
static Jsonb *
update_body(FunctionCallInfo fcinfo)
{
	return update_internal(PG_ARGISNULL(0) ? NULL : PG_GETARG_UUID_P(0),
						   profile_payload_arg(fcinfo, 1));
}

PG_FUNCTION_INFO_V1(update_profile);

/* profile.update_profile(id uuid, payload jsonb) RETURNS jsonb */
Datum
update_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, update_body));
}
