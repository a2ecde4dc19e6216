/*-------------------------------------------------------------------------
 *
 * src/api/create.c
 *		profile.create_profile(jsonb) (README, Reference).
 *
 * Request shape, principal, tenant, contract and rate limit
 * (model/caller.c); every field rule, with all errors together, then
 * completeness (model/fields.c); the row is stored, uniqueness enforced by
 * the unique indexes (store/profiles.c), audited by the trigger, and, in a
 * verifying tenant, a verification issued (store/verification.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "base/crypto.h"
#include "model/caller.h"
#include "model/document.h"
#include "store/profiles.h"
#include "store/verification.h"

/* Check everything, store the profile, return its document. */
static Jsonb *
create_profile_internal(Jsonb *payload)
{
	ApiCall		ctx;
	ProfileInput in;
	ProfileRow	row;
	FieldErrors errs;
	const char *verification_url = NULL;
	Jsonb	   *result;

	profile_call_open(&ctx, "create_profile()", payload, &in);

	/* fields, then completeness; all errors together */
	errs = in.errs;
	memset(&row, 0, sizeof(row));
	profile_check_fields(&in, ctx.tenant, &row, &errs);
	profile_apply_defaults(&row, in.present, ctx.tenant);
	profile_country_from_phone(&row, true);
	profile_check_contact(in.present, &errs);
	row.incomplete = profile_missing_complete(ctx.tenant, in.present, &errs);
	if (ctx.tenant->verification)
	{
		verification_url = profile_verification_base(ctx.tenant, &in);
		if (verification_url == NULL)
			profile_add_error(&errs, "verificationUrl", "required",
							  "is required when the tenant verifies new profiles and has no verification_url");
	}
	if (errs.count > 0)
		profile_raise_validation(&ctx.trace_id, &errs);

	if (!row.isnull[PE_F_PASSWORD])
		profile_hash_row_password(&row);

	row.tenant_id = ctx.tenant->id;
	row.tenant_name = ctx.tenant->name;
	profile_uuid_v7(&row.id);
	profile_start_unverified(&row, ctx.tenant);
	row.created_at = row.updated_at = ctx.now;
	row.first_login_at = row.last_login_at = DT_NOBEGIN;
	if (row.incomplete)
	{
		row.wizard_url = profile_wizard_url(ctx.tenant->wizard_url, &row.id);
		row.message = "profile stored as incomplete; continue at wizard_url";
	}
	else
		row.message = "profile created";

	profile_identity_keys(&row, ctx.tenant);
	if (!profile_insert_row(&ctx, &row, true))
		profile_raise_if_taken(&ctx.trace_id, row.tenant_id, &row, NULL, "id");
	if (!profile_claim_id(&row.id, row.tenant_id, ctx.now))
		profile_raise_taken(&ctx.trace_id, "id");

	if (ctx.tenant->verification)
		profile_issue_verification(&ctx, &row, verification_url);
	profile_audit_clear_context();
	ctx.http_status = row.incomplete ? 202 : 201;
	result = profile_result(&row, &ctx.trace_id);
	profile_call_end(&ctx);
	return result;
}

/* The body of create_profile, for profile_api_call. */
static Jsonb *
create_profile_body(FunctionCallInfo fcinfo)
{
	return create_profile_internal(PG_GETARG_JSONB_P(0));
}

PG_FUNCTION_INFO_V1(create_profile);

/* profile.create_profile(jsonb) RETURNS jsonb */
Datum
create_profile(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(profile_api_call(fcinfo, create_profile_body));
}
