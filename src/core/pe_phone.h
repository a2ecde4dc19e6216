/*-------------------------------------------------------------------------
 *
 * src/core/pe_phone.h
 *		Phone numbers judged as libphonenumber judges a number written in
 *		international form (pe_phone.c, over pe_phone_tables.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_PHONE_H
#define PE_PHONE_H

#include "pe_rule.h"

/* '+', a calling code of at most 3 digits and a national number of 17 */
#define PE_PHONE_E164_MAX	21

/* The longest input (bytes) looked at; libphonenumber's is 250. */
#define PE_PHONE_INPUT_MAX	250

typedef enum PePhoneStatus
{
	PE_PHONE_OK,				/* valid: isValidNumber */
	PE_PHONE_INVALID,			/* parsed, but valid for no region */
	PE_PHONE_BAD_FORMAT,		/* not +/00 and digits with separators */
	PE_PHONE_BAD_CODE,			/* no assigned calling code */
	PE_PHONE_BAD_LENGTH,		/* too short or too long to parse */
	PE_PHONE_INTERNAL			/* out of memory */
} PePhoneStatus;

typedef struct PePhone
{
	char		e164[PE_PHONE_E164_MAX + 1];	/* set for OK and INVALID */
	char		region[4];		/* OK: "GB"; "001" for non-geographic */
	int			type;			/* OK: PePhoneType (pe_fields.h) */
} PePhone;

/*
 * Parse a number in international form: separators (space - . / ( ))
 * dropped, a leading 00 read as +, the calling code, a national trunk
 * prefix after it dropped where the region's metadata defines one (as
 * libphonenumber's Parse does), then the region, the type and validity as
 * libphonenumber's GetRegionCodeForNumber, GetNumberType and
 * IsValidNumber give them.
 */
extern PePhoneStatus pe_phone_parse(const char *s, size_t len, PePhone *out);

/*
 * The phone rule of the contract: NULL if s is a valid number (out filled
 * in; its E.164 form is what is stored), else the rule it breaks -- format,
 * calling_code, length, invalid; pe_rule_internal if memory ran out.
 */
extern const PeRule *pe_check_phone(const char *s, size_t len, PePhone *out);

/* The region of a valid number as an ISO 3166-1 code, or NULL (001, AC ...) */
extern const char *pe_phone_country(const PePhone *phone);

#endif							/* PE_PHONE_H */
