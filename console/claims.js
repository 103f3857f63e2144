// The claims desk: a fund's claims in queues by status, each with its count,
// a page of claims at a time, and the payment run. `#claims/<id>` shows one
// claim (claim.js). The role decides which buttons exist; the server still
// decides every call.
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { get } from "./api.js";
import { todayIso } from "./format.js";
import { dateField, fundField, money, pageFunds, selection, showError, table } from "./widgets.js";
import { announce } from "./app.js";
import { showClaim } from "./claim.js";
import { keyedAction, mayAct, shortId, statusWords, submitAction, useDeskStyles, workerName } from "./desk.js";

/** The queues, in groups by whom they wait for (every status of a claim). */
const QUEUE_GROUPS = [
  ["desk.group.officer", ["submitted", "appealed", "under_review", "pending_documents"]],
  ["desk.group.approver", ["awaiting_second_approval", "awaiting_committee"]],
  ["desk.group.payment", ["approved", "partially_approved", "awaiting_funds"]],
  ["desk.group.closed", ["paid", "rejected", "withdrawn"]],
];

/** Claims per page of a queue. */
const PAGE_SIZE = 20;

/** The queue shown, kept while the tab is open (back from a claim returns to it). */
const queue = { fund: null, status: "submitted", cursors: [null] };

/** The page's entry point: the queues, or one claim when the fragment names it. */
export async function showClaims(main, claims) {
  useDeskStyles();
  const [, id] = window.location.hash.slice(1).split("/");
  if (id) {
    await showClaim(main, claims, decodeURIComponent(id));
    return;
  }
  await showQueues(main, claims);
}

async function showQueues(main, claims) {
  const funds = await pageFunds(main, t("desk.heading"));
  if (!funds) return;
  const fund = fundField(funds, "desk-fund");
  const queues = h("section", { id: "queues", class: "card", "aria-labelledby": "queues-heading" });
  const list = h("section", { id: "queue", class: "card", "aria-labelledby": "queue-caption" });
  const run = mayAct(claims.role, "run") ? h("section", { id: "payment-run", class: "card", "aria-labelledby": "run-heading" }) : null;
  const load = () => {
    selection.fund = fund.select.value;
    if (queue.fund !== selection.fund) {
      queue.fund = selection.fund;
      queue.cursors = [null];
    }
    return showFund(queues, list, run, funds.find((f) => f.code === selection.fund));
  };
  const form = h(
    "form",
    {
      class: "card controls",
      onsubmit: (event) => {
        event.preventDefault();
        load();
      },
    },
    fund.field,
    h("button", { type: "submit", id: "desk-show" }, t("desk.show")),
  );
  const readOnly = mayAct(claims.role, "any") ? null : h("p", { class: "note", id: "read-only" }, t("desk.readOnly", { role: claims.role }));
  fill(main, h("h1", {}, t("desk.heading")), readOnly, form, queues, list, run);
  await load();
}

/** The counts, the chosen queue and the payment run of `fund`. */
async function showFund(queues, list, run, fund) {
  if (run) fill(run, paymentRun(fund, queues, list));
  await showCounts(queues, list, fund);
  await showQueue(list, fund);
}

/**
 * Every status with its count, from the claims report over every filing date
 * the API accepts (one request, exact, riders counted as the list shows them).
 */
async function showCounts(queues, list, fund) {
  queues.setAttribute("aria-busy", "true");
  let report;
  try {
    report = await get(`/v1/funds/${encodeURIComponent(fund.code)}/reports/claims`, { from: "1900-01-01", to: "2100-12-31", by: "status" });
  } catch (error) {
    queues.removeAttribute("aria-busy");
    showError(queues, error);
    return;
  }
  const counts = Object.fromEntries(report.groups.map((g) => [g.status, g.count]));
  const groups = QUEUE_GROUPS.map(([label, statuses], i) =>
    h(
      "div",
      { class: "queue-group", role: "group", "aria-labelledby": `queue-group-${i}` },
      h("h3", { id: `queue-group-${i}` }, t(label)),
      h(
        "ul",
        { class: "queue-list" },
        statuses.map((status) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "queue-button",
                "data-queue": status,
                "aria-pressed": status === queue.status ? "true" : "false",
                onclick: () => {
                  queue.status = status;
                  queue.cursors = [null];
                  for (const b of queues.querySelectorAll("[data-queue]")) b.setAttribute("aria-pressed", b.dataset.queue === status ? "true" : "false");
                  showQueue(list, fund, true);
                },
              },
              statusWords(status),
              " ",
              h("span", { class: "queue-count", "data-count": status }, String(counts[status] ?? 0)),
            ),
          ),
        ),
      ),
    ),
  );
  fill(
    queues,
    h("h2", { id: "queues-heading" }, t("desk.queuesOf", { fund: fund.code })),
    h("div", { class: "queue-groups" }, groups),
    h("p", { class: "note" }, t("desk.countsNote")),
  );
  queues.dataset.fund = fund.code;
  queues.removeAttribute("aria-busy");
}

/** One page of the chosen queue (`queue.cursors` holds the `after` of each page seen). */
async function showQueue(list, fund, focus = false) {
  const { status } = queue;
  const pageIndex = queue.cursors.length - 1;
  list.setAttribute("aria-busy", "true");
  let page;
  try {
    page = await get(`/v1/funds/${encodeURIComponent(fund.code)}/claims`, { status, limit: PAGE_SIZE, after: queue.cursors[pageIndex] ?? undefined });
  } catch (error) {
    list.removeAttribute("aria-busy");
    showError(list, error);
    return;
  }
  const names = await Promise.all(page.items.map((c) => workerName(c.worker_id)));
  const count = list.ownerDocument.querySelector(`[data-count="${status}"]`)?.textContent ?? "…";
  const caption = t("desk.queueCaption", { status: statusWords(status), count, fund: fund.code, page: pageIndex + 1 });
  const rows = page.items.map((c, i) =>
    h(
      "tr",
      { "data-claim": c.id, "data-status": c.status, "data-benefit": c.benefit },
      h("th", { scope: "row" }, h("a", { href: `#claims/${c.id}`, "aria-label": t("desk.claimLink", { short: c.id }) }, h("code", {}, shortId(c.id)))),
      h("td", {}, names[i]),
      h("td", {}, c.benefit, c.rider_of ? h("span", { class: "note" }, ` (${t("desk.rider")})`) : null),
      h("td", {}, c.filed_on),
      c.claimed_amount ? money(c.claimed_amount, c.currency, { "data-amount": "claimed" }) : h("td", { class: "amount" }, t("desk.noAmount")),
      money(c.assessment.payable, c.currency, { "data-amount": "payable" }),
      h("td", {}, statusWords(c.status)),
    ),
  );
  const paging = h(
    "div",
    { class: "paging" },
    pageIndex > 0
      ? h("button", { type: "button", id: "queue-previous", onclick: () => { queue.cursors.pop(); showQueue(list, fund, true); } }, t("desk.previousPage"))
      : null,
    page.next
      ? h("button", { type: "button", id: "queue-next", onclick: () => { queue.cursors.push(page.next); showQueue(list, fund, true); } }, t("desk.nextPage"))
      : null,
  );
  fill(
    list,
    h("h2", { id: "queue-caption", tabindex: "-1" }, statusWords(status)),
    page.items.length
      ? table(
          caption,
          [
            [t("desk.col.claim"), false],
            [t("desk.col.worker"), false],
            [t("desk.col.benefit"), false],
            [t("desk.col.filed"), false],
            [t("desk.col.claimed"), true],
            [t("desk.col.payable"), true],
            [t("desk.col.status"), false],
          ],
          rows,
          "queue-table",
        )
      : h("p", { id: "queue-empty" }, t("desk.queueEmpty", { fund: fund.code, status: statusWords(status) })),
    paging,
  );
  list.dataset.fund = fund.code;
  list.dataset.status = status;
  list.dataset.page = String(pageIndex + 1);
  list.removeAttribute("aria-busy");
  announce(t("desk.queueLoaded", { status: statusWords(status), page: pageIndex + 1 }));
  if (focus) list.querySelector("h2").focus();
}

/** The payment run form for `fund` (officer, admin): pays the claims waiting for funds. */
function paymentRun(fund, queues, list) {
  const paidOn = dateField("run-paid-on", "paid_on", t("desk.run.paidOn"), todayIso());
  const result = h("div", { id: "run-result" });
  const button = h("button", { type: "submit", id: "run-submit" }, t("desk.run.submit"));
  const keyOf = keyedAction();
  const form = h(
    "form",
    {
      class: "controls",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { paid_on: paidOn.input.value };
        const answer = await submitAction({
          button,
          result,
          path: `/v1/funds/${encodeURIComponent(fund.code)}/payment-runs`,
          body,
          keyOf,
          working: t("desk.run.running"),
        });
        if (!answer) return;
        const links = (ids) => h("ul", {}, ids.map((id) => h("li", {}, h("a", { href: `#claims/${id}`, "data-claim": id }, h("code", {}, shortId(id))))));
        fill(
          result,
          h("p", { class: "ok", role: "status", id: "run-summary", "data-paid": String(answer.paid.length), "data-waiting": String(answer.waiting.length) },
            t("desk.run.result", { paidOn: body.paid_on, paid: answer.paid.length, waiting: answer.waiting.length })),
          answer.paid.length ? [h("h3", {}, t("desk.run.paidList")), links(answer.paid)] : null,
          answer.waiting.length ? [h("h3", {}, t("desk.run.waitingList")), links(answer.waiting)] : null,
          answer.instalments.length ? h("p", {}, t("desk.run.instalments", { count: answer.instalments.length })) : null,
        );
        result.dataset.paid = answer.paid.join(" ");
        announce(t("desk.run.result", { paidOn: body.paid_on, paid: answer.paid.length, waiting: answer.waiting.length }));
        // The counts and the queue change with what was paid.
        await showCounts(queues, list, fund);
        await showQueue(list, fund);
      },
    },
    paidOn.field,
    button,
  );
  return [
    h("h2", { id: "run-heading" }, t("desk.run.heading")),
    h("p", {}, t("desk.run.intro", { fund: fund.code })),
    form,
    result,
  ];
}
