#!/usr/bin/env python3
"""The console in Chromium, on the demo data (run by .ci/browser).

Runs every `run(ctx)` of `.ci/browser_tests/tNN_*.py` in the order of their
names, in one Chromium, against one server. No page may log an error (a
Content-Security-Policy violation included) beyond the refusals a module
provokes on purpose and declares in `ctx.expected_errors`.
"""
import importlib
import os
import sys
import time

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser_tests")
sys.path.insert(0, HERE)

from playwright.sync_api import sync_playwright  # noqa: E402

import common  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def main():
    names = sorted(n[:-3] for n in os.listdir(HERE) if n.startswith("t") and n.endswith(".py"))
    only = os.environ.get("BROWSER_ONLY")
    if only:
        names = [n for n in names if only in n]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        ctx = common.Context(browser)
        for name in names:
            started = time.monotonic()
            try:
                importlib.import_module(name).run(ctx)
            except common.Failed as e:
                common.fail(f"{name}: {e}")
            print(f"{name}: passed in {time.monotonic() - started:.1f} s")
        browser.close()
    errors = ctx.unexpected_errors()
    if errors:
        common.fail(f"the pages logged errors: {errors}")
    print(f"browser test passed ({len(names)} modules); screenshots in {common.SHOTS}")


if __name__ == "__main__":
    main()
