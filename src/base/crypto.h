/*-------------------------------------------------------------------------
 *
 * src/base/crypto.h
 *		Randomness, identifiers, token and password hashing (crypto.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROFILE_CRYPTO_H
#define PROFILE_CRYPTO_H

#include "utils/uuid.h"

extern void profile_random_bytes(void *out, size_t len);
extern void profile_uuid_v4(pg_uuid_t *out);
extern void profile_uuid_v7(pg_uuid_t *out);
extern bytea *profile_bytea(const void *data, size_t len);
extern bytea *profile_token_hash(const char *token, size_t len);
extern char *profile_hash_password(const char *password, size_t len);
extern char *profile_new_token(const char *prefix);
extern void profile_crypto_init(void);
extern void profile_sha256_begin(void);
extern void profile_sha256_update(const void *data, size_t len);
extern void profile_sha256_end(uint8 *out);

#endif							/* PROFILE_CRYPTO_H */
