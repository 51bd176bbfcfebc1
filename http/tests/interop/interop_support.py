"""What the interop scripts (oauth1_clients.py, oauth2_clients.py,
openid_clients.py) share.

Checks that fail with the exchange that went wrong, the resource owner's
part played by a plain ``requests.Session`` (sign in, read the consent
form), the command-line options and the loop that runs the cases and
prints one line per case, leaving out those that need what the server
lacks (``--skip``).

Not a test itself: the scripts import it from their own directory.
"""

import argparse
import html.parser
import importlib.metadata
import os
import sys
import traceback
import urllib.parse

import requests


class Failure(Exception):
    """A case went wrong; the message says what and shows the exchange."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def show(response):
    """The request and the response, enough to replay the problem."""
    request = response.request
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    request_headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() in ("authorization", "content-type", "cookie")
    }
    response_headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower()
        in ("content-type", "location", "www-authenticate", "set-cookie", "cache-control")
    }
    return (
        f"\n  request:  {request.method} {request.url}"
        f"\n            headers {request_headers}"
        f"\n            body {body!r}"
        f"\n  response: {response.status_code} {response.reason}"
        f"\n            headers {response_headers}"
        f"\n            body {response.text[:1000]!r}"
    )


def expect_status(response, status, what):
    check(
        response.status_code == status,
        f"{what}: expected {status}, got {response.status_code}{show(response)}",
    )


# Every response of the current case, newest last: shown when a library
# raises on an answer it did not like.
EXCHANGES = []


def recorded(session):
    """Keeps every response the session receives, newest last."""
    responses = []

    def keep(response, *args, **kwargs):
        responses.append(response)
        EXCHANGES.append(response)

    session.hooks["response"].append(keep)
    return responses


# --- pages


VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class PageParser(html.parser.HTMLParser):
    """The forms of a page (with their inputs) and the text of every element
    that has an id (``texts[id]``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.texts = {}
        self._form = None
        self._open = []  # (tag, id or None) of the elements not yet closed

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._form = {
                "method": (attributes.get("method") or "get").lower(),
                "action": attributes.get("action") or "",
                "inputs": [],
            }
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None:
            self._form["inputs"].append(
                (
                    (attributes.get("type") or ("submit" if tag == "button" else "text")).lower(),
                    attributes.get("name"),
                    attributes.get("value") or "",
                )
            )
        if tag not in VOID_ELEMENTS:
            element_id = attributes.get("id")
            if element_id is not None:
                self.texts.setdefault(element_id, "")
            self._open.append((tag, element_id))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id is not None:
                self.texts[element_id] += data


def parse_page(response):
    parser = PageParser()
    parser.feed(response.text)
    parser.close()
    return parser


# --- the resource owner


def sign_in(base_url, username, password, session_cookie="credlog_session"):
    """A browser-like session (it follows no redirects by itself) signed in
    through POST /login, which must set the cookie ``session_cookie``."""
    browser = requests.Session()
    recorded(browser)
    # The form carries a CSRF token that must match the cookie it came with.
    form = browser.get(base_url + "/login", allow_redirects=False)
    expect_status(form, 200, "GET /login")
    forms = [f for f in parse_page(form).forms if f["method"] == "post"]
    check(len(forms) == 1, f"GET /login has not one post form{show(form)}")
    fields = {name: value for (kind, name, value) in forms[0]["inputs"] if kind == "hidden"}
    check("csrf_token" in fields, f"the login form has no csrf_token{show(form)}")
    fields.update({"username": username, "password": password})
    login = browser.post(base_url + "/login", data=fields, allow_redirects=False)
    expect_status(login, 303, "POST /login")
    check(
        session_cookie in browser.cookies,
        f"POST /login set no {session_cookie} cookie{show(login)}",
    )
    return browser


def consent_form(page, path, what):
    """The consent page's single ``<form method="post">``: the URL it posts
    to (which must have ``path``) and its hidden inputs as (name, value)."""
    expect_status(page, 200, what)
    check(
        page.headers.get("Content-Type", "").startswith("text/html"),
        f"{what}: not text/html{show(page)}",
    )
    forms = [form for form in parse_page(page).forms if form["method"] == "post"]
    check(
        len(forms) == 1,
        f"{what}: expected one <form method=post>, found {len(forms)}{show(page)}",
    )
    form = forms[0]
    hidden = [(name, value) for kind, name, value in form["inputs"] if kind == "hidden" and name]
    action = urllib.parse.urljoin(page.url, form["action"] or page.url)
    check(
        urllib.parse.urlsplit(action).path == path,
        f"{what}: the form posts to {action!r}, not {path}{show(page)}",
    )
    return action, hidden


# --- running a script


def add_option(parser, name, env, default=None):
    """``--name``, defaulting to $env, then to ``default`` (required when
    both are missing)."""
    value = os.environ.get(env, default)
    parser.add_argument(name, default=value, required=value is None, help=f"(or ${env})")


def add_server_options(parser, needs):
    """The options about the server itself: ``--session-cookie``, the name
    of the cookie POST /login sets, and ``--skip NEED,...``, what the server
    lacks; ``needs`` maps each name ``--skip`` accepts to what it stands for
    (no ``--skip`` when it is empty), and the cases that need a name skipped
    are left out."""
    add_option(parser, "--session-cookie", "CREDLOG_SESSION_COOKIE", "credlog_session")
    if not needs:
        parser.set_defaults(skip=frozenset())
        return
    choices = "; ".join(f"{name}: {what}" for name, what in needs.items())

    def skipped(value):
        names = {name for name in value.split(",") if name}
        unknown = names - needs.keys()
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {sorted(unknown)}; known: {choices}")
        return names

    # Never from the environment: a variable left set must not quietly
    # shorten a run.
    parser.add_argument(
        "--skip",
        type=skipped,
        default=frozenset(),
        help=f"leave out the cases that need these, comma-separated ({choices})",
    )


def versions(names):
    return ", ".join(f"{name} {importlib.metadata.version(name)}" for name in names)


def run(header, cases, skip=frozenset()):
    """Runs each (label, callable, *needs): prints ``skip <label>: needs ...``
    when one of its needs is in ``skip``, else ``ok <label>``, or on the
    first failure ``FAIL <label>: ...`` on stderr and exits 1. Ends with
    ``all N cases passed`` (and ``M cases skipped`` if any were)."""
    print(header, flush=True)
    passed = skipped = 0
    for label, case, *needs in cases:
        lacking = [need for need in needs if need in skip]
        if lacking:
            print(f"skip {label}: needs {', '.join(lacking)}", flush=True)
            skipped += 1
            continue
        EXCHANGES.clear()
        try:
            case()
        except Failure as failure:
            print(f"FAIL {label}: {failure}", file=sys.stderr, flush=True)
            sys.exit(1)
        except Exception:  # a library raised: show where, it names the cause
            last = show(EXCHANGES[-1]) if EXCHANGES else " (no response yet)"
            print(f"FAIL {label}: unexpected exception; last exchange:{last}", file=sys.stderr, flush=True)
            traceback.print_exc()
            sys.exit(1)
        print(f"ok {label}", flush=True)
        passed += 1
    print(f"all {passed} cases passed", flush=True)
    if skipped:
        print(f"{skipped} cases skipped", flush=True)
