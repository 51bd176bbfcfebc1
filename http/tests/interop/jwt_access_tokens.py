#!/usr/bin/env python3
"""JWT access tokens (RFC 9068) from credlog, checked by PyJWT.

A server issuing JWT access tokens (``[oauth2] access_token_format =
"jwt"``) gives a confidential client a token by the password grant for
two resources (RFC 8707). PyJWT's ``PyJWKClient`` fetches the key the
header's ``kid`` names from the server's JWK Set and verifies the token:
RS256, header ``typ: at+jwt``, ``iss`` the issuer of the metadata, ``aud``
the resources asked for, ``exp``, ``iat``, ``jti``, ``sub``, ``client_id``
and ``scope`` present. The token works at ``/api/me``; once revoked
(RFC 7009), ``/api/me`` refuses it, though its signature still verifies.
A resource that is not an absolute URI is ``invalid_target``.

Prints ``ok <case>`` per case; on the first failure ``FAIL ...`` on stderr
and exits 1.

Usage:

    jwt_access_tokens.py --base-url http://127.0.0.1:PORT   CREDLOG_BASE_URL
                         --client-id ID --client-secret S
                         [--username demo --password demo]

Run by ``http/tests/jwt_access_tokens.rs`` (against ``credlog serve``).
"""

import argparse
import os
import sys

import jwt
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_support import add_option, check, expect_status, recorded, run, versions  # noqa: E402

RESOURCES = ["https://api.example.com/", "urn:example:calendar"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_option(parser, "--base-url", "CREDLOG_BASE_URL")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    add_option(parser, "--username", "CREDLOG_USERNAME", "demo")
    add_option(parser, "--password", "CREDLOG_PASSWORD", "demo")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    session = requests.Session()
    recorded(session)
    auth = (args.client_id, args.client_secret)
    state = {}

    def metadata():
        response = session.get(f"{base}/.well-known/oauth-authorization-server")
        expect_status(response, 200, "metadata")
        return response.json()

    def token_by_password():
        response = session.post(
            metadata()["token_endpoint"],
            data=[
                ("grant_type", "password"),
                ("username", args.username),
                ("password", args.password),
            ]
            + [("resource", resource) for resource in RESOURCES],
            auth=auth,
        )
        expect_status(response, 200, "the password grant")
        body = response.json()
        check(body["token_type"] == "Bearer", f"token_type {body}")
        state["token"] = body["access_token"]

    def pyjwt_verifies_it():
        meta = metadata()
        token = state["token"]
        header = jwt.get_unverified_header(token)
        check(header.get("typ") == "at+jwt", f"header {header}")
        check(header.get("alg") == "RS256", f"header {header}")
        key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=RESOURCES[0],
            issuer=meta["issuer"],
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
        )
        check(claims["aud"] == RESOURCES, f"aud {claims}")
        check(claims["client_id"] == args.client_id, f"client_id {claims}")
        check(isinstance(claims["scope"], str), f"scope {claims}")
        check(claims["exp"] > claims["iat"], f"exp {claims}")
        check(claims["sub"] != args.username, f"sub is the OpenID subject {claims}")
        # Another audience is refused by the library.
        try:
            jwt.decode(
                token, key.key, algorithms=["RS256"], audience="https://elsewhere.example/"
            )
        except jwt.InvalidAudienceError:
            pass
        else:
            check(False, "PyJWT accepted a token for another audience")
        state["key"] = key.key

    def works_until_revoked():
        token = state["token"]
        me = session.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"})
        expect_status(me, 200, "/api/me with the JWT")
        revoked = session.post(metadata()["revocation_endpoint"], data={"token": token}, auth=auth)
        expect_status(revoked, 200, "revocation")
        me = session.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"})
        expect_status(me, 401, "/api/me with the revoked JWT")
        # Its signature still verifies: only the server knows it was revoked.
        jwt.decode(token, state["key"], algorithms=["RS256"], audience=RESOURCES[1])

    def a_relative_resource_is_invalid_target():
        response = session.post(
            metadata()["token_endpoint"],
            data={
                "grant_type": "password",
                "username": args.username,
                "password": args.password,
                "resource": "relative/path",
            },
            auth=auth,
        )
        expect_status(response, 400, "a relative resource")
        check(response.json()["error"] == "invalid_target", f"{response.json()}")

    run(
        f"JWT access tokens, with {versions(['PyJWT', 'requests'])}",
        [
            ("password grant with two resources", token_by_password),
            ("PyJWT verifies the at+jwt against the JWK Set", pyjwt_verifies_it),
            ("the JWT works at /api/me until revoked", works_until_revoked),
            ("a relative resource is invalid_target", a_relative_resource_is_invalid_target),
        ],
    )


if __name__ == "__main__":
    main()
