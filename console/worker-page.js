// One worker's page: identity, membership today, coverage on a timeline and
// as tables, contracts, contributions, dependants and claims, and (for the
// roles the API lets record contributions) a contribution recorded from a quote.
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { get, post, newIdempotencyKey } from "./api.js";
import { amount } from "./format.js";
import { dateField, errorText, money, table } from "./widgets.js";
import { announce, handleSessionError } from "./app.js";
import { ENROLLERS, flash, markInvalid, selectField, textField } from "./workers.js";
import { contractRows, coverageRows, rowDates, timeline } from "./timeline.js";

/** The largest page the API answers: a worker's records on one page. */
const ALL = 500;

/** Loads the stylesheet of the worker pages once (no inline style: CSP). */
function useStyles() {
  if (document.getElementById("workers-css")) return;
  document.head.append(h("link", { rel: "stylesheet", href: "workers.css", id: "workers-css" }));
}
useStyles();

export async function showWorker(main, claims, id) {
  const back = h("p", {}, h("a", { href: "#workers", id: "back-to-search" }, t("workers.back")));
  fill(main, back, h("h1", {}, t("workers.page.heading")), h("p", {}, t("dashboard.loading")));
  const base = `/v1/workers/${encodeURIComponent(id)}`;
  let worker, membership, contributions, claimsPage;
  try {
    [worker, membership, contributions, claimsPage] = await Promise.all([
      get(base),
      get(`${base}/membership`),
      get(`${base}/contributions`, { limit: ALL }),
      get(`${base}/claims`, { limit: ALL }),
    ]);
  } catch (error) {
    fill(main, back, h("h1", {}, t("workers.page.heading")));
    if (!handleSessionError(error)) main.append(errorText(error, { id: "worker-error" }));
    return;
  }
  const name = `${worker.given_name} ${worker.family_name}`;
  const message = flash.text ? h("p", { class: "ok", role: "status", id: "workers-flash", tabindex: "-1" }, flash.text) : null;
  flash.text = null;
  fill(
    main,
    back,
    h("h1", { id: "worker-heading", "data-worker": worker.id }, name),
    message,
    identityCard(worker),
    statusCard(membership),
    coverageCard(worker, membership),
    contractsCard(worker),
    contributionsCard(contributions),
    ENROLLERS.includes(claims.role) ? recordCard(worker, main, claims) : null,
    dependantsCard(worker),
    claimsCard(claimsPage),
  );
  main.setAttribute("data-loaded", worker.id);
  announce(t("workers.page.loaded", { name }));
}

function pairs(items) {
  return h(
    "dl",
    { class: "pairs" },
    items.filter(([, value]) => value !== null && value !== undefined && value !== "").map(([label, value, key]) => [h("dt", {}, label), h("dd", { "data-field": key }, value)]),
  );
}

function section(id, heading, ...content) {
  return h("section", { class: "card", id, "aria-labelledby": `${id}-heading` }, h("h2", { id: `${id}-heading` }, heading), ...content);
}

function identityCard(w) {
  const destinations = [...new Set(w.contracts.map((c) => c.destination_country))].join(", ");
  return section(
    "identity",
    t("workers.identity"),
    pairs([
      [t("workers.name"), `${w.family_name}, ${w.given_name}`, "name"],
      [t("workers.sex"), t(`workers.sex.${w.sex}`), "sex"],
      [t("workers.birthDate"), w.date_of_birth, "date_of_birth"],
      [t("workers.document"), `${w.document_number} (${w.document_type})`, "document"],
      [t("workers.destination"), destinations, "destination"],
      [t("workers.sector"), w.occupation_sector, "sector"],
      [t("workers.phone"), w.phone, "phone"],
      [t("workers.email"), w.email, "email"],
      [t("workers.fund"), w.fund, "fund"],
      [t("workers.enrolled"), t("workers.enrolledBy", { at: w.created_at.slice(0, 10), by: w.created_by }), "enrolled"],
      [t("workers.id"), h("code", {}, w.id), "id"],
    ]),
  );
}

function statusCard(m) {
  const spans = [...m.merged].sort((a, b) => a.start.localeCompare(b.start));
  const ended = spans.filter((s) => s.active_until < m.on).pop();
  const next = spans.find((s) => s.start > m.on);
  let text;
  if (m.active) text = t("workers.status.active", { on: m.on, until: m.active_until });
  else if (next) text = t("workers.status.future", { on: m.on, start: next.start });
  else if (ended) text = t("workers.status.lapsed", { on: m.on, since: ended.active_until });
  else text = t("workers.status.never", { on: m.on });
  return section(
    "membership",
    t("workers.status.heading", { on: m.on }),
    h("p", { id: "membership-status", class: m.active ? "status-active" : "status-lapsed", "data-active": String(m.active), "data-active-until": m.active_until ?? "" }, text),
  );
}

function coverageCard(worker, membership) {
  const coverage = coverageRows(membership);
  const contracts = contractRows(worker.contracts);
  const content = [];
  if (coverage.length === 0 && contracts.length === 0) {
    content.push(h("p", { id: "no-coverage" }, t("workers.coverage.none")));
  } else {
    content.push(h("figure", { class: "timeline-figure" }, h("figcaption", {}, t("workers.timeline.caption", { on: membership.on })), timeline(coverage, contracts, membership.on)));
  }
  const timelineRows = [...coverage, ...contracts]
    .sort((a, b) => a.start.localeCompare(b.start) || (a.end ?? "9").localeCompare(b.end ?? "9"))
    .map((r) =>
      h(
        "tr",
        { "data-kind": r.kind, "data-start": r.start, "data-end": r.end ?? "" },
        h("th", { scope: "row" }, t(`workers.kind.${r.kind}`)),
        h("td", { class: "date" }, r.start),
        h("td", { class: "date" }, r.end ?? t("workers.ongoing")),
        h("td", {}, r.contract ? `${r.contract.employer} (${r.contract.destination_country})` : ""),
      ),
    );
  if (timelineRows.length) {
    content.push(
      table(
        t("workers.timeline.table"),
        [[t("workers.kind"), false], [t("workers.start"), false], [t("workers.end"), false], [t("workers.contract"), false]],
        timelineRows,
        "timeline-table",
      ),
    );
  }
  const spans = [...membership.merged].map((s) =>
    h(
      "tr",
      { "data-start": s.start },
      h("th", { scope: "row", class: "date" }, s.start),
      h("td", { class: "date", "data-field": "end" }, s.end),
      h("td", { class: "amount", "data-field": "grace_days" }, String(s.grace_days)),
      h("td", { class: "date", "data-field": "active_until" }, s.active_until),
    ),
  );
  if (spans.length) {
    content.push(
      table(t("workers.spans.caption"), [[t("workers.start"), false], [t("workers.end"), false], [t("workers.spans.grace"), true], [t("workers.spans.until"), false]], spans, "membership-spans"),
    );
  }
  const periods = membership.periods.map((p) =>
    h(
      "tr",
      { "data-contribution": p.contribution_id },
      h("th", { scope: "row", class: "date" }, p.start),
      h("td", { class: "date", "data-field": "end" }, p.end),
      h("td", { "data-field": "rule_version" }, p.rule_version),
      h("td", {}, h("code", {}, p.contribution_id)),
    ),
  );
  content.push(
    periods.length
      ? table(t("workers.periods.caption"), [[t("workers.start"), false], [t("workers.end"), false], [t("workers.ruleVersion"), false], [t("workers.contribution"), false]], periods, "coverage-periods")
      : h("p", { id: "no-periods" }, t("workers.periods.none")),
  );
  return section("coverage", t("workers.coverage.heading"), ...content);
}

function contractsCard(w) {
  if (w.contracts.length === 0) return section("contracts", t("workers.contracts.heading"), h("p", {}, t("workers.contracts.none")));
  const rows = w.contracts.map((c) =>
    h(
      "tr",
      { "data-contract": c.id },
      h("th", { scope: "row" }, c.employer),
      h("td", {}, c.destination_country),
      h("td", {}, c.occupation ?? ""),
      h("td", { class: "date" }, c.start_date),
      h("td", { class: "date" }, c.end_date),
      h("td", { class: "date" }, c.departed_on ?? ""),
      h("td", { class: "date" }, c.returned_on ?? ""),
      h("td", { class: "date" }, c.terminated_on ?? ""),
      c.monthly_wage ? money(c.monthly_wage, c.wage_currency) : h("td", {}),
    ),
  );
  return section(
    "contracts",
    t("workers.contracts.heading"),
    table(
      t("workers.contracts.caption"),
      [
        [t("workers.contract.employer"), false],
        [t("workers.destination"), false],
        [t("workers.contract.occupation"), false],
        [t("workers.contract.start"), false],
        [t("workers.contract.end"), false],
        [t("workers.kind.departed"), false],
        [t("workers.kind.returned"), false],
        [t("workers.kind.terminated"), false],
        [t("workers.contract.wage"), true],
      ],
      rows,
      "contracts-table",
    ),
  );
}

function contributionsCard(page) {
  if (page.items.length === 0) return section("contributions", t("workers.contributions.heading"), h("p", { id: "no-contributions" }, t("workers.contributions.none")));
  const rows = page.items.map((c) =>
    h(
      "tr",
      { "data-contribution": c.id, "data-status": c.status },
      h("th", { scope: "row", class: "date" }, c.paid_on),
      h("td", {}, rowDates({ start: c.coverage.start, end: c.coverage.end })),
      h("td", {}, c.payers.map((p) => t(`workers.payer.${p.type}`)).join(", ")),
      money(c.amount, c.currency, { "data-amount": "amount" }),
      money(c.total, c.currency, { "data-amount": "total" }),
      h("td", {}, c.rule_version),
      h("td", { class: c.status === "reversed" ? "error" : null }, t(`workers.contributionStatus.${c.status}`)),
    ),
  );
  return section(
    "contributions",
    t("workers.contributions.heading"),
    table(
      t("workers.contributions.caption"),
      [
        [t("workers.paidOn"), false],
        [t("workers.coverage"), false],
        [t("workers.payers"), false],
        [t("workers.amount"), true],
        [t("workers.total"), true],
        [t("workers.ruleVersion"), false],
        [t("workers.status"), false],
      ],
      rows,
      "contributions-table",
    ),
    page.next ? h("p", { class: "note" }, t("workers.more", { count: ALL })) : null,
  );
}

function dependantsCard(w) {
  if (w.dependants.length === 0) return section("dependants", t("workers.dependants.heading"), h("p", {}, t("workers.dependants.none")));
  const rows = w.dependants.map((d) =>
    h(
      "tr",
      { "data-dependant": d.id },
      h("th", { scope: "row" }, d.name),
      h("td", {}, d.relationship),
      h("td", { class: "date" }, d.date_of_birth ?? ""),
      h("td", {}, d.deceased ? t("workers.yes") : t("workers.no")),
      h("td", {}, d.nominee ? t("workers.yes") : t("workers.no")),
    ),
  );
  return section(
    "dependants",
    t("workers.dependants.heading"),
    table(
      t("workers.dependants.caption"),
      [[t("workers.name"), false], [t("workers.dependants.relationship"), false], [t("workers.birthDate"), false], [t("workers.dependants.deceased"), false], [t("workers.dependants.nominee"), false]],
      rows,
      "dependants-table",
    ),
  );
}

function claimsCard(page) {
  if (page.items.length === 0) return section("claims", t("workers.claims.heading"), h("p", { id: "no-claims" }, t("workers.claims.none")));
  const cell = (value, currency, key) => (value ? money(value, currency, { "data-amount": key }) : h("td", {}));
  const rows = page.items.map((c) =>
    h(
      "tr",
      { "data-claim": c.id, "data-status": c.status },
      h("th", { scope: "row", class: "date" }, c.filed_on),
      h("td", {}, c.benefit),
      h("td", { class: "date" }, c.incident_date),
      h("td", {}, c.status),
      cell(c.claimed_amount, c.currency, "claimed"),
      cell(c.assessment.amount, c.currency, "assessed"),
      cell(c.decision?.amount, c.currency, "decided"),
      h("td", { class: "date" }, c.payment ? c.payment.paid_on : ""),
    ),
  );
  return section(
    "claims",
    t("workers.claims.heading"),
    table(
      t("workers.claims.caption"),
      [
        [t("workers.claims.filedOn"), false],
        [t("workers.claims.benefit"), false],
        [t("workers.claims.incident"), false],
        [t("workers.status"), false],
        [t("workers.claims.claimed"), true],
        [t("workers.claims.assessed"), true],
        [t("workers.claims.decided"), true],
        [t("workers.claims.paidOn"), false],
      ],
      rows,
      "claims-table",
    ),
    page.next ? h("p", { class: "note" }, t("workers.more", { count: ALL })) : null,
  );
}

/**
 * Recording a contribution: ask the quote for a contract and payment date,
 * show it, then book exactly the quoted amount (one payer paying the total).
 * One Idempotency-Key per booking, kept when the same booking is sent again.
 */
function recordCard(worker, main, claims) {
  const fundPath = `/v1/funds/${encodeURIComponent(worker.fund)}`;
  const today = new Date().toISOString().slice(0, 10);
  const open = worker.contracts.filter((c) => !c.terminated_on && !c.returned_on);
  const contract = selectField(
    "quote-contract",
    "contract_id",
    t("workers.contract"),
    [["", t("workers.record.noContract")], ...worker.contracts.map((c) => [c.id, `${c.employer} (${c.destination_country}) ${c.start_date} – ${c.end_date}`])],
    (open.at(-1) ?? worker.contracts.at(-1))?.id ?? "",
  );
  const paidOn = dateField("quote-paid-on", "paid_on", t("workers.paidOn"), today);
  const quoteResult = h("div", { id: "quote-result" });
  const quoteButton = h("button", { type: "submit", id: "get-quote" }, t("workers.record.quote"));
  const quoteForm = h(
    "form",
    {
      id: "quote-form",
      class: "controls",
      onsubmit: async (event) => {
        event.preventDefault();
        quoteButton.disabled = true;
        fill(quoteResult, h("p", {}, t("dashboard.loading")));
        try {
          const quote = await get(`${fundPath}/contributions/quote`, {
            worker_id: worker.id,
            contract_id: contract.input.value || undefined,
            paid_on: paidOn.input.value.trim(),
          });
          fill(quoteResult, bookingForm(worker, fundPath, contract.input.value || null, quote, main, claims));
          announce(t("workers.record.quoted", { amount: amount(quote.total), currency: quote.currency }));
        } catch (error) {
          if (handleSessionError(error)) return;
          fill(quoteResult, errorText(error, { id: "quote-error" }));
          markInvalid(quoteForm, error, { contract_id: contract.input, paid_on: paidOn.input });
        } finally {
          quoteButton.disabled = false;
        }
      },
    },
    contract.field,
    paidOn.field,
    quoteButton,
  );
  return section("record-contribution", t("workers.record.heading"), h("p", {}, t("workers.record.intro")), quoteForm, quoteResult);
}

function bookingForm(worker, fundPath, contractId, quote, main, claims) {
  const taxes = quote.taxes.map((x) => [t("workers.record.tax", { code: x.code, rate: x.rate }), h("span", { class: "money" }, amount(x.amount), h("span", { class: "currency" }, ` ${quote.currency}`)), `tax-${x.code}`]);
  const shown = h(
    "dl",
    { class: "pairs quote", id: "quote" },
    [
      [t("workers.ruleVersion"), quote.rule_version, "rule_version"],
      [t("workers.record.pricing"), quote.pricing, "pricing"],
      [t("workers.paidOn"), quote.paid_on, "paid_on"],
      [t("workers.amount"), h("span", { class: "money" }, amount(quote.amount), h("span", { class: "currency" }, ` ${quote.currency}`)), "amount"],
      ...taxes,
      [t("workers.total"), h("span", { class: "money" }, amount(quote.total), h("span", { class: "currency" }, ` ${quote.currency}`)), "total"],
      [t("workers.coverage"), rowDates(quote.coverage), "coverage"],
      [t("workers.spans.grace"), t("workers.record.graceDays", { days: quote.grace_days }), "grace_days"],
    ].map(([label, value, key]) => [h("dt", {}, label), h("dd", { "data-field": key }, value)]),
  );
  shown.setAttribute("data-amount", quote.amount);
  shown.setAttribute("data-total", quote.total);
  shown.setAttribute("data-currency", quote.currency);
  const payer = selectField("record-payer", "payer", t("workers.record.payer"), quote.payers.map((p) => [p, t(`workers.payer.${p}`)]), quote.payers[0]);
  const reference = textField("record-reference", "reference", t("workers.record.reference"), { hint: t("workers.enroll.optional") });
  const result = h("div", { id: "record-result" });
  const button = h("button", { type: "submit", id: "record" }, t("workers.record.submit", { total: amount(quote.total), currency: quote.currency }));
  // One key for booking this quote: sent again when the same booking is
  // retried; changing the payer or reference makes it a new booking.
  let key = null;
  const form = h(
    "form",
    {
      id: "record-form",
      oninput: () => {
        key = null;
      },
      onchange: () => {
        key = null;
      },
      onsubmit: async (event) => {
        event.preventDefault();
        const body = {
          worker_id: worker.id,
          contract_id: contractId ?? undefined,
          paid_on: quote.paid_on,
          amount: quote.amount,
          currency: quote.currency,
          payers: [{ type: payer.input.value, amount: quote.total, reference: reference.input.value.trim() || undefined }],
        };
        key ??= newIdempotencyKey();
        button.disabled = true;
        fill(result, h("p", {}, t("workers.enroll.sending")));
        try {
          const booked = await post(`${fundPath}/contributions`, body, key);
          key = null;
          flash.text = t("workers.record.done", {
            amount: amount(booked.total),
            currency: booked.currency,
            start: booked.coverage.start,
            end: booked.coverage.end,
          });
          await showWorker(main, claims, worker.id);
          document.getElementById("workers-flash")?.focus();
        } catch (error) {
          if (handleSessionError(error)) return;
          fill(result, errorText(error, { id: "record-error" }));
          markInvalid(form, error, { "payers/0/type": payer.input, "payers/0/reference": reference.input });
        } finally {
          button.disabled = false;
        }
      },
    },
    payer.field,
    reference.field,
    result,
    button,
  );
  return h("div", { class: "booking" }, h("h3", {}, t("workers.record.quoteHeading")), shown, form);
}
