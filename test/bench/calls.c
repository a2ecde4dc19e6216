/*
 * test/bench/calls.c -- create profiles the way a client does, and report
 * the CPU time the server's backend spent per profile.
 *
 * Not a test; used by test/bench/batch.sh.  One connection (libpq's
 * environment variables), one prepared statement executed once per call
 * with its payload as a text parameter, as drivers and PostgREST do:
 *
 *   single: SELECT profile.create_profile($1)   once per profile
 *   batch:  SELECT profile.create_profiles($1)  once for all of them
 *
 * Everything runs in one transaction that is rolled back, so commits stay
 * out of the picture.  A warm-up of 10 profiles goes first; then the
 * payloads are built, and the backend's CPU time (the first field of
 * /proc/PID/schedstat, in nanoseconds; the server runs on this machine) is
 * read before and after the calls.  Prints microseconds per profile.
 *
 * Usage: calls single|batch N FIRST TOKEN
 * (profiles FIRST+1 .. FIRST+N, the payloads of bench.items in batch.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

static PGconn *conn;

static void
fail(const char *what)
{
	fprintf(stderr, "calls: %s: %s", what, PQerrorMessage(conn));
	exit(1);
}

static void
run(const char *sql)
{
	PGresult   *r = PQexec(conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail(sql);
	PQclear(r);
}

static long long
backend_cpu_ns(void)
{
	char		path[64];
	long long	ns;
	FILE	   *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", PQbackendPID(conn));
	f = fopen(path, "r");
	if (f == NULL || fscanf(f, "%lld", &ns) != 1)
	{
		fprintf(stderr, "calls: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	return ns;
}

/* Profile g's fields, as bench.items builds them, without the braces. */
static int
fields(char *out, long long g)
{
	return sprintf(out,
				   "\"username\": \"user_%lld\", \"email\": \"u%lld@example.com\", "
				   "\"mobile_phone_number\": \"+49 30 %lld\", \"full_name\": \"User %lld\"",
				   g, g, 10000000 + g % 90000000, g);
}

/*
 * The payloads of profiles first+1 .. first+n: one per profile, or one
 * batch.  Sets *count to the number of calls.
 */
static char **
payloads(int batch, long long first, int n, const char *tok, int *count)
{
	char	  **out = malloc(sizeof(char *) * n);

	/* an item's fields take at most 170 bytes */
	if (batch)
	{
		char	   *p = out[0] = malloc((size_t) n * 200 + strlen(tok) + 64);

		p += sprintf(p, "{\"accessTokenId\": \"%s\", \"profiles\": [", tok);
		for (int i = 1; i <= n; i++)
		{
			p += sprintf(p, "%s{", i > 1 ? ", " : "");
			p += fields(p, first + i);
			p += sprintf(p, "}");
		}
		sprintf(p, "]}");
		*count = 1;
	}
	else
	{
		for (int i = 1; i <= n; i++)
		{
			char	   *p = out[i - 1] = malloc(200 + strlen(tok) + 64);

			p += sprintf(p, "{\"accessTokenId\": \"%s\", ", tok);
			p += fields(p, first + i);
			sprintf(p, "}");
		}
		*count = n;
	}
	return out;
}

/*
 * Calls the prepared statement once per payload; every profile must be
 * stored (a batch reports failed items in its result, not as an error).
 */
static void
call(int batch, char **bodies, int count)
{
	for (int i = 0; i < count; i++)
	{
		const char *values[1] = {bodies[i]};
		PGresult   *r = PQexecPrepared(conn, "call", 1, values, NULL, NULL, 0);

		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail("call");
		if (strstr(PQgetvalue(r, 0, 0),
				   batch ? "\"failed\": 0," : "\"message\": \"profile created\"") == NULL)
		{
			fprintf(stderr, "calls: not stored: %.300s\n", PQgetvalue(r, 0, 0));
			exit(1);
		}
		PQclear(r);
	}
}

int
main(int argc, char **argv)
{
	int			batch,
				n,
				count;
	long long	first,
				t0,
				t1;
	char	  **bodies;
	PGresult   *r;

	if (argc != 5 || (strcmp(argv[1], "single") != 0 && strcmp(argv[1], "batch") != 0))
	{
		fprintf(stderr, "usage: calls single|batch N FIRST TOKEN\n");
		return 2;
	}
	batch = strcmp(argv[1], "batch") == 0;
	n = atoi(argv[2]);
	first = atoll(argv[3]);
	if (n < 1 || n > 1000)
	{
		fprintf(stderr, "calls: N must be 1 to 1000\n");
		return 2;
	}

	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK)
		fail("connect");
	/* new WAL segments sparse, as in batch.sh */
	run("SET wal_init_zero = off");
	r = PQprepare(conn, "call",
				  batch ? "SELECT profile.create_profiles($1::jsonb)"
				  : "SELECT profile.create_profile($1::jsonb)",
				  1, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail("prepare");
	PQclear(r);
	run("BEGIN");

	/*
	 * warm-up: the same kind of call with 10 other profiles (10 single calls,
	 * or a batch of 10), so that both have their caches and plan
	 */
	bodies = payloads(batch, first + n, 10, argv[4], &count);
	call(batch, bodies, count);

	bodies = payloads(batch, first, n, argv[4], &count);
	t0 = backend_cpu_ns();
	call(batch, bodies, count);
	t1 = backend_cpu_ns();

	run("ROLLBACK");
	printf("%.2f\n", (t1 - t0) / 1000.0 / n);
	PQfinish(conn);
	return 0;
}
