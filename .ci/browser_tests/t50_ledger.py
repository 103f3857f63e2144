"""The ledger and audit pages, as a one-fund auditor of NP-FEWF (and an officer).

1. The accounts with their balances as of a chosen date equal
   `GET /accounts?as_of=`; an account's statement for a chosen range equals
   `GET /accounts/{code}/statement` (paged 50 lines at a time).
2. A journal entry opened from the statement shows the hash and previous hash
   of `GET /journal-entries/{id}`, links to the entry before it (whose hash is
   that previous hash), and a reversed entry links to its reversal and back.
3. "Verify the chain" says it verifies and adds a checkpoint signed by the
   auditor.
4. Each export format downloaded from the page is the file the API answers
   for the same query (the time it was generated aside), and the chain head
   the page shows, and the one written in the file, are the fund's chain head.
5. The audit log filtered by one actor shows only that actor's records, equal
   to the API's first page (and second); its CSV export equals the API's.
6. An officer sees the ledger but no exports and no audit log.
axe-core on the ledger, entry, statement and audit pages; at 360 px no page
scrolls sideways.
"""
import json
import re

from playwright.sync_api import expect

from common import BASE, FUND, accessible, api, check, equal

AS_OF = "2026-06-30"
STATEMENT = ("1000", "2019-01-01", "2026-06-30")
ACTOR = "demo-officer"
FORMATS = ("csv", "jsonl", "beancount", "hledger")

READ_ACCOUNTS = """
() => {
  const plain = (el) => el.childNodes[0].textContent.replaceAll(",", "");
  const out = {};
  for (const row of document.querySelectorAll("#accounts tr[data-account]")) {
    const cells = {};
    for (const td of row.querySelectorAll("td[data-amount]")) cells[td.dataset.amount] = plain(td);
    out[row.dataset.account] = cells;
  }
  return out;
}
"""

READ_STATEMENT = """
() => {
  const plain = (el) => el ? el.childNodes[0].textContent.replaceAll(",", "") : null;
  return {
    opening: plain(document.querySelector('[data-figure="opening"]')),
    closing: plain(document.querySelector('[data-figure="closing"]')),
    lines: [...document.querySelectorAll("#statement-lines tbody tr")].map((row) => ({
      entry_id: row.dataset.entry,
      sequence: Number(row.dataset.sequence),
      debit: plain(row.querySelector('td[data-amount="debit"]')),
      credit: plain(row.querySelector('td[data-amount="credit"]')),
      balance: plain(row.querySelector('td[data-amount="balance"]')),
    })),
  };
}
"""


def no_sideways_scroll(page, what):
    page.set_viewport_size({"width": 360, "height": 780})
    wide = page.evaluate("document.documentElement.scrollWidth")
    check(wide <= 360, f"at 360 px {what} scrolls sideways ({wide} px wide)")
    return wide


def expected_lines(lines):
    return [{
        "entry_id": l["entry_id"],
        "sequence": l["sequence"],
        "debit": l["amount"] if l["side"] == "debit" else None,
        "credit": l["amount"] if l["side"] == "credit" else None,
        "balance": l["balance"],
    } for l in lines]


def head_in_file(fmt, text):
    """`sequence:hash` as the file states it (read here independently of the page)."""
    if fmt == "csv":
        last = text.strip().splitlines()[-1].split(",")
        check(last[0] == "chain_head", f"the CSV export ends with a chain_head row: {last}")
        return f"{last[2]}:{last[13]}"
    if fmt == "jsonl":
        end = json.loads(text.strip().splitlines()[-1])
        return f"{end['chain_head']['sequence']}:{end['chain_head']['hash']}"
    match = re.search(r"chain head when exported: sequence (\d+), hash ([0-9a-f]{64})", text)
    check(match is not None, f"the {fmt} export states its chain head")
    return f"{match[1]}:{match[2]}"


def without_generation_time(text):
    """The export as text, with the moment it was generated blanked out."""
    text = re.sub(r'"generated_at":"[^"]*"', '"generated_at":""', text)
    return re.sub(r"generated \S+", "generated -", text)


def ledger_page(ctx):
    page = ctx.new_page("auditor")
    page.click('#nav a[data-page="ledger"]')
    expect(page.locator("#ledger[data-fund]")).to_be_attached()
    options = page.locator("#fund option").evaluate_all("os => os.map(o => o.value)")
    equal(options, [FUND], "funds offered to a one-fund auditor")

    # 1. Accounts as of a date.
    page.fill("#ledger-as-of", AS_OF)
    page.click("#ledger-show")
    expect(page.locator(f'#ledger[data-fund="{FUND}"][data-as-of="{AS_OF}"]')).to_be_attached()
    expect(page.locator("#ledger")).not_to_have_attribute("aria-busy", "true")
    shown = page.evaluate(READ_ACCOUNTS)
    accounts = api(f"/v1/funds/{FUND}/accounts", role="auditor", as_of=AS_OF)["items"]
    equal(shown, {a["code"]: {k: a[k] for k in ("debits", "credits", "balance")} for a in accounts}, f"accounts as of {AS_OF}")
    check(any(a["balance"] not in ("0", "0.00") for a in accounts), "the chosen date has non-zero balances")
    print(f"ledger {FUND} as of {AS_OF}: {len(shown)} accounts equal GET /accounts?as_of")
    return page


def statement_and_entry(ctx, page):
    code, start, end = STATEMENT
    page.click(f'a[data-statement="{code}"]')
    expect(page.locator(f'#statement[data-account="{code}"]')).to_be_attached()
    page.fill("#statement-from", start)
    page.fill("#statement-to", end)
    page.click("#statement-show")
    expect(page.locator("#statement-range")).to_be_visible()
    expect(page.locator("#statement")).not_to_have_attribute("aria-busy", "true")
    statement = api(f"/v1/funds/{FUND}/accounts/{code}/statement", role="auditor", **{"from": start, "to": end})
    lines = expected_lines(statement["entries"])
    check(len(lines) > 50, f"the statement of {code} has more than one page of lines ({len(lines)})")
    shown = page.evaluate(READ_STATEMENT)
    equal(shown["opening"], statement["opening_balance"], "opening balance")
    equal(shown["closing"], statement["closing_balance"], "closing balance")
    equal(shown["lines"], lines[:50], "the statement's first 50 lines")
    page.click("#statement-next")
    expect(page.locator("#statement-range")).to_contain_text("Lines 51 to")
    equal(page.evaluate(READ_STATEMENT)["lines"], lines[50:100], "the statement's second page")
    accessible(page, "an account statement")
    print(f"statement of {code} {start} to {end}: {len(lines)} lines equal the API, paged by 50")

    # 2. A journal entry from the statement, with its hash and previous hash.
    line = statement["entries"][50]
    page.click(f'#statement-lines tr[data-entry="{line["entry_id"]}"] a')
    expect(page.locator(f'#entry[data-entry="{line["entry_id"]}"]')).to_be_visible()
    entry = api(f"/v1/funds/{FUND}/journal-entries/{line['entry_id']}", role="auditor")
    equal(page.locator('[data-field="hash"]').inner_text(), entry["hash"], "the entry's hash")
    equal(page.locator('[data-field="previous_hash"]').inner_text(), entry["previous_hash"], "the entry's previous hash")
    equal(page.locator('[data-field="sequence"]').inner_text(), str(entry["sequence"]), "the entry's sequence")
    postings = page.locator("#postings tbody tr").evaluate_all(
        """rows => rows.map(r => {
             const cell = (side) => { const td = r.querySelector(`td[data-amount="${side}"]`); return td ? [side, td.childNodes[0].textContent.replaceAll(",", ""), td.querySelector(".currency").textContent.trim()] : null; };
             return [r.dataset.posting, cell("debit") ?? cell("credit")];
           })"""
    )
    equal(postings, [[p["account"], [p["side"], p["amount"], p["currency"]]] for p in entry["postings"]], "the entry's postings")
    ctx.screenshot(page, "journal-entry")
    accessible(page, "a journal entry")
    page.click("#previous-entry")
    expect(page.locator('[data-field="sequence"]')).to_have_text(str(entry["sequence"] - 1))
    equal(page.locator('[data-field="hash"]').inner_text(), entry["previous_hash"], "the previous entry's hash")
    print(f"journal entry {entry['sequence']}: hash and previous hash equal the API; the link leads to the entry with that hash")

    # A reversed entry links to its reversal, and the reversal back.
    reversed_entry = None
    after = None
    while reversed_entry is None:
        params = {"limit": 500, **({"after": after} if after else {})}
        listed = api(f"/v1/funds/{FUND}/journal-entries", role="auditor", **params)
        reversed_entry = next((e for e in listed["items"] if e["reversed_by"]), None)
        after = listed.get("next")
        if not after:
            break
    check(reversed_entry is not None, "the demo ledger holds a reversed entry")
    page.goto(f"{BASE}/console/#ledger/entry/{FUND}/{reversed_entry['id']}")
    expect(page.locator(f'#entry[data-entry="{reversed_entry["id"]}"]')).to_be_visible()
    page.click('[data-field="reversed_by"] a')
    expect(page.locator(f'#entry[data-entry="{reversed_entry["reversed_by"]}"]')).to_be_visible()
    equal(page.locator('[data-field="reverses"] a').inner_text(), reversed_entry["id"], "the reversal's link back")


def verify_and_export(ctx, page):
    page.click("#back-to-ledger")
    expect(page.locator("#ledger[data-fund]")).to_be_attached()
    expect(page.locator("#ledger")).not_to_have_attribute("aria-busy", "true")
    before = len(api(f"/v1/funds/{FUND}/ledger/checkpoints", role="auditor", limit=500)["items"])
    # 3. Verify.
    page.click("#verify")
    expect(page.locator('#verify-result[data-ok="true"]')).to_contain_text("The chain verifies")
    checkpoints = api(f"/v1/funds/{FUND}/ledger/checkpoints", role="auditor", limit=500)["items"]
    equal(len(checkpoints), before + 1, "checkpoints after verifying")
    expect(page.locator(f'#checkpoints-table tr[data-checkpoint="{checkpoints[-1]["id"]}"]')).to_contain_text("browser-auditor")

    # 4. Every export format, downloaded from the page.
    fund = api(f"/v1/funds/{FUND}", role="auditor")
    head = f"{fund['entries']}:{fund['chain_head']}"
    for fmt in FORMATS:
        with page.expect_download() as download:
            page.click(f"#export-{fmt}")
        saved = download.value
        check(saved.suggested_filename.startswith(f"{FUND}-ledger-"), f"the {fmt} file is named after the fund: {saved.suggested_filename}")
        with open(saved.path(), encoding="utf-8") as f:
            text = f.read()
        served = api(f"/v1/funds/{FUND}/exports/ledger", role="auditor", raw=True, format=fmt).decode()
        check(len(text) > 1000, f"the {fmt} export has content")
        equal(without_generation_time(text), without_generation_time(served), f"the {fmt} file")
        item = page.locator(f'#export-results li[data-export="{fmt}"]')
        expect(item).to_have_attribute("data-matches", "true")
        equal(item.locator('[data-head="export"]').inner_text(), head, f"the chain head the {fmt} export reports")
        equal(item.locator('[data-head="file"]').inner_text(), head, f"the chain head shown from the {fmt} file")
        equal(head_in_file(fmt, text), head, f"the chain head in the {fmt} file")
        print(f"export {fmt}: {saved.suggested_filename}, {len(text)} characters equal the API's; chain head {head[:20]}… equals the fund's")
    ctx.screenshot(page, "ledger")
    accessible(page, "the ledger page")
    no_sideways_scroll(page, "the ledger page")
    ctx.screenshot(page, "ledger-360px")
    page.set_viewport_size({"width": 1280, "height": 900})


def audit_page(ctx, page):
    page.click('#nav a[data-page="audit"]')
    expect(page.locator("#audit[data-page]")).to_be_attached()
    page.fill("#audit-actor", ACTOR)
    page.click("#audit-show")
    expect(page.locator(f"#audit[data-filter*='{ACTOR}']")).to_be_attached()
    expect(page.locator("#audit")).not_to_have_attribute("aria-busy", "true")
    first = api("/v1/audit-log", role="auditor", actor=ACTOR, limit=50)
    check(len(first["items"]) > 0, f"{ACTOR} has audit records")
    shown = page.locator("#audit-log tbody tr").evaluate_all("rows => rows.map(r => [Number(r.dataset.record), r.dataset.actor])")
    equal(shown, [[r["id"], ACTOR] for r in first["items"]], f"the first page of {ACTOR}'s records")
    cells = page.locator("#audit-log tbody tr").first.locator("td, th").all_inner_texts()
    r = first["items"][0]
    equal(cells[:5], [r["occurred_at"], f"{ACTOR} ({r['role']})", r["action"], r["fund"] or "", r["target"] or ""], "the first record's time, actor, action, fund and object")
    ctx.screenshot(page, "audit-log")
    accessible(page, "the audit log")
    # Paging with `after`, on the whole log the auditor may read.
    page.fill("#audit-actor", "")
    page.click("#audit-show")
    expect(page.locator("#audit[data-filter='{}']")).to_be_attached()
    everyone = api("/v1/audit-log", role="auditor", limit=50)
    check(everyone.get("next"), "the auditor's audit log has more than one page")
    expect(page.locator("#audit-log tbody tr")).to_have_count(len(everyone["items"]))
    second = api("/v1/audit-log", role="auditor", limit=50, after=everyone["next"])
    page.click("#audit-next")
    expect(page.locator('#audit[data-page="2"]')).to_be_attached()
    shown = page.locator("#audit-log tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.record))")
    equal(shown, [r["id"] for r in second["items"]], "the audit log's second page")
    page.click("#audit-previous")
    expect(page.locator('#audit[data-page="1"]')).to_be_attached()
    shown = page.locator("#audit-log tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.record))")
    equal(shown, [r["id"] for r in everyone["items"]], "the audit log's first page, back again")
    page.fill("#audit-actor", ACTOR)
    page.click("#audit-show")
    expect(page.locator(f"#audit[data-filter*='{ACTOR}']")).to_be_attached()
    with page.expect_download() as download:
        page.click("#audit-export-csv")
    with open(download.value.path(), encoding="utf-8") as f:
        text = f.read()
    served = api("/v1/audit-log/export", role="auditor", raw=True, format="csv", actor=ACTOR).decode()
    equal(text, served, "the audit log CSV export")
    rows = text.strip().splitlines()[1:]
    check(rows and all(f",{ACTOR}," in row for row in rows), f"the export holds only {ACTOR}'s records")
    print(f"audit log of {ACTOR}: first page of {len(first['items'])} records equals the API; export of {len(rows)} rows equals the API's")
    no_sideways_scroll(page, "the audit log")
    ctx.screenshot(page, "audit-log-360px")
    page.context.close()


def officer(ctx):
    page = ctx.new_page("officer")
    nav = page.locator("#nav a").evaluate_all("as => as.map(a => a.dataset.page ?? null)")
    check("ledger" in nav and "audit" not in nav, f"an officer's navigation has the ledger and no audit log: {nav}")
    page.click('#nav a[data-page="ledger"]')
    expect(page.locator("#ledger[data-fund]")).to_be_attached()
    expect(page.locator("#accounts")).to_be_attached()
    check(page.locator("#export-csv").count() == 0, "an officer is offered no ledger export (the API refuses it)")
    page.goto(f"{BASE}/console/#audit")
    expect(page.locator("#figures")).to_be_attached()
    check(page.locator("#audit-log").count() == 0, "an officer sees no audit log")
    page.context.close()


def run(ctx):
    page = ledger_page(ctx)
    statement_and_entry(ctx, page)
    verify_and_export(ctx, page)
    audit_page(ctx, page)
    officer(ctx)
