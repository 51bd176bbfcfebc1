#!/usr/bin/env python3
"""A person managing an app in a real browser (CONTRACT.md "Client
registration", "/authorizations"; issue 14): Debian's chromium, headless,
driven by Selenium through Debian's chromedriver, once with JavaScript on
and once with it off (the pages need none).

In each, the person signs in, registers a client through the /clients
form, reads its one-time secret, rotates it, grants it consent for the
OAuth 2 authorization-code flow, sees the grant on /authorizations,
revokes it, and deletes the client. What the browser cannot see is
checked beside it with ``requests``: the old secret is refused and the new
one works at the token endpoint, the token works at /api/me until the
grant is revoked, and the refresh token dies with it.

Then a device (RFC 8628) asks for codes with ``requests``; the person
opens /device, types the user code, allows the device on the page, and the
device's poll gets a token that speaks for the person at /api/me.

Screenshots of each step go to --screenshots (test artifacts, not
committed).

Usage: browser_manage.py --base-url http://127.0.0.1:PORT --username demo --password demo
                         --screenshots DIR [--chromium /usr/bin/chromium]
                         [--chromedriver /usr/bin/chromedriver]
"""

import argparse
import http.server
import os
import sys
import threading
import urllib.parse

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

sys.dont_write_bytecode = True
from interop_support import add_option, check, expect_status, recorded, run, sign_in, versions  # noqa: E402


def replaced(page):
    """Whether ``page`` (the old document's root element) has left the
    window. Chromium answers a question about a node of a document being
    torn down either as stale or, when it asks mid-navigation, with
    "does not belong to the document"; both mean the old page is gone.
    Selenium's staleness_of only knows the first, and failed the test
    on the second."""
    try:
        page.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Callback:
    """The app's redirect URI: a loopback listener that keeps the query of
    the last request and answers a plain page."""

    def __init__(self):
        self.queries = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/probe":
                    # Tells whether the browser runs scripts at all.
                    body = b"<!doctype html><title>no script</title><script>document.title='script ran'</script>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/cb":  # not the browser's /favicon.ico
                    outer.queries.append(urllib.parse.parse_qs(url.query))
                body = b"<!doctype html><title>app</title><p>back at the app</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cb"


def browser(config, javascript):
    options = webdriver.ChromeOptions()
    options.binary_location = config.chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1000"):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    return webdriver.Chrome(service=Service(executable_path=config.chromedriver), options=options)


class Person:
    """One browser, one person, one mode (with or without JavaScript)."""

    def __init__(self, config, javascript):
        self.config = config
        self.mode = "js" if javascript else "nojs"
        self.driver = browser(config, javascript)
        self.shots = 0

    def open(self, path):
        self.driver.get(self.config.base_url + path)

    def shot(self, what):
        self.shots += 1
        os.makedirs(self.config.screenshots, exist_ok=True)
        name = f"{self.mode}-{self.shots:02}-{what}.png"
        self.driver.save_screenshot(os.path.join(self.config.screenshots, name))

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def by_id(self, element_id):
        found = self.driver.find_elements(By.ID, element_id)
        check(found, f"no id={element_id!r} on {self.driver.current_url}:\n{self.text()}")
        return found[0].text.strip()

    def form(self, action):
        """The form posting to ``action`` (a path)."""
        for form in self.driver.find_elements(By.TAG_NAME, "form"):
            if urllib.parse.urlsplit(form.get_attribute("action") or "").path == action:
                return form
        check(False, f"no form to {action} on {self.driver.current_url}:\n{self.text()}")

    def submit(self, form, button=None):
        """Clicks the form's button and waits until the next page has
        replaced this one (a click returns before the navigation ends)."""
        buttons = form.find_elements(By.CSS_SELECTOR, button or "button[type=submit], input[type=submit]")
        check(buttons, f"no submit button in the form on {self.driver.current_url}")
        page = self.driver.find_element(By.TAG_NAME, "html")
        buttons[0].click()
        WebDriverWait(self.driver, 20).until(lambda _driver: replaced(page))
        WebDriverWait(self.driver, 20).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
        )

    def sign_in(self, next_path):
        self.open(f"/login?next={urllib.parse.quote(next_path)}")
        form = self.form("/login")
        form.find_element(By.NAME, "username").send_keys(self.config.username)
        form.find_element(By.NAME, "password").send_keys(self.config.password)
        self.submit(form)
        check(self.path() == next_path, f"signed in to {self.driver.current_url}, not {next_path}")


def session():
    """A requests session whose exchanges a failure shows."""
    made = requests.Session()
    recorded(made)
    return made


def token_request(config, client_id, secret, fields):
    return session().post(config.base_url + "/oauth2/token", data=fields, auth=(client_id, secret))


def me(config, access_token):
    return session().get(config.base_url + "/api/me", headers={"Authorization": f"Bearer {access_token}"})


def manage_an_app(config, javascript):
    person = Person(config, javascript)
    callback = Callback()
    name = f"Browser app ({person.mode}) <b>&"
    try:
        person.driver.get(callback.url.replace("/cb", "/probe"))
        ran = person.driver.title == "script ran"
        check(ran == javascript, f"JavaScript {'did not run' if javascript else 'ran'} in this browser")
        person.sign_in("/clients")
        person.shot("clients")

        # Register through the page's own form.
        form = person.form("/clients")
        form.find_element(By.NAME, "client_name").send_keys(name)
        form.find_element(By.NAME, "redirect_uris").send_keys(callback.url)
        scope = form.find_element(By.NAME, "scope")
        scope.clear()
        scope.send_keys("profile")
        person.submit(form)
        person.shot("registered")
        client_id = person.by_id("client_id")
        first_secret = person.by_id("client_secret")
        check(client_id and first_secret, "the one-time page shows no id or secret")
        check("shown again" in person.text().lower(), f"no 'not shown again' line:\n{person.text()}")
        # Shown as typed: a name that became markup would not read so.
        check(name in person.text(), f"the client's name is not shown as typed:\n{person.text()}")

        # Rotate its secret from the client's page.
        person.open(f"/clients/{client_id}")
        check(name in person.text(), f"the client page does not name it:\n{person.text()}")
        person.shot("client-page")
        person.submit(person.form(f"/clients/{client_id}/secret"))
        person.shot("rotated")
        secret = person.by_id("client_secret")
        check(secret and secret != first_secret, "rotating did not show a new secret")

        # Consent, as the app would send the person.
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": callback.url,
                "scope": "profile",
                "state": f"state-{person.mode}",
            }
        )
        person.open(f"/oauth2/authorize?{query}")
        person.shot("consent")
        forms = person.driver.find_elements(By.TAG_NAME, "form")
        consent = [f for f in forms if f.find_elements(By.CSS_SELECTOR, "button[name=confirm][value=yes]")]
        check(consent, f"no consent form:\n{person.text()}")
        person.submit(consent[0], "button[name=confirm][value=yes]")
        WebDriverWait(person.driver, 20).until(lambda _: callback.queries)
        check(callback.queries, f"the browser did not come back to the app: {person.driver.current_url}")
        back = callback.queries[-1]
        check(back.get("state") == [f"state-{person.mode}"], f"state lost: {back}")
        code = back["code"][0]
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback.url}
        refused = token_request(config, client_id, first_secret, exchange)
        expect_status(refused, 401, "the secret from before the rotation")
        granted = token_request(config, client_id, secret, exchange)
        expect_status(granted, 200, "the code, with the rotated secret")
        tokens = granted.json()
        expect_status(me(config, tokens["access_token"]), 200, "the access token")

        # The grant is listed; revoke it.
        person.open("/authorizations")
        person.shot("authorizations")
        check(name in person.text(), f"the grant is not on /authorizations:\n{person.text()}")
        revoke = [
            f
            for f in person.driver.find_elements(By.TAG_NAME, "form")
            if urllib.parse.urlsplit(f.get_attribute("action") or "").path == "/authorizations/revoke"
            and f.find_elements(By.CSS_SELECTOR, f"input[name=client_id][value='{client_id}']")
        ]
        check(revoke, "no revoke form for the client")
        person.submit(revoke[0])
        person.shot("revoked")
        check(person.path() == "/authorizations", f"revoking led to {person.driver.current_url}")
        check(name not in person.text(), f"the revoked grant is still listed:\n{person.text()}")
        expect_status(me(config, tokens["access_token"]), 401, "the access token after the revocation")
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        dead = token_request(config, client_id, secret, refresh)
        expect_status(dead, 400, "the refresh token after the revocation")
        check(dead.json().get("error") == "invalid_grant", f"refresh: {dead.text}")

        # Delete the client.
        person.open(f"/clients/{client_id}")
        delete = person.form(f"/clients/{client_id}/delete")
        # The page asks to confirm; a browser holds the form back until then.
        for box in delete.find_elements(By.CSS_SELECTOR, "input[type=checkbox]"):
            box.click()
        person.submit(delete)
        person.shot("deleted")
        check(person.path() == "/clients", f"deleting led to {person.driver.current_url}")
        check(name not in person.text(), f"the deleted client is still listed:\n{person.text()}")
        person.open(f"/clients/{client_id}")
        check("404" in person.driver.title or "not found" in person.text().lower(),
              f"the deleted client's page still answers:\n{person.text()}")
        client_credentials = token_request(config, client_id, secret, {"grant_type": "client_credentials"})
        expect_status(client_credentials, 401, "the deleted client's secret")
    finally:
        person.driver.quit()
        callback.server.shutdown()


def approve_a_device(config, javascript):
    owner = sign_in(config.base_url, config.username, config.password)
    registered = owner.post(
        config.base_url + "/clients",
        json={
            "client_name": f"Browser TV ({'js' if javascript else 'nojs'})",
            "scope": "profile",
            "grant_types": [DEVICE_GRANT],
            "response_types": [],
            "token_endpoint_auth_method": "none",
        },
    )
    expect_status(registered, 201, "POST /clients (the device)")
    device = registered.json()
    asked = session().post(
        config.base_url + "/oauth2/device_authorization",
        data={"client_id": device["client_id"], "scope": "profile"},
    )
    expect_status(asked, 200, "POST /oauth2/device_authorization")
    codes = asked.json()
    poll = {"grant_type": DEVICE_GRANT, "device_code": codes["device_code"], "client_id": device["client_id"]}
    pending = session().post(config.base_url + "/oauth2/token", data=poll)
    expect_status(pending, 400, "a poll before the person decides")
    check(pending.json().get("error") == "authorization_pending", f"poll: {pending.text}")

    person = Person(config, javascript)
    try:
        person.sign_in("/device")
        person.shot("device")
        form = person.form("/device")
        typed = form.find_element(By.NAME, "user_code")
        typed.clear()
        typed.send_keys(codes["user_code"])
        person.submit(form)
        person.shot("device-consent")
        check(device["client_name"] in person.text(), f"the consent page does not name the device:\n{person.text()}")
        person.submit(person.form("/device"), "button[name=confirm][value=yes]")
        person.shot("device-allowed")
        person.by_id("approved")
    finally:
        person.driver.quit()

    tokens = session().post(config.base_url + "/oauth2/token", data=poll)
    expect_status(tokens, 200, "the device's poll once allowed")
    answer = me(config, tokens.json()["access_token"])
    expect_status(answer, 200, "the device's token at /api/me")
    check(answer.json().get("user") == config.username, f"/api/me: {answer.text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, "--base-url", "CREDLOG_BASE_URL")
    add_option(parser, "--username", "CREDLOG_USERNAME", "demo")
    add_option(parser, "--password", "CREDLOG_PASSWORD", "demo")
    add_option(parser, "--screenshots", "CREDLOG_SCREENSHOTS")
    add_option(parser, "--chromium", "CREDLOG_CHROMIUM", "/usr/bin/chromium")
    add_option(parser, "--chromedriver", "CREDLOG_CHROMEDRIVER", "/usr/bin/chromedriver")
    config = parser.parse_args()
    run(
        f"browser: {versions(['selenium'])}, {config.chromium}",
        [
            ("a person manages an app in chromium with JavaScript", lambda: manage_an_app(config, True)),
            ("a person manages an app in chromium without JavaScript", lambda: manage_an_app(config, False)),
            ("a person allows a device on /device with JavaScript", lambda: approve_a_device(config, True)),
            ("a person allows a device on /device without JavaScript", lambda: approve_a_device(config, False)),
        ],
    )


if __name__ == "__main__":
    main()
