/*-------------------------------------------------------------------------
 *
 * src/core/pe_errors.h
 *		The error codes of the contract: code, SQLSTATE and HTTP status
 *		(pe_errors.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_ERRORS_H
#define PE_ERRORS_H


/* Error codes (README, "Errors"; then the admin functions' own). */
typedef enum PeErrorCode
{
	PE_E_INVALID_REQUEST,
	PE_E_VALIDATION_FAILED,
	PE_E_UNAUTHENTICATED,
	PE_E_TENANT_NOT_FOUND,
	PE_E_TENANT_FORBIDDEN,
	PE_E_CONTRACT_INACTIVE,
	PE_E_PROFILE_EXISTS,
	PE_E_PROFILE_NOT_FOUND,
	PE_E_RATE_LIMITED,
	PE_E_VERIFICATION_INVALID,
	PE_E_IDEMPOTENCY_MISMATCH,
	PE_E_TENANT_EXISTS,
	PE_E_CLIENT_EXISTS,
	PE_E_CLIENT_NOT_FOUND,
	PE_E_TOKEN_NOT_FOUND,
	PE_E_CONTRACT_NOT_FOUND,
	PE_E_ROLE_NOT_FOUND,
	PE_E_MAIL_NOT_FOUND,
	PE_E__COUNT
} PeErrorCode;

typedef struct PeErrorDef
{
	const char *code;
	const char	sqlstate[6];
	int			http;
} PeErrorDef;

extern const PeErrorDef pe_error_defs[PE_E__COUNT];

#endif							/* PE_ERRORS_H */
