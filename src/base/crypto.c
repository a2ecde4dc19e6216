/*-------------------------------------------------------------------------
 *
 * src/base/crypto.c
 *		Randomness, identifiers, token and password hashing (libsodium).
 *
 * Passwords: Argon2id through crypto_pwhash_str, whose output is a
 * self-describing PHC string with its own random salt and cost, so the
 * cost settings can be raised later without breaking stored hashes.
 * Access tokens are 256 random bits; they are looked up by their SHA-256,
 * which is safe for high-entropy secrets and keeps the lookup an index
 * probe.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>
#include <sodium.h>

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "base/crypto.h"

/* Argon2id cost of new password hashes (GUCs, superuser only). */
static int	password_opslimit = 2;
static int	password_memlimit_kb = 65536;

/* libsodium and the password settings; from _PG_init. */
void
profile_crypto_init(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				errcode(ERRCODE_SYSTEM_ERROR),
				errmsg("could not initialize libsodium"));

	DefineCustomIntVariable("profile_ext.password_opslimit",
							"Argon2id time cost (passes) for new password hashes.",
							"Stored hashes keep the cost they were made with.",
							&password_opslimit,
							2, 1, 64,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("profile_ext.password_memlimit",
							"Argon2id memory cost for new password hashes.",
							"Stored hashes keep the cost they were made with.",
							&password_memlimit_kb,
							65536, 8, 4194304,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
}

/*
 * Random bytes for ids and salts, drawn from the kernel (randombytes_buf:
 * getrandom) a pool at a time rather than a system call per use.  The
 * pool belongs to one process: a forked backend that inherited a filled
 * pool starts from an empty one.  Secrets (tokens) take their bytes
 * straight from the kernel and never pass through the pool.
 */
#define RANDOM_POOL 4096

void
profile_random_bytes(void *out, size_t len)
{
	static uint8 pool[RANDOM_POOL];
	static size_t left = 0;
	static int	owner = 0;

	if (owner != MyProcPid)
	{
		left = 0;
		owner = MyProcPid;
	}
	if (len > RANDOM_POOL / 4)
	{
		randombytes_buf(out, len);
		return;
	}
	if (left < len)
	{
		randombytes_buf(pool, RANDOM_POOL);
		left = RANDOM_POOL;
	}
	memcpy(out, pool + RANDOM_POOL - left, len);
	/* bytes handed out are not kept */
	sodium_memzero(pool + RANDOM_POOL - left, len);
	left -= len;
}

/* A random (version 4) UUID: trace ids. */
void
profile_uuid_v4(pg_uuid_t *out)
{
	profile_random_bytes(out->data, UUID_LEN);
	out->data[6] = (out->data[6] & 0x0F) | 0x40;
	out->data[8] = (out->data[8] & 0x3F) | 0x80;
}

/*
 * A time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix milliseconds,
 * then random bits.  Ids made in one millisecond are not ordered among
 * themselves; nothing relies on that.
 */
void
profile_uuid_v7(pg_uuid_t *out)
{
	TimestampTz now = GetCurrentTimestamp();
	uint64		ms;

	ms = (uint64) (now / 1000) +
		(uint64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;
	profile_random_bytes(out->data + 6, UUID_LEN - 6);
	for (int i = 0; i < 6; i++)
		out->data[i] = (uint8) (ms >> (40 - 8 * i));
	out->data[6] = (out->data[6] & 0x0F) | 0x70;
	out->data[8] = (out->data[8] & 0x3F) | 0x80;
}

/* A bytea holding a copy of data; palloc'd. */
bytea	   *
profile_bytea(const void *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

/* The stored form of an access token: its SHA-256 as a bytea; palloc'd. */
bytea	   *
profile_token_hash(const char *token, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + crypto_hash_sha256_BYTES);

	SET_VARSIZE(b, VARHDRSZ + crypto_hash_sha256_BYTES);
	crypto_hash_sha256((unsigned char *) VARDATA(b), (const unsigned char *) token, len);
	return b;
}

/* Argon2id hash of a password, in the PHC string format; palloc'd. */
char	   *
profile_hash_password(const char *password, size_t len)
{
	char	   *out = palloc(crypto_pwhash_STRBYTES);

	if (crypto_pwhash_str(out, password, len,
						  (unsigned long long) password_opslimit,
						  (size_t) password_memlimit_kb * 1024) != 0)
		ereport(ERROR,
				errcode(ERRCODE_OUT_OF_MEMORY),
				errmsg("could not hash password"),
				errdetail("Argon2id could not allocate %d kB.",
						  password_memlimit_kb),
				errhidestmt(true));
	return out;
}

/*
 * A new secret: the prefix ("pe_" for access tokens, "pv_" for
 * verification tokens) and 256 random bits in URL-safe base64, so it is
 * printable and easy to recognise in a secret scanner.  palloc'd.
 */
char	   *
profile_new_token(const char *prefix)
{
	unsigned char raw[32];
	char		b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
					  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return psprintf("%s%s", prefix, b64);
}

/*
 * SHA-256 through OpenSSL, which PostgreSQL is built with: it uses the
 * CPU's SHA instructions where there are some (libsodium's portable code
 * took a sixth of register_user_profile's time hashing audit events).  One
 * hash at a time per backend, begun, fed and ended without anything else
 * hashed in between; a hash an error cut short is simply begun anew.
 */
static EVP_MD_CTX * sha256_ctx = NULL;
static const EVP_MD *sha256_md = NULL;

void
profile_sha256_begin(void)
{
	if (sha256_ctx == NULL)
	{
		EVP_MD_CTX *ctx;
		const		EVP_MD *md;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
		md = EVP_sha256();
#endif
		if (md == NULL)
			ereport(ERROR,
					errcode(ERRCODE_OUT_OF_MEMORY),
					errmsg("could not set up SHA-256"));
		ctx = EVP_MD_CTX_new();
		if (ctx == NULL)
		{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
			EVP_MD_free((EVP_MD *) md);
#endif
			ereport(ERROR,
					errcode(ERRCODE_OUT_OF_MEMORY),
					errmsg("could not set up SHA-256"));
		}
		sha256_md = md;
		sha256_ctx = ctx;
	}
	if (EVP_DigestInit_ex(sha256_ctx, sha256_md, NULL) != 1)
		elog(ERROR, "could not begin a SHA-256 hash");
}

void
profile_sha256_update(const void *data, size_t len)
{
	if (EVP_DigestUpdate(sha256_ctx, data, len) != 1)
		elog(ERROR, "could not compute a SHA-256 hash");
}

void
profile_sha256_end(uint8 *out)
{
	if (EVP_DigestFinal_ex(sha256_ctx, out, NULL) != 1)
		elog(ERROR, "could not compute a SHA-256 hash");
}
