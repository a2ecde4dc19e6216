/*-------------------------------------------------------------------------
 *
 * src/store/verification.h
 *		Verification tokens, links and the outbox (verification.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_VERIFICATION_H
#define PROFILE_VERIFICATION_H

#include "model/caller.h"
#include "model/fields.h"

/* A verification token: "pv_" and 43 base64url characters (256 bits). */
#define PROFILE_VERIFICATION_TOKEN_PREFIX "pv_"
#define PROFILE_VERIFICATION_TOKEN_LEN 46

/* A row of the outbox, as claim and resend read it. */
typedef struct OutboxRow
{
	int64		id;
	int64		tenant_id;
	pg_uuid_t	profile_id;
	char	   *email;			/* may be NULL */
	char	   *url;			/* the link without its token */
	char	   *link;			/* NULL once sent (or written by 1.0) */
} OutboxRow;

/* The columns profile_read_outbox_row reads, in this order. */
#define OUTBOX_COLUMNS "id, tenant_id, profile_id, email, verification_url, link"

extern const char *profile_verification_base(const TenantInfo *tenant,
											 const ProfileInput *in);
extern void profile_issue_verification(const ApiCall *ctx, const ProfileRow *row,
									   const char *verification_url);
extern void profile_end_verifications(const ApiCall *ctx,
									  const pg_uuid_t *profile_id);
extern void profile_forget_verifications(int64 tenant_id, const pg_uuid_t *profile_id);
extern void profile_read_outbox_row(uint64 row, OutboxRow *o);
extern Jsonb *profile_outbox_mail(OutboxRow *o, bool new_link, TimestampTz now);

#endif							/* PROFILE_VERIFICATION_H */
