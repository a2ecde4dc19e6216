/*-------------------------------------------------------------------------
 *
 * src/api/update.c
 *		profile.update_profile(id uuid, payload jsonb) (README, Reference).
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
 * The tenant is the profile's own (api/lifecycle.c): an id no profile
 * has, or one of a tenant the caller may not use or does not name, is
 * PROFILE_NOT_FOUND.  A username, email or phone another profile
 * of the tenant holds is PROFILE_EXISTS: a probe names the field, and a
 * concurrent writer that gets past the probe meets the unique index, whose
 * violation is turned into the same error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "api/lifecycle.h"
#include "audit/audit.h"
#include "base/json.h"
#include "model/caller.h"
#include "model/document.h"
#include "store/profiles.h"
#include "store/verification.h"

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
	bool		has[PE_F__COUNT];
	bool		changed[PE_F__COUNT];
	bool		keys_changed = false;
	char	   *email_before;
	VerifyAction verification = VERIFY_NOTHING;
	const char *verification_url = NULL;
	Jsonb	   *result;

	profile_call_open_on_id(&ctx, "update_profile()", true, payload, &in, id, true);

	errs = in.errs;
	memset(&given, 0, sizeof(given));
	profile_check_fields(&in, ctx.tenant, &given, &errs);
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	/* the profile, if its tenant still holds it */
	if (!profile_select_for_update(ctx.tenant->id, id, &row))
		profile_raise(PE_E_PROFILE_NOT_FOUND, &ctx.trace_id, NULL, NULL,
					  "profile %s does not exist", profile_uuid_text(id));
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
		else
			row.isnull[f] = !profile_cleared_value(f, &row.values[f]);
	}
	row.phone = given.phone;
	profile_country_from_phone(&row, in.present[PE_F_PHONE]);
	for (int f = 0; f < PE_F__COUNT; f++)
		has[f] = !row.isnull[f];
	profile_check_contact(has, &errs);
	if (ctx.tenant->verification)
		verification = verification_gate(&ctx, &in, &row, email_before, &errs,
										 &verification_url);
	row.incomplete = profile_missing_complete(ctx.tenant, has, &errs);
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	for (int f = 0; f < PE_F__COUNT; f++)
		changed[f] = in.present[f] || in.cleared[f];
	profile_rekey(&row, ctx.tenant, changed);
	profile_reclaim_keys(row.tenant_id, &row);
	if (keys_changed)
		profile_raise_if_taken(&ctx.trace_id, row.tenant_id, &row, &row.id, NULL);
	if (in.present[PE_F_PASSWORD])
		profile_hash_row_password(&row);

	/* write it back; the trigger records the changes */
	row.updated_at = ctx.now;
	profile_update_row(&ctx, &row);
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
	result = profile_result(&row, &ctx.trace_id);
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
