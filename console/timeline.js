// A worker's coverage over time: the rows of the timeline computed from the
// membership API (covered spans, their grace, the lapsed gaps between them)
// and the contracts (with departures, returns and terminations), drawn as
// plain HTML bars placed by percentage (element.style, which the page's
// content security policy allows), each with its dates as text for screen
// readers. The same rows are shown as a table by the worker page.
import { t } from "./i18n.js";
import { h } from "./dom.js";

const DAY = 86400000;

/** Days since 1970-01-01 of an ISO date (UTC, no time zone involved). */
export function dayNumber(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return Date.UTC(y, m - 1, d) / DAY;
}

/** The ISO date `days` after `iso` (negative: before). */
export function addDays(iso, days) {
  return new Date((dayNumber(iso) + days) * DAY).toISOString().slice(0, 10);
}

/**
 * The coverage rows of a membership answer, in date order: each merged span
 * `covered` from its start to its end, then its `grace` (the day after the
 * end to `active_until`) when it has some, and `lapsed` for the days between
 * one span's last active day and the next span's start, and from the last
 * active day to `on` (the date asked about; `end` null: still lapsed).
 */
export function coverageRows(membership) {
  const rows = [];
  const spans = [...membership.merged].sort((a, b) => a.start.localeCompare(b.start));
  spans.forEach((span, i) => {
    rows.push({ kind: "covered", start: span.start, end: span.end });
    if (span.grace_days > 0) rows.push({ kind: "grace", start: addDays(span.end, 1), end: span.active_until });
    const next = spans[i + 1];
    const lapsedFrom = addDays(span.active_until, 1);
    if (next && lapsedFrom < next.start) rows.push({ kind: "lapsed", start: lapsedFrom, end: addDays(next.start, -1) });
    if (!next && span.active_until < membership.on) rows.push({ kind: "lapsed", start: lapsedFrom, end: null });
  });
  return rows;
}

/**
 * The contract rows of a worker, in date order: each contract from its start
 * to its end, and its departure, return and termination as one-day events.
 */
export function contractRows(contracts) {
  const rows = [];
  for (const c of [...contracts].sort((a, b) => a.start_date.localeCompare(b.start_date))) {
    rows.push({ kind: "contract", start: c.start_date, end: c.end_date, contract: c });
    for (const [kind, date] of [
      ["departed", c.departed_on],
      ["returned", c.returned_on],
      ["terminated", c.terminated_on],
    ]) {
      if (date) rows.push({ kind, start: date, end: date, contract: c });
    }
  }
  return rows;
}

/** The words for a row's dates: "2025-01-01 to 2025-12-31", one date, or "since". */
export function rowDates(row) {
  if (row.end === null) return t("workers.since", { start: row.start });
  if (row.start === row.end) return row.start;
  return t("workers.fromTo", { start: row.start, end: row.end });
}

/** What a row says in words (kind, dates, contract). */
export function rowText(row) {
  const what = row.contract ? t("workers.timeline.ofContract", { employer: row.contract.employer, country: row.contract.destination_country }) : "";
  return `${t(`workers.kind.${row.kind}`)}: ${rowDates(row)}${what ? ` (${what})` : ""}`;
}

/** Evenly spaced year marks between two day numbers (at most about eight). */
function yearTicks(lo, hi) {
  const first = new Date(lo * DAY).getUTCFullYear() + 1;
  const last = new Date(hi * DAY).getUTCFullYear();
  const step = Math.max(1, Math.ceil((last - first + 1) / 8));
  const years = [];
  for (let y = first; y <= last; y += step) years.push(y);
  return years;
}

/**
 * The timeline: a lane of coverage and a lane of contracts on one time axis
 * from the earliest date shown to the later of `today` and the last end,
 * with a mark for today. Each bar is a list item whose text (hidden from
 * sight, read by screen readers) gives its kind and dates.
 */
export function timeline(coverage, contracts, today) {
  const dates = [today, ...coverage.flatMap((r) => [r.start, r.end ?? today]), ...contracts.flatMap((r) => [r.start, r.end])];
  const lo = Math.min(...dates.map(dayNumber));
  const hi = Math.max(...dates.map(dayNumber)) + 1;
  const at = (iso) => ((dayNumber(iso) - lo) / (hi - lo)) * 100;
  const place = (element, start, end) => {
    element.style.left = `${at(start)}%`;
    element.style.width = `${Math.max(at(addDays(end, 1)) - at(start), 0)}%`;
    return element;
  };
  const bar = (row) =>
    place(
      h("li", { class: `bar bar-${row.kind}`, title: rowText(row), "data-kind": row.kind, "data-start": row.start, "data-end": row.end ?? "" }, h("span", { class: "visually-hidden" }, rowText(row))),
      row.start,
      row.end ?? today,
    );
  const mark = (row) => {
    const element = h("li", { class: `mark mark-${row.kind}`, title: rowText(row), "data-kind": row.kind, "data-start": row.start, "data-end": row.end }, h("span", { class: "visually-hidden" }, rowText(row)));
    element.style.left = `${at(row.start)}%`;
    return element;
  };
  const lane = (id, label, items) =>
    h(
      "div",
      { class: "lane" },
      h("p", { class: "lane-label", id: `${id}-label` }, label),
      h("ul", { class: "lane-track", id, "aria-labelledby": `${id}-label` }, items),
    );
  const todayMark = h("span", { class: "today", "aria-hidden": "true", title: t("workers.timeline.today", { date: today }) });
  todayMark.style.left = `${at(today)}%`;
  // A mark too near the right edge would not fit its label: left out.
  const ticks = yearTicks(lo, hi).filter((y) => at(`${y}-01-01`) < 94).map((y) => {
    const tick = h("span", { class: "tick" }, String(y));
    tick.style.left = `${at(`${y}-01-01`)}%`;
    return tick;
  });
  return h(
    "div",
    { class: "timeline", id: "timeline" },
    h(
      "div",
      { class: "lanes" },
      lane("lane-coverage", t("workers.timeline.coverage"), coverage.map(bar)),
      lane("lane-contracts", t("workers.timeline.contracts"), [
        ...contracts.filter((r) => r.kind === "contract").map(bar),
        ...contracts.filter((r) => r.kind !== "contract").map(mark),
      ]),
      h("div", { class: "axis", "aria-hidden": "true" }, ticks),
      todayMark,
    ),
    h(
      "ul",
      { class: "legend", "aria-label": t("workers.timeline.legend") },
      ["covered", "grace", "lapsed", "contract", "departed", "returned", "terminated"].map((kind) =>
        h("li", {}, h("span", { class: `swatch swatch-${kind}`, "aria-hidden": "true" }), t(`workers.kind.${kind}`)),
      ),
      h("li", {}, h("span", { class: "swatch swatch-today", "aria-hidden": "true" }), t("workers.timeline.todayLegend", { date: today })),
    ),
  );
}
