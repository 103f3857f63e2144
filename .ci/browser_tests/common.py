"""What every browser test module uses (run by .ci/browser_test.py).

A module `tNN_name.py` in this folder defines `run(ctx)`; the runner calls
them in the order of their names against one server with the demo data, so a
module that changes data (decides a claim, pays) must not break a later one's
expectations: pick your own claims and workers, and compare with the API as
it answers at that moment.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from axe_playwright_python.sync_playwright import Axe

LINK = os.environ["CONSOLE_LINK"]
BASE = LINK.split("/console/")[0]
SHOTS = os.environ["SCREENSHOTS"]
# Tokens by role, minted by .ci/browser with the server's development secret.
# `admin` is the one in the console link; `auditor` and `worker` cover
# NP-FEWF only; `approver2` is a second approver (four eyes on large claims).
TOKENS = {
    "admin": LINK.split("#token=", 1)[1],
    "officer": os.environ["OFFICER_TOKEN"],
    "approver": os.environ["APPROVER_TOKEN"],
    "approver2": os.environ["APPROVER2_TOKEN"],
    "ministry": os.environ["MINISTRY_TOKEN"],
    "auditor": os.environ["AUDITOR_TOKEN"],
    "worker": os.environ["WORKER_TOKEN"],
}
# The fund most modules look at, and the date its figures are compared on.
FUND = "NP-FEWF"


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def equal(shown, expected, what):
    check(shown == expected, f"{what}: the console shows {shown!r}, the API says {expected!r}")


def api(path, method="GET", body=None, role="admin", key=None, raw=False, **params):
    """Calls the API as `role`; the decoded JSON (or bytes when `raw`)."""
    url = f"{BASE}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    headers = {"Authorization": f"Bearer {TOKENS[role]}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            content = response.read()
    except urllib.error.HTTPError as e:
        raise Failed(f"{method} {path} answered {e.code}: {e.read().decode(errors='replace')}")
    return content if raw else json.loads(content)


def accessible(page, what):
    """axe-core on the page as it stands: no serious or critical violation."""
    results = Axe().run(page)
    violations = results.response["violations"]
    for v in violations:
        print(f"axe on {what}: {v['impact']} {v['id']} ({len(v['nodes'])} nodes): {v['help']}")
    grave = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    check(not grave, f"axe finds serious or critical violations on {what}: {grave}")


class Context:
    """The browser, and the errors every page logs (checked by the runner)."""

    def __init__(self, browser):
        self.browser = browser
        self.errors = []
        # Substrings of logged errors a module expects (a refusal it provoked).
        self.expected_errors = []

    def new_page(self, role=None, width=1280, height=900):
        """A page in a fresh browser context (its own session storage),
        signed in as `role` through the fragment link when one is given."""
        context = self.browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        if role:
            page.goto(f"{BASE}/console/#token={TOKENS[role]}")
            page.get_by_test_id("signed-in-as").wait_for()
        return page

    def screenshot(self, page, name, full_page=True):
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=full_page)

    def unexpected_errors(self):
        return [e for e in self.errors if not any(x in e for x in self.expected_errors)]


def fail(message):
    sys.exit(f"browser test failed: {message}")
