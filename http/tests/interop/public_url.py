#!/usr/bin/env python3
"""credlog behind a TLS-ending proxy (CONTRACT.md "Deployment").

The server runs with ``--public-url PUBLIC`` (an https URL) and listens on
loopback. Each request goes straight to the listener, with the ``Host``
header the proxy would pass on, as the proxy would forward it. Clients sign
for the public URL, with requests-oauthlib (oauthlib) and Authlib:

* signed for ``PUBLIC/oauth1/initiate``: accepted, for HMAC-SHA1 and for
  PLAINTEXT (the public URL is https, so PLAINTEXT is over TLS);
* signed for the listener's own ``http://127.0.0.1:PORT/...``: refused
  (401 invalid_signature), whatever Host says;
* the metadata ``issuer`` and endpoints are on the public URL;
* cookies are ``Secure``.

Usage: public_url.py --base-url http://127.0.0.1:PORT --public-url https://auth.example.com
                     --client-id ID --client-secret SECRET
"""

import argparse
import sys
import urllib.parse

import requests
from authlib.oauth1 import ClientAuth
from oauthlib import oauth1 as oauthlib_oauth1

sys.dont_write_bytecode = True
from interop_support import add_option, check, expect_status, recorded, run, show, versions  # noqa: E402

CALLBACK = "http://127.0.0.1:8000/callback"


def oauthlib_sign(config, url, method):
    client = oauthlib_oauth1.Client(
        config.client_id,
        client_secret=config.client_secret,
        callback_uri=CALLBACK,
        signature_method=method,
    )
    _, headers, _ = client.sign(url, http_method="POST")
    return headers


def authlib_sign(config, url, method):
    auth = ClientAuth(
        config.client_id,
        client_secret=config.client_secret,
        redirect_uri=CALLBACK,
        signature_method=method,
    )
    _, headers, _ = auth.sign("POST", url, {}, b"")
    return headers


def forwarded(config, path, headers, method="POST"):
    """The request as the proxy forwards it: to the listener, with the public Host."""
    session = requests.Session()
    recorded(session)
    host = urllib.parse.urlsplit(config.public_url).netloc
    return session.request(method, config.base_url + path, headers={**headers, "Host": host}, allow_redirects=False)


def signed_for_public_url(sign, method):
    def case(config):
        headers = sign(config, config.public_url + "/oauth1/initiate", method)
        answer = forwarded(config, "/oauth1/initiate", headers)
        expect_status(answer, 200, f"{method} signed for the public URL")
        form = urllib.parse.parse_qs(answer.text)
        check(form.get("oauth_callback_confirmed") == ["true"], f"no oauth_callback_confirmed{show(answer)}")

    return case


def signed_for_listener(sign):
    def case(config):
        headers = sign(config, config.base_url + "/oauth1/initiate", "HMAC-SHA1")
        answer = forwarded(config, "/oauth1/initiate", headers)
        expect_status(answer, 401, "signed for the listener's own URL")
        check("invalid_signature" in answer.text, f"not invalid_signature{show(answer)}")

    return case


def metadata_is_on_the_public_url(config):
    answer = forwarded(config, "/.well-known/oauth-authorization-server", {}, method="GET")
    expect_status(answer, 200, "metadata")
    document = answer.json()
    check(document["issuer"] == config.public_url, f"issuer {document['issuer']!r}{show(answer)}")
    for name in ("token_endpoint", "authorization_endpoint", "revocation_endpoint", "introspection_endpoint"):
        if name in document:
            check(document[name].startswith(config.public_url + "/"), f"{name} {document[name]!r}")


def cookies_are_secure(config):
    answer = forwarded(config, "/login", {}, method="GET")
    expect_status(answer, 200, "GET /login")
    cookie = answer.headers.get("Set-Cookie", "")
    check("Secure" in cookie and "HttpOnly" in cookie, f"cookie {cookie!r} is not Secure{show(answer)}")


def cases(config):
    for library, sign in (("requests-oauthlib", oauthlib_sign), ("Authlib", authlib_sign)):
        for method in ("HMAC-SHA1", "PLAINTEXT"):
            yield f"{library} {method} signed for the public URL", lambda s=sign, m=method: signed_for_public_url(s, m)(config)
        yield f"{library} signed for the listener refused", lambda s=sign: signed_for_listener(s)(config)
    yield "metadata on the public URL", lambda: metadata_is_on_the_public_url(config)
    yield "cookies Secure", lambda: cookies_are_secure(config)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_option(parser, "--base-url", "CREDLOG_BASE_URL")
    add_option(parser, "--public-url", "CREDLOG_PUBLIC_URL")
    add_option(parser, "--client-id", "CREDLOG_CLIENT_ID", "demo-confidential")
    add_option(parser, "--client-secret", "CREDLOG_CLIENT_SECRET")
    return parser.parse_args()


if __name__ == "__main__":
    config = arguments()
    packages = versions(["requests-oauthlib", "oauthlib", "Authlib", "requests"])
    run(f"python {sys.version.split()[0]}; {packages}; server {config.base_url} as {config.public_url}", cases(config))
