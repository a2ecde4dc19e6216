/*-------------------------------------------------------------------------
 *
 * src/core/pe_errors.c
 *		The table of error codes: contract code, SQLSTATE and HTTP status.
 *
 * The first eleven are contract §5; the rest are raised by the admin
 * functions only (documented in the README).
 *
 *-------------------------------------------------------------------------
 */
#include "pe_errors.h"

const PeErrorDef pe_error_defs[PE_E__COUNT] = {
	[PE_E_INVALID_REQUEST] = {"INVALID_REQUEST", "22023", 400},
	[PE_E_VALIDATION_FAILED] = {"VALIDATION_FAILED", "23514", 422},
	[PE_E_UNAUTHENTICATED] = {"UNAUTHENTICATED", "28000", 401},
	[PE_E_TENANT_NOT_FOUND] = {"TENANT_NOT_FOUND", "42704", 404},
	[PE_E_TENANT_FORBIDDEN] = {"TENANT_FORBIDDEN", "42501", 403},
	[PE_E_CONTRACT_INACTIVE] = {"CONTRACT_INACTIVE", "42501", 403},
	[PE_E_PROFILE_EXISTS] = {"PROFILE_EXISTS", "23505", 409},
	[PE_E_PROFILE_NOT_FOUND] = {"PROFILE_NOT_FOUND", "P0002", 404},
	[PE_E_RATE_LIMITED] = {"RATE_LIMITED", "54000", 429},
	[PE_E_VERIFICATION_INVALID] = {"VERIFICATION_INVALID", "22023", 400},
	[PE_E_IDEMPOTENCY_MISMATCH] = {"IDEMPOTENCY_MISMATCH", "22023", 422},
	[PE_E_TENANT_EXISTS] = {"TENANT_EXISTS", "42710", 409},
	[PE_E_CLIENT_EXISTS] = {"CLIENT_EXISTS", "42710", 409},
	[PE_E_CLIENT_NOT_FOUND] = {"CLIENT_NOT_FOUND", "42704", 404},
	[PE_E_TOKEN_NOT_FOUND] = {"TOKEN_NOT_FOUND", "42704", 404},
	[PE_E_CONTRACT_NOT_FOUND] = {"CONTRACT_NOT_FOUND", "42704", 404},
	[PE_E_ROLE_NOT_FOUND] = {"ROLE_NOT_FOUND", "42704", 404},
	[PE_E_MAIL_NOT_FOUND] = {"VERIFICATION_MAIL_NOT_FOUND", "42704", 404},
};
