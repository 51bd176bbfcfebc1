#!/usr/bin/env python3
"""Third-party OAuth 2 clients against a running credlog server.

Drives credlog's OAuth 2.0 endpoints (RFC 6749 grants, RFC 6750 bearer
use, RFC 7636 PKCE, RFC 7009 revocation, RFC 7662 introspection, RFC 8414
metadata) with two independent client libraries:

* requests-oauthlib (``requests_oauthlib.OAuth2Session``, on oauthlib, with
  its ``WebApplicationClient``, ``MobileApplicationClient``,
  ``BackendApplicationClient`` and ``LegacyApplicationClient``)
* Authlib (``authlib.integrations.requests_client.OAuth2Session``)

for each grant and client authentication method credlog's contract
promises, plus the refusals the libraries surface. The resource owner's
part (sign in, consent) is played by a plain ``requests.Session`` that
follows no redirects; the redirect it is sent to is handed to the library.

Prints ``ok <library> <case>`` per case; on the first failure prints
``FAIL ...`` with the exchange that went wrong on stderr and exits 1.

Usage (each option may also come from the environment variable named):

    oauth2_clients.py --base-url http://127.0.0.1:PORT         CREDLOG_BASE_URL
                      --client-id demo-confidential            CREDLOG_CLIENT_ID
                      --client-secret SECRET                   CREDLOG_CLIENT_SECRET
                      --public-client-id demo-public           CREDLOG_PUBLIC_CLIENT_ID
                      [--username demo --password demo]        CREDLOG_USERNAME / _PASSWORD

The confidential client must use client_secret_basic and the public one
``none``, both with every grant the demo clients have and the redirect URI
http://127.0.0.1:8000/callback (as ``credlog serve --demo`` makes them). A
client_secret_post client is registered through POST /clients as the user.

Against another server (credlog embedded elsewhere), these say what its
clients are:

    [--redirect-uri URI]                 CREDLOG_REDIRECT_URI        the clients' redirect URI
    [--other-redirect-uri URI]           CREDLOG_OTHER_REDIRECT_URI  another the confidential client registers
    [--client-scope "profile email"]     CREDLOG_CLIENT_SCOPE        the confidential client's scope
    [--implicit-client-id ID]            CREDLOG_IMPLICIT_CLIENT_ID  the implicit grant's (default: the public)
    [--session-cookie credlog_session]   CREDLOG_SESSION_COOKIE      the cookie POST /login sets
    [--skip registration,second-redirect-uri]   (only on the command line) leaves out the cases needing them

This file is run by ``http/tests/interop_python.rs`` (against ``credlog
serve``) and ``axum/tests/interop_python.rs`` (against the axum example)
with the packages of ``requirements.txt`` installed; ``interop_support.py`` (beside it) holds
what it shares with ``oauth1_clients.py``.
"""

import argparse
import base64
import os
import sys
import urllib.parse

# The demo redirect URIs and the server are plain http; both libraries
# refuse that unless told (RFC 6749 asks for TLS, a test on loopback has none).
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.base_client import OAuthError  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session as AuthlibOAuth2Session  # noqa: E402
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata, get_well_known_url  # noqa: E402
from oauthlib.oauth2 import (  # noqa: E402
    BackendApplicationClient,
    LegacyApplicationClient,
    MobileApplicationClient,
    OAuth2Error,
)
from requests.auth import HTTPBasicAuth  # noqa: E402
from requests_oauthlib import OAuth2Session as RequestsOAuth2Session  # noqa: E402

# interop_support.py sits beside this script: no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from interop_support import (  # noqa: E402
    Failure,
    add_option,
    add_server_options,
    check,
    consent_form,
    expect_status,
    recorded,
    run,
    show,
    sign_in,
    versions,
)

CALLBACK = "http://127.0.0.1:8000/callback"
OTHER_CALLBACK = "http://localhost:8000/callback"
SCOPE = "profile email"

AUTHORIZE = "/oauth2/authorize"
TOKEN = "/oauth2/token"
REVOKE = "/oauth2/revoke"
INTROSPECT = "/oauth2/introspect"
ME = "/api/me"

# What either library raises for an OAuth 2 error answer; both carry the
# RFC 6749 code in ``.error``.
LIBRARY_ERRORS = (OAuth2Error, OAuthError)


# --- what the server must answer


def scopes(value):
    """A scope string or list as a set of scope tokens."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split()
    return set(value)


def json_of(response, what):
    check(
        response.headers.get("Content-Type", "").split(";")[0].strip() == "application/json",
        f"{what}: expected Content-Type application/json{show(response)}",
    )
    try:
        return response.json()
    except ValueError:
        raise Failure(f"{what}: the body is not JSON{show(response)}") from None


def form_of(request):
    body = request.body or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return dict(urllib.parse.parse_qsl(body, keep_blank_values=True))


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def expect_token(response, what, scope=SCOPE, refresh=None):
    """A successful token response (RFC 6749 5.1 and the contract): JSON,
    no-store, Bearer, expires_in, the scope granted and a refresh token when
    ``refresh`` says so (True: present, False: absent, None: either)."""
    expect_status(response, 200, what)
    token = json_of(response, what)
    check(
        "no-store" in response.headers.get("Cache-Control", ""),
        f"{what}: the token response lacks Cache-Control: no-store{show(response)}",
    )
    check(
        isinstance(token.get("access_token"), str) and token["access_token"],
        f"{what}: no access_token{show(response)}",
    )
    check(token.get("token_type") == "Bearer", f"{what}: token_type is not Bearer{show(response)}")
    check(
        isinstance(token.get("expires_in"), int) and token["expires_in"] > 0,
        f"{what}: expires_in is not a positive integer{show(response)}",
    )
    check(
        isinstance(token.get("scope"), str) and scopes(token["scope"]) == scopes(scope),
        f"{what}: expected scope {scope!r}, got {token.get('scope')!r}{show(response)}",
    )
    if refresh is not None:
        check(
            bool(token.get("refresh_token")) == refresh,
            f"{what}: expected {'a' if refresh else 'no'} refresh_token{show(response)}",
        )
    return token


def expect_oauth_error(response, what, error, statuses=(400,)):
    """An RFC 6749 5.2 error answer: JSON with ``error``, the RFC's status;
    a 401 answering an Authorization header carries WWW-Authenticate."""
    check(
        response.status_code in statuses,
        f"{what}: expected status {' or '.join(map(str, statuses))}, got {response.status_code}{show(response)}",
    )
    body = json_of(response, what)
    check(
        body.get("error") == error,
        f"{what}: expected error {error!r}, got {body.get('error')!r}{show(response)}",
    )
    if response.status_code == 401 and "Authorization" in response.request.headers:
        check(
            response.headers.get("WWW-Authenticate"),
            f"{what}: a 401 to a client that sent Authorization must carry WWW-Authenticate "
            f"(RFC 6749 5.2){show(response)}",
        )
    return body


def expect_refused(what, call, responses, error, statuses=(400,)):
    """The library call raises the OAuth error ``error``, read from the
    server's answer (the last response) which is checked as well."""
    try:
        outcome = call()
    except LIBRARY_ERRORS as raised:
        check(
            raised.error == error,
            f"{what}: the library raised {type(raised).__name__} {raised.error!r}, expected {error!r}"
            + (show(responses[-1]) if responses else ""),
        )
    else:
        last = show(responses[-1]) if responses else ""
        raise Failure(f"{what}: the library returned {outcome!r}, expected a refusal ({error}){last}")
    return expect_oauth_error(responses[-1], what, error, statuses)


def expect_client_auth(response, method, client_id, what):
    """The library authenticated the client the way it was asked to."""
    request = response.request
    authorization = request.headers.get("Authorization", "")
    form = form_of(request)
    if method == "client_secret_basic":
        check(
            authorization.startswith("Basic "),
            f"{what}: asked for client_secret_basic, no Authorization: Basic{show(response)}",
        )
        user = base64.b64decode(authorization[6:]).decode("utf-8").split(":", 1)[0]
        check(
            urllib.parse.unquote_plus(user) == client_id and "client_secret" not in form,
            f"{what}: Basic names {user!r}, expected {client_id!r} and no client_secret in the body{show(response)}",
        )
    else:
        check(not authorization, f"{what}: asked for {method}, sent Authorization{show(response)}")
        check(
            form.get("client_id") == client_id,
            f"{what}: asked for {method}, the body has no client_id={client_id!r}{show(response)}",
        )
        check(
            ("client_secret" in form) == (method == "client_secret_post"),
            f"{what}: asked for {method}, client_secret {'missing' if method != 'none' else 'sent'}"
            f"{show(response)}",
        )


def expect_me(response, user, client_id, scope=SCOPE):
    what = f"GET {ME}"
    expect_status(response, 200, what)
    me = json_of(response, what)
    check(
        me.get("user") == user and me.get("client_id") == client_id and scopes(me.get("scope")) == scopes(scope),
        f"{what}: expected user {user!r}, client_id {client_id!r}, scope {scope!r}; got {me!r}{show(response)}",
    )
    authorization = response.request.headers.get("Authorization", "")
    check(
        authorization.startswith("Bearer "),
        f"{what}: the library sent no Authorization: Bearer{show(response)}",
    )
    return me


def expect_bearer_refusal(response, status, error, what):
    """A resource refusal per RFC 6750 3: the status, a Bearer challenge and
    its ``error`` (None: the challenge must carry no error, RFC 6750 3.1)."""
    expect_status(response, status, what)
    challenge = response.headers.get("WWW-Authenticate", "")
    check("bearer" in challenge.lower(), f"{what}: no WWW-Authenticate: Bearer challenge{show(response)}")
    if error is None:
        check(
            "error=" not in challenge,
            f"{what}: a request without credentials gets a challenge without error (RFC 6750 3.1){show(response)}",
        )
    else:
        check(
            f'error="{error}"' in challenge,
            f'{what}: the Bearer challenge lacks error="{error}"{show(response)}',
        )


# --- the resource owner: sign in and consent, in a plain browser-like session


def resource_owner(config, authorize_url, confirm="yes", consent=True):
    """Signs in, opens the authorization URL, submits the consent form with
    ``confirm`` and returns where the browser is sent (the Location).

    With ``consent=False`` the server may also redirect at once, without a
    consent page (an error it reports to the client)."""
    browser = sign_in(config.base_url, config.username, config.password, config.session_cookie)
    page = browser.get(authorize_url, allow_redirects=False)
    if not consent and page.status_code in (302, 303):
        return page.headers.get("Location", "")
    action, hidden = consent_form(page, AUTHORIZE, f"GET {AUTHORIZE} (consent page)")
    names = [name for name, _ in hidden]
    asked = query_of(authorize_url)
    check(
        "csrf_token" in names and ("client_id", asked["client_id"]) in hidden,
        f"consent form lacks csrf_token or client_id={asked['client_id']!r}: {hidden}{show(page)}",
    )
    answered = browser.post(action, data=hidden + [("confirm", confirm)], allow_redirects=False)
    expect_status(answered, 302, f"POST {AUTHORIZE} (confirm={confirm})")
    location = answered.headers.get("Location", "")
    redirect_uri = asked.get("redirect_uri", config.callback)
    check(
        location[: len(redirect_uri) + 1] in (redirect_uri + "?", redirect_uri + "#"),
        f"consent redirects to {location!r}, not to {redirect_uri}{show(answered)}",
    )
    return location


def expect_code_redirect(location, state, what):
    check(
        urllib.parse.urlsplit(location).fragment == "",
        f"{what}: the code redirect has a fragment: {location!r}",
    )
    params = query_of(location)
    check(
        params.get("code") and params.get("state") == state,
        f"{what}: the redirect {location!r} lacks code and state={state!r}",
    )


# --- configuration


class Client:
    def __init__(self, client_id, client_secret=None, method="client_secret_basic", scope=SCOPE):
        self.client_id = client_id
        self.client_secret = client_secret
        self.method = method
        # What the client is registered for: granted when it asks for no scope.
        self.scope = scope

    def basic(self, secret=None):
        return HTTPBasicAuth(self.client_id, self.client_secret if secret is None else secret)


class Config:
    def __init__(self, args):
        self.base_url = args.base_url.rstrip("/")
        self.username = args.username
        self.password = args.password
        self.callback = args.redirect_uri
        self.other_callback = args.other_redirect_uri
        self.session_cookie = args.session_cookie
        self.skip = args.skip
        self.confidential = Client(args.client_id, args.client_secret, scope=args.client_scope)
        self.public = Client(args.public_client_id, method="none")
        # The implicit grant's client: the public one unless another is named.
        self.implicit = Client(args.implicit_client_id or args.public_client_id, method="none")
        self._post = None

    def url(self, path):
        return self.base_url + path

    def post_client(self):
        """A client_secret_post client, registered once through POST /clients."""
        if self._post is None:
            browser = sign_in(self.base_url, self.username, self.password, self.session_cookie)
            registration = {
                "client_name": "interop client_secret_post",
                "redirect_uris": [self.callback],
                "scope": SCOPE,
                "grant_types": ["authorization_code", "refresh_token", "client_credentials", "password"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post",
            }
            response = browser.post(self.url("/clients"), json=registration)
            expect_status(response, 201, "POST /clients (client_secret_post)")
            answer = json_of(response, "POST /clients")
            check(
                answer.get("client_id") and answer.get("client_secret"),
                f"POST /clients answered no client_id/client_secret{show(response)}",
            )
            self._post = Client(answer["client_id"], answer["client_secret"], "client_secret_post")
        return self._post


# --- requests-oauthlib


def ro_session(config, client_id, **options):
    options.setdefault("redirect_uri", config.callback)
    options.setdefault("scope", SCOPE.split())
    session = RequestsOAuth2Session(client_id, **options)
    return session, recorded(session)


def ro_code_flow(config, client, pkce=None, scope=SCOPE, **fetch):
    """Authorization code grant through requests-oauthlib; ``fetch`` says how
    fetch_token authenticates the client."""
    session, responses = ro_session(config, client.client_id, pkce=pkce, scope=scope.split())
    url, state = session.authorization_url(config.url(AUTHORIZE))
    asked = query_of(url)
    check(
        asked.get("response_type") == "code" and asked.get("state") == state,
        f"requests-oauthlib built the authorization URL {url!r}",
    )
    if pkce:
        check(
            asked.get("code_challenge_method") == pkce and asked.get("code_challenge"),
            f"requests-oauthlib(pkce={pkce!r}) built {url!r} without the challenge",
        )
    location = resource_owner(config, url)
    expect_code_redirect(location, state, "code grant")
    token = session.fetch_token(config.url(TOKEN), authorization_response=location, **fetch)
    exchange = responses[-1]
    body = expect_token(exchange, f"POST {TOKEN} (authorization_code)", scope=scope, refresh=True)
    sent = form_of(exchange.request)
    check(
        sent.get("grant_type") == "authorization_code" and sent.get("redirect_uri") == config.callback,
        f"requests-oauthlib sent {sent!r}{show(exchange)}",
    )
    check(
        ("code_verifier" in sent) == bool(pkce),
        f"requests-oauthlib(pkce={pkce!r}) sent code_verifier={sent.get('code_verifier')!r}{show(exchange)}",
    )
    check(
        token.get("access_token") == body["access_token"],
        f"requests-oauthlib read the token {token!r} from {body!r}",
    )
    return session, responses, location, token


def ro_code_basic_auth(config):
    client = config.confidential
    session, responses, _, _ = ro_code_flow(config, client, auth=client.basic())
    expect_client_auth(responses[-1], "client_secret_basic", client.client_id, f"POST {TOKEN}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def ro_code_pkce_s256(config):
    client = config.confidential
    # No auth: the session makes Basic from its client_id and client_secret.
    session, responses, _, _ = ro_code_flow(config, client, pkce="S256", client_secret=client.client_secret)
    expect_client_auth(responses[-1], "client_secret_basic", client.client_id, f"POST {TOKEN}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def ro_code_client_secret_post(config):
    client = config.post_client()
    session, responses, _, _ = ro_code_flow(
        config, client, include_client_id=True, client_secret=client.client_secret
    )
    expect_client_auth(responses[-1], "client_secret_post", client.client_id, f"POST {TOKEN}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def ro_public_pkce_and_refresh(config):
    client = config.public
    session, responses, _, token = ro_code_flow(config, client, pkce="S256", include_client_id=True)
    expect_client_auth(responses[-1], "none", client.client_id, f"POST {TOKEN}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)
    refreshed = session.refresh_token(config.url(TOKEN), client_id=client.client_id)
    body = expect_token(responses[-1], f"POST {TOKEN} (refresh_token)", refresh=True)
    expect_client_auth(responses[-1], "none", client.client_id, f"POST {TOKEN} (refresh_token)")
    check(
        refreshed["access_token"] == body["access_token"] != token["access_token"]
        and body["refresh_token"] != token["refresh_token"],
        f"the refresh issued {body!r} after {token!r}",
    )
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def ro_refresh_rotation(config):
    """Rotation: the old refresh token is retired; presenting it again is
    invalid_grant and revokes the family (the new refresh token and its
    access token)."""
    client = config.confidential
    session, responses, _, first = ro_code_flow(config, client, auth=client.basic())
    second = session.refresh_token(config.url(TOKEN), auth=client.basic())
    body = expect_token(responses[-1], f"POST {TOKEN} (refresh_token)", refresh=True)
    expect_client_auth(responses[-1], "client_secret_basic", client.client_id, f"POST {TOKEN} (refresh)")
    check(
        second["refresh_token"] == body["refresh_token"] != first["refresh_token"],
        f"the refresh token did not rotate: {first!r} then {body!r}",
    )
    expect_me(session.get(config.url(ME)), config.username, client.client_id)
    expect_refused(
        "refresh with the retired refresh token",
        lambda: session.refresh_token(config.url(TOKEN), refresh_token=first["refresh_token"], auth=client.basic()),
        responses,
        "invalid_grant",
    )
    expect_refused(
        "refresh with the current refresh token after its predecessor was replayed",
        lambda: session.refresh_token(config.url(TOKEN), refresh_token=second["refresh_token"], auth=client.basic()),
        responses,
        "invalid_grant",
    )
    expect_bearer_refusal(
        bearer_get(config, second["access_token"]),
        401,
        "invalid_token",
        f"GET {ME} with an access token of the revoked family",
    )


def ro_refresh_narrows_scope(config):
    client = config.confidential
    session, responses, _, _ = ro_code_flow(config, client, auth=client.basic())
    session.scope = ["profile"]
    narrowed = session.refresh_token(config.url(TOKEN), auth=client.basic())
    expect_token(responses[-1], f"POST {TOKEN} (refresh_token, scope=profile)", scope="profile", refresh=True)
    check(scopes(narrowed.get("scope")) == {"profile"}, f"requests-oauthlib read {narrowed!r}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id, scope="profile")


def ro_refresh_cannot_widen(config):
    client = config.confidential
    session, responses, _, _ = ro_code_flow(config, client, scope="profile", auth=client.basic())
    session.scope = SCOPE.split()
    expect_refused(
        "refresh asking for more than the grant's scope",
        lambda: session.refresh_token(config.url(TOKEN), auth=client.basic()),
        responses,
        "invalid_scope",
    )


def ro_client_credentials(config):
    client = config.confidential
    # requests-oauthlib sends no scope here: the client's registered scope is
    # granted, and the library refuses an answer with another than it expects.
    session, responses = ro_session(
        config, None, client=BackendApplicationClient(client_id=client.client_id), scope=client.scope.split()
    )
    token = session.fetch_token(config.url(TOKEN), auth=client.basic())
    what = f"POST {TOKEN} (client_credentials)"
    body = expect_token(responses[-1], what, scope=client.scope, refresh=False)
    check(form_of(responses[-1].request).get("grant_type") == "client_credentials", show(responses[-1]))
    check(token["access_token"] == body["access_token"], f"requests-oauthlib read {token!r}")
    expect_me(session.get(config.url(ME)), None, client.client_id, scope=client.scope)


def ro_password(config):
    client = config.confidential
    # No scope sent here either: the client's registered scope is granted.
    session, responses = ro_session(
        config, None, client=LegacyApplicationClient(client_id=client.client_id), scope=client.scope.split()
    )
    token = session.fetch_token(
        config.url(TOKEN), username=config.username, password=config.password, auth=client.basic()
    )
    body = expect_token(responses[-1], f"POST {TOKEN} (password)", scope=client.scope, refresh=True)
    sent = form_of(responses[-1].request)
    check(
        sent.get("grant_type") == "password" and sent.get("username") == config.username,
        f"requests-oauthlib sent {sent!r}",
    )
    check(token["access_token"] == body["access_token"], f"requests-oauthlib read {token!r}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id, scope=client.scope)


def ro_implicit(config):
    client = config.implicit
    session, _ = ro_session(config, None, client=MobileApplicationClient(client_id=client.client_id))
    url, state = session.authorization_url(config.url(AUTHORIZE))
    check(query_of(url).get("response_type") == "token", f"requests-oauthlib built {url!r}")
    location = resource_owner(config, url)
    parts = urllib.parse.urlsplit(location)
    fragment = dict(urllib.parse.parse_qsl(parts.fragment))
    check(
        not parts.query and fragment.get("access_token") and fragment.get("state") == state,
        f"implicit grant redirect {location!r}: expected access_token and state={state!r} in the fragment",
    )
    check(
        fragment.get("token_type") == "Bearer" and "refresh_token" not in fragment,
        f"implicit grant redirect {location!r}: token_type must be Bearer, no refresh_token (RFC 6749 4.2.2)",
    )
    token = session.token_from_fragment(location)
    check(token.get("access_token") == fragment["access_token"], f"requests-oauthlib read {token!r}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def ro_wrong_secret(config):
    client = config.confidential
    session, responses = ro_session(config, None, client=BackendApplicationClient(client_id=client.client_id))
    expect_refused(
        "client_credentials with a wrong secret (Basic)",
        lambda: session.fetch_token(config.url(TOKEN), auth=client.basic(client.client_secret + "x")),
        responses,
        "invalid_client",
        statuses=(401,),
    )


def ro_code_reused(config):
    client = config.confidential
    session, responses, location, token = ro_code_flow(config, client, auth=client.basic())
    expect_refused(
        "the same authorization code a second time",
        lambda: session.fetch_token(config.url(TOKEN), authorization_response=location, auth=client.basic()),
        responses,
        "invalid_grant",
    )
    expect_bearer_refusal(
        bearer_get(config, token["access_token"]),
        401,
        "invalid_token",
        f"GET {ME} with the token of a code used twice",
    )
    expect_refused(
        "refresh with the refresh token of a code used twice",
        lambda: session.refresh_token(config.url(TOKEN), refresh_token=token["refresh_token"], auth=client.basic()),
        responses,
        "invalid_grant",
    )


def ro_public_without_pkce(config):
    client = config.public
    session, _ = ro_session(config, client.client_id)
    url, state = session.authorization_url(config.url(AUTHORIZE))
    location = resource_owner(config, url, consent=False)
    check(
        location.startswith(config.callback + "?") and query_of(location).get("state") == state,
        f"a public client without PKCE: expected an error redirect to {config.callback} with state={state!r}, "
        f"got Location {location!r}",
    )
    try:
        outcome = session.fetch_token(config.url(TOKEN), authorization_response=location, include_client_id=True)
    except OAuth2Error as raised:
        check(
            raised.error == "invalid_request",
            f"a public client without PKCE: the redirect {location!r} made requests-oauthlib raise "
            f"{raised.error!r}, expected invalid_request",
        )
    else:
        raise Failure(f"a public client without PKCE got a token: {outcome!r} (redirect {location!r})")


def ro_consent_denied(config):
    client = config.confidential
    session, _ = ro_session(config, client.client_id)
    url, state = session.authorization_url(config.url(AUTHORIZE))
    location = resource_owner(config, url, confirm="no")
    check(
        query_of(location).get("state") == state,
        f"the denial redirect {location!r} lacks state={state!r}",
    )
    try:
        outcome = session.fetch_token(config.url(TOKEN), authorization_response=location, auth=client.basic())
    except OAuth2Error as raised:
        check(
            raised.error == "access_denied",
            f"denied: the redirect {location!r} made requests-oauthlib raise {raised.error!r}",
        )
    else:
        raise Failure(f"denied consent gave a token: {outcome!r} (redirect {location!r})")


def ro_untrusted_redirect(config):
    """Errors found before the redirect URI is trusted are a 400 page."""
    browser = sign_in(config.base_url, config.username, config.password, config.session_cookie)
    for what, client_id, redirect_uri in (
        ("an unregistered redirect_uri", config.confidential.client_id, "http://127.0.0.1:8000/elsewhere"),
        ("an unknown client_id", config.confidential.client_id + "-nobody", config.callback),
    ):
        session, _ = ro_session(config, client_id, redirect_uri=redirect_uri)
        url, _ = session.authorization_url(config.url(AUTHORIZE))
        page = browser.get(url, allow_redirects=False)
        expect_status(page, 400, f"GET {AUTHORIZE} with {what}")
        check(
            "Location" not in page.headers and page.headers.get("Content-Type", "").startswith("text/html"),
            f"{what} must get a 400 page, never a redirect{show(page)}",
        )


def ro_unknown_scope(config):
    client = config.confidential
    session, _ = ro_session(config, client.client_id, scope=["profile", "admin"])
    url, state = session.authorization_url(config.url(AUTHORIZE))
    location = resource_owner(config, url, consent=False)
    check(
        query_of(location).get("state") == state,
        f"a scope beyond the client's: expected an error redirect with state={state!r}, got {location!r}",
    )
    try:
        outcome = session.fetch_token(config.url(TOKEN), authorization_response=location, auth=client.basic())
    except OAuth2Error as raised:
        check(
            raised.error == "invalid_scope",
            f"a scope beyond the client's: the redirect {location!r} made requests-oauthlib raise {raised.error!r}",
        )
    else:
        raise Failure(f"a scope beyond the client's got a token: {outcome!r} (redirect {location!r})")


def ro_implicit_not_registered(config):
    """Implicit needs ``token`` among the client's response_types."""
    client = config.post_client()
    session, _ = ro_session(config, None, client=MobileApplicationClient(client_id=client.client_id))
    url, state = session.authorization_url(config.url(AUTHORIZE))
    location = resource_owner(config, url, consent=False)
    check(
        location.startswith(config.callback + "#"),
        f"implicit for a client without response type token: expected an error in the fragment of "
        f"{config.callback} (RFC 6749 4.2.2.1), got Location {location!r}",
    )
    try:
        outcome = session.token_from_fragment(location)
    except OAuth2Error as raised:
        check(
            raised.error in ("unauthorized_client", "unsupported_response_type"),
            f"implicit for a client without response type token: {location!r} made requests-oauthlib raise "
            f"{raised.error!r}, expected unauthorized_client or unsupported_response_type",
        )
    else:
        raise Failure(f"implicit for a client without response type token got {outcome!r} ({location!r})")


def ro_redirect_uri_mismatch(config):
    """The token request's redirect_uri must be the authorization request's
    (RFC 6749 4.1.3)."""
    client = config.confidential
    session, responses = ro_session(config, client.client_id)
    url, _ = session.authorization_url(config.url(AUTHORIZE))
    location = resource_owner(config, url)
    session.redirect_uri = config.other_callback  # registered too, but not the one asked with
    expect_refused(
        "the code with another registered redirect_uri",
        lambda: session.fetch_token(config.url(TOKEN), authorization_response=location, auth=client.basic()),
        responses,
        "invalid_grant",
    )


# --- Authlib


def al_session(config, client, **options):
    options.setdefault("redirect_uri", config.callback)
    options.setdefault("scope", SCOPE)
    options.setdefault("code_challenge_method", "S256")
    session = AuthlibOAuth2Session(
        client.client_id,
        client.client_secret,
        token_endpoint_auth_method=client.method,
        revocation_endpoint_auth_method=client.method,
        **options,
    )
    return session, recorded(session)


def al_code_flow(config, client, scope=SCOPE):
    """Authorization code grant with a S256 code_verifier through Authlib."""
    session, responses = al_session(config, client, scope=scope)
    verifier = generate_token(48)
    url, state = session.create_authorization_url(config.url(AUTHORIZE), code_verifier=verifier)
    asked = query_of(url)
    check(
        asked.get("code_challenge_method") == "S256" and asked.get("code_challenge") and asked.get("state") == state,
        f"Authlib built the authorization URL {url!r}",
    )
    location = resource_owner(config, url)
    expect_code_redirect(location, state, "code grant")
    token = session.fetch_token(config.url(TOKEN), authorization_response=location, code_verifier=verifier)
    exchange = responses[-1]
    body = expect_token(exchange, f"POST {TOKEN} (authorization_code)", scope=scope, refresh=True)
    expect_client_auth(exchange, client.method, client.client_id, f"POST {TOKEN}")
    check(
        form_of(exchange.request).get("code_verifier") == verifier,
        f"Authlib did not send the code_verifier{show(exchange)}",
    )
    check(token["access_token"] == body["access_token"], f"Authlib read {token!r} from {body!r}")
    return session, responses, location, verifier, token


def introspect(session, config, token, what, hint=None):
    response = session.introspect_token(config.url(INTROSPECT), token=token, token_type_hint=hint)
    expect_status(response, 200, what)
    return json_of(response, what)


def expect_active(answer, client_id, user, scope, what, response):
    check(
        answer.get("active") is True
        and answer.get("client_id") == client_id
        and scopes(answer.get("scope")) == scopes(scope),
        f"{what}: expected active, client_id {client_id!r}, scope {scope!r}; got {answer!r}{show(response)}",
    )
    if "username" in answer or user is not None:
        check(
            answer.get("username") == user,
            f"{what}: expected username {user!r}, got {answer!r}{show(response)}",
        )


def al_code_basic_introspect_revoke(config):
    client = config.confidential
    session, responses, _, _, token = al_code_flow(config, client)
    expect_me(session.get(config.url(ME)), config.username, client.client_id)
    what = f"POST {INTROSPECT} (active access token)"
    answer = introspect(session, config, token["access_token"], what, "access_token")
    expect_client_auth(responses[-1], "client_secret_basic", client.client_id, what)
    expect_active(answer, client.client_id, config.username, SCOPE, what, responses[-1])
    what = f"POST {INTROSPECT} (refresh token)"
    answer = introspect(session, config, token["refresh_token"], what, "refresh_token")
    expect_active(answer, client.client_id, config.username, SCOPE, what, responses[-1])

    revoked = session.revoke_token(config.url(REVOKE), token=token["access_token"], token_type_hint="access_token")
    expect_status(revoked, 200, f"POST {REVOKE} (access token)")
    expect_client_auth(revoked, "client_secret_basic", client.client_id, f"POST {REVOKE}")
    what = f"POST {INTROSPECT} (revoked access token)"
    answer = introspect(session, config, token["access_token"], what)
    check(answer == {"active": False}, f"{what}: expected {{'active': false}}, got {answer!r}{show(responses[-1])}")
    expect_bearer_refusal(
        bearer_get(config, token["access_token"]), 401, "invalid_token", f"GET {ME} with a revoked token"
    )
    again = session.revoke_token(config.url(REVOKE), token=token["access_token"])
    expect_status(again, 200, f"POST {REVOKE} of a token already revoked (RFC 7009 2.2)")


def al_code_post_refresh_revoke(config):
    client = config.post_client()
    session, responses, _, _, token = al_code_flow(config, client)
    expect_me(session.get(config.url(ME)), config.username, client.client_id)
    refreshed = session.refresh_token(config.url(TOKEN), refresh_token=token["refresh_token"])
    body = expect_token(responses[-1], f"POST {TOKEN} (refresh_token)", refresh=True)
    expect_client_auth(responses[-1], "client_secret_post", client.client_id, f"POST {TOKEN} (refresh)")
    check(refreshed["refresh_token"] == body["refresh_token"] != token["refresh_token"], f"no rotation: {body!r}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)

    revoked = session.revoke_token(
        config.url(REVOKE), token=refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    expect_status(revoked, 200, f"POST {REVOKE} (refresh token)")
    expect_client_auth(revoked, "client_secret_post", client.client_id, f"POST {REVOKE}")
    expect_bearer_refusal(
        bearer_get(config, refreshed["access_token"]),
        401,
        "invalid_token",
        f"GET {ME} with the access token of a revoked refresh token (RFC 7009 2.1)",
    )
    expect_refused(
        "refresh with a revoked refresh token",
        lambda: session.refresh_token(config.url(TOKEN), refresh_token=refreshed["refresh_token"]),
        responses,
        "invalid_grant",
    )


def al_public_none(config):
    client = config.public
    session, responses, _, _, token = al_code_flow(config, client)
    expect_me(session.get(config.url(ME)), config.username, client.client_id)
    refreshed = session.refresh_token(config.url(TOKEN))
    expect_token(responses[-1], f"POST {TOKEN} (refresh_token)", refresh=True)
    expect_client_auth(responses[-1], "none", client.client_id, f"POST {TOKEN} (refresh)")
    revoked = session.revoke_token(config.url(REVOKE), token=refreshed["refresh_token"])
    expect_status(revoked, 200, f"POST {REVOKE} (public client, none)")
    expect_client_auth(revoked, "none", client.client_id, f"POST {REVOKE}")
    expect_refused(
        "refresh with a refresh token the public client revoked",
        lambda: session.refresh_token(config.url(TOKEN), refresh_token=refreshed["refresh_token"]),
        responses,
        "invalid_grant",
    )
    check(token["refresh_token"] != refreshed["refresh_token"], "the public client's refresh token did not rotate")


def al_public_pkce_plain(config):
    """PKCE ``plain``. Authlib derives only S256 challenges, and oauthlib
    4.0.1's ``create_code_challenge(verifier, "plain")`` returns None (only a
    missing method means plain), so requests-oauthlib's ``pkce="plain"``
    sends no challenge at all: the challenge is given to Authlib as-is."""
    client = config.public
    session, responses = al_session(config, client, code_challenge_method=None)
    verifier = generate_token(48)
    url, state = session.create_authorization_url(
        config.url(AUTHORIZE), code_challenge=verifier, code_challenge_method="plain"
    )
    asked = query_of(url)
    check(
        asked.get("code_challenge") == verifier and asked.get("code_challenge_method") == "plain",
        f"Authlib built the authorization URL {url!r}",
    )
    location = resource_owner(config, url)
    expect_code_redirect(location, state, "code grant")
    session.fetch_token(config.url(TOKEN), authorization_response=location, code_verifier=verifier)
    expect_token(responses[-1], f"POST {TOKEN} (authorization_code, plain verifier)", refresh=True)
    expect_client_auth(responses[-1], "none", client.client_id, f"POST {TOKEN}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def al_public_cannot_introspect(config):
    """Introspection is client-authenticated (RFC 7662 2.1); `none` is not."""
    client = config.public
    session, responses, _, _, token = al_code_flow(config, client)
    response = session.introspect_token(config.url(INTROSPECT), token=token["access_token"])
    expect_oauth_error(response, f"POST {INTROSPECT} by a public client", "invalid_client", statuses=(401,))


def al_client_credentials(client_of):
    def case(config):
        client = client_of(config)
        # No scope asked: the client's registered scope is granted.
        session, responses = al_session(config, client, scope=None)
        token = session.fetch_token(config.url(TOKEN), grant_type="client_credentials")
        what = f"POST {TOKEN} (client_credentials)"
        body = expect_token(responses[-1], what, scope=client.scope, refresh=False)
        expect_client_auth(responses[-1], client.method, client.client_id, f"POST {TOKEN}")
        check("scope" not in form_of(responses[-1].request), "Authlib sent a scope")
        check(token["access_token"] == body["access_token"], f"Authlib read {token!r}")
        expect_me(session.get(config.url(ME)), None, client.client_id, scope=client.scope)
        what = f"POST {INTROSPECT} (client_credentials token)"
        answer = introspect(session, config, token["access_token"], what)
        expect_active(answer, client.client_id, None, client.scope, what, responses[-1])

    return case


def al_password(config):
    client = config.confidential
    session, responses = al_session(config, client)
    token = session.fetch_token(config.url(TOKEN), username=config.username, password=config.password)
    expect_token(responses[-1], f"POST {TOKEN} (password)", refresh=True)
    expect_client_auth(responses[-1], "client_secret_basic", client.client_id, f"POST {TOKEN}")
    check(form_of(responses[-1].request).get("grant_type") == "password", show(responses[-1]))
    expect_me(session.get(config.url(ME)), config.username, client.client_id)
    refreshed = session.refresh_token(config.url(TOKEN))
    expect_token(responses[-1], f"POST {TOKEN} (refresh_token after password)", refresh=True)
    check(refreshed["access_token"] != token["access_token"], "the refresh returned the same access token")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def al_implicit(config):
    client = config.implicit
    session, _ = al_session(config, client)
    url, state = session.create_authorization_url(config.url(AUTHORIZE), response_type="token")
    check(query_of(url).get("response_type") == "token", f"Authlib built {url!r}")
    location = resource_owner(config, url)
    check("#" in location and "?" not in location, f"the implicit grant redirects to {location!r}")
    token = session.fetch_token(authorization_response=location)
    fragment = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).fragment))
    check(
        token.get("access_token") == fragment.get("access_token") and fragment.get("state") == state,
        f"Authlib read {token!r} from {location!r}",
    )
    check("refresh_token" not in fragment, f"the implicit grant issued a refresh token: {location!r}")
    expect_me(session.get(config.url(ME)), config.username, client.client_id)


def al_wrong_secret_post(config):
    client = config.post_client()
    session, responses = al_session(config, Client(client.client_id, client.client_secret + "x", client.method))
    expect_refused(
        "client_credentials with a wrong secret (client_secret_post)",
        lambda: session.fetch_token(config.url(TOKEN), grant_type="client_credentials"),
        responses,
        "invalid_client",
        statuses=(400, 401),
    )


def al_wrong_method(config):
    """A client registered for client_secret_basic may not switch to
    client_secret_post, nor go without its secret."""
    client = config.confidential
    for method in ("client_secret_post", "none"):
        session, responses = al_session(config, Client(client.client_id, client.client_secret, method))
        expect_refused(
            f"client_credentials by a client_secret_basic client using {method}",
            lambda: session.fetch_token(config.url(TOKEN), grant_type="client_credentials"),
            responses,
            "invalid_client",
            statuses=(400, 401),
        )


def al_code_reused(config):
    client = config.confidential
    session, responses, location, verifier, token = al_code_flow(config, client)
    expect_refused(
        "the same authorization code a second time",
        lambda: session.fetch_token(config.url(TOKEN), authorization_response=location, code_verifier=verifier),
        responses,
        "invalid_grant",
    )
    answer = introspect(session, config, token["access_token"], f"POST {INTROSPECT} (code replayed)")
    check(answer.get("active") is False, f"the token of a replayed code is still active: {answer!r}")


def al_wrong_verifier(config):
    client = config.confidential
    session, responses = al_session(config, client)
    verifier = generate_token(48)
    url, _ = session.create_authorization_url(config.url(AUTHORIZE), code_verifier=verifier)
    location = resource_owner(config, url)
    expect_refused(
        "the code with a wrong code_verifier",
        lambda: session.fetch_token(
            config.url(TOKEN), authorization_response=location, code_verifier=generate_token(48)
        ),
        responses,
        "invalid_grant",
    )


def al_code_of_another_client(config):
    owner = config.confidential
    session, _ = al_session(config, owner)
    verifier = generate_token(48)
    url, _ = session.create_authorization_url(config.url(AUTHORIZE), code_verifier=verifier)
    location = resource_owner(config, url)
    thief, responses = al_session(config, config.post_client())
    expect_refused(
        "a code issued to another client",
        lambda: thief.fetch_token(config.url(TOKEN), authorization_response=location, code_verifier=verifier),
        responses,
        "invalid_grant",
    )


def al_wrong_hints(config):
    """A wrong token_type_hint does not stop introspection or revocation
    (RFC 7662 2.1, RFC 7009 2.1: the server extends its search)."""
    client = config.confidential
    session, responses = al_session(config, client)
    token = session.fetch_token(config.url(TOKEN), username=config.username, password=config.password)
    what = f"POST {INTROSPECT} (access token, token_type_hint=refresh_token)"
    answer = introspect(session, config, token["access_token"], what, "refresh_token")
    expect_active(answer, client.client_id, config.username, SCOPE, what, responses[-1])
    revoked = session.revoke_token(config.url(REVOKE), token=token["access_token"], token_type_hint="refresh_token")
    expect_status(revoked, 200, f"POST {REVOKE} (access token, token_type_hint=refresh_token)")
    expect_bearer_refusal(
        bearer_get(config, token["access_token"]), 401, "invalid_token", f"GET {ME} after the revocation"
    )


def al_wrong_password(config):
    client = config.confidential
    session, responses = al_session(config, client)
    expect_refused(
        "password grant with a wrong password",
        lambda: session.fetch_token(config.url(TOKEN), username=config.username, password=config.password + "x"),
        responses,
        "invalid_grant",
    )


def al_other_clients_tokens(config):
    """Another client's token: it introspects as inactive, it cannot be
    refreshed, and revoking it leaves it working."""
    owner = config.confidential
    owner_session, _ = al_session(config, owner)
    token = owner_session.fetch_token(config.url(TOKEN), username=config.username, password=config.password)
    other = config.post_client()
    session, responses = al_session(config, other)
    what = f"POST {INTROSPECT} (another client's token)"
    answer = introspect(session, config, token["access_token"], what)
    check(answer == {"active": False}, f"{what}: expected {{'active': false}}, got {answer!r}{show(responses[-1])}")
    expect_refused(
        "refresh with another client's refresh token",
        lambda: session.refresh_token(config.url(TOKEN), refresh_token=token["refresh_token"]),
        responses,
        "invalid_grant",
    )
    response = session.revoke_token(config.url(REVOKE), token=token["access_token"])
    check(
        response.status_code in (200, 400, 401, 403),
        f"POST {REVOKE} of another client's token{show(response)}",
    )
    expect_me(owner_session.get(config.url(ME)), config.username, owner.client_id)


def bearer_get(config, access_token):
    return requests.get(config.url(ME), headers={"Authorization": f"Bearer {access_token}"})


def al_bearer_refusals(config):
    client = config.confidential
    session, responses = al_session(config, client, scope="email")
    token = session.fetch_token(config.url(TOKEN), grant_type="client_credentials")
    expect_token(responses[-1], f"POST {TOKEN} (client_credentials, scope=email)", scope="email")
    response = session.get(config.url(ME))
    expect_bearer_refusal(response, 403, "insufficient_scope", f"GET {ME} with a token without profile")
    check(response.request.headers.get("Authorization") == f"Bearer {token['access_token']}", show(response))
    expect_bearer_refusal(requests.get(config.url(ME)), 401, None, f"GET {ME} without credentials")
    expect_bearer_refusal(
        bearer_get(config, token["access_token"] + "x"), 401, "invalid_token", f"GET {ME} with an unknown token"
    )


def al_metadata(config):
    url = get_well_known_url(config.base_url, external=True)
    response = requests.get(url)
    what = f"GET {urllib.parse.urlsplit(url).path}"
    expect_status(response, 200, what)
    metadata = AuthorizationServerMetadata(json_of(response, what))
    try:
        metadata.validate()
    except ValueError as error:
        raise Failure(f"{what}: Authlib finds the metadata invalid: {error}{show(response)}") from None
    expected = {
        "issuer": config.base_url,
        "authorization_endpoint": config.url(AUTHORIZE),
        "token_endpoint": config.url(TOKEN),
        "revocation_endpoint": config.url(REVOKE),
        "introspection_endpoint": config.url(INTROSPECT),
    }
    wrong = {key: metadata.get(key) for key, value in expected.items() if metadata.get(key) != value}
    check(not wrong, f"{what}: expected {expected}, got {wrong}{show(response)}")
    for key, value in (
        ("response_types_supported", {"code", "token"}),
        ("grant_types_supported", {"authorization_code", "implicit", "password", "client_credentials", "refresh_token"}),
        ("token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post", "none"}),
        ("code_challenge_methods_supported", {"S256"}),
    ):
        check(value <= set(metadata.get(key) or ()), f"{what}: {key} lacks {value}{show(response)}")


# What ``--skip`` may leave out: clients beyond the two given.
REGISTRATION = "registration"
SECOND_REDIRECT_URI = "second-redirect-uri"
NEEDS = {
    REGISTRATION: "POST /clients as the signed-in user registers a client (client_secret_post, a second client)",
    SECOND_REDIRECT_URI: "the confidential client registers --other-redirect-uri too",
}

# (label, case, *what it needs beyond the two clients given)
CASES = [
    ("authlib RFC 8414 metadata validates; issuer and endpoints", al_metadata),
    ("requests-oauthlib code, client_secret_basic (auth=)", ro_code_basic_auth),
    ("requests-oauthlib code + PKCE S256, client_secret_basic (client_secret=)", ro_code_pkce_s256),
    ("requests-oauthlib code, client_secret_post (include_client_id=True)", ro_code_client_secret_post, REGISTRATION),
    ("requests-oauthlib public client: code + PKCE S256, refresh", ro_public_pkce_and_refresh),
    ("requests-oauthlib refresh rotates; replaying the old one kills the family", ro_refresh_rotation),
    ("requests-oauthlib refresh narrows the scope to profile", ro_refresh_narrows_scope),
    ("requests-oauthlib refresh cannot widen the scope -> invalid_scope", ro_refresh_cannot_widen),
    ("requests-oauthlib client_credentials (BackendApplicationClient)", ro_client_credentials),
    ("requests-oauthlib password (LegacyApplicationClient)", ro_password),
    ("requests-oauthlib implicit (MobileApplicationClient)", ro_implicit),
    ("requests-oauthlib wrong client secret -> invalid_client 401", ro_wrong_secret),
    ("requests-oauthlib code used twice -> invalid_grant, its tokens revoked", ro_code_reused),
    ("requests-oauthlib public client without PKCE -> invalid_request", ro_public_without_pkce),
    ("requests-oauthlib consent denied -> access_denied", ro_consent_denied),
    ("requests-oauthlib unregistered redirect_uri or unknown client -> 400 page", ro_untrusted_redirect),
    ("requests-oauthlib scope beyond the client's -> invalid_scope", ro_unknown_scope),
    ("requests-oauthlib implicit for a code-only client -> error fragment", ro_implicit_not_registered, REGISTRATION),
    ("requests-oauthlib token request with another redirect_uri -> invalid_grant", ro_redirect_uri_mismatch, SECOND_REDIRECT_URI),
    ("authlib code + S256, client_secret_basic; introspect, revoke", al_code_basic_introspect_revoke),
    ("authlib code + S256, client_secret_post; refresh, revoke the refresh token", al_code_post_refresh_revoke, REGISTRATION),
    ("authlib public client (none) + S256; refresh, revoke", al_public_none),
    ("authlib public client (none) + PKCE plain", al_public_pkce_plain),
    ("authlib public client cannot introspect -> invalid_client 401", al_public_cannot_introspect),
    ("authlib client_credentials, client_secret_basic", al_client_credentials(lambda config: config.confidential)),
    ("authlib client_credentials, client_secret_post", al_client_credentials(lambda config: config.post_client()), REGISTRATION),
    ("authlib password, then refresh", al_password),
    ("authlib implicit (no client secret)", al_implicit),
    ("authlib wrong client secret (client_secret_post) -> invalid_client", al_wrong_secret_post, REGISTRATION),
    ("authlib a client_secret_basic client using post or none -> invalid_client", al_wrong_method),
    ("authlib code used twice -> invalid_grant, its token inactive", al_code_reused),
    ("authlib wrong code_verifier -> invalid_grant", al_wrong_verifier),
    ("authlib code issued to another client -> invalid_grant", al_code_of_another_client, REGISTRATION),
    ("authlib wrong token_type_hint: introspect and revoke still find the token", al_wrong_hints),
    ("authlib password grant, wrong password -> invalid_grant", al_wrong_password),
    ("authlib another client's token: inactive, not refreshable, not revocable", al_other_clients_tokens, REGISTRATION),
    ("authlib bearer refusals: 403 insufficient_scope, 401 without/with a bad token", al_bearer_refusals),
]


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_option(parser, "--base-url", "CREDLOG_BASE_URL")
    add_option(parser, "--client-id", "CREDLOG_CLIENT_ID", "demo-confidential")
    add_option(parser, "--client-secret", "CREDLOG_CLIENT_SECRET")
    add_option(parser, "--public-client-id", "CREDLOG_PUBLIC_CLIENT_ID", "demo-public")
    add_option(parser, "--implicit-client-id", "CREDLOG_IMPLICIT_CLIENT_ID", "")
    add_option(parser, "--username", "CREDLOG_USERNAME", "demo")
    add_option(parser, "--password", "CREDLOG_PASSWORD", "demo")
    add_option(parser, "--redirect-uri", "CREDLOG_REDIRECT_URI", CALLBACK)
    add_option(parser, "--other-redirect-uri", "CREDLOG_OTHER_REDIRECT_URI", OTHER_CALLBACK)
    add_option(parser, "--client-scope", "CREDLOG_CLIENT_SCOPE", SCOPE)
    add_server_options(parser, NEEDS)
    return parser.parse_args()


if __name__ == "__main__":
    config = Config(arguments())
    packages = versions(["requests-oauthlib", "oauthlib", "Authlib", "requests"])
    run(
        f"python {sys.version.split()[0]}; {packages}; server {config.base_url}",
        ((label, lambda case=case: case(config), *needs) for label, case, *needs in CASES),
        config.skip,
    )
