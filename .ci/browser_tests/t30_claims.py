"""The claims desk: queues, a claim page, decisions with four eyes, payment.

Data: NP-FEWF's one submitted DEATH claim of the demo (700,000 NPR, above the
fund's 500,000 second-approval threshold, so a decision waits for a second
approver), found by status and benefit. This module decides, approves and
pays it, and books one manual grant to NP-FEWF's cash (1000 against 4200,
dated today) so that a payment run can pay it; no other module uses that
claim. It reads (never changes) NP-FEWF's appealed claim for its failed
check in words.

1. The officer opens the submitted queue of NP-FEWF (counts equal the claims
   report; the rows equal the list API), and the claim: its checks with
   reason codes in words equal the API's assessment.
2. A partial approval without a reason is refused by the API and shown in
   words with its field; the officer then approves: the claim waits for a
   second approval and the officer is told that they cannot approve their own
   decision (no approve button).
3. An approver (another subject) approves; the API shows the claim approved
   with the approval's journal entry booked (benefit expense against benefits
   payable, 700,000.00).
4. The officer pays it (the first attempt lost on the network, the retry
   with the same Idempotency-Key): cash does not cover it, so it waits for funds. A
   payment run from the console names it as still waiting; after a grant, a
   second run names it paid, and the API shows every claim it names paid.
5. The auditor and the ministry see the queues and the claim with no action
   button and no payment run.
axe-core on the queue and the claim page (with the decision form, the
approval form, and paid); screenshots `claims-queue`, `claim-page` (the
officer's, before deciding) and both at 360 px (no sideways scroll), and
`claim-page-paid`.
"""
from decimal import Decimal

from playwright.sync_api import expect

from common import BASE, FUND, accessible, api, check, equal

BENEFIT = "DEATH"


def open_desk(page):
    page.goto(f"{BASE}/console/#claims")
    page.select_option("#desk-fund", FUND)
    page.click("#desk-show")
    expect(page.locator(f'#queues[data-fund="{FUND}"]')).to_be_attached()
    expect(page.locator(f'#queue[data-fund="{FUND}"]')).to_be_attached()


def open_claim(page, claim_id):
    page.goto(f"{BASE}/console/#claims/{claim_id}")
    expect(page.locator(f'#claim[data-claim="{claim_id}"]')).to_be_attached()


def no_sideways_scroll(ctx, page, name):
    page.set_viewport_size({"width": 360, "height": 780})
    wide = page.evaluate("document.documentElement.scrollWidth")
    check(wide <= 360, f"{name} at 360 px scrolls sideways ({wide} px wide)")
    ctx.screenshot(page, f"{name}-360px")
    page.set_viewport_size({"width": 1280, "height": 900})


def shown_checks(page):
    return page.evaluate("""() => [...document.querySelectorAll("#claim-checks tbody tr")].map((r) => ({
        check: r.dataset.check, passed: r.dataset.passed === "true",
        reason: r.querySelector("[data-reason]").dataset.reason || null,
        text: r.innerText }))""")


def compare_checks(page, claim):
    shown = shown_checks(page)
    expected = [{"check": k["check"], "passed": k["passed"], "reason": k["reason"]} for k in claim["assessment"]["checks"]]
    equal([{k: s[k] for k in ("check", "passed", "reason")} for s in shown], expected, f"checks of claim {claim['id']}")
    for s in shown:
        check("_" not in s["text"].split("\t")[0], f"the check {s['check']} is named in words: {s['text']!r}")
        if s["reason"]:
            words = s["text"].split(s["reason"], 1)[1].strip()
            check(len(words) > 15 and "no words" not in words, f"the reason {s['reason']} is in words: {s['text']!r}")


def run(ctx):
    # The partial approval refused on purpose below, and the payment lost on the network.
    ctx.expected_errors.append("the server responded with a status of 422")
    ctx.expected_errors.append("net::ERR_FAILED")
    found = api(f"/v1/funds/{FUND}/claims", role="officer", status="submitted", benefit=BENEFIT, limit=500)["items"]
    check(len(found) == 1, f"the demo has one submitted {BENEFIT} claim in {FUND}: {[c['id'] for c in found]}")
    claim = found[0]
    claim_id = claim["id"]
    payable = claim["assessment"]["payable"]
    check(Decimal(payable) > Decimal("500000.00"), f"the claim needs a second approval: payable {payable}")

    # 1. The officer's submitted queue: counts from the report, rows from the list.
    officer = ctx.new_page("officer")
    open_desk(officer)
    report = api(f"/v1/funds/{FUND}/reports/claims", role="officer", **{"from": "1900-01-01", "to": "2100-12-31", "by": "status"})
    counts = officer.evaluate("() => Object.fromEntries([...document.querySelectorAll('[data-count]')].map((c) => [c.dataset.count, c.textContent]))")
    for group in report["groups"]:
        equal(counts.get(group["status"]), str(group["count"]), f"the count of {group['status']}")
    officer.click('[data-queue="submitted"]')
    expect(officer.locator('#queue[data-status="submitted"]')).to_be_attached()
    expect(officer.locator("#queue")).not_to_have_attribute("aria-busy", "true")
    listed = api(f"/v1/funds/{FUND}/claims", role="officer", status="submitted", limit=20)["items"]
    rows = officer.locator("#queue-table tbody tr").evaluate_all("rs => rs.map((r) => r.dataset.claim)")
    equal(rows, [c["id"] for c in listed], "the submitted queue's rows")
    row = officer.locator(f'#queue-table tr[data-claim="{claim_id}"]')
    worker = api(f"/v1/workers/{claim['worker_id']}", role="officer")
    expect(row).to_contain_text(f"{worker['given_name']} {worker['family_name']}")
    expect(row.locator('[data-amount="payable"]')).to_contain_text("700,000.00")
    accessible(officer, "the claims queue")
    ctx.screenshot(officer, "claims-queue")
    no_sideways_scroll(ctx, officer, "claims-queue")

    # The claim page: every check with its reason in words, the rule version.
    row.locator("a").click()
    expect(officer.locator(f'#claim[data-claim="{claim_id}"]')).to_be_attached()
    compare_checks(officer, claim)
    expect(officer.locator('[data-field="rule-version"]')).to_have_text(claim["assessment"]["rule_version"])
    expect(officer.locator('#claim-amounts [data-amount="payable"]')).to_contain_text("700,000.00 NPR")
    accessible(officer, "the claim page with the decision form")
    ctx.screenshot(officer, "claim-page")
    no_sideways_scroll(ctx, officer, "claim-page")
    # A claim with a failed check shows its reason code in words.
    appealed = api(f"/v1/funds/{FUND}/claims", role="officer", status="appealed")["items"]
    failing = next(c for c in appealed if any(not k["passed"] for k in c["assessment"]["checks"]))
    open_claim(officer, failing["id"])
    compare_checks(officer, failing)
    check(officer.locator('#claim-checks tr[data-passed="false"]').count() > 0, "a failed check is shown")
    officer.go_back()
    expect(officer.locator(f'#claim[data-claim="{claim_id}"]')).to_be_attached()

    # 2. A refusal in words with its field, then the approval.
    officer.check("#decide-partially_approve")
    officer.fill("#decide-amount", "600000.00")
    for box in officer.locator('#decide-reasons input[type="checkbox"]').all():
        box.uncheck()
    officer.click("#decide-submit")
    expect(officer.locator("#decide-result [role=alert]")).to_contain_text("/reasons")
    check(api(f"/v1/claims/{claim_id}", role="officer")["status"] == "submitted", "the refused decision changed nothing")
    officer.check("#decide-approve")
    officer.click("#decide-submit")
    expect(officer.locator("#action-done")).to_contain_text("Awaiting second approval")
    decided = api(f"/v1/claims/{claim_id}", role="officer")
    equal(decided["status"], "awaiting_second_approval", "the status after the officer's approval")
    equal(decided["decision"]["decided_by"], "browser-officer", "who decided")
    # Four eyes: the officer who decided is told they cannot approve it.
    expect(officer.locator("#decided-by")).to_contain_text("browser-officer")
    expect(officer.locator("#self-approval")).to_contain_text("You decided this claim")
    check(officer.locator("#approve-submit").count() == 0, "the decider gets no approve button")

    # 3. Another subject, an approver, approves: the expense is booked.
    approver = ctx.new_page("approver")
    open_claim(approver, claim_id)
    expect(approver.locator("#who-may-approve")).to_contain_text("browser-officer")
    check(approver.locator("#self-approval").count() == 0, "the approver did not decide")
    check(approver.locator("#decide-submit").count() == 0, "an approver gets no decision form")
    accessible(approver, "the claim page with the approval form")
    approver.fill("#approve-note", "Checked in the browser test")
    approver.click("#approve-submit")
    expect(approver.locator("#action-done")).to_contain_text("Approved")
    approved = api(f"/v1/claims/{claim_id}", role="approver")
    equal(approved["status"], "approved", "the status after the second approval")
    equal([a["approver"] for a in approved["approvals"]], ["browser-approver"], "the approvals")
    entry_id = approved["approval_entry_id"]
    check(entry_id, "the approval names its journal entry")
    expect(approver.locator('[data-entry="approval"]')).to_contain_text(entry_id)
    entry = api(f"/v1/funds/{FUND}/journal-entries/{entry_id}")
    equal(entry["source"], {"type": "claim", "id": claim_id}, "the approval entry's source")
    sides = sorted((p["side"], p["account"], p["amount"]) for p in entry["postings"])
    equal(sides, [("credit", "2000", payable), ("debit", "5100", payable)], "the approval entry's postings")
    approver.context.close()

    # 4. Payment: cash does not cover it, it waits; a payment run pays it after a grant.
    cash = next(a for a in api(f"/v1/funds/{FUND}/accounts")["items"] if a["code"] == "1000")["balance"]
    check(Decimal(cash) < Decimal(payable), f"{FUND}'s cash ({cash}) is short of the award, so the claim waits")
    officer.reload()
    expect(officer.locator('#claim[data-status="approved"]')).to_be_attached()
    # The first attempt is lost on the network; the retry of the same action
    # sends the same Idempotency-Key.
    keys = []

    def lose_the_first(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.abort()
        else:
            route.continue_()

    officer.route("**/v1/claims/*/payment", lose_the_first)
    officer.click("#pay-submit")
    expect(officer.locator("#pay-result [role=alert]")).to_contain_text("could not be reached")
    officer.click("#pay-submit")
    expect(officer.locator("#action-done")).to_contain_text("Awaiting funds")
    officer.unroute("**/v1/claims/*/payment")
    check(len(keys) == 2 and keys[0] and keys[0] == keys[1], f"a retry keeps its Idempotency-Key: {keys}")
    equal(api(f"/v1/claims/{claim_id}", role="officer")["status"], "awaiting_funds", "the status after a payment without cash")
    open_desk(officer)
    officer.click("#run-submit")
    expect(officer.locator("#run-summary")).to_contain_text("0 claims paid")
    check(officer.locator(f'#run-result [data-claim="{claim_id}"]').count() == 1, "the run names the claim as still waiting")
    shortfall = Decimal(payable) - Decimal(cash)
    api(f"/v1/funds/{FUND}/journal-entries", method="POST", key=f"t30-grant-{claim_id}", body={
        "effective_date": approved["approved_at"][:10],
        "memo": "Browser test: a government grant for the claims waiting for funds",
        "postings": [
            {"account": "1000", "side": "debit", "amount": str(shortfall), "currency": "NPR"},
            {"account": "4200", "side": "credit", "amount": str(shortfall), "currency": "NPR"},
        ],
    })
    officer.click("#run-submit")
    expect(officer.locator("#run-summary")).not_to_contain_text("0 claims paid")
    paid = officer.locator("#run-result").get_attribute("data-paid").split()
    check(claim_id in paid, f"the second run pays the claim: {paid}")
    for paid_id in paid:
        equal(api(f"/v1/claims/{paid_id}")["status"], "paid", f"claim {paid_id} named paid by the run")
    open_claim(officer, claim_id)
    expect(officer.locator('#claim-amounts [data-amount="paid"]')).to_contain_text("700,000.00 NPR")
    expect(officer.locator('#claim-history tr[data-event="approval"]')).to_contain_text("browser-approver")
    accessible(officer, "the paid claim's page")
    ctx.screenshot(officer, "claim-page-paid")
    officer.context.close()

    # 5. Auditor and ministry: the same pages, read-only.
    for role in ("auditor", "ministry"):
        page = ctx.new_page(role)
        open_desk(page)
        expect(page.locator("#read-only")).to_be_visible()
        check(page.locator("#payment-run").count() == 0, f"the {role} gets no payment run")
        open_claim(page, failing["id"])
        check(page.locator("#claim-actions").count() == 0, f"the {role} sees no actions")
        check(page.locator("#claim button").count() == 0, f"the {role} sees no action button")
        page.context.close()
