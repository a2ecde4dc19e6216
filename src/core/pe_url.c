/*-------------------------------------------------------------------------
 *
 * src/core/pe_url.c
 *		The URL rule (README, Reference: "verificationUrl"): links that go
 *		into mails must be absolute http(s) URIs of RFC 3986, nothing looser.
 *
 * The grammar checked, in RFC 3986's terms (sections 3 and 3.2):
 *
 *	URI        = scheme "://" host [ ":" port ] path-abempty
 *				 [ "?" query ] [ "#" fragment ]
 *	scheme     = "http" / "https"							(any case)
 *	host       = "[" IPv6address "]" / IPv4address / dns-name
 *	dns-name   = label *( "." label ), labels of 1..63 letters, digits and
 *				 hyphens, not starting or ending with a hyphen, 253 in all;
 *				 a name whose last label is a number (all digits, or 0x and
 *				 hex digits) must be an IPv4 dotted quad (so "1.2.3.999" and
 *				 "0x7f000001" are refused; browsers read them as addresses)
 *	port       = 1*5DIGIT with a value of 1..65535
 *	path, query, fragment: pchar / "/" / "?" (query and fragment), with
 *				 pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
 *
 * No user-info (no "@" before the host), no IPvFuture and no zone ids, no
 * character outside RFC 3986 (spaces, < > " { } \ ^ ` |, non-ASCII), every
 * "%" followed by two hex digits, and at most 2048 characters in all.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>
#include <strings.h>

#include "pe_url.h"

static const PeRule r_url = {"format", "must be an absolute http or https URL (RFC 3986) of at most 2048 characters, with a host, no user-info and a port of 1 to 65535"};

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 pchar, the percent-escape aside. */
static bool
is_pchar(char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL);
}

/* dec-octet: 0..255 without leading zeros. */
static bool
dec_octet(const char *s, size_t len)
{
	int			v = 0;

	if (len < 1 || len > 3 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 255;
}

static bool
ipv4(const char *s, size_t len)
{
	size_t		start = 0;
	int			parts = 0;

	for (size_t i = 0; i <= len; i++)
	{
		if (i == len || s[i] == '.')
		{
			if (!dec_octet(s + start, i - start))
				return false;
			parts++;
			start = i + 1;
		}
	}
	return parts == 4;
}

/*
 * IPv6address of RFC 3986 section 3.2.2: eight 16-bit pieces of 1..4 hex
 * digits, or fewer around one "::", the last two optionally an IPv4
 * address.
 */
static bool
ipv6(const char *s, size_t len)
{
	int			pieces = 0;
	bool		compressed = false;
	size_t		i = 0;

	if (len < 2)
		return false;
	if (s[0] == ':')
	{
		if (s[1] != ':')
			return false;
		compressed = true;
		i = 2;
		if (i == len)
			return true;		/* "::" */
	}
	while (i < len)
	{
		size_t		start = i;

		while (i < len && is_hex(s[i]) && i - start < 5)
			i++;
		if (i < len && s[i] == '.')
		{
			/* an IPv4 address in the last 32 bits */
			if (!ipv4(s + start, len - start))
				return false;
			pieces += 2;
			i = len;
			break;
		}
		if (i == start || i - start > 4)
			return false;
		pieces++;
		if (i == len)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < len && s[i] == ':')
		{
			if (compressed)
				return false;
			compressed = true;
			i++;
			if (i == len)
				break;
		}
		else if (i == len)
			return false;		/* a trailing single ":" */
	}
	return compressed ? pieces <= 7 : pieces == 8;
}

static bool
dns_name(const char *s, size_t len)
{
	size_t		start = 0;
	long		last = 0;		/* where the last label starts */
	bool		all_digits = true;

	if (len < 1 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++)
	{
		if (i == len || s[i] == '.')
		{
			size_t		n = i - start;

			if (n < 1 || n > 63 || s[start] == '-' || s[i - 1] == '-')
				return false;
			if (i < len)
			{
				start = i + 1;
				last = (long) start;
				all_digits = true;
			}
		}
		else if (is_digit(s[i]))
			continue;
		else if (is_alpha(s[i]) || s[i] == '-')
			all_digits = false;
		else
			return false;
	}

	/*
	 * "1.2.3.999" is no name; "1.2.3.4" is an address.  Browsers read a last
	 * label of hex digits after "0x" (0x7f000001) as a number too.
	 */
	if (!all_digits && last >= 0 && len - (size_t) last >= 2 &&
		s[last] == '0' && (s[last + 1] == 'x' || s[last + 1] == 'X'))
	{
		all_digits = true;
		for (size_t i = (size_t) last + 2; i < len; i++)
			if (!is_hex(s[i]))
				all_digits = false;
	}
	return !all_digits || ipv4(s, len);
}

static bool
port(const char *s, size_t len)
{
	long		v = 0;

	if (len < 1 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* path-abempty, query and fragment, from s[i] on. */
static bool
rest(const char *s, size_t len, size_t i)
{
	enum
	{
		PATH, QUERY, FRAGMENT
	}			part = PATH;

	for (; i < len; i++)
	{
		char		c = s[i];

		if (c == '%')
		{
			if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
				return false;
			i += 2;
		}
		else if (c == '?' && part == PATH)
			part = QUERY;
		else if (c == '#' && part != FRAGMENT)
			part = FRAGMENT;
		else if (c == '/' || (c == '?' && part != PATH))
			continue;
		else if (!is_pchar(c))
			return false;
	}
	return true;
}

const PeRule *
pe_check_url(const char *s, size_t len)
{
	size_t		i;
	size_t		host,
				host_end,
				auth_end;

	if (len > PE_MAX_URL_CHARS)
		return &r_url;
	if (len >= 7 && strncasecmp(s, "http://", 7) == 0)
		i = 7;
	else if (len >= 8 && strncasecmp(s, "https://", 8) == 0)
		i = 8;
	else
		return &r_url;

	/* the authority ends at the first "/", "?" or "#" */
	host = i;
	for (auth_end = i; auth_end < len; auth_end++)
		if (s[auth_end] == '/' || s[auth_end] == '?' || s[auth_end] == '#')
			break;

	if (host < auth_end && s[host] == '[')
	{
		const char *close = memchr(s + host, ']', auth_end - host);

		if (close == NULL)
			return &r_url;
		host_end = (size_t) (close - s) + 1;
		if (!ipv6(s + host + 1, host_end - host - 2))
			return &r_url;
	}
	else
	{
		for (host_end = host; host_end < auth_end && s[host_end] != ':'; host_end++)
			;
		if (!dns_name(s + host, host_end - host))
			return &r_url;
	}
	if (host_end < auth_end)
	{
		if (s[host_end] != ':' || !port(s + host_end + 1, auth_end - host_end - 1))
			return &r_url;
	}
	return rest(s, len, auth_end) ? NULL : &r_url;
}
