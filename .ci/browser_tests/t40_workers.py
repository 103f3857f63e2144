"""The worker pages: search, a worker's coverage, enrolling, a contribution from a quote.

1. A demo worker of NP-FEWF (one with a contract and a departure, picked
   through the API) is found by passport number in the console; their page
   shows the membership API's coverage: every period with its dates and rule
   version, the merged active spans with their grace, the status today, the
   timeline's covered, grace and lapsed periods and the contracts with their
   departures and returns (as bars and as a table with ISO dates).
2. A search by the start of their family name finds them too.
3. An officer enrolls a new worker from the console (a refusal first, shown
   in words naming its field); the API then finds them by passport number.
4. The officer asks the quote for the new worker's contract and records it
   (the first attempt lost on the network, the retry with the same
   Idempotency-Key); the API shows the contribution booked with the quoted amount, and the
   page's coverage then shows the period it bought.
5. An auditor sees the pages read-only: no enrollment, no contribution form.
axe-core on the search and worker pages; at 360 px neither scrolls sideways.
"""
import datetime
import random

from playwright.sync_api import expect

from common import BASE, FUND, accessible, api, check, equal

# The tables of the worker page, read from the DOM as shown.
READ_COVERAGE = """
() => {
  const rows = (selector, read) => [...document.querySelectorAll(selector)].map(read);
  const text = (row, i) => row.cells[i].textContent;
  return {
    periods: rows("#coverage-periods tbody tr", (r) => ({
      start: text(r, 0), end: text(r, 1), rule_version: text(r, 2), contribution_id: r.dataset.contribution,
    })),
    merged: rows("#membership-spans tbody tr", (r) => ({
      start: text(r, 0), end: text(r, 1), grace_days: Number(text(r, 2)), active_until: text(r, 3),
    })),
    timeline: rows("#timeline-table tbody tr", (r) => ({
      kind: r.dataset.kind, start: text(r, 1), end: r.dataset.end || null, shown_end: text(r, 2),
    })),
    bars: rows("#timeline li[data-kind]", (li) => ({
      kind: li.dataset.kind, start: li.dataset.start, end: li.dataset.end || null, text: li.textContent,
    })),
    active: document.querySelector("#membership-status").dataset.active,
    activeUntil: document.querySelector("#membership-status").dataset.activeUntil || null,
    status: document.querySelector("#membership-status").textContent,
  };
}
"""


def day(iso, days=0):
    return (datetime.date.fromisoformat(iso) + datetime.timedelta(days=days)).isoformat()


def expected_timeline(membership, worker):
    """The timeline rows the page should show, from the API's answers."""
    rows = []
    spans = sorted(membership["merged"], key=lambda s: s["start"])
    for i, s in enumerate(spans):
        rows.append({"kind": "covered", "start": s["start"], "end": s["end"]})
        if s["grace_days"] > 0:
            rows.append({"kind": "grace", "start": day(s["end"], 1), "end": s["active_until"]})
        after = day(s["active_until"], 1)
        if i + 1 < len(spans) and after < spans[i + 1]["start"]:
            rows.append({"kind": "lapsed", "start": after, "end": day(spans[i + 1]["start"], -1)})
        if i + 1 == len(spans) and s["active_until"] < membership["on"]:
            rows.append({"kind": "lapsed", "start": after, "end": None})
    for c in worker["contracts"]:
        rows.append({"kind": "contract", "start": c["start_date"], "end": c["end_date"]})
        for kind, field in (("departed", "departed_on"), ("returned", "returned_on"), ("terminated", "terminated_on")):
            if c[field]:
                rows.append({"kind": kind, "start": c[field], "end": c[field]})
    return rows


def key(row):
    return (row["kind"], row["start"], row["end"] or "")


def compare_coverage(page, worker_id):
    """The page's coverage equals the membership API's for `worker_id`."""
    expect(page.locator(f'#main[data-loaded="{worker_id}"]')).to_be_attached()
    shown = page.evaluate(READ_COVERAGE)
    membership = api(f"/v1/workers/{worker_id}/membership")
    worker = api(f"/v1/workers/{worker_id}")
    equal(shown["periods"], [{k: p[k] for k in ("start", "end", "rule_version", "contribution_id")} for p in membership["periods"]], "coverage periods")
    equal(shown["merged"], sorted(membership["merged"], key=lambda s: s["start"]), "active spans with grace")
    equal(shown["active"], "true" if membership["active"] else "false", "active today")
    equal(shown["activeUntil"], membership["active_until"], "active until")
    expected = expected_timeline(membership, worker)
    equal(sorted(key(r) for r in shown["timeline"]), sorted(key(r) for r in expected), "timeline table rows")
    for r in shown["timeline"]:
        check(r["shown_end"] == (r["end"] or "ongoing"), f"the timeline table shows the end of {r}")
    equal(sorted(key(b) for b in shown["bars"]), sorted(key(r) for r in expected), "timeline bars and marks")
    for b in shown["bars"]:
        check(b["start"] in b["text"], f"a bar's text gives its dates for screen readers: {b}")
    return membership, worker, shown


def pick_worker():
    """A demo worker of NP-FEWF with coverage and a contract with a departure
    (and a return if one has it)."""
    candidates = []
    after = None
    while True:
        params = {"limit": 100}
        if after:
            params["after"] = after
        page = api(f"/v1/funds/{FUND}/workers", **params)
        for w in page["items"]:
            departed = [c for c in w["contracts"] if c["departed_on"]]
            if departed:
                candidates.append((bool([c for c in departed if c["returned_on"]]), w))
        after = page.get("next")
        if not after:
            break
    check(candidates, "a demo worker of NP-FEWF has a contract with a departure")
    candidates.sort(key=lambda c: not c[0])
    for _, w in candidates:
        if api(f"/v1/workers/{w['id']}/membership")["merged"]:
            return w
    return candidates[0][1]


def search(page, by, text):
    page.select_option("#workers-fund", FUND)
    page.select_option("#search-by", by)
    page.fill("#search-text", text)
    page.click("#search")
    expect(page.locator("#worker-results[data-fund]")).to_be_attached()
    expect(page.locator("#worker-results")).not_to_have_attribute("aria-busy", "true")


def no_sideways_scroll(page, what):
    page.set_viewport_size({"width": 360, "height": 780})
    wide = page.evaluate("document.documentElement.scrollWidth")
    check(wide <= 360, f"at 360 px {what} scrolls sideways ({wide} px wide)")
    return wide


def run(ctx):
    # The refusal provoked on purpose in step 3 (a birth date in the future).
    ctx.expected_errors.append("the server responded with a status of 422")
    # The booking lost on purpose in step 4.
    ctx.expected_errors.append("net::ERR_FAILED")
    worker = pick_worker()
    contract = next(c for c in worker["contracts"] if c["departed_on"])
    print(f"worker {worker['id']} ({worker['document_number']}): contract departed {contract['departed_on']}, returned {contract['returned_on']}")

    # 1. Found by passport number; the page's coverage equals the API's.
    page = ctx.new_page("officer")
    page.goto(f"{BASE}/console/#workers")
    expect(page.locator("#search-text")).to_be_visible()
    check(page.locator('#nav a[data-page="workers"][aria-current="page"]').count() == 1, "the navigation marks the worker page")
    search(page, "document", worker["document_number"].lower())
    rows = page.locator("#worker-list tbody tr")
    expect(rows).to_have_count(1)
    equal(rows.first.get_attribute("data-worker"), worker["id"], "the worker found by passport number")
    ctx.screenshot(page, "worker-search")
    accessible(page, "the worker search")
    rows.first.locator("a").click()
    check(page.url.endswith(f"#workers/{worker['id']}"), f"the worker page's address: {page.url}")
    membership, _, shown = compare_coverage(page, worker["id"])
    kinds = sorted({r["kind"] for r in shown["timeline"]})
    print(f"worker page: {len(membership['periods'])} periods, {len(membership['merged'])} active spans, "
          f"timeline kinds {kinds}, active today: {membership['active']} — equal to the membership API")
    check("departed" in kinds and "contract" in kinds, "the timeline shows the contract and the departure")
    identity = page.locator("#identity")
    expect(identity.locator('[data-field="document"]')).to_contain_text(worker["document_number"])
    expect(identity.locator('[data-field="date_of_birth"]')).to_have_text(worker["date_of_birth"])
    contributions = api(f"/v1/workers/{worker['id']}/contributions", limit=500)["items"]
    equal(page.locator("#contributions-table tbody tr").count(), len(contributions), "contributions listed")
    for c in contributions:
        cell = page.locator(f'#contributions-table tr[data-contribution="{c["id"]}"] td[data-amount="amount"]')
        equal(cell.evaluate("td => td.childNodes[0].textContent.replaceAll(',', '')"), c["amount"], "a contribution's amount")
        check(cell.evaluate("td => getComputedStyle(td).textAlign") == "right", "amounts are right-aligned")
    claims = api(f"/v1/workers/{worker['id']}/claims", limit=500)["items"]
    equal(page.locator("#claims-table tbody tr").count(), len(claims), "claims listed")
    equal(page.locator("#dependants-table tbody tr").count(), len(worker["dependants"]), "dependants listed")
    check(page.locator("#quote-form").count() == 1, "an officer may record a contribution")
    ctx.screenshot(page, "worker-page")
    accessible(page, "the worker page")
    no_sideways_scroll(page, "the worker page")
    ctx.screenshot(page, "worker-page-360px")
    page.set_viewport_size({"width": 1280, "height": 900})

    # 2. The start of the family name finds them too (paging if needed).
    page.click("#back-to-search")
    prefix = worker["family_name"][:3]
    search(page, "name", prefix)
    found = False
    for _ in range(20):
        if page.locator(f'#worker-list tr[data-worker="{worker["id"]}"]').count():
            found = True
            break
        if page.locator("#next-page").count() == 0:
            break
        summary = page.locator("#results-summary").inner_text()
        page.click("#next-page")
        expect(page.locator("#results-summary")).not_to_have_text(summary)
    check(found, f"a search by the name prefix {prefix!r} finds {worker['family_name']}")
    for name in page.locator("#worker-list tbody th").all_inner_texts():
        family, given = name.split(", ", 1)
        check(family.lower().startswith(prefix.lower()) or given.lower().startswith(prefix.lower()), f"{name} starts with {prefix}")

    # 3. Enroll a new worker: a refusal in words first, then enrolled.
    today = datetime.date.today().isoformat()
    passport = f"PA{random.randrange(10**7, 10**8)}"
    page.fill("#enroll-document-number", passport)
    page.fill("#enroll-given-name", "Sita")
    page.fill("#enroll-family-name", "Console-Tamang")
    page.fill("#enroll-birth-date", day(today, 400))
    page.select_option("#enroll-sex", "female")
    page.fill("#enroll-sector", "domestic_work")
    page.fill("#enroll-employer", "Doha Household Services")
    page.fill("#enroll-destination", "QA")
    page.fill("#enroll-occupation", "Domestic worker")
    page.fill("#enroll-contract-start", day(today, 30))
    page.fill("#enroll-contract-end", day(today, 30 + 729))
    page.click("#enroll")
    expect(page.locator("#enroll-error")).to_contain_text("date_of_birth")
    check(page.locator("#enroll-birth-date").get_attribute("aria-invalid") == "true", "the refused field is marked invalid")
    page.fill("#enroll-birth-date", "1995-04-12")
    page.click("#enroll")
    expect(page.locator("#workers-flash")).to_contain_text("is enrolled")
    new_id = page.locator("#worker-heading").get_attribute("data-worker")
    enrolled = api(f"/v1/funds/{FUND}/workers", document_number=passport)["items"]
    equal([w["id"] for w in enrolled], [new_id], "the enrolled worker found through the API")
    equal((enrolled[0]["given_name"], enrolled[0]["family_name"], enrolled[0]["date_of_birth"]), ("Sita", "Console-Tamang", "1995-04-12"), "the enrolled worker's identity")
    equal([c["destination_country"] for c in enrolled[0]["contracts"]], ["QA"], "the enrolled worker's contract")
    print(f"enrolled {passport} as {new_id} from the console")

    # 4. A contribution from a quote.
    expect(page.locator(f'#main[data-loaded="{new_id}"]')).to_be_attached()
    check(page.locator("#coverage-periods").count() == 0, "a new worker has no coverage yet")
    contract_id = enrolled[0]["contracts"][0]["id"]
    equal(page.locator("#quote-contract").input_value(), contract_id, "the contract quoted")
    page.fill("#quote-paid-on", today)
    page.click("#get-quote")
    quote_box = page.locator("#quote")
    expect(quote_box).to_be_visible()
    quote = api(f"/v1/funds/{FUND}/contributions/quote", worker_id=new_id, contract_id=contract_id, paid_on=today)
    equal(quote_box.get_attribute("data-amount"), quote["amount"], "the quoted amount")
    equal(quote_box.get_attribute("data-total"), quote["total"], "the quoted total")
    # The first attempt is lost on the network; the retry sends the same key.
    keys = []

    def flaky(route):
        if route.request.method != "POST":
            return route.continue_()
        keys.append(route.request.headers.get("idempotency-key"))
        return route.abort() if len(keys) == 1 else route.continue_()

    page.route("**/v1/funds/*/contributions", flaky)
    page.click("#record")
    expect(page.locator("#record-error")).to_contain_text("could not be reached")
    page.click("#record")
    page.locator("#record-error, #workers-flash:has-text(\"recorded\")").first.wait_for(timeout=15000)
    if page.locator("#record-error").count():
        check(False, f"the contribution is refused: {page.locator('#record-error').inner_text()}")
    expect(page.locator("#workers-flash")).to_contain_text("recorded")
    page.unroute("**/v1/funds/*/contributions")
    check(len(keys) == 2 and keys[0] and keys[0] == keys[1], f"a retried booking keeps its Idempotency-Key: {keys}")
    booked = api(f"/v1/workers/{new_id}/contributions")["items"]
    equal(len(booked), 1, "contributions booked by one click")
    c = booked[0]
    equal((c["amount"], c["total"], c["currency"], c["paid_on"], c["contract_id"]), (quote["amount"], quote["total"], quote["currency"], today, contract_id), "the contribution booked")
    equal((c["coverage"]["start"], c["coverage"]["end"]), (quote["coverage"]["start"], quote["coverage"]["end"]), "the coverage booked")
    membership, _, shown = compare_coverage(page, new_id)
    equal([p["contribution_id"] for p in shown["periods"]], [c["id"]], "the coverage shown after recording")
    print(f"recorded {c['total']} {c['currency']} from the quote: coverage {c['coverage']['start']} to {c['coverage']['end']} shown")
    page.context.close()

    # 5. An auditor sees the pages read-only.
    page = ctx.new_page("auditor")
    page.goto(f"{BASE}/console/#workers")
    expect(page.locator("#search-text")).to_be_visible()
    check(page.locator("#enroll-form").count() == 0, "an auditor sees no enrollment form")
    search(page, "name", prefix)
    accessible(page, "the auditor's worker search")
    no_sideways_scroll(page, "the worker search")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{BASE}/console/#workers/{worker['id']}")
    compare_coverage(page, worker["id"])
    check(page.locator("#quote-form").count() == 0, "an auditor sees no contribution form")
    check(page.locator("form").count() == 0, f"an auditor's worker page has no form")
    accessible(page, "the auditor's worker page")
    page.context.close()
