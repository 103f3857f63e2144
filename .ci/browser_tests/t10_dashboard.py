"""The sign-in page, the roles and the fund dashboard.

1. The development link signs the admin in; the token leaves the address bar.
2. The dashboard of NP-FEWF as of a chosen date shows the reports API's figures
   for that date, to the unit: every trial balance line, the active and lapsed
   members and their groups by sex, destination and sector, the claims filed
   in the period by status and by benefit. At 360 px the page does not scroll
   sideways.
3. Signing out forgets the token; a pasted one-fund auditor token shows that
   fund only; a worker's token shows no page.
axe-core finds no serious or critical accessibility violation on the sign-in
page, the admin's dashboard and the auditor's.
"""
from playwright.sync_api import expect

from common import BASE, FUND, SHOTS, TOKENS, accessible, api, check, equal

AS_OF = "2026-06-30"
CLAIMS_FROM = "2025-01-01"

# What the page shows, read from the DOM: the first text node of a cell is the
# amount as displayed (the currency follows in its own span); grouping commas
# are the only change the console makes to the API's strings.
READ_FIGURES = """
() => {
  const plain = (el) => el.childNodes[0].textContent.replaceAll(",", "");
  const tb = {};
  for (const row of document.querySelectorAll("#trial-balance tr[data-account]")) {
    const cells = {};
    for (const td of row.querySelectorAll("td[data-amount]")) cells[td.dataset.amount] = plain(td);
    tb[row.dataset.account] = cells;
  }
  const groups = (id) => {
    const out = {};
    for (const row of document.querySelectorAll(`#${id} tbody tr`)) out[row.dataset.key] = plain(row.querySelector("td"));
    return out;
  };
  const claims = (id) => {
    const out = [];
    for (const row of document.querySelectorAll(`#${id} tbody tr`)) {
      const amounts = {};
      for (const td of row.querySelectorAll("td[data-amount]")) amounts[td.dataset.amount] = plain(td);
      out.push({ key: row.dataset.key, currency: row.dataset.currency ?? null, amounts });
    }
    return out;
  };
  const figure = (name) => plain(document.querySelector(`[data-figure="${name}"]`));
  const key = {};
  for (const dd of document.querySelectorAll("dd[data-account]")) key[dd.dataset.account] = plain(dd);
  return {
    tb, key,
    active: figure("members-active"), lapsed: figure("members-lapsed"),
    sex: groups("members-by-sex"), destination: groups("members-by-destination"), sector: groups("members-by-sector"),
    claimsCount: figure("claims-count"), claimsPayees: figure("claims-payees"),
    byStatus: claims("claims-by-status"), byBenefit: claims("claims-by-benefit"),
  };
}
"""


def expected_claim_rows(report, dimension):
    rows = []
    for group in report["groups"]:
        for a in group["amounts"] or [None]:
            rows.append({
                "key": group[dimension],
                "currency": a["currency"] if a else None,
                "amounts": {k: a[k] for k in ("claimed", "assessed", "approved", "paid")} if a else {},
            })
    return rows


def compare_dashboard(page):
    shown = page.evaluate(READ_FIGURES)
    fund = f"/v1/funds/{FUND}"
    tb = api(f"{fund}/reports/trial-balance", as_of=AS_OF)
    check(len(tb["lines"]) > 5, "the trial balance has lines")
    expected_tb = {l["account"]: {k: l[k] for k in ("debits", "credits", "balance")} for l in tb["lines"]}
    equal(shown["tb"], expected_tb, "trial balance lines")
    for code in ("1000", "3000", "4000"):
        line = next(l for l in tb["lines"] if l["account"] == code)
        equal(shown["key"].get(code), line["balance"], f"key figure {code}")
    check(any(l["balance"] not in ("0", "0.00") for l in tb["lines"]), "the chosen date has non-zero balances")
    for dimension in ("sex", "destination", "sector"):
        report = api(f"{fund}/reports/membership", as_of=AS_OF, by=dimension)
        equal(shown[dimension], {g[dimension]: str(g["active"]) for g in report["groups"]}, f"members by {dimension}")
        equal(shown["active"], str(report["active"]), "active members")
        equal(shown["lapsed"], str(report["lapsed"]), "lapsed members")
    check(int(shown["active"]) > 0, "members are active on the chosen date")
    for dimension, key in (("status", "byStatus"), ("benefit", "byBenefit")):
        report = api(f"{fund}/reports/claims", **{"from": CLAIMS_FROM, "to": AS_OF, "by": dimension})
        equal(shown[key], expected_claim_rows(report, dimension), f"claims by {dimension}")
        equal(shown["claimsCount"], str(report["count"]), "claims filed")
        equal(shown["claimsPayees"], str(report["payees"]), "beneficiaries")
    check(int(shown["claimsCount"]) > 0, "claims were filed in the chosen period")
    return shown


def run(ctx):
    # The claims report refused on purpose below is the only 400 expected.
    ctx.expected_errors.append("the server responded with a status of 400")
    page = ctx.new_page()
    # 1. The development link signs the admin in and leaves no token in the URL.
    page.goto(f"{BASE}/console/#token={TOKENS['admin']}")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("(admin)")
    check("token" not in page.url, f"the token is still in the address bar: {page.url}")
    check(page.evaluate("sessionStorage.getItem('mwf.token')") == TOKENS["admin"], "the token is in session storage")
    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    check(page.evaluate("document.activeElement.id") == "skip-link", "the first Tab reaches the skip link")
    page.keyboard.press("Enter")
    check(page.evaluate("document.activeElement.id") == "main", "the skip link moves focus to the content")
    options = page.locator("#fund option").all_inner_texts()
    check(len(options) == 6, f"the admin sees every demo fund: {options}")

    # 2. The dashboard for a chosen fund and date equals the reports API.
    page.select_option("#fund", FUND)
    page.fill("#as-of", AS_OF)
    page.fill("#claims-from", CLAIMS_FROM)
    page.click("#show")
    expect(page.locator(f'#figures[data-fund="{FUND}"][data-as-of="{AS_OF}"]')).to_be_attached()
    expect(page.locator("#figures")).not_to_have_attribute("aria-busy", "true")
    shown = compare_dashboard(page)
    print(f"dashboard {FUND} as of {AS_OF}: {len(shown['tb'])} trial balance lines, "
          f"{shown['active']} active members, {shown['claimsCount']} claims equal the reports API")
    # A refusal of the API is shown in words with the field it names.
    page.fill("#claims-from", "2026-07-01")
    page.click("#show")
    expect(page.locator("#figures [role=alert]")).to_contain_text("to:")
    page.fill("#claims-from", CLAIMS_FROM)
    page.click("#show")
    expect(page.locator("#figures #trial-balance")).to_be_attached()
    page.click("#verify")
    expect(page.locator("#verify-result")).to_contain_text("The chain verifies")
    page.screenshot(path=f"{SHOTS}/dashboard-admin.png", full_page=True)
    accessible(page, "the admin's dashboard")


    page.set_viewport_size({"width": 360, "height": 780})
    wide = page.evaluate("document.documentElement.scrollWidth")
    check(wide <= 360, f"at 360 px the page scrolls sideways ({wide} px wide)")
    page.screenshot(path=f"{SHOTS}/dashboard-360px.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # 3. Signing out forgets the token; an auditor of one fund sees that fund only.
    page.click("#sign-out")
    expect(page.locator("#token")).to_be_visible()
    check(page.evaluate("sessionStorage.getItem('mwf.token')") is None, "signing out forgets the token")
    page.screenshot(path=f"{SHOTS}/sign-in.png")
    accessible(page, "the sign-in page")
    page.fill("#token", TOKENS["auditor"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("(auditor)")
    expect(page.locator("#figures[data-fund]")).to_be_attached()
    options = page.locator("#fund option").evaluate_all("os => os.map(o => o.value)")
    equal(options, [FUND], "funds offered to a one-fund auditor")
    nav = page.locator("#nav a").all_inner_texts()
    equal(nav, ["Fund dashboard", "Claims desk", "Workers", "Ledger", "Audit log", "API reference"], "the auditor's navigation")
    page.screenshot(path=f"{SHOTS}/dashboard-auditor.png", full_page=True)
    accessible(page, "the auditor's dashboard")

    # A worker's token is for the self-service API: no console page.
    page.click("#sign-out")
    page.fill("#token", TOKENS["worker"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("no-pages")).to_be_visible()
    check(page.locator("#fund").count() == 0, "a worker sees no dashboard")

    # A pasted string that is not a token is refused in words.
    page.click("#sign-out")
    page.fill("#token", "not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-error")).to_contain_text("not a token")
    page.context.close()
