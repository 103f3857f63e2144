// One claim on the desk (`#claims/<id>`): who claims what, the amounts in the
// claim's currency, every assessment check with its reason in words, the
// documents, beneficiaries and instalments, the history, four-eyes, and the
// actions the caller's role may take on a claim in its status.
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { get } from "./api.js";
import { amount as grouped, todayIso } from "./format.js";
import { dateField, money, showError, table } from "./widgets.js";
import { announce } from "./app.js";
import { addDecimals, keyedAction, mayAct, reasonWords, shortId, statusWords, submitAction, when, words, worker } from "./desk.js";

/** The statuses each action may start from (src/claims/status.rs, TRANSITIONS). */
const FROM = {
  award: ["submitted", "appealed", "under_review"],
  reject: ["submitted", "pending_documents", "appealed", "under_review"],
  approve: ["awaiting_second_approval", "awaiting_committee"],
  pay: ["approved", "partially_approved", "awaiting_funds"],
  documents: ["submitted", "pending_documents", "appealed"],
};

/** Reasons an officer often gives besides the assessment's own. */
const DECISION_REASONS = ["NOT_SUBSTANTIATED", "PARTIAL_EVIDENCE"];

/** Draws claim `id`; `done` is the message of the action that led here. */
export async function showClaim(main, claims, id, done = null) {
  const back = h("p", {}, h("a", { href: "#claims", id: "back-to-queues" }, t("desk.back")));
  fill(main, back, h("h1", {}, t("desk.claim.heading", { short: shortId(id) })), h("p", {}, t("desk.loading")));
  let claim;
  try {
    claim = await get(`/v1/claims/${encodeURIComponent(id)}`);
  } catch (error) {
    showError(main, error);
    main.prepend(back);
    return;
  }
  const version = claim.assessment.rule_version;
  const [person, rules] = await Promise.all([
    worker(claim.worker_id),
    version ? get(`/v1/funds/${encodeURIComponent(claim.fund)}/rules/${encodeURIComponent(version)}`).catch(() => null) : null,
  ]);
  const me = claims.subject;
  const heading = h("h1", { id: "claim-heading", tabindex: "-1" }, t("desk.claim.heading", { short: shortId(claim.id) }));
  const doneLine = done ? h("p", { class: "ok", role: "status", id: "action-done", tabindex: "-1" }, done) : null;
  fill(
    main,
    back,
    heading,
    h("p", { class: "status-line" }, h("span", { class: "badge", id: "claim-status", "data-status": claim.status }, statusWords(claim.status))),
    doneLine,
    h(
      "div",
      { id: "claim", "data-claim": claim.id, "data-status": claim.status, "data-fund": claim.fund },
      summaryCard(claim, person),
      amountsCard(claim),
      checksCard(claim),
      fourEyesCard(claim, rules, me),
      actionsCard(main, claims, claim),
      documentsCard(claim),
      payeesCard(claim),
      instalmentsCard(claim),
      historyCard(claim),
    ),
  );
  announce(t("desk.claim.loaded", { short: shortId(claim.id), status: statusWords(claim.status) }));
  (doneLine ?? heading).focus();
}

function pairs(entries) {
  return h(
    "dl",
    { class: "pairs" },
    entries.filter(Boolean).flatMap(([label, value, attributes = {}]) => [h("dt", {}, label), h("dd", attributes, value)]),
  );
}

function claimLink(id) {
  return h("a", { href: `#claims/${id}`, "data-claim": id }, h("code", {}, shortId(id)));
}

function summaryCard(claim, person) {
  const dependant = person?.dependants.find((d) => d.id === claim.dependant_id);
  const claimant =
    claim.claimant_relationship === "worker"
      ? t("desk.claim.claimantWorker")
      : t("desk.claim.claimantDependant", { name: dependant?.name ?? claim.dependant_id ?? "", relationship: words("desk.relationship", claim.claimant_relationship) });
  const workerLine = person
    ? t("desk.claim.workerLine", { name: `${person.given_name} ${person.family_name}`, documentType: person.document_type, documentNumber: person.document_number })
    : t("desk.unknownWorker");
  return h(
    "section",
    { class: "card", "aria-labelledby": "summary-heading" },
    h("h2", { id: "summary-heading" }, t("desk.claim.summary")),
    pairs([
      [t("desk.claim.id"), h("code", {}, claim.id)],
      [t("desk.claim.fund"), claim.fund],
      [t("desk.claim.worker"), workerLine, { "data-field": "worker" }],
      [t("desk.claim.claimant"), claimant, { "data-field": "claimant" }],
      [t("desk.claim.benefit"), claim.benefit, { "data-field": "benefit" }],
      [t("desk.claim.incident"), claim.incident_date, { "data-field": "incident-date" }],
      [t("desk.claim.phase"), words("desk.phase", claim.incident_phase)],
      [t("desk.claim.filed"), claim.filed_on, { "data-field": "filed-on" }],
      [t("desk.claim.status"), statusWords(claim.status), { "data-field": "status" }],
      [t("desk.claim.ruleVersion"), claim.assessment.rule_version ?? t("desk.claim.noRules"), { "data-field": "rule-version" }],
      claim.grade ? [t("desk.claim.grade"), claim.grade] : null,
      claim.description ? [t("desk.claim.description"), claim.description] : null,
      claim.rider_of ? [t("desk.claim.riderOf"), claimLink(claim.rider_of)] : null,
      claim.riders.length
        ? [t("desk.claim.riders"), h("ul", { class: "plain" }, claim.riders.map((r) => h("li", {}, claimLink(r.id), ` ${r.benefit}: ${statusWords(r.status)}`)))]
        : null,
      [t("desk.claim.created"), t("desk.claim.createdLine", { who: claim.created_by, when: when(claim.created_at) })],
      claim.review ? [t("desk.status.under_review"), t("desk.claim.review", { reasons: claim.review.reasons.map(reasonWords).join(" ") })] : null,
    ]),
  );
}

/** What was paid: each paid payee's part, the paid instalments, or the award once paid. */
function paidAmount(claim) {
  if (claim.instalments) {
    const paid = claim.instalments.instalments.filter((i) => i.status === "paid");
    return paid.length ? paid.map((i) => i.amount).reduce(addDecimals) : null;
  }
  if (claim.payees.length) {
    const paid = claim.payees.filter((p) => p.paid_on && p.amount);
    return paid.length ? paid.map((p) => p.amount).reduce(addDecimals) : null;
  }
  return claim.payment && claim.decision ? claim.decision.amount : null;
}

function amountsCard(claim) {
  const c = claim.currency;
  const line = (key, value, name) =>
    h(
      "tr",
      { "data-row": name },
      h("th", { scope: "row" }, t(key)),
      value === null || value === undefined ? h("td", { class: "amount", "data-amount": name }, t("desk.noAmount")) : money(value, c, { "data-amount": name }),
    );
  const awarded = claim.decision && claim.decision.outcome !== "reject" ? claim.decision.amount : null;
  const entries = [
    claim.approval_entry_id ? [t("desk.amounts.approvalEntry"), h("code", {}, claim.approval_entry_id), { "data-entry": "approval" }] : null,
    claim.payment ? [t("desk.amounts.paymentEntry"), h("code", {}, claim.payment.journal_entry_id), { "data-entry": "payment" }] : null,
    claim.queued_at ? [t("desk.amounts.queued"), when(claim.queued_at)] : null,
  ].filter(Boolean);
  return h(
    "section",
    { class: "card", "aria-labelledby": "amounts-heading" },
    h("h2", { id: "amounts-heading" }, t("desk.amounts.heading", { currency: c })),
    table(
      t("desk.amounts.caption"),
      [[t("desk.amounts.what"), false], [t("desk.amounts.value"), true]],
      [
        line("desk.amounts.claimed", claim.claimed_amount, "claimed"),
        line("desk.amounts.rules", claim.assessment.amount, "rules"),
        line("desk.amounts.payable", claim.assessment.payable, "payable"),
        line("desk.amounts.decided", awarded, "decided"),
        line("desk.amounts.approved", claim.approved_at ? awarded : null, "approved"),
        line("desk.amounts.paid", paidAmount(claim), "paid"),
      ],
      "claim-amounts",
    ),
    entries.length ? pairs(entries) : null,
  );
}

/** Who decided, who approved, who still may, and what the caller may not. */
function fourEyesCard(claim, rules, me) {
  const d = claim.decision;
  const c = claim.currency;
  const approval = rules?.document.approval;
  const benefit = rules?.document.benefits.find((b) => b.code === claim.benefit);
  const parts = [];
  if (approval) {
    parts.push(
      h(
        "p",
        { class: "note" },
        benefit?.track === "discretionary"
          ? t("desk.fourEyes.committee", { size: approval.committee_size })
          : t("desk.fourEyes.threshold", { amount: grouped(approval.second_approval_above), currency: c }),
      ),
    );
  }
  if (!d) {
    parts.push(h("p", { id: "decision-none" }, t("desk.fourEyes.undecided")));
  } else {
    parts.push(
      h(
        "p",
        { id: "decided-by", "data-decided-by": d.decided_by },
        t("desk.fourEyes.decided", { who: d.decided_by, when: when(d.decided_at), outcome: words("desk.decision", d.outcome), amount: grouped(d.amount), currency: c }),
      ),
    );
    if (d.reasons.length) parts.push(h("p", {}, t("desk.fourEyes.reasons", { reasons: d.reasons.map((r) => `${r}: ${reasonWords(r)}`).join(" ") })));
    if (d.note) parts.push(h("p", {}, t("desk.fourEyes.note", { note: d.note })));
  }
  parts.push(
    h("h3", {}, t("desk.fourEyes.approvals")),
    claim.approvals.length
      ? h("ul", { id: "approvals" }, claim.approvals.map((a) => h("li", { "data-approver": a.approver }, t("desk.fourEyes.approval", { who: a.approver, when: when(a.approved_at) }), a.note ? ` — ${a.note}` : "")))
      : h("p", { id: "approvals" }, t("desk.fourEyes.noApprovals")),
  );
  if (d && FROM.approve.includes(claim.status)) {
    const approvers = [d.decided_by, ...claim.approvals.map((a) => a.approver)].join(", ");
    parts.push(
      h(
        "p",
        { id: "who-may-approve" },
        claim.status === "awaiting_committee"
          ? t("desk.fourEyes.needCommittee", { given: claim.approvals.length, size: approval?.committee_size ?? "?", who: approvers })
          : t("desk.fourEyes.needSecond", { who: d.decided_by }),
      ),
    );
    if (d.decided_by === me) parts.push(h("p", { class: "self", id: "self-approval" }, t("desk.fourEyes.selfDecided")));
    else if (claim.approvals.some((a) => a.approver === me)) parts.push(h("p", { class: "self", id: "self-approved" }, t("desk.fourEyes.selfApproved")));
  }
  return h("section", { class: "card", id: "four-eyes", "aria-labelledby": "four-eyes-heading" }, h("h2", { id: "four-eyes-heading" }, t("desk.fourEyes.heading")), parts);
}

function checksCard(claim) {
  const a = claim.assessment;
  const rows = a.checks.map((k) =>
    h(
      "tr",
      { "data-check": k.check, "data-passed": String(k.passed) },
      h("th", { scope: "row" }, words("desk.check", k.check)),
      h("td", { class: k.passed ? "ok" : "error" }, t(k.passed ? "desk.checks.passed" : "desk.checks.failed")),
      h("td", { "data-reason": k.reason ?? "" }, k.reason ? [h("code", {}, k.reason), " ", reasonWords(k.reason)] : ""),
      h("td", {}, k.detail ?? ""),
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "checks-heading" },
    h("h2", { id: "checks-heading" }, t("desk.checks.heading")),
    h(
      "p",
      { id: "assessment-summary" },
      t("desk.checks.summary", { version: a.rule_version ?? t("desk.claim.noRules"), outcome: words("desk.outcome", a.outcome), payable: grouped(a.payable), currency: claim.currency }),
    ),
    table(
      t("desk.checks.caption"),
      [[t("desk.checks.check"), false], [t("desk.checks.result"), false], [t("desk.checks.reason"), false], [t("desk.checks.detail"), false]],
      rows,
      "claim-checks",
    ),
    a.missing_documents.length ? h("p", { class: "error" }, t("desk.checks.missing", { documents: a.missing_documents.join(", ") })) : null,
  );
}

function documentsCard(claim) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "documents-heading" },
    h("h2", { id: "documents-heading" }, t("desk.documents.heading")),
    claim.documents.length
      ? table(
          t("desk.documents.caption"),
          [[t("desk.documents.type"), false], [t("desk.documents.reference"), false]],
          claim.documents.map((d) => h("tr", { "data-document": d.type }, h("th", { scope: "row" }, d.type), h("td", {}, d.reference))),
          "claim-documents",
        )
      : h("p", {}, t("desk.documents.none")),
  );
}

function payeesCard(claim) {
  if (!claim.payees.length) return null;
  const rows = claim.payees.map((p) =>
    h(
      "tr",
      { "data-payee": String(p.line) },
      h("th", { scope: "row" }, String(p.line)),
      h("td", {}, p.name),
      h("td", {}, p.estate ? t("desk.payees.estate") : words("desk.relationship", p.relationship ?? "")),
      h("td", { class: "amount" }, p.share_fraction),
      h("td", {}, p.receiver),
      p.amount ? money(p.amount, claim.currency) : h("td", { class: "amount" }, t("desk.noAmount")),
      h("td", {}, p.paid_on ?? t("desk.payees.notPaid")),
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "payees-heading" },
    h("h2", { id: "payees-heading" }, t("desk.payees.heading")),
    table(
      t("desk.payees.caption"),
      [
        [t("desk.payees.line"), false],
        [t("desk.payees.name"), false],
        [t("desk.payees.relationship"), false],
        [t("desk.payees.share"), true],
        [t("desk.payees.receiver"), false],
        [t("desk.payees.amount"), true],
        [t("desk.payees.paidOn"), false],
      ],
      rows,
      "claim-payees",
    ),
  );
}

function instalmentsCard(claim) {
  const s = claim.instalments;
  if (!s) return null;
  const rows = s.instalments.map((i) =>
    h(
      "tr",
      { "data-instalment": String(i.number) },
      h("th", { scope: "row" }, String(i.number)),
      h("td", {}, i.due_on),
      money(i.amount, claim.currency),
      h("td", {}, i.status),
      h("td", {}, i.reasons.map(reasonWords).join(" ")),
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "instalments-heading" },
    h("h2", { id: "instalments-heading" }, t("desk.instalments.heading")),
    table(
      t("desk.instalments.caption", { every: s.every }),
      [
        [t("desk.instalments.number"), false],
        [t("desk.instalments.due"), false],
        [t("desk.instalments.amount"), true],
        [t("desk.instalments.status"), false],
        [t("desk.instalments.reasons"), false],
      ],
      rows,
      "claim-instalments",
    ),
  );
}

/** Entering, every assessment, the decision, the approvals and the payment, oldest first. */
function historyCard(claim) {
  const c = claim.currency;
  const events = [{ when: claim.created_at, who: claim.created_by, what: t("desk.history.entered"), details: "", kind: "entered" }];
  for (const a of claim.assessments) {
    const detail = t("desk.history.assessedDetail", { outcome: words("desk.outcome", a.outcome), version: a.rule_version ?? t("desk.claim.noRules"), payable: grouped(a.payable), currency: c });
    events.push({
      when: a.assessed_at,
      who: a.assessed_by,
      what: t("desk.history.assessed", { trigger: words("desk.trigger", a.trigger) }),
      details: [detail, ...a.reasons.map((r) => `${r}: ${reasonWords(r)}`)].join(" · "),
      kind: "assessment",
    });
  }
  const d = claim.decision;
  if (d) {
    events.push({
      when: d.decided_at,
      who: d.decided_by,
      what: t("desk.history.decided", { outcome: words("desk.decision", d.outcome) }),
      details: [`${grouped(d.amount)} ${c}`, ...d.reasons.map((r) => `${r}: ${reasonWords(r)}`), d.note ?? ""].filter(Boolean).join(" · "),
      kind: "decision",
    });
  }
  for (const a of claim.approvals) events.push({ when: a.approved_at, who: a.approver, what: t("desk.history.approved"), details: a.note ?? "", kind: "approval" });
  events.sort((x, y) => (x.when < y.when ? -1 : x.when > y.when ? 1 : 0));
  if (claim.payment) {
    const p = claim.payment;
    const details = [t("desk.history.paidDetail", { entry: p.journal_entry_id }), p.payee_reference ? t("desk.history.reference", { reference: p.payee_reference }) : ""].filter(Boolean).join(" · ");
    events.push({ when: p.paid_on, who: "", what: t("desk.history.paid"), details, kind: "payment" });
  }
  return h(
    "section",
    { class: "card", "aria-labelledby": "history-heading" },
    h("h2", { id: "history-heading" }, t("desk.history.heading")),
    table(
      t("desk.history.caption"),
      [[t("desk.history.when"), false], [t("desk.history.who"), false], [t("desk.history.what"), false], [t("desk.history.details"), false]],
      events.map((e) => h("tr", { "data-event": e.kind }, h("td", { class: "when" }, h("time", { datetime: e.when }, when(e.when))), h("td", {}, e.who), h("th", { scope: "row" }, e.what), h("td", {}, e.details))),
      "claim-history",
    ),
  );
}

/** The forms of the actions the caller's role may take on the claim in its status. */
function actionsCard(main, claims, claim) {
  const role = claims.role;
  if (!mayAct(role, "any")) return null;
  const again = (message) => showClaim(main, claims, claim.id, message);
  const forms = [];
  const d = claim.decision;
  if (mayAct(role, "decide") && FROM.reject.includes(claim.status)) forms.push(decideForm(claim, again));
  if (mayAct(role, "approve") && FROM.approve.includes(claim.status) && d) {
    const mine = d.decided_by === claims.subject || claim.approvals.some((a) => a.approver === claims.subject);
    if (!mine) forms.push(approveForm(claim, again));
  }
  if (mayAct(role, "pay") && FROM.pay.includes(claim.status)) forms.push(payForm(claim, again));
  if (mayAct(role, "documents") && FROM.documents.includes(claim.status)) forms.push(documentsForm(claim, again));
  return h(
    "section",
    { class: "card", id: "claim-actions", "aria-labelledby": "actions-heading" },
    h("h2", { id: "actions-heading" }, t("desk.actions.heading")),
    forms.length ? forms : h("p", { id: "no-actions" }, t("desk.actions.none", { role, status: statusWords(claim.status) })),
  );
}

function decideForm(claim, again) {
  const c = claim.currency;
  const mayAward = FROM.award.includes(claim.status);
  const outcomes = mayAward ? ["approve", "partially_approve", "reject"] : ["reject"];
  const labels = {
    approve: t("desk.decide.approve", { amount: grouped(claim.assessment.payable), currency: c }),
    partially_approve: t("desk.decide.partial"),
    reject: t("desk.decide.reject"),
  };
  const initial = mayAward && claim.assessment.outcome !== "ineligible" ? "approve" : "reject";
  const radios = outcomes.map((o) =>
    h(
      "div",
      { class: "choice" },
      h("input", { type: "radio", name: "outcome", id: `decide-${o}`, value: o, checked: o === initial, onchange: () => update() }),
      h("label", { for: `decide-${o}` }, labels[o]),
    ),
  );
  const amountInput = h("input", {
    id: "decide-amount",
    name: "amount",
    type: "text",
    inputmode: "decimal",
    pattern: "\\d+(\\.\\d+)?",
    autocomplete: "off",
    size: "14",
    "aria-describedby": "decide-amount-hint",
  });
  const amountField = h(
    "div",
    { class: "field", id: "decide-amount-field" },
    h("label", { for: "decide-amount" }, t("desk.decide.amount", { currency: c })),
    amountInput,
    h("span", { class: "hint", id: "decide-amount-hint" }, t("desk.decide.amountHint", { amount: grouped(claim.assessment.payable) })),
  );
  const codes = [...new Set([...claim.assessment.reasons, ...DECISION_REASONS])];
  const reasonBoxes = codes.map((code) =>
    h(
      "div",
      { class: "choice" },
      h("input", { type: "checkbox", name: "reasons", id: `reason-${code}`, value: code, checked: claim.assessment.reasons.includes(code) }),
      h("label", { for: `reason-${code}` }, h("code", {}, code), " ", reasonWords(code)),
    ),
  );
  const other = h("input", { id: "decide-other-reason", name: "other_reason", type: "text", pattern: "[A-Z][A-Z0-9_]*", autocomplete: "off", "aria-describedby": "decide-other-hint" });
  const reasons = h(
    "fieldset",
    { id: "decide-reasons" },
    h("legend", {}, t("desk.decide.reasons")),
    h("p", { class: "hint", id: "decide-reasons-hint" }, t("desk.decide.reasonsHint")),
    reasonBoxes,
    h("div", { class: "field" }, h("label", { for: "decide-other-reason" }, t("desk.decide.otherReason")), other, h("span", { class: "hint", id: "decide-other-hint" }, t("desk.decide.otherHint"))),
  );
  const note = h("textarea", { id: "decide-note", name: "note", rows: "2" });
  const result = h("div", { id: "decide-result" });
  const button = h("button", { type: "submit", id: "decide-submit" }, t("desk.decide.submit"));
  const chosen = () => radios.map((r) => r.querySelector("input")).find((i) => i.checked)?.value;
  function update() {
    const outcome = chosen();
    amountField.hidden = outcome !== "partially_approve";
    amountInput.required = outcome === "partially_approve";
    reasons.hidden = outcome === "approve";
  }
  update();
  const keyOf = keyedAction();
  const form = h(
    "form",
    {
      id: "decide-form",
      class: "action",
      onsubmit: async (event) => {
        event.preventDefault();
        const outcome = chosen();
        const body = { outcome };
        if (outcome === "partially_approve") body.amount = amountInput.value.trim();
        if (outcome !== "approve") {
          body.reasons = reasonBoxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
          const extra = other.value.trim();
          if (extra && !body.reasons.includes(extra)) body.reasons.push(extra);
        }
        if (note.value.trim()) body.note = note.value.trim();
        const answer = await submitAction({ button, result, path: `/v1/claims/${encodeURIComponent(claim.id)}/decision`, body, keyOf });
        if (answer) again(t("desk.decide.done", { status: statusWords(answer.status) }));
      },
    },
    h("h3", {}, t("desk.decide.heading")),
    mayAward ? null : h("p", { class: "note" }, t("desk.decide.onlyReject")),
    h("fieldset", {}, h("legend", {}, t("desk.decide.outcome")), radios),
    amountField,
    reasons,
    h("div", { class: "field" }, h("label", { for: "decide-note" }, t("desk.decide.note")), note),
    button,
    result,
  );
  return form;
}

function approveForm(claim, again) {
  const d = claim.decision;
  const note = h("textarea", { id: "approve-note", name: "note", rows: "2" });
  const result = h("div", { id: "approve-result" });
  const button = h("button", { type: "submit", id: "approve-submit" }, t("desk.approve.submit"));
  const keyOf = keyedAction();
  return h(
    "form",
    {
      id: "approve-form",
      class: "action",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = note.value.trim() ? { note: note.value.trim() } : {};
        const answer = await submitAction({ button, result, path: `/v1/claims/${encodeURIComponent(claim.id)}/approvals`, body, keyOf });
        if (answer) again(t("desk.approve.done", { status: statusWords(answer.status) }));
      },
    },
    h("h3", {}, t("desk.approve.heading")),
    h("p", {}, t("desk.approve.intro", { who: d.decided_by, outcome: words("desk.decision", d.outcome), amount: grouped(d.amount), currency: claim.currency })),
    h("div", { class: "field" }, h("label", { for: "approve-note" }, t("desk.approve.note")), note),
    button,
    result,
  );
}

function payForm(claim, again) {
  const paidOn = dateField("pay-paid-on", "paid_on", t("desk.pay.paidOn"), todayIso());
  const reference = h("input", { id: "pay-reference", name: "payee_reference", type: "text", autocomplete: "off" });
  const result = h("div", { id: "pay-result" });
  const button = h("button", { type: "submit", id: "pay-submit" }, t("desk.pay.submit"));
  const keyOf = keyedAction();
  return h(
    "form",
    {
      id: "pay-form",
      class: "action",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { paid_on: paidOn.input.value };
        if (reference.value.trim()) body.payee_reference = reference.value.trim();
        const answer = await submitAction({ button, result, path: `/v1/claims/${encodeURIComponent(claim.id)}/payment`, body, keyOf });
        if (answer) again(t("desk.pay.done", { status: statusWords(answer.status) }));
      },
    },
    h("h3", {}, t("desk.pay.heading")),
    h("p", {}, t("desk.pay.intro", { amount: grouped(claim.decision?.amount ?? "0"), currency: claim.currency })),
    h("div", { class: "controls" }, paidOn.field, h("div", { class: "field" }, h("label", { for: "pay-reference" }, t("desk.pay.reference")), reference)),
    button,
    result,
  );
}

function documentsForm(claim, again) {
  const missing = claim.assessment.missing_documents;
  const type = h("input", { id: "document-type", name: "type", type: "text", required: true, autocomplete: "off", value: missing[0] ?? "", list: "document-types" });
  const types = h("datalist", { id: "document-types" }, missing.map((m) => h("option", { value: m })));
  const reference = h("input", { id: "document-reference", name: "reference", type: "text", required: true, autocomplete: "off" });
  const result = h("div", { id: "documents-result" });
  const button = h("button", { type: "submit", id: "documents-submit" }, t("desk.documents.addSubmit"));
  const keyOf = keyedAction();
  return h(
    "form",
    {
      id: "documents-form",
      class: "action",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { documents: [{ type: type.value.trim(), reference: reference.value.trim() }] };
        const answer = await submitAction({ button, result, path: `/v1/claims/${encodeURIComponent(claim.id)}/documents`, body, keyOf });
        if (answer) again(t("desk.documents.done", { status: statusWords(answer.status) }));
      },
    },
    h("h3", {}, t("desk.documents.add")),
    h(
      "div",
      { class: "controls" },
      h("div", { class: "field" }, h("label", { for: "document-type" }, t("desk.documents.addType")), type, types),
      h("div", { class: "field" }, h("label", { for: "document-reference" }, t("desk.documents.addReference")), reference),
    ),
    button,
    result,
  );
}
