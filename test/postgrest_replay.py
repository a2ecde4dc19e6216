#!/usr/bin/python3
"""
test/postgrest_replay.py -- replay PostgREST's transactions for real requests.

No PostgREST binary can be installed from Debian 12's packages, so this
replays what PostgREST v12.2 (v12.2.12) documents and does for
POST /rpc/<function>, as doc/postgrest.md describes:

  1. BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE   (GET, and any call
     of a STABLE function: READ ONLY)
  2. one statement of set_config(..., true) calls: search_path, role,
     request.jwt.claims, request.method, request.path, request.headers,
     request.cookies -- every value a bound parameter of type unknown
  3. the main query, prepared, in the shape of section 1.3:
     (A) create_profile(jsonb): the raw body as one unknown-typed parameter
         cast to jsonb;
     (B) register_user_profile(user_profile_id, payload), update_profile(id,
         payload), verify_profile(token), get_profile(id, payload),
         find_profile(payload), delete_profile(id, payload),
         erase_profile(id, payload): the body (for GET, the query string's
         parameters as a JSON object) as one json-typed parameter exploded
         with json_to_record, passing only the parameters it gives
  4. COMMIT, or ABORT after an error

and then turns the outcome into an HTTP response with PostgREST's rules:
the SQLSTATE-to-status table of section 3, the RAISE SQLSTATE 'PGRST'
parsing of section 4, response.status of section 5.  Connections log in as
the authenticator role and switch to the request's role, as PostgREST does.

Usage: postgrest_replay.py HOST PORT SUPERUSER [SDK_SEED_JSON]
(PROFILE_CITUS=1: the server is a Citus coordinator; the tables are
distributed first.)
Prints one TAP line per check and exits non-zero if any failed;
SHOW_RESPONSES=1 also prints each response.
"""
import json
import os
import sys

import psycopg
from psycopg.types.json import Json

SETLOCALS = (
    "select set_config('search_path', %s, true), set_config('role', %s, true), "
    "set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true), "
    "set_config('request.path', %s, true), set_config('request.headers', %s, true), "
    "set_config('request.cookies', %s, true)")

WRAP = ("WITH pgrst_source AS ({call}) SELECT null::bigint AS total_result_set, 1 AS page_total, "
        "coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null') AS body, "
        "nullif(current_setting('response.headers', true), '') AS response_headers, "
        "nullif(current_setting('response.status', true), '') AS response_status, "
        "'' AS response_inserted FROM (SELECT \"{fn}\".* FROM \"pgrst_source\" AS \"{fn}\") _postgrest_t")

CALL_SINGLE = ("SELECT pgrst_call.pgrst_scalar FROM (SELECT \"profile\".\"{fn}\"(%s::jsonb) pgrst_scalar) pgrst_call")

# named parameters of the functions called with form (B)
NAMED = {
    "register_user_profile": [("user_profile_id", "uuid"), ("payload", "jsonb")],
    "update_profile": [("id", "uuid"), ("payload", "jsonb")],
    "verify_profile": [("token", "text")],
    "get_profile": [("id", "uuid"), ("payload", "jsonb")],
    "find_profile": [("payload", "jsonb")],
    "delete_profile": [("id", "uuid"), ("payload", "jsonb")],
    "erase_profile": [("id", "uuid"), ("payload", "jsonb")],
}

# STABLE functions: PostgREST runs them READ ONLY for POST too (section 1)
STABLE = {"get_profile", "find_profile"}


def call_named(fn, given):
    """Form (B) of section 1.3 (v12.2.0 and later), for the parameters the body gives;
    the others get their DEFAULT."""
    params = [(n, t) for n, t in NAMED[fn] if n in given]
    cols = ", ".join(f'"{n}"' for n, _ in params)
    types = ", ".join(f'"{n}" {t}' for n, t in params)
    args = ", ".join(f'"{n}" := pgrst_body."{n}"' for n, _ in params)
    return ("SELECT pgrst_call.pgrst_scalar FROM (SELECT %s AS json_data) pgrst_payload, "
            f"LATERAL (SELECT {cols} FROM json_to_record(pgrst_payload.json_data) AS _({types}) LIMIT 1) pgrst_body , "
            f"LATERAL (SELECT \"profile\".\"{fn}\"({args}) pgrst_scalar) pgrst_call")

ANON = "web_anon"


def http_status(sqlstate, message, role):
    """pgErrorStatus of PostgREST v12.2.12 (Error.hs), top to bottom."""
    s = sqlstate
    if s.startswith("08"):
        return 503
    if s.startswith("09"):
        return 500
    if s.startswith("0L") or s.startswith("0P"):
        return 403
    if s in ("23503", "23505"):
        return 409
    if s == "25006":
        return 405
    if s == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if s.startswith("25") or s.startswith("2D") or s[:2] in ("38", "39", "3B", "40"):
        return 500
    if s.startswith("28"):
        return 403
    if s == "53400":
        return 500
    if s.startswith("53"):
        return 503
    if s[:2] in ("54", "55"):
        return 500
    if s == "57P01":
        return 503
    if s[:2] in ("57", "58", "F0", "HV"):
        return 500
    if s == "P0001":
        return 400
    if s.startswith("P0") or s.startswith("XX"):
        return 500
    if s == "42883":
        return 406 if message.startswith("function xmlagg(") else 404
    if s == "42P01":
        return 404
    if s == "42P17":
        return 500
    if s == "42501":
        return 401 if role == ANON else 403
    if s.startswith("PT"):
        return int(s[2:]) if s[2:].isdigit() else 500
    return 400


def error_response(e, role):
    """The HTTP response PostgREST makes of a database error."""
    d = e.diag
    sqlstate, message = d.sqlstate, d.message_primary or ""
    if sqlstate == "PGRST":
        try:
            m = json.loads(message)
            det = json.loads(d.message_detail or "")
            assert isinstance(m.get("code"), str) and isinstance(m.get("message"), str)
            assert isinstance(det.get("status"), int) and isinstance(det.get("headers"), dict)
            assert all(isinstance(v, str) for v in det["headers"].values())
        except (ValueError, AssertionError):
            return 500, {"Content-Type": "application/json; charset=utf-8"}, {
                "code": "PGRST121", "message": "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
                "details": None, "hint": None}
        headers = dict(det["headers"])
        headers["Content-Type"] = "application/json; charset=utf-8"
        return det["status"], headers, {"code": m["code"], "message": m["message"],
                                        "details": m.get("details"), "hint": m.get("hint")}
    status = http_status(sqlstate, message, role)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return status, headers, {"code": sqlstate, "message": message,
                             "details": d.message_detail, "hint": d.message_hint}


def request(conninfo, fn, body, role="webuser", claims=None, method="POST", extra_headers=None):
    """One POST /rpc/<fn> as PostgREST runs it; returns (status, headers, body)."""
    claims = dict(claims or {})
    claims["role"] = role
    headers = {"content-type": "application/json", "accept": "application/json"}
    # PostgREST passes header names lower-cased
    headers.update({k.lower(): v for k, v in (extra_headers or {}).items()})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute("BEGIN ISOLATION LEVEL READ COMMITTED " +
                    ("READ WRITE" if method == "POST" and fn not in STABLE else "READ ONLY"),
                    prepare=True)
        try:
            cur.execute(SETLOCALS, ['"profile", "public"', role, json.dumps(claims), method,
                                    "/rpc/" + fn, json.dumps(headers), "{}"], prepare=True)
            if fn in ("create_profile", "create_profiles"):
                cur.execute(WRAP.format(call=CALL_SINGLE.format(fn=fn), fn=fn), [body], prepare=True)
            else:
                cur.execute(WRAP.format(call=call_named(fn, json.loads(body)), fn=fn),
                            [Json(json.loads(body))], prepare=True)
            row = cur.fetchone()
            cur.execute("COMMIT", prepare=True)
        except psycopg.Error as e:
            cur.execute("ABORT")
            return error_response(e, role)
    total, page, rbody, rheaders, rstatus, _ = row
    status = int(rstatus) if rstatus else 200
    out = {"Content-Type": "application/json; charset=utf-8"}
    for h in json.loads(rheaders) if rheaders else []:
        out.update(h)
    return status, out, rbody


def main():
    host, port, superuser = sys.argv[1:4]
    admin = f"host={host} port={port} user={superuser} dbname=postgres"
    api = f"host={host} port={port} user=authenticator dbname=postgres"
    with open(sys.argv[4] if len(sys.argv) > 4 else "test/sdk_seed.json") as f:
        sdk_seed = json.load(f)

    with psycopg.connect(admin, autocommit=True) as conn:
        run = conn.execute
        run("CREATE EXTENSION profile_ext")
        if os.environ.get("PROFILE_CITUS"):
            # on a Citus coordinator (test/t/007_citus.pl)
            run("SELECT profile.distribute()")
        run("CREATE ROLE authenticator LOGIN NOINHERIT")
        run(f"CREATE ROLE {ANON} NOLOGIN")
        run("CREATE ROLE webuser NOLOGIN")
        run(f"GRANT {ANON}, webuser TO authenticator")
        run("SELECT profile.grant_api('webuser')")
        run("SELECT profile.trust_claims('webuser')")
        run("SET profile_ext.password_memlimit = '64kB'")
        tokens = {}
        for tenant, client, settings, contract in [
                ("sample-tenant", "crafter-app", "{}", True),
                ("hood", "ocamba", "{}", True),
                ("cms", "cms-app", "{}", True),
                ("ropo", "ropo-partner", '{"complete_fields": ["full_name", "email", "mobile_phone_number"], '
                 '"incomplete_profiles": true, "wizard_url": "https://one.ropo.example/onboarding/{id}"}', True),
                ("idp", "sdk-app", "{}", True),
                ("gated", "no-contract", "{}", False),
                ("off", "off-app", '{"enabled": false}', True),
                ("tight", "tight-app", '{"rate_limit": {"per_second": 1, "per_minute": 0}}', True)]:
            run("SELECT profile.create_tenant(%s, %s::jsonb)", [tenant, settings])
            run("SELECT profile.create_client(%s)", [client])
            if contract:
                run("SELECT profile.grant_contract(%s, 'create_customer_api')", [client])
            tokens[client] = run("SELECT profile.issue_access_token(%s, ARRAY[%s])",
                                 [client, tenant]).fetchone()[0]
        run("ALTER ROLE authenticator SET profile_ext.password_memlimit = '64kB'")

    crafter = {"accessTokenId": tokens["crafter-app"], "tenantName": "sample-tenant",
               "username": "john.doe", "password": "passw0rd", "email": "john.doe@example.com",
               "enabled": "false", "attributes": "{\"firstName\":\"John\",\"lastName\":\"Doe\"}",
               "verificationUrl": None}
    cases = [
        # name, function, body, role, claims, method, expected status, checks on the body
        ("Crafter's john.doe example", "create_profile", crafter, "webuser", None, "POST", 201,
         {"username": "john.doe", "enabled": False, "verified": False, "tenant": "sample-tenant"}),
        ("Ocamba's example", "create_profile",
         {"accessTokenId": tokens["ocamba"], "mobile_phone_number": "+49658245684",
          "email": "john.doe@example.com", "full_name": "John Doe"}, "webuser", None, "POST", 201,
         {"country_code": "DE", "mobile_phone_number": "+49658245684"}),
        ("the CMS field set", "create_profile",
         {"accessTokenId": tokens["cms-app"], "login": "jane.cms", "password": "correct horse",
          "email": "jane@example.com", "access_level": 100, "status": "E", "language": "en",
          "role_ids": [1, 2], "force_change_password": True, "stripe_customer_id": "cus_ABC"},
         "webuser", None, "POST", 201, {"username": "jane.cms", "access_level": 100}),
        ("Ropo, complete", "create_profile",
         {"accessTokenId": tokens["ropo-partner"], "full_name": "Maija Meikäläinen",
          "email": "maija@example.fi", "mobile_phone_number": "+358 40 123 4567"},
         "webuser", None, "POST", 201, {"state": "complete", "wizard_url": None}),
        ("Ropo, incomplete", "create_profile",
         {"accessTokenId": tokens["ropo-partner"], "email": "matti@example.fi"},
         "webuser", None, "POST", 202, {"state": "incomplete"}),
        ("the SDK's registration", "register_user_profile",
         {"user_profile_id": "c908bc7c-9917-48fd-b862-d901a0880fef",
          "payload": dict(sdk_seed, accessTokenId=tokens["sdk-app"])},
         "webuser", None, "POST", 201, {"audit_events": 2, "country_code": "US"}),
        ("trusted JWT claims instead of a token", "create_profile",
         {"tenantName": "hood", "email": "claims@example.com"},
         "webuser", {"sub": "ocamba"}, "POST", 201, {"tenant": "hood"}),
        ("INVALID_REQUEST", "create_profile", [{"password": "x"}], "webuser", None, "POST", 400,
         {"code": "INVALID_REQUEST"}),
        ("VALIDATION_FAILED", "create_profile",
         {"accessTokenId": tokens["ocamba"], "email": "nope", "password": "short"},
         "webuser", None, "POST", 422, {"code": "VALIDATION_FAILED"}),
        ("UNAUTHENTICATED", "create_profile", {"accessTokenId": "pe_nope", "email": "a@example.com"},
         "webuser", None, "POST", 401, {"code": "UNAUTHENTICATED"}),
        ("TENANT_NOT_FOUND", "create_profile",
         {"tenantName": "nope", "email": "a@example.com"}, "webuser", {"sub": "ocamba"}, "POST", 404,
         {"code": "TENANT_NOT_FOUND"}),
        ("TENANT_FORBIDDEN", "create_profile",
         {"accessTokenId": tokens["off-app"], "email": "a@example.com"}, "webuser", None, "POST", 403,
         {"code": "TENANT_FORBIDDEN"}),
        ("CONTRACT_INACTIVE", "create_profile",
         {"accessTokenId": tokens["no-contract"], "email": "a@example.com"}, "webuser", None, "POST", 403,
         {"code": "CONTRACT_INACTIVE"}),
        ("PROFILE_EXISTS", "create_profile", crafter, "webuser", None, "POST", 409,
         {"code": "PROFILE_EXISTS"}),
        ("PROFILE_EXISTS for a registered id", "register_user_profile",
         {"user_profile_id": "c908bc7c-9917-48fd-b862-d901a0880fef",
          "payload": {"accessTokenId": tokens["sdk-app"], "countryCode": "US"}},
         "webuser", None, "POST", 409, {"code": "PROFILE_EXISTS"}),
        ("RATE_LIMITED, first call", "create_profile",
         {"accessTokenId": tokens["tight-app"], "email": "t1@example.com"}, "webuser", None, "POST", 201, {}),
        ("RATE_LIMITED", "create_profile",
         {"accessTokenId": tokens["tight-app"], "email": "t2@example.com"}, "webuser", None, "POST", 429,
         {"code": "RATE_LIMITED"}),
        ("update_profile completes the incomplete Ropo profile", "update_profile",
         {"id": "RopoIncompleteId", "payload": {"accessTokenId": tokens["ropo-partner"], "full_name": "Matti",
                                               "mobile_phone_number": "+358 40 765 4321"}},
         "webuser", None, "POST", 200, {"state": "complete"}),
        ("PROFILE_NOT_FOUND", "update_profile",
         {"id": "00000000-0000-4000-8000-000000000000", "payload": {"accessTokenId": tokens["ropo-partner"]}},
         "webuser", None, "POST", 404, {"code": "PROFILE_NOT_FOUND"}),
        ("VERIFICATION_INVALID", "verify_profile", {"token": "pv_" + "A" * 43}, "webuser", None, "POST", 400,
         {"code": "VERIFICATION_INVALID"}),
        # reading, deleting and erasing (1.1): GET with the id in the query
        # string and JWT claims, POST for the rest
        ("GET /rpc/get_profile?id=... with JWT claims", "get_profile", {"id": "CrafterId"},
         "webuser", {"sub": "crafter-app", "tenant": "sample-tenant"}, "GET", 200,
         {"username": "john.doe", "tenant": "sample-tenant", "roles": [], "verified": False}),
        ("POST /rpc/get_profile with an access token", "get_profile",
         {"id": "CrafterId", "payload": {"accessTokenId": tokens["crafter-app"]}}, "webuser", None, "POST", 200,
         {"username": "john.doe"}),
        ("GET /rpc/get_profile of another tenant's profile: PROFILE_NOT_FOUND", "get_profile", {"id": "CrafterId"},
         "webuser", {"sub": "ocamba", "tenant": "hood"}, "GET", 404, {"code": "PROFILE_NOT_FOUND"}),
        ("GET /rpc/get_profile of an unknown id", "get_profile", {"id": "00000000-0000-7000-8000-000000000000"},
         "webuser", {"sub": "crafter-app", "tenant": "sample-tenant"}, "GET", 404, {"code": "PROFILE_NOT_FOUND"}),
        ("POST /rpc/find_profile by username, case folded", "find_profile",
         {"payload": {"accessTokenId": tokens["crafter-app"], "username": "JOHN.Doe"}}, "webuser", None, "POST", 200,
         {"username": "john.doe"}),
        ("POST /rpc/find_profile by phone, written another way", "find_profile",
         {"payload": {"accessTokenId": tokens["ocamba"], "phone": "0049 658 245684"}}, "webuser", None, "POST", 200,
         {"mobile_phone_number": "+49658245684"}),
        ("POST /rpc/find_profile, no match", "find_profile",
         {"payload": {"accessTokenId": tokens["crafter-app"], "email": "nobody@example.com"}},
         "webuser", None, "POST", 404, {"code": "PROFILE_NOT_FOUND"}),
        ("POST /rpc/find_profile naming two lookups", "find_profile",
         {"payload": {"accessTokenId": tokens["crafter-app"], "email": "a@example.com", "username": "john.doe"}},
         "webuser", None, "POST", 422, {"code": "VALIDATION_FAILED"}),
        ("GET /rpc/delete_profile is refused: 405", "delete_profile", {"id": "CmsId"},
         "webuser", {"sub": "cms-app", "tenant": "cms"}, "GET", 405, {"code": "25006"}),
        ("POST /rpc/delete_profile", "delete_profile",
         {"id": "CmsId", "payload": {"accessTokenId": tokens["cms-app"]}}, "webuser", None, "POST", 200,
         {"deleted": True}),
        ("POST /rpc/delete_profile again: PROFILE_NOT_FOUND", "delete_profile",
         {"id": "CmsId", "payload": {"accessTokenId": tokens["cms-app"]}}, "webuser", None, "POST", 404,
         {"code": "PROFILE_NOT_FOUND"}),
        ("POST /rpc/erase_profile with JWT claims", "erase_profile", {"id": "OcambaId"},
         "webuser", {"sub": "ocamba", "tenant": "hood"}, "POST", 200, {"erased": True, "events_erased": 1}),
        ("GET /rpc/get_profile of an erased profile", "get_profile", {"id": "OcambaId"},
         "webuser", {"sub": "ocamba", "tenant": "hood"}, "GET", 404, {"code": "PROFILE_NOT_FOUND"}),
        # batches and idempotency keys (1.1)
        ("POST /rpc/create_profiles", "create_profiles",
         {"accessTokenId": tokens["ocamba"], "profiles": [{"email": "b1@example.com"}, {"email": "nope"},
                                                          {"email": "B1@example.com"}]},
         "webuser", None, "POST", 200, {"created": 1, "failed": 2}),
        ("Idempotency-Key: the first call", "create_profile",
         {"accessTokenId": tokens["ocamba"], "email": "idem@example.com"}, "webuser", None, "POST", 201,
         {"email": "idem@example.com"}, {"Idempotency-Key": "pay-42"}),
        ("Idempotency-Key: the retry replays, with the first status", "create_profile",
         {"accessTokenId": tokens["ocamba"], "email": "idem@example.com"}, "webuser", None, "POST", 201,
         {"email": "idem@example.com", "replayed": True}, {"Idempotency-Key": "pay-42"}),
        ("Idempotency-Key with another request: IDEMPOTENCY_MISMATCH", "create_profile",
         {"accessTokenId": tokens["ocamba"], "email": "other@example.com"}, "webuser", None, "POST", 422,
         {"code": "IDEMPOTENCY_MISMATCH"}, {"Idempotency-Key": "pay-42"}),
        ("the anonymous role may not execute (PostgREST's own 42501 mapping)", "create_profile",
         {"email": "a@example.com"}, ANON, None, "POST", 401, {"code": "42501"}),
        ("GET runs READ ONLY: 25006 is 405", "create_profile",
         {"accessTokenId": tokens["ocamba"], "email": "get@example.com"}, "webuser", None, "GET", 405,
         {"code": "25006"}),
    ]

    n = failed = 0
    ids = {}
    for case in cases:
        name, fn, body, role, claims, method, want, checks = case[:8]
        extra_headers = case[8] if len(case) > 8 else None
        if isinstance(body, dict) and body.get("id") in ("RopoIncompleteId", "CrafterId", "CmsId", "OcambaId"):
            body = dict(body, id=ids.get(body["id"]))
        status, headers, rbody = request(api, fn, json.dumps(body), role, claims, method, extra_headers)
        for case, key in (("Ropo, incomplete", "RopoIncompleteId"), ("Crafter's john.doe example", "CrafterId"),
                          ("the CMS field set", "CmsId"), ("Ocamba's example", "OcambaId")):
            if name == case and isinstance(rbody, dict):
                ids[key] = rbody.get("id")
        got = rbody if isinstance(rbody, dict) else {}
        if isinstance(got.get("details"), str) and got.get("code") in (
                "VALIDATION_FAILED", "UNAUTHENTICATED", "TENANT_NOT_FOUND", "TENANT_FORBIDDEN",
                "CONTRACT_INACTIVE", "PROFILE_EXISTS", "INVALID_REQUEST", "RATE_LIMITED",
                "PROFILE_NOT_FOUND", "VERIFICATION_INVALID", "IDEMPOTENCY_MISMATCH"):
            details = json.loads(got["details"])
            ok_details = details.get("code") == got["code"] and len(details.get("trace_id", "")) == 36
        else:
            ok_details = True
        ok = (status == want and all(got.get(k) == v for k, v in checks.items()) and ok_details and
              headers.get("Content-Type", "").startswith("application/json") and
              (status != 401 or headers.get("WWW-Authenticate") == "Bearer") and
              (status != 429 or headers.get("Retry-After", "").isdigit()) and
              "passw0rd" not in json.dumps(rbody) and "password" not in got)
        n += 1
        if not ok:
            failed += 1
        print(f"{'ok' if ok else 'not ok'} {n} - {name}: HTTP {status}")
        if os.environ.get("SHOW_RESPONSES"):
            print(f"# {status} {json.dumps({k: v for k, v in headers.items() if k != 'Content-Type'})} {json.dumps(rbody)}")
        if not ok:
            print(f"#   want {want} with {checks}; got headers {headers} body {json.dumps(rbody)[:400]}")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
