#!/usr/bin/env python3
"""Third-party OpenID Connect and device-flow clients against credlog.

* Authlib's OpenID Connect client: the code flow with ``openid`` and a
  ``nonce``, its ID token decoded with the server's published JWK Set
  (``authlib.jose``) and validated as a ``CodeIDToken`` (iss, aud, exp,
  iat, nonce, at_hash), a refresh's new ID token, UserInfo, and the
  Discovery document Authlib reads.
* Authlib's implicit sign-in (``response_type=id_token token``): the ID
  token from the fragment validated as an ``ImplicitIDToken`` (nonce and
  at_hash required), and a request without a nonce refused.
* The device authorization grant (RFC 8628) with plain ``requests``: the
  device asks for codes, polls (``authorization_pending``, ``slow_down``),
  the person types the user code on ``/device`` and approves; the device
  then gets its tokens. A denied one gets ``access_denied``.

The clients are registered through POST /clients as the demo user, unless
they are given: ``--client-id`` and ``--client-secret`` (a confidential
client of the code flow, ``client_secret_basic``, with ``openid profile``),
``--implicit-client-id`` (registered for ``id_token token``) and
``--device-client-id`` (a public client of the device grant), all with the
redirect URI ``--redirect-uri``. Prints ``ok <case>`` per case; on the
first failure ``FAIL ...`` on stderr and exits 1.

Usage:

    openid_clients.py --base-url http://127.0.0.1:PORT   CREDLOG_BASE_URL
                      [--username demo --password demo]  CREDLOG_USERNAME / _PASSWORD
                      [--redirect-uri URI]               CREDLOG_REDIRECT_URI
                      [--session-cookie credlog_session] CREDLOG_SESSION_COOKIE
                      [--client-id ID --client-secret S]     (only on the command line)
                      [--implicit-client-id ID] [--device-client-id ID]  (the same)

Run by ``http/tests/interop_python.rs`` (against ``credlog serve``) and
``axum/tests/interop_python.rs`` (against the axum example).
"""

import argparse
import os
import sys
import time
import urllib.parse

os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken, ImplicitIDToken  # noqa: E402

sys.dont_write_bytecode = True
from interop_support import (  # noqa: E402
    add_option,
    add_server_options,
    check,
    consent_form,
    expect_status,
    parse_page,
    recorded,
    run,
    show,
    sign_in,
    versions,
)

CALLBACK = "http://127.0.0.1:8000/callback"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Config:
    def __init__(self, args):
        self.base_url = args.base_url.rstrip("/")
        self.username = args.username
        self.password = args.password
        self.callback = args.redirect_uri
        self.skip = args.skip
        self.browser = sign_in(self.base_url, self.username, self.password, args.session_cookie)
        self.discovery = self.json("/.well-known/openid-configuration")
        # The clients given (each registered when first needed otherwise).
        self._client = args.client_id and {"client_id": args.client_id, "client_secret": args.client_secret}
        self._device = args.device_client_id and {"client_id": args.device_client_id}
        self._implicit = args.implicit_client_id and {"client_id": args.implicit_client_id}

    def url(self, path):
        return self.base_url + path

    def json(self, path):
        response = requests.get(self.url(path))
        expect_status(response, 200, f"GET {path}")
        return response.json()

    def register(self, registration, what):
        response = self.browser.post(self.url("/clients"), json=registration)
        expect_status(response, 201, f"POST /clients ({what})")
        return response.json()

    def client(self):
        """A confidential client that may ask for openid."""
        if not self._client:
            self._client = self.register(
                {
                    "client_name": "interop OpenID Connect",
                    "redirect_uris": [self.callback],
                    "scope": "openid profile",
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_basic",
                },
                "openid",
            )
        return self._client

    def implicit_client(self):
        """A public client registered for implicit sign-in by name."""
        if not self._implicit:
            self._implicit = self.register(
                {
                    "client_name": "interop single-page app",
                    "redirect_uris": [self.callback],
                    "scope": "openid profile",
                    "grant_types": ["implicit"],
                    "response_types": ["id_token token"],
                    "token_endpoint_auth_method": "none",
                },
                "implicit",
            )
            registered = self._implicit
            check(registered["response_types"] == ["id_token token"], f"registered {registered}")
        return self._implicit

    def device_client(self):
        """A public client of the device grant (a TV has no secret)."""
        if not self._device:
            self._device = self.register(
                {
                    "client_name": "interop TV",
                    "scope": "profile",
                    "grant_types": [DEVICE_GRANT, "refresh_token"],
                    "response_types": [],
                    "token_endpoint_auth_method": "none",
                },
                "device",
            )
        return self._device


def authlib_session(config):
    client = config.client()
    session = OAuth2Session(
        client["client_id"],
        client["client_secret"],
        scope="openid profile",
        redirect_uri=config.callback,
        token_endpoint_auth_method="client_secret_basic",
    )
    return session, recorded(session)


def code_flow(config, session, nonce):
    """The person signs in and consents; Authlib builds the request and
    redeems the code. The token response."""
    url, state = session.create_authorization_url(config.discovery["authorization_endpoint"], nonce=nonce)
    page = config.browser.get(url, allow_redirects=False)
    action, hidden = consent_form(page, "/oauth2/authorize", "the consent page")
    answer = config.browser.post(action, data=hidden + [("confirm", "yes")], allow_redirects=False)
    expect_status(answer, 302, "POST /oauth2/authorize")
    location = answer.headers["Location"]
    check(location.startswith(config.callback), f"redirected to {location!r}{show(answer)}")
    return session.fetch_token(config.discovery["token_endpoint"], authorization_response=location, state=state)


def validated(config, token, nonce):
    """The ID token decoded with the JWK Set the Discovery document names
    and validated as Authlib's CodeIDToken."""
    keys = JsonWebKey.import_key_set(requests.get(config.discovery["jwks_uri"]).json())
    client_id = config.client()["client_id"]
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"values": [config.discovery["issuer"]]}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    check(claims["aud"] == client_id, f"aud {claims['aud']!r}")
    return claims


def discovery(config):
    document = config.discovery
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        check(document.get(name), f"the Discovery document has no {name}: {document}")
    check(document["issuer"] == config.base_url, f"issuer {document['issuer']!r}")
    check("RS256" in document["id_token_signing_alg_values_supported"], f"{document}")
    check(DEVICE_GRANT in document["grant_types_supported"], f"{document}")
    check(document.get("device_authorization_endpoint"), f"no device_authorization_endpoint: {document}")


def id_token(config):
    session, _ = authlib_session(config)
    nonce = generate_token(20)
    token = code_flow(config, session, nonce)
    claims = validated(config, token, nonce)
    check(claims["nonce"] == nonce, "nonce")
    check(claims.get("auth_time"), f"no auth_time: {dict(claims)}")
    # A wrong nonce is caught by Authlib: the check is real.
    try:
        validated(config, token, "another nonce")
    except Exception:
        pass
    else:
        raise AssertionError("Authlib accepted an ID token for another nonce")


def refresh_and_userinfo(config):
    session, _ = authlib_session(config)
    nonce = generate_token(20)
    token = code_flow(config, session, nonce)
    first = validated(config, token, nonce)
    refreshed = session.refresh_token(config.discovery["token_endpoint"])
    keys = JsonWebKey.import_key_set(requests.get(config.discovery["jwks_uri"]).json())
    again = jwt.decode(refreshed["id_token"], keys)
    again.validate(leeway=5)
    check(again["sub"] == first["sub"], "a refresh keeps sub")
    check(again["auth_time"] == first["auth_time"], "a refresh keeps auth_time")
    info = session.get(config.discovery["userinfo_endpoint"])
    expect_status(info, 200, "GET /oauth2/userinfo")
    check(info.json()["sub"] == first["sub"], f"userinfo sub {info.json()}")
    check(info.json().get("preferred_username") == config.username, f"{info.json()}")


def implicit_sign_in(config):
    client = config.implicit_client()
    session = OAuth2Session(client["client_id"], scope="openid profile", redirect_uri=config.callback)
    endpoint = config.discovery["authorization_endpoint"]
    nonce = generate_token(20)
    url, state = session.create_authorization_url(endpoint, response_type="id_token token", nonce=nonce)
    page = config.browser.get(url, allow_redirects=False)
    action, hidden = consent_form(page, "/oauth2/authorize", "the consent page")
    answer = config.browser.post(action, data=hidden + [("confirm", "yes")], allow_redirects=False)
    expect_status(answer, 302, "POST /oauth2/authorize")
    location = answer.headers["Location"]
    check(location.startswith(config.callback + "#"), f"the answer is in the fragment: {location!r}")
    token = session.token_from_fragment(location, state=state)
    keys = JsonWebKey.import_key_set(requests.get(config.discovery["jwks_uri"]).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=ImplicitIDToken,
        claims_options={"iss": {"values": [config.discovery["issuer"]]}},
        claims_params={"nonce": nonce, "client_id": client["client_id"], "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    check(claims.get("at_hash"), f"no at_hash: {dict(claims)}")
    info = requests.get(config.discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"})
    expect_status(info, 200, "GET /oauth2/userinfo")
    check(info.json()["sub"] == claims["sub"], f"userinfo sub {info.json()}")
    # Without a nonce the server refuses, in the fragment, before asking.
    url, _ = session.create_authorization_url(endpoint, response_type="id_token token")
    refused = config.browser.get(url, allow_redirects=False)
    expect_status(refused, 302, "GET /oauth2/authorize without a nonce")
    fragment = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(refused.headers["Location"]).fragment))
    check(fragment.get("error") == "invalid_request", f"without a nonce: {fragment}")


def device_codes(config):
    client_id = config.device_client()["client_id"]
    response = requests.post(
        config.discovery["device_authorization_endpoint"], data={"client_id": client_id, "scope": "profile"}
    )
    expect_status(response, 200, "POST /oauth2/device_authorization")
    codes = response.json()
    for name in ("device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"):
        check(name in codes, f"no {name}: {codes}")
    return client_id, codes


def poll(config, client_id, codes):
    return requests.post(
        config.discovery["token_endpoint"],
        data={"grant_type": DEVICE_GRANT, "device_code": codes["device_code"], "client_id": client_id},
    )


def person_decides(config, codes, confirm):
    """The person opens verification_uri_complete, confirms the code shown,
    then allows or denies."""
    page = config.browser.get(codes["verification_uri_complete"], allow_redirects=False)
    expect_status(page, 200, "GET /device")
    for _ in range(2):
        forms = [form for form in parse_page(page).forms if form["method"] == "post"]
        check(forms, f"no form on the device page{show(page)}")
        form = forms[0]
        fields = [(name, value) for kind, name, value in form["inputs"] if name and kind != "submit"]
        names = [name for name, _ in fields]
        action = urllib.parse.urljoin(page.url, form["action"] or page.url)
        if "confirm" in [name for kind, name, _ in form["inputs"]] or "user_code" not in names:
            fields = [(n, v) for n, v in fields if n != "confirm"] + [("confirm", confirm)]
            done = config.browser.post(action, data=fields, allow_redirects=False)
            expect_status(done, 200, "the device consent")
            return
        fields = [(n, codes["user_code"] if n == "user_code" else v) for n, v in fields]
        page = config.browser.post(action, data=fields, allow_redirects=False)
        expect_status(page, 200, "POST /device (the user code)")
    raise AssertionError("the device pages never asked for consent")


def device_flow(config):
    client_id, codes = device_codes(config)
    first = poll(config, client_id, codes)
    expect_status(first, 400, "the first poll")
    check(first.json()["error"] == "authorization_pending", f"{first.json()}")
    hurried = poll(config, client_id, codes)
    check(hurried.json()["error"] == "slow_down", f"a poll at once: {hurried.json()}")
    person_decides(config, codes, "yes")
    time.sleep(codes["interval"] + 5 + 1)
    granted = poll(config, client_id, codes)
    expect_status(granted, 200, "the poll after approval")
    me = requests.get(config.url("/api/me"), headers={"Authorization": f"Bearer {granted.json()['access_token']}"})
    expect_status(me, 200, "GET /api/me with the device's token")
    check(me.json()["user"] == config.username, f"{me.json()}")


def device_denied(config):
    client_id, codes = device_codes(config)
    person_decides(config, codes, "no")
    denied = poll(config, client_id, codes)
    expect_status(denied, 400, "the poll after denial")
    check(denied.json()["error"] == "access_denied", f"{denied.json()}")


# What ``--skip`` may leave out: nothing, every case runs on a server whose
# clients are given or registered.
NEEDS = {}

CASES = [
    ("authlib discovery document", discovery),
    ("authlib code flow: ID token validated as CodeIDToken against the JWK Set", id_token),
    ("authlib refresh keeps sub and auth_time; userinfo", refresh_and_userinfo),
    ("authlib implicit id_token token: ImplicitIDToken with nonce and at_hash", implicit_sign_in),
    ("requests device flow: pending, slow_down, approved", device_flow),
    ("requests device flow: denied", device_denied),
]


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_option(parser, "--base-url", "CREDLOG_BASE_URL")
    add_option(parser, "--username", "CREDLOG_USERNAME", "demo")
    add_option(parser, "--password", "CREDLOG_PASSWORD", "demo")
    # The clients only from the command line: the other scripts' variables
    # (CREDLOG_CLIENT_ID ...) must not stop this one registering its own.
    for name in ("--client-id", "--client-secret", "--implicit-client-id", "--device-client-id"):
        parser.add_argument(name, default="", help="(registered through POST /clients if not given)")
    add_option(parser, "--redirect-uri", "CREDLOG_REDIRECT_URI", CALLBACK)
    add_server_options(parser, NEEDS)
    args = parser.parse_args()
    if bool(args.client_id) != bool(args.client_secret):
        parser.error("--client-id and --client-secret go together")
    return args


if __name__ == "__main__":
    config = Config(arguments())
    packages = versions(["Authlib", "requests"])
    run(
        f"python {sys.version.split()[0]}; {packages}; server {config.base_url}",
        ((label, lambda case=case: case(config)) for label, case in CASES),
        config.skip,
    )
