// The dashboard's charts over time, drawn with uPlot (vendor/, MIT) from the
// monthly report (GET /v1/funds/{fund}/reports/monthly). Every chart has its
// figures in a table beside it, in a <details>: the API's decimal strings,
// only grouped. The API's strings become JavaScript numbers only to place a
// point on the canvas; nothing is computed from them but the coverage trend,
// which is for display.
import uPlot from "./vendor/uPlot.esm.js";
import { t } from "./i18n.js";
import { h } from "./dom.js";
import { money, number, table } from "./widgets.js";

/** Series colours (each AA against white), and the matching legend classes. */
const COLOURS = ["#14532d", "#0b5394", "#b45309", "#6d28d9", "#a4161a", "#0f766e"];

/** How many months the charts show, to choose from; the first is the default. */
export const SPANS = [24, 12, 36, 60, 120];

/** The `from` and `to` months (YYYY-MM) of `span` months ending with the month of an ISO date. */
export function monthsEnding(iso, span) {
  const year = Number(iso.slice(0, 4));
  const month = Number(iso.slice(5, 7));
  const first = year * 12 + (month - 1) - (span - 1);
  const two = (n) => String(n).padStart(2, "0");
  return { from: `${Math.floor(first / 12)}-${two((first % 12) + 1)}`, to: iso.slice(0, 7) };
}

/** The amount of `currency` in a list of `{currency, amount}` (or `"0"`). */
function of(list, currency, key = "amount") {
  return list.find((x) => x.currency === currency)?.[key] ?? "0";
}

/** A decimal string as a number, for drawing only. */
const plotted = (decimal) => (decimal === null || decimal === undefined ? null : Number(decimal));

/** Compact axis labels (1.2M), for drawing only. */
const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

/** Least squares line through the points that have a value; null without two. */
export function trend(values) {
  const points = values.map((y, x) => [x, y]).filter(([, y]) => y !== null);
  if (points.length < 2) return values.map(() => null);
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return values.map((_, x) => my + slope * (x - mx));
}

/**
 * One chart: a heading, the canvas (drawn by `draw` once the section is on
 * the page), its legend and its table. `series` is a list of
 * `{ label, values, kind: "line" | "bar" | "dash", align, scale }`.
 */
function chart(id, heading, description, months, series, tableHead, tableRows) {
  const plot = h("div", { class: "plot", role: "img", "aria-label": `${heading}. ${description}`, id: `${id}-plot` });
  const legend = h(
    "ul",
    { class: "legend", "aria-hidden": "true" },
    series.map((s, i) => h("li", {}, h("span", { class: `swatch c${i % COLOURS.length} ${s.kind}` }), s.label)),
  );
  const section = h(
    "section",
    { class: "chart", "aria-labelledby": `${id}-heading`, "data-chart": id },
    h("h3", { id: `${id}-heading` }, heading),
    plot,
    legend,
    h("details", {}, h("summary", {}, t("charts.figures")), table(t("charts.tableOf", { chart: heading }), tableHead, tableRows, id)),
  );
  section.draw = () => draw(plot, months, series);
  return section;
}

function draw(plot, months, series) {
  const bars = series.filter((s) => s.kind === "bar").length;
  const options = {
    width: Math.max(plot.clientWidth, 200),
    height: 220,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: [-0.5, months.length - 0.5] }, right: { auto: true } },
    axes: [
      {
        incrs: [1, 2, 3, 4, 6, 12, 24],
        space: 48,
        values: (u, splits) => splits.map((i) => (Number.isInteger(i) && months[i] ? months[i] : "")),
      },
      { size: 56, values: (u, values) => values.map((v) => compact.format(v)) },
      ...(series.some((s) => s.scale === "right")
        ? [{ side: 1, scale: "right", size: 48, grid: { show: false }, values: (u, values) => values.map((v) => compact.format(v)) }]
        : []),
    ],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        scale: s.scale ?? "y",
        stroke: COLOURS[i % COLOURS.length],
        width: s.kind === "bar" ? 1 : 2,
        fill: s.kind === "bar" ? `${COLOURS[i % COLOURS.length]}cc` : undefined,
        dash: s.kind === "dash" ? [6, 4] : undefined,
        points: { show: s.kind === "line" && months.length <= 36 },
        paths: s.kind === "bar" ? uPlot.paths.bars({ size: [bars > 1 ? 0.4 : 0.7, 48], align: s.align ?? 0 }) : undefined,
      })),
    ],
  };
  const data = [months.map((_, i) => i), ...series.map((s) => s.values)];
  const made = new uPlot(options, data, plot);
  // Follow the card's width (a phone turned, a window narrowed).
  let width = options.width;
  new ResizeObserver(() => {
    const now = Math.max(plot.clientWidth, 200);
    if (now !== width) {
      width = now;
      made.setSize({ width, height: options.height });
    }
  }).observe(plot);
}

/** The currencies worth a chart: the fund's, and any other with a figure that is not zero. */
function currencies(report, fundCurrency) {
  const all = new Set([fundCurrency]);
  for (const m of report.months) {
    for (const key of ["cash", "reserves", "approved", "paid"]) {
      for (const x of m[key]) if (Number(x.amount) !== 0) all.add(x.currency);
    }
    for (const c of m.contributions) if (c.count > 0) all.add(c.currency);
  }
  return [...all].filter((c) => report.months[0]?.cash.some((x) => x.currency === c));
}

const monthHead = () => [t("charts.month"), false];
const row = (m, ...cells) => h("tr", { "data-month": m.month }, h("th", { scope: "row" }, m.month), ...cells);

function balances(report, currency) {
  const ms = report.months;
  const pick = (key) => ms.map((m) => plotted(of(m[key], currency)));
  return chart(
    `chart-balances-${currency}`,
    t("charts.balances", { currency }),
    t("charts.balancesAbout"),
    ms.map((m) => m.month),
    [
      { label: t("charts.cash"), values: pick("cash"), kind: "line" },
      { label: t("charts.fundReserve"), values: pick("fund_reserve"), kind: "line" },
      { label: t("charts.reserves"), values: pick("reserves"), kind: "line" },
    ],
    [monthHead(), [t("charts.cash"), true], [t("charts.fundReserve"), true], [t("charts.reserves"), true]],
    ms.map((m) =>
      row(
        m,
        money(of(m.cash, currency), currency, { "data-figure": "cash" }),
        money(of(m.fund_reserve, currency), currency, { "data-figure": "fund_reserve" }),
        money(of(m.reserves, currency), currency, { "data-figure": "reserves" }),
      ),
    ),
  );
}

function contributions(report, currency) {
  const ms = report.months;
  const month = (m) => m.contributions.find((c) => c.currency === currency) ?? { count: 0, amount: "0", by_payer: [] };
  const types = [...new Set(ms.flatMap((m) => month(m).by_payer.map((p) => p.payer_type)))].sort();
  const payer = (m, type) => month(m).by_payer.find((p) => p.payer_type === type) ?? { count: 0, amount: "0" };
  return chart(
    `chart-contributions-${currency}`,
    t("charts.contributions", { currency }),
    t("charts.contributionsAbout"),
    ms.map((m) => m.month),
    [
      { label: t("charts.amount"), values: ms.map((m) => plotted(month(m).amount)), kind: "bar" },
      // Each payer type's share, when more than one type paid.
      ...(types.length > 1 ? types : []).map((type) => ({ label: t("charts.byPayer", { type }), values: ms.map((m) => plotted(payer(m, type).amount)), kind: "line" })),
      { label: t("charts.count"), values: ms.map((m) => month(m).count), kind: "dash", scale: "right" },
    ],
    [
      monthHead(),
      [t("charts.count"), true],
      [t("charts.amount"), true],
      ...types.flatMap((type) => [
        [t("charts.payerCount", { type }), true],
        [t("charts.payerAmount", { type }), true],
      ]),
    ],
    ms.map((m) =>
      row(
        m,
        number(month(m).count, { "data-figure": "count" }),
        money(month(m).amount, currency, { "data-figure": "amount" }),
        ...types.flatMap((type) => [
          number(payer(m, type).count, { "data-figure": `count:${type}` }),
          money(payer(m, type).amount, currency, { "data-figure": `amount:${type}` }),
        ]),
      ),
    ),
  );
}

function claims(report, currency) {
  const ms = report.months;
  const pick = (key) => ms.map((m) => plotted(of(m[key], currency)));
  return chart(
    `chart-claims-${currency}`,
    t("charts.claims", { currency }),
    t("charts.claimsAbout"),
    ms.map((m) => m.month),
    [
      { label: t("charts.approved"), values: pick("approved"), kind: "bar", align: -1 },
      { label: t("charts.paid"), values: pick("paid"), kind: "bar", align: 1 },
    ],
    [monthHead(), [t("charts.approved"), true], [t("charts.paid"), true], [t("charts.paid12"), true]],
    ms.map((m) =>
      row(
        m,
        money(of(m.approved, currency), currency, { "data-figure": "approved" }),
        money(of(m.paid, currency), currency, { "data-figure": "paid" }),
        money(of(m.paid_last_12_months, currency), currency, { "data-figure": "paid_last_12_months" }),
      ),
    ),
  );
}

function coverage(report, currency) {
  const ms = report.months;
  const months = ms.map((m) => m.coverage.find((c) => c.currency === currency)?.months ?? null);
  const line = trend(months.map(plotted));
  const shown = (value) => h("td", { class: "amount", "data-figure": "coverage", "data-value": value ?? "" }, value ?? t("charts.nothingPaid"));
  return chart(
    `chart-coverage-${currency}`,
    t("charts.coverage", { currency }),
    t("charts.coverageAbout"),
    ms.map((m) => m.month),
    [
      { label: t("charts.coverageLine"), values: months.map(plotted), kind: "line" },
      { label: t("charts.trend"), values: line, kind: "dash" },
    ],
    [monthHead(), [t("charts.reserves"), true], [t("charts.paid12"), true], [t("charts.coverageLine"), true], [t("charts.trend"), true]],
    ms.map((m, i) =>
      row(
        m,
        money(of(m.reserves, currency), currency, { "data-figure": "reserves" }),
        money(of(m.paid_last_12_months, currency), currency, { "data-figure": "paid_last_12_months" }),
        shown(months[i]),
        h("td", { class: "amount", "data-trend": "" }, line[i] === null ? "" : line[i].toFixed(1)),
      ),
    ),
  );
}

/**
 * The card of charts for a monthly report. Call `drawCharts(card)` once it is
 * on the page (uPlot measures the width it is given).
 */
export function chartsCard(report, fundCurrency) {
  const sections = currencies(report, fundCurrency).flatMap((currency) => [
    balances(report, currency),
    contributions(report, currency),
    claims(report, currency),
    coverage(report, currency),
  ]);
  return h(
    "section",
    { class: "card charts", id: "charts", "aria-labelledby": "charts-heading", "data-from": report.from, "data-to": report.to },
    h("h2", { id: "charts-heading" }, t("charts.heading", { from: report.from, to: report.to })),
    h("p", { class: "note" }, t("charts.about")),
    h("div", { class: "chart-grid" }, sections),
  );
}

/** Draws every chart of a card made by `chartsCard`, now that it is on the page. */
export function drawCharts(card) {
  for (const section of card.querySelectorAll("section.chart")) section.draw?.();
}
