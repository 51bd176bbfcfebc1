#!/usr/bin/env python3
"""Third-party OAuth 1 clients against a running credlog server.

Runs the three-legged flow of RFC 5849 (temporary credentials, resource
owner authorization, token credentials, then a protected resource) with
two independent client libraries:

* requests-oauthlib (``requests_oauthlib.OAuth1Session``, on oauthlib)
* Authlib (``authlib.integrations.requests_client.OAuth1Session``)

for each signature method and parameter placement credlog's contract
promises, plus a few refusals. The resource owner's part (sign in, consent)
is played by a plain ``requests.Session`` that follows no redirects.
Against a server that allows fewer signature methods, ``--skip`` leaves
out the cases of the others.

Prints ``ok <library> <method> <placement>`` per case; on the first
failure prints ``FAIL ...`` with the exchange that went wrong on stderr and
exits 1.

Usage (each option may also come from the environment variable named):

    oauth1_clients.py --base-url http://127.0.0.1:PORT         CREDLOG_BASE_URL
                      --client-id demo-confidential            CREDLOG_CLIENT_ID
                      --client-secret SECRET                   CREDLOG_CLIENT_SECRET
                      --rsa-client-id demo-rsa                 CREDLOG_RSA_CLIENT_ID
                      --rsa-key-file /tmp/...pem               CREDLOG_RSA_KEY_FILE
                      [--username demo --password demo]        CREDLOG_USERNAME / _PASSWORD
                      [--redirect-uri URI]                     CREDLOG_REDIRECT_URI
                      [--client-scope "profile email"]         CREDLOG_CLIENT_SCOPE
                      [--session-cookie credlog_session]       CREDLOG_SESSION_COOKIE
                      [--skip hmac-sha256,plaintext,rsa-sha1]  (only on the command line)

The callback is the clients' registered redirect URI (by default
http://127.0.0.1:8000/callback, as ``credlog serve --demo`` registers it),
and the token credential's scope the confidential client's scope. With
``--skip rsa-sha1`` no RSA-SHA1 client is needed.

This file is run by ``http/tests/interop_python.rs`` (against ``credlog
serve``) and ``axum/tests/interop_python.rs`` (against the axum example)
with the packages of ``requirements.txt`` installed; ``interop_support.py`` (beside it) holds
what it shares with ``oauth2_clients.py``.
"""

import argparse
import base64
import hashlib
import hmac
import re
import sys
import urllib.parse

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth1Session as AuthlibOAuth1Session
from authlib.oauth1 import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape as authlib_escape
from oauthlib import oauth1 as oauthlib_oauth1
from requests_oauthlib import OAuth1Session as RequestsOAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

# interop_support.py sits beside this script: no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from interop_support import (  # noqa: E402
    Failure,
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
OOB = "oob"
SCOPE = "profile email"
FORM = "application/x-www-form-urlencoded"

HMAC_SHA1 = "HMAC-SHA1"
HMAC_SHA256 = "HMAC-SHA256"
RSA_SHA1 = "RSA-SHA1"
PLAINTEXT = "PLAINTEXT"


def expect_form(response, what):
    """A 200 form-encoded answer (RFC 5849 2.1 / 2.3), decoded."""
    expect_status(response, 200, what)
    content_type = response.headers.get("Content-Type", "")
    check(
        content_type.split(";")[0].strip() == FORM,
        f"{what}: expected Content-Type {FORM}, got {content_type!r}{show(response)}",
    )
    return dict(urllib.parse.parse_qsl(response.text, keep_blank_values=True))


def expect_signed(response, method, placement, what):
    """The library put the protocol parameters where it was asked to, with
    the signature method asked for (not a silent fallback)."""
    request = response.request
    authorization = request.headers.get("Authorization", "")
    if isinstance(authorization, bytes):
        authorization = authorization.decode("ascii", "replace")
    body = request.body or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    header_params = {}
    if authorization[:6].lower() == "oauth ":
        for name, value in re.findall(r'([A-Za-z0-9_]+)="([^"]*)"', authorization):
            header_params[name] = urllib.parse.unquote(value)
    places = {
        "header": header_params,
        "body": dict(urllib.parse.parse_qsl(body)),
        "query": dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query)),
    }
    carriers = [place for place, params in places.items() if "oauth_signature" in params]
    check(
        carriers == [placement],
        f"{what}: the library put oauth_signature in {carriers}, asked for {placement}{show(response)}",
    )
    check(
        places[placement].get("oauth_signature_method") == method,
        f"{what}: oauth_signature_method is {places[placement].get('oauth_signature_method')!r}, "
        f"asked for {method}{show(response)}",
    )


def expect_oauth_401(response, what):
    """A 401 with WWW-Authenticate: OAuth and a form-encoded error body."""
    expect_status(response, 401, what)
    challenge = response.headers.get("WWW-Authenticate", "")
    check(
        challenge.lower().startswith("oauth"),
        f"{what}: 401 without a WWW-Authenticate: OAuth challenge{show(response)}",
    )
    body = dict(urllib.parse.parse_qsl(response.text, keep_blank_values=True))
    check("error" in body, f"{what}: 401 body holds no form-encoded `error`{show(response)}")
    return body


# --- the resource owner: sign in and consent, in a plain browser-like session


def resource_owner_grants(config, authorize_url, temporary_token, callback):
    """Signs in as the demo user, opens the consent page and grants.

    Returns the callback URL the browser is sent to (a callback URI) or the
    verifier shown on the page (oob).
    """
    browser = sign_in(config.base_url, config.username, config.password, config.session_cookie)
    page = browser.get(authorize_url, allow_redirects=False)
    action, hidden = consent_form(page, "/oauth1/authorize", "GET /oauth1/authorize (consent page)")
    check(
        ("oauth_token", temporary_token) in hidden,
        f"consent form has no hidden oauth_token={temporary_token!r}: {hidden}{show(page)}",
    )

    granted = browser.post(action, data=hidden + [("confirm", "yes")], allow_redirects=False)
    if callback == OOB:
        expect_status(granted, 200, "POST /oauth1/authorize (oob grant)")
        verifier = parse_page(granted).texts.get("verifier", "").strip()
        check(verifier, f"oob grant page has no id=\"verifier\" element with text{show(granted)}")
        return verifier
    expect_status(granted, 302, "POST /oauth1/authorize (grant)")
    location = granted.headers.get("Location", "")
    check(
        location.startswith(callback + "?"),
        f"grant redirects to {location!r}, not to the callback {callback}{show(granted)}",
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    check(
        query.get("oauth_token") == temporary_token and query.get("oauth_verifier"),
        f"grant redirect lacks oauth_token={temporary_token!r} and an oauth_verifier{show(granted)}",
    )
    return location


# --- the two libraries behind one small interface


class RequestsOAuthlib:
    name = "requests-oauthlib"
    PLACEMENTS = {
        "header": oauthlib_oauth1.SIGNATURE_TYPE_AUTH_HEADER,
        "body": oauthlib_oauth1.SIGNATURE_TYPE_BODY,
        "query": oauthlib_oauth1.SIGNATURE_TYPE_QUERY,
    }
    METHODS = {
        HMAC_SHA1: oauthlib_oauth1.SIGNATURE_HMAC_SHA1,
        HMAC_SHA256: oauthlib_oauth1.SIGNATURE_HMAC_SHA256,
        RSA_SHA1: oauthlib_oauth1.SIGNATURE_RSA_SHA1,
        PLAINTEXT: oauthlib_oauth1.SIGNATURE_PLAINTEXT,
    }
    Denied = TokenRequestDenied

    def session(self, client, method, placement, callback=None, token=None, token_secret=None, verifier=None):
        return RequestsOAuth1Session(
            client.client_id,
            client_secret=None if method == RSA_SHA1 else client.client_secret,
            resource_owner_key=token,
            resource_owner_secret=token_secret,
            callback_uri=callback,
            signature_method=self.METHODS[method],
            signature_type=self.PLACEMENTS[placement],
            rsa_key=client.rsa_key if method == RSA_SHA1 else None,
            verifier=verifier,
        )

    def fetch_request_token(self, session, url):
        return session.fetch_request_token(url)

    def authorization_url(self, session, url):
        return session.authorization_url(url)

    def parse_authorization_response(self, session, location):
        return session.parse_authorization_response(location)

    def fetch_access_token(self, session, url, verifier=None):
        return session.fetch_access_token(url, verifier=verifier)


def authlib_sign_hmac_sha256(client, request):
    """HMAC-SHA256: RFC 5849 3.4.2 with SHA-256 (Authlib ships only SHA-1)."""
    base_string = generate_signature_base_string(request)
    key = authlib_escape(client.client_secret or "") + "&" + authlib_escape(client.token_secret or "")
    digest = hmac.new(key.encode("utf-8"), base_string.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


ClientAuth.register_signature_method(HMAC_SHA256, authlib_sign_hmac_sha256)


class Authlib:
    name = "authlib"
    PLACEMENTS = {"header": "HEADER", "body": "BODY", "query": "QUERY"}
    Denied = OAuthError

    def session(self, client, method, placement, callback=None, token=None, token_secret=None, verifier=None):
        return AuthlibOAuth1Session(
            client.client_id,
            client_secret=None if method == RSA_SHA1 else client.client_secret,
            token=token,
            token_secret=token_secret,
            redirect_uri=callback,
            rsa_key=client.rsa_key if method == RSA_SHA1 else None,
            verifier=verifier,
            signature_method=method,
            signature_type=self.PLACEMENTS[placement],
        )

    def fetch_request_token(self, session, url):
        return session.fetch_request_token(url)

    def authorization_url(self, session, url):
        return session.create_authorization_url(url)

    def parse_authorization_response(self, session, location):
        return session.parse_authorization_response(location)

    def fetch_access_token(self, session, url, verifier=None):
        return session.fetch_access_token(url, verifier=verifier)


# --- the cases


class Client:
    def __init__(self, client_id, client_secret=None, rsa_key=None):
        self.client_id = client_id
        self.client_secret = client_secret
        self.rsa_key = rsa_key


class Config:
    def __init__(self, args):
        self.base_url = args.base_url.rstrip("/")
        self.username = args.username
        self.password = args.password
        self.callback = args.redirect_uri
        self.scope = args.client_scope
        self.session_cookie = args.session_cookie
        self.skip = args.skip
        self.confidential = Client(args.client_id, args.client_secret)
        self.rsa = None
        if RSA_SHA1.lower() not in self.skip:
            with open(args.rsa_key_file, encoding="ascii") as key_file:
                self.rsa = Client(args.rsa_client_id, rsa_key=key_file.read())

    def url(self, path):
        return self.base_url + path

    def client(self, method):
        return self.rsa if method == RSA_SHA1 else self.confidential


def temporary_credentials(library, config, session, responses, method, placement):
    """Leg 1: POST /oauth1/initiate through the library."""
    temporary = library.fetch_request_token(session, config.url("/oauth1/initiate"))
    answer = expect_form(responses[-1], "POST /oauth1/initiate")
    expect_signed(responses[-1], method, placement, "POST /oauth1/initiate")
    check(
        answer.get("oauth_token") and answer.get("oauth_token_secret"),
        f"initiate answer lacks oauth_token/oauth_token_secret{show(responses[-1])}",
    )
    check(
        answer.get("oauth_callback_confirmed") == "true",
        f"initiate answer lacks oauth_callback_confirmed=true{show(responses[-1])}",
    )
    check(
        temporary.get("oauth_token") == answer["oauth_token"],
        f"{library.name} read oauth_token {temporary.get('oauth_token')!r} from {answer!r}",
    )
    return answer


def authorize(library, config, session, temporary, callback):
    """Leg 2: the resource owner grants; the library reads the verifier.

    Returns the verifier; the session is left holding it (callback URI)."""
    authorize_url = library.authorization_url(session, config.url("/oauth1/authorize"))
    check(
        urllib.parse.urlsplit(authorize_url).path == "/oauth1/authorize",
        f"{library.name} built the authorization URL {authorize_url!r}",
    )
    outcome = resource_owner_grants(config, authorize_url, temporary["oauth_token"], callback)
    if callback == OOB:
        return outcome
    params = library.parse_authorization_response(session, outcome)
    check(
        params.get("oauth_token") == temporary["oauth_token"],
        f"{library.name} parsed {params!r} from the callback {outcome!r}",
    )
    return params["oauth_verifier"]


def token_credentials(library, config, session, responses, temporary, verifier, callback, method, placement):
    """Leg 3: POST /oauth1/token through the library."""
    library.fetch_access_token(
        session, config.url("/oauth1/token"), verifier=verifier if callback == OOB else None
    )
    answer = expect_form(responses[-1], "POST /oauth1/token")
    expect_signed(responses[-1], method, placement, "POST /oauth1/token")
    check(
        answer.get("oauth_token") and answer.get("oauth_token_secret"),
        f"token answer lacks oauth_token/oauth_token_secret{show(responses[-1])}",
    )
    check(
        answer["oauth_token"] != temporary["oauth_token"],
        f"the token credential is the temporary credential{show(responses[-1])}",
    )
    return answer


def call_me(library, config, client, method, placement, token):
    """GET /api/me signed with the token credential."""
    session = library.session(
        client, method, placement, token=token["oauth_token"], token_secret=token["oauth_token_secret"]
    )
    responses = recorded(session)
    response = session.get(config.url("/api/me"))
    expect_status(response, 200, "GET /api/me")
    expect_signed(response, method, placement, "GET /api/me")
    try:
        me = response.json()
    except ValueError:
        raise Failure(f"GET /api/me answered no JSON{show(response)}") from None
    check(
        me.get("user") == config.username and me.get("client_id") == client.client_id,
        f"GET /api/me: expected user {config.username!r} and client_id {client.client_id!r}, "
        f"got {me!r}{show(response)}",
    )
    check(
        me.get("scope") == config.scope,
        f"GET /api/me: expected the client's scope {config.scope!r}, got {me.get('scope')!r}",
    )
    check(len(responses) == 1, f"GET /api/me took {len(responses)} requests")


def full_flow(library, config, method, placement, oob=False):
    callback = OOB if oob else config.callback
    client = config.client(method)
    session = library.session(client, method, placement, callback=callback)
    responses = recorded(session)
    temporary = temporary_credentials(library, config, session, responses, method, placement)
    verifier = authorize(library, config, session, temporary, callback)
    token = token_credentials(
        library, config, session, responses, temporary, verifier, callback, method, placement
    )
    # A GET has no body to carry the parameters (RFC 5849 3.5.2 needs a
    # form-encoded entity-body), so the body case reads /api/me by query.
    call_me(library, config, client, method, "query" if placement == "body" else placement, token)
    return temporary, verifier, token


def expect_refused(library, what, call, responses):
    """The library call fails and the server's answer was a 401."""
    try:
        outcome = call()
    except library.Denied:
        pass
    else:
        raise Failure(f"{what}: {library.name} got {outcome!r}, expected a refusal{show(responses[-1])}")
    return expect_oauth_401(responses[-1], what)


def wrong_client_secret(library, config):
    client = Client(config.confidential.client_id, config.confidential.client_secret + "x")
    session = library.session(client, HMAC_SHA1, "header", callback=config.callback)
    responses = recorded(session)
    expect_refused(
        library,
        "POST /oauth1/initiate with a wrong client secret",
        lambda: library.fetch_request_token(session, config.url("/oauth1/initiate")),
        responses,
    )


def token_exchange_twice(library, config):
    temporary, verifier, _ = full_flow(library, config, HMAC_SHA1, "header")
    again = library.session(
        config.confidential,
        HMAC_SHA1,
        "header",
        token=temporary["oauth_token"],
        token_secret=temporary["oauth_token_secret"],
        verifier=verifier,
    )
    responses = recorded(again)
    expect_refused(
        library,
        "second POST /oauth1/token with the same temporary credential and verifier",
        lambda: library.fetch_access_token(again, config.url("/oauth1/token"), verifier=verifier),
        responses,
    )


def wrong_verifier(library, config):
    session = library.session(config.confidential, HMAC_SHA1, "header", callback=config.callback)
    responses = recorded(session)
    temporary = temporary_credentials(library, config, session, responses, HMAC_SHA1, "header")
    verifier = authorize(library, config, session, temporary, config.callback)
    expect_refused(
        library,
        "POST /oauth1/token with a wrong verifier",
        lambda: library.fetch_access_token(session, config.url("/oauth1/token"), verifier=verifier + "x"),
        responses,
    )
    # No guessing: the temporary credential is dead, the right verifier too.
    retry = library.session(
        config.confidential,
        HMAC_SHA1,
        "header",
        token=temporary["oauth_token"],
        token_secret=temporary["oauth_token_secret"],
        verifier=verifier,
    )
    retry_responses = recorded(retry)
    expect_refused(
        library,
        "POST /oauth1/token with the right verifier after a wrong one",
        lambda: library.fetch_access_token(retry, config.url("/oauth1/token"), verifier=verifier),
        retry_responses,
    )


# (signature method, placement, oob): a callback URI unless oob.
FLOWS = [
    (HMAC_SHA1, "header", False),
    (HMAC_SHA1, "body", False),
    (HMAC_SHA1, "query", False),
    (HMAC_SHA256, "header", False),
    (PLAINTEXT, "header", False),
    (RSA_SHA1, "header", False),
    (HMAC_SHA1, "header", True),
]

# What ``--skip`` may leave out: the signature methods beyond HMAC-SHA1
# (RFC 5849 3.4), which a server need not allow.
NEEDS = {
    HMAC_SHA256.lower(): "the server allows HMAC-SHA256",
    PLAINTEXT.lower(): "the server allows PLAINTEXT",
    RSA_SHA1.lower(): "the server allows RSA-SHA1 and has an RSA-SHA1 client (--rsa-client-id, --rsa-key-file)",
}

REFUSALS = [
    ("wrong client secret -> 401 at initiate", wrong_client_secret),
    ("token exchange reused -> 401", token_exchange_twice),
    ("wrong verifier -> 401, then the right one -> 401", wrong_verifier),
]


def cases(config):
    for library in (RequestsOAuthlib(), Authlib()):
        for method, placement, oob in FLOWS:
            label = f"{library.name} {method} {placement}" + (" oob" if oob else "")
            needs = [] if method == HMAC_SHA1 else [method.lower()]
            case = lambda library=library, m=method, p=placement, o=oob: full_flow(  # noqa: E731
                library, config, m, p, o
            )
            yield (label, case, *needs)
        for what, refusal in REFUSALS:
            label = f"{library.name} HMAC-SHA1 header: {what}"
            yield label, lambda library=library, refusal=refusal: refusal(library, config)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_option(parser, "--base-url", "CREDLOG_BASE_URL")
    add_option(parser, "--client-id", "CREDLOG_CLIENT_ID", "demo-confidential")
    add_option(parser, "--client-secret", "CREDLOG_CLIENT_SECRET")
    add_option(parser, "--rsa-client-id", "CREDLOG_RSA_CLIENT_ID", "demo-rsa")
    add_option(parser, "--rsa-key-file", "CREDLOG_RSA_KEY_FILE", "")
    add_option(parser, "--username", "CREDLOG_USERNAME", "demo")
    add_option(parser, "--password", "CREDLOG_PASSWORD", "demo")
    add_option(parser, "--redirect-uri", "CREDLOG_REDIRECT_URI", CALLBACK)
    add_option(parser, "--client-scope", "CREDLOG_CLIENT_SCOPE", SCOPE)
    add_server_options(parser, NEEDS)
    args = parser.parse_args()
    if RSA_SHA1.lower() not in args.skip and not args.rsa_key_file:
        parser.error("--rsa-key-file is required (unless --skip rsa-sha1)")
    return args


if __name__ == "__main__":
    config = Config(arguments())
    packages = versions(["requests-oauthlib", "oauthlib", "Authlib", "requests", "cryptography", "PyJWT"])
    header = f"python {sys.version.split()[0]}; {packages}; server {config.base_url}"
    run(header, cases(config), config.skip)
