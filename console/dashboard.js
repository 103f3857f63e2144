// The fund dashboard: a fund's figures as of a chosen date, each read from the
// reports API as it answers (amounts are the API's decimal strings).
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { get } from "./api.js";
import { amount, count, startOfYear, todayIso } from "./format.js";
import { chainCard } from "./ledger.js";
import { dateField, fundField, money, number, pageFunds, selection, showError, table } from "./widgets.js";
import { announce } from "./app.js";
import { SPANS, chartsCard, drawCharts, monthsEnding } from "./charts.js";

/** Accounts shown as key figures, by code. */
const KEY_ACCOUNTS = [
  ["1000", "key.cash"],
  ["3000", "key.reserve"],
  ["4000", "key.contributions"],
];

/** The choices of the form, kept while the tab is open. */
const chosen = { asOf: null, claimsFrom: null, span: SPANS[0] };

export async function showDashboard(main) {
  const funds = await pageFunds(main, t("dashboard.heading"));
  if (!funds) return;
  chosen.asOf ??= todayIso();
  chosen.claimsFrom ??= startOfYear(chosen.asOf);

  const fund = fundField(funds);
  const asOf = dateField("as-of", "as_of", t("dashboard.asOf"), chosen.asOf);
  const from = dateField("claims-from", "claims_from", t("dashboard.claimsFrom"), chosen.claimsFrom);
  const span = h(
    "select",
    { id: "chart-months", name: "chart_months" },
    SPANS.map((n) => h("option", { value: n, selected: n === chosen.span }, t("charts.span", { months: n }))),
  );
  const figures = h("div", { id: "figures", class: "figures" });
  const form = h(
    "form",
    {
      class: "card controls",
      onsubmit: (event) => {
        event.preventDefault();
        selection.fund = fund.select.value;
        chosen.asOf = asOf.input.value;
        chosen.claimsFrom = from.input.value;
        chosen.span = Number(span.value);
        showFigures(figures, funds.find((f) => f.code === selection.fund));
      },
    },
    fund.field,
    asOf.field,
    from.field,
    h("div", { class: "field" }, h("label", { for: "chart-months" }, t("charts.spanLabel")), span),
    h("button", { type: "submit", id: "show" }, t("dashboard.show")),
  );
  fill(main, h("h1", {}, t("dashboard.heading")), form, figures);
  await showFigures(figures, funds.find((f) => f.code === selection.fund));
}

async function showFigures(figures, fund) {
  const { asOf, claimsFrom, span } = chosen;
  figures.setAttribute("aria-busy", "true");
  fill(figures, h("p", {}, t("dashboard.loading")));
  const base = `/v1/funds/${encodeURIComponent(fund.code)}`;
  let tb, sex, destination, sector, byStatus, byBenefit, monthly;
  try {
    // The monthly report asks a well-formed range only: a mistyped "as of"
    // is left to the trial balance to refuse, naming its field.
    const range = /^\d{4}-\d{2}-\d{2}$/.test(asOf) ? monthsEnding(asOf, span) : null;
    [tb, sex, destination, sector, byStatus, byBenefit, monthly] = await Promise.all([
      get(`${base}/reports/trial-balance`, { as_of: asOf }),
      get(`${base}/reports/membership`, { as_of: asOf, by: "sex" }),
      get(`${base}/reports/membership`, { as_of: asOf, by: "destination" }),
      get(`${base}/reports/membership`, { as_of: asOf, by: "sector" }),
      get(`${base}/reports/claims`, { from: claimsFrom, to: asOf, by: "status" }),
      get(`${base}/reports/claims`, { from: claimsFrom, to: asOf, by: "benefit" }),
      range ? get(`${base}/reports/monthly`, range) : null,
    ]);
  } catch (error) {
    figures.removeAttribute("aria-busy");
    showError(figures, error);
    return;
  }
  const charts = monthly ? chartsCard(monthly, fund.currency) : null;
  fill(
    figures,
    keyFigures(tb, sex, asOf),
    charts,
    membersCard(sex, destination, sector, asOf),
    claimsCard(byStatus, byBenefit),
    trialBalanceCard(tb, asOf),
    chainCard(fund),
  );
  if (charts) drawCharts(charts);
  figures.setAttribute("data-fund", fund.code);
  figures.setAttribute("data-as-of", asOf);
  figures.removeAttribute("aria-busy");
  announce(t("dashboard.loaded", { fund: fund.code, asOf }));
}

function keyFigures(tb, sex, asOf) {
  const tiles = KEY_ACCOUNTS.flatMap(([code, label]) => {
    const line = tb.lines.find((l) => l.account === code);
    if (!line) return [];
    return [
      h(
        "div",
        { class: "tile" },
        h("dt", {}, t(label)),
        h("dd", { "data-account": code }, amount(line.balance), h("span", { class: "currency" }, ` ${line.currency}`)),
      ),
    ];
  });
  tiles.push(h("div", { class: "tile" }, h("dt", {}, t("key.active")), h("dd", { "data-figure": "active" }, count(sex.active))));
  return h("section", { class: "card", "aria-labelledby": "key-heading" }, h("h2", { id: "key-heading" }, t("key.heading", { asOf })), h("dl", { class: "tiles" }, tiles));
}

function membersCard(sex, destination, sector, asOf) {
  const groups = (report, dimension, label, id) =>
    table(
      t(label),
      [[t(`members.${dimension}`), false], [t("members.active"), true]],
      report.groups.map((g) => h("tr", { "data-key": g[dimension] }, h("th", { scope: "row" }, g[dimension]), number(g.active))),
      id,
    );
  return h(
    "section",
    { class: "card", "aria-labelledby": "members-heading" },
    h("h2", { id: "members-heading" }, t("members.heading", { asOf })),
    h(
      "dl",
      { class: "pairs" },
      h("dt", {}, t("members.active")),
      h("dd", { "data-figure": "members-active" }, count(sex.active)),
      h("dt", {}, t("members.lapsed")),
      h("dd", { "data-figure": "members-lapsed" }, count(sex.lapsed)),
    ),
    groups(sex, "sex", "members.bySex", "members-by-sex"),
    groups(destination, "destination", "members.byDestination", "members-by-destination"),
    groups(sector, "sector", "members.bySector", "members-by-sector"),
  );
}

function claimsCard(byStatus, byBenefit) {
  const head = (dimension) => [
    [t(`claims.${dimension}`), false],
    [t("claims.count"), true],
    [t("claims.claimed"), true],
    [t("claims.assessed"), true],
    [t("claims.approved"), true],
    [t("claims.paid"), true],
  ];
  // One row per group and currency (a fund may pay in more than one).
  const rows = (report, dimension) =>
    report.groups.flatMap((g) =>
      (g.amounts.length ? g.amounts : [null]).map((a, i) =>
        h(
          "tr",
          { "data-key": g[dimension], "data-currency": a?.currency },
          h("th", { scope: "row" }, i === 0 ? g[dimension] : ""),
          i === 0 ? number(g.count) : h("td", {}),
          ...(a ? ["claimed", "assessed", "approved", "paid"].map((k) => money(a[k], a.currency, { "data-amount": k })) : [h("td", {}), h("td", {}), h("td", {}), h("td", {})]),
        ),
      ),
    );
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "claims-heading" },
    h("h2", { id: "claims-heading" }, t("claims.heading", { from: byStatus.from, to: byStatus.to })),
    h(
      "dl",
      { class: "pairs" },
      h("dt", {}, t("claims.count")),
      h("dd", { "data-figure": "claims-count" }, count(byStatus.count)),
      h("dt", {}, t("claims.payees")),
      h("dd", { "data-figure": "claims-payees" }, count(byStatus.payees)),
    ),
  );
  if (byStatus.count === 0) {
    section.append(h("p", {}, t("claims.none")));
    return section;
  }
  section.append(
    table(t("claims.byStatus"), head("status"), rows(byStatus, "status"), "claims-by-status"),
    table(t("claims.byBenefit"), head("benefit"), rows(byBenefit, "benefit"), "claims-by-benefit"),
  );
  return section;
}

function trialBalanceCard(tb, asOf) {
  const rows = tb.lines.map((l) =>
    h(
      "tr",
      { "data-account": l.account },
      h("th", { scope: "row" }, l.account),
      h("td", {}, l.name),
      h("td", {}, l.type),
      money(l.debits, l.currency, { "data-amount": "debits" }),
      money(l.credits, l.currency, { "data-amount": "credits" }),
      money(l.balance, l.currency, { "data-amount": "balance" }),
    ),
  );
  const totals = tb.totals.map((s) =>
    h(
      "tr",
      { class: "totals", "data-totals": s.currency },
      h("th", { scope: "row", colspan: "3" }, t("tb.totals", { currency: s.currency }), " — ", t(s.balanced ? "tb.balanced" : "tb.unbalanced")),
      money(s.debits, s.currency, { "data-amount": "debits" }),
      money(s.credits, s.currency, { "data-amount": "credits" }),
      h("td", {}),
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "tb-heading" },
    h("h2", { id: "tb-heading" }, t("tb.heading", { asOf })),
    table(
      t("tb.lines"),
      [[t("tb.account"), false], [t("tb.name"), false], [t("tb.type"), false], [t("tb.debits"), true], [t("tb.credits"), true], [t("tb.balance"), true]],
      [...rows, ...totals],
      "trial-balance",
    ),
  );
}
