"""The dashboard's charts over time.

The dashboard of NP-FEWF as of 2026-06-30 draws its charts (a canvas each:
cash and reserves, contributions per month, benefits approved and paid, months
of benefits the reserves cover with its trend) over the 24 months ending in
June 2026, and the table of every chart equals the monthly report of the API
for the same range, to the unit. Another span (12 months) is asked and shown,
and the 24 months ending today, whose last month has benefits paid (the demo
pays its claims on the day it runs) and so a coverage and a trend.
At 360 px the charts fit without sideways scroll. axe-core finds no serious
or critical violation with every table open; no page logs an error (a CSP
violation included: the runner checks).
"""
import datetime

from playwright.sync_api import expect

from common import FUND, SHOTS, accessible, api, check, equal

AS_OF = "2026-06-30"

# Every chart table's rows, read from the DOM: the first text node of a cell
# is the figure as displayed (grouping commas are the console's only change).
READ_TABLES = """
() => {
  const plain = (el) => el.childNodes[0].textContent.replaceAll(",", "");
  const out = {};
  for (const table of document.querySelectorAll("#charts table")) {
    const rows = {};
    for (const row of table.querySelectorAll("tbody tr[data-month]")) {
      const cells = {};
      for (const td of row.querySelectorAll("td[data-figure]")) {
        cells[td.dataset.figure] = td.dataset.figure === "coverage" ? td.dataset.value : plain(td);
      }
      rows[row.dataset.month] = cells;
    }
    out[table.id] = rows;
  }
  return out;
}
"""


def of(items, currency):
    return next((x["amount"] for x in items if x["currency"] == currency), "0")


def expected_tables(report, currency):
    """The tables the console should show for `currency`, from the API's report."""
    balances, contributions, claims, coverage = {}, {}, {}, {}
    types = sorted({p["payer_type"] for m in report["months"] for c in m["contributions"]
                    if c["currency"] == currency for p in c["by_payer"]})
    for m in report["months"]:
        month = m["month"]
        balances[month] = {k: of(m[k], currency) for k in ("cash", "fund_reserve", "reserves")}
        c = next((c for c in m["contributions"] if c["currency"] == currency),
                 {"count": 0, "amount": "0", "by_payer": []})
        row = {"count": str(c["count"]), "amount": c["amount"]}
        for t in types:
            p = next((p for p in c["by_payer"] if p["payer_type"] == t), {"count": 0, "amount": "0"})
            row[f"count:{t}"] = str(p["count"])
            row[f"amount:{t}"] = p["amount"]
        contributions[month] = row
        claims[month] = {k: of(m[k], currency) for k in ("approved", "paid", "paid_last_12_months")}
        months = next((x["months"] for x in m["coverage"] if x["currency"] == currency), None)
        coverage[month] = {
            "reserves": of(m["reserves"], currency),
            "paid_last_12_months": of(m["paid_last_12_months"], currency),
            "coverage": months or "",
        }
    return {
        f"chart-balances-{currency}": balances,
        f"chart-contributions-{currency}": contributions,
        f"chart-claims-{currency}": claims,
        f"chart-coverage-{currency}": coverage,
    }


def show(page, span, as_of=AS_OF):
    page.select_option("#fund", FUND)
    page.fill("#as-of", as_of)
    page.select_option("#chart-months", str(span))
    page.click("#show")
    expect(page.locator(f'#figures[data-fund="{FUND}"][data-as-of="{as_of}"]')).to_be_attached()
    expect(page.locator("#figures")).not_to_have_attribute("aria-busy", "true")


def compare(page, first, last):
    fund = api(f"/v1/funds/{FUND}")
    currency = fund["currency"]
    report = api(f"/v1/funds/{FUND}/reports/monthly", **{"from": first, "to": last})
    expect(page.locator(f'#charts[data-from="{first}"][data-to="{last}"]')).to_be_attached()
    charts = page.locator("#charts section.chart")
    check(charts.count() >= 4, f"four charts at least, found {charts.count()}")
    for kind in ("balances", "contributions", "claims", "coverage"):
        plot = page.locator(f"#chart-{kind}-{currency}-plot")
        expect(plot.locator("canvas")).to_have_count(1)
        box = plot.locator("canvas").bounding_box()
        check(box and box["width"] > 150 and box["height"] > 100, f"the {kind} chart is drawn: {box}")
    shown = page.evaluate(READ_TABLES)
    want = expected_tables(report, currency)
    for table_id, rows in want.items():
        equal(shown.get(table_id), rows, f"table {table_id}")
    check(len(want[f"chart-balances-{currency}"]) == len(report["months"]), "one row per month")
    # The demo's figures are not all zero in the range shown.
    check(any(c["count"] > 0 for m in report["months"] for c in m["contributions"]), "contributions in the range")
    check(any(of(m["cash"], currency) not in ("0", "0.00") for m in report["months"]), "cash in the range")
    return report


def run(ctx):
    page = ctx.new_page("admin")
    show(page, 24)
    report = compare(page, "2024-07", "2026-06")
    counted = sum(c["count"] for m in report["months"] for c in m["contributions"])
    paid = [x["months"] for m in report["months"] for x in m["coverage"] if x["months"] is not None]
    print(f"charts {FUND} 2024-07..2026-06: {counted} contributions, coverage in {len(paid)} months "
          f"({paid[-1] if paid else 'none'} at the end), tables equal the monthly report")
    # The trend line is drawn beside the coverage line (two series, a legend each).
    currency = api(f"/v1/funds/{FUND}")["currency"]
    legend = page.locator(f"#chart-coverage-{currency}-plot + ul.legend li")
    check(legend.count() == 2, "the coverage chart has its line and its trend")
    ctx.screenshot(page, "dashboard-charts")
    # Every table open, for axe.
    for summary in page.locator("#charts details > summary").all():
        summary.click()
    accessible(page, "the dashboard's charts with their tables open")

    # Another span: 12 months ending at the same month.
    show(page, 12)
    compare(page, "2025-07", "2026-06")

    # As of today: the demo decides and pays its claims today, so this month
    # has benefits paid and the reserves' coverage is a number.
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    show(page, 24, as_of=today)
    first_month = today[:7]
    year, month = int(first_month[:4]), int(first_month[5:])
    start = year * 12 + month - 1 - 23
    report = compare(page, f"{start // 12}-{start % 12 + 1:02d}", first_month)
    last = report["months"][-1]
    months = next(x["months"] for x in last["coverage"] if x["currency"] == currency)
    check(months is not None, f"the reserves' coverage this month is a number: {last}")
    # The trend is a least-squares line: drawn when two months or more have a coverage.
    points = sum(1 for m in report["months"] for x in m["coverage"] if x["currency"] == currency and x["months"])
    trend = page.locator(f"#chart-coverage-{currency} td[data-trend]").all_text_contents()
    check(all(trend) if points >= 2 else not any(trend), f"trend {trend} for {points} months with a coverage")
    print(f"charts {FUND} as of {today}: coverage {months} months this month, {points} months with a coverage")
    page.locator("#charts").screenshot(path=f"{SHOTS}/dashboard-charts-today.png")

    # At 360 px the charts shrink to the card: no sideways scroll.
    page.set_viewport_size({"width": 360, "height": 780})
    page.wait_for_timeout(300)
    wide = page.evaluate("document.documentElement.scrollWidth")
    check(wide <= 360, f"at 360 px the page scrolls sideways ({wide} px wide)")
    width = page.locator("#charts canvas").first.bounding_box()["width"]
    check(width <= 340, f"a chart is {width} px wide at 360 px")
    page.context.close()
