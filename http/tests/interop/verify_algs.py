#!/usr/bin/env python3
"""ID tokens of every signing algorithm credlog offers, checked by joserfc.

Reads one JSON object on stdin::

    {"issuer": "http://127.0.0.1:PORT",
     "jwks_uri": "http://127.0.0.1:PORT/oauth2/jwks",
     "tokens": [{"alg": "ES256", "client_id": "...", "id_token": "...",
                 "access_token": "..."}, ...]}

fetches the JWK Set from ``jwks_uri`` and, for each token, has joserfc
verify it with the key its ``kid`` names, allowing only the algorithm the
client registered (``id_token_signed_response_alg``): the header's ``alg``,
the signature, ``iss``, ``aud`` and ``exp``; then checks ``at_hash`` (OpenID
Connect Core 1.0 3.1.3.6: the left half of the access token's hash, SHA-512
for EdDSA on Ed25519). A token is also refused when only another algorithm
is allowed. Prints ``ok <alg>`` per token; on the first failure ``FAIL ...``
on stderr and exits 1.

Run by ``http/tests/signing_algs.rs``.
"""

import base64
import hashlib
import json
import sys
import urllib.request
import warnings

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# joserfc warns that RFC 9864 deprecates the polymorphic "EdDSA" name; it
# is still what OpenID Connect registers and what credlog signs with.
warnings.simplefilter("ignore")

HASHES = {"RS256": hashlib.sha256, "PS256": hashlib.sha256,
          "ES256": hashlib.sha256, "EdDSA": hashlib.sha512}


def fail(message):
    print(f"FAIL {message}", file=sys.stderr)
    sys.exit(1)


def at_hash(alg, access_token):
    digest = HASHES[alg](access_token.encode("ascii")).digest()
    half = digest[: len(digest) // 2]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode("ascii")


def main():
    given = json.load(sys.stdin)
    with urllib.request.urlopen(given["jwks_uri"], timeout=30) as response:
        key_set = KeySet.import_key_set(json.load(response))
    published = sorted(key.alg for key in key_set.keys)
    if published != sorted(HASHES):
        fail(f"the JWK Set holds keys for {published}")
    for case in given["tokens"]:
        alg = case["alg"]
        try:
            token = jwt.decode(case["id_token"], key_set, algorithms=[alg])
        except JoseError as error:
            fail(f"{alg}: joserfc refuses the ID token: {error!r}")
        if token.header.get("alg") != alg:
            fail(f"{alg}: the header says {token.header}")
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": given["issuer"]},
            aud={"essential": True, "value": case["client_id"]},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(token.claims)
        except JoseError as error:
            fail(f"{alg}: claims {token.claims}: {error!r}")
        expected = at_hash(alg, case["access_token"])
        if token.claims.get("at_hash") != expected:
            fail(f"{alg}: at_hash {token.claims.get('at_hash')}, expected {expected}")
        # Allowed only another algorithm, joserfc refuses it.
        other = "ES256" if alg != "ES256" else "RS256"
        try:
            jwt.decode(case["id_token"], key_set, algorithms=[other])
        except JoseError:
            pass
        else:
            fail(f"{alg}: accepted when only {other} is allowed")
        print(f"ok {alg}", flush=True)


if __name__ == "__main__":
    main()
