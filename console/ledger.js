// The ledger of a fund: accounts with balances as of a date, an account's
// statement, one journal entry with its place in the hash chain, the chain's
// verification and checkpoints, and downloads of the ledger exports.
//
// Addresses: `#ledger` (the accounts), `#ledger/account/<fund>/<code>` (a
// statement) and `#ledger/entry/<fund>/<id>` (a journal entry).
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { fetchFile, get } from "./api.js";
import { amount, count, startOfYear, todayIso } from "./format.js";
import { dateField, errorText, fundField, money, pageFunds, selection, showError, table } from "./widgets.js";
import { announce, handleSessionError } from "./app.js";

/** Roles that read the audit trail and export a ledger (src/auth/access.rs). */
const EXPORTERS = ["admin", "auditor"];

/** The ledger export formats, with the extension of their files. */
const FORMATS = [
  ["csv", "csv"],
  ["jsonl", "jsonl"],
  ["beancount", "beancount"],
  ["hledger", "journal"],
];

/** Statement lines shown at a time. */
const STATEMENT_PAGE = 50;

/** A first entry's previous hash. */
const GENESIS = "0".repeat(64);

/** The choices of the forms, kept while the tab is open. */
const chosen = { asOf: null, from: null, to: null, exportFrom: "", exportTo: "" };

const fundPath = (fund) => `/v1/funds/${encodeURIComponent(fund)}`;
const entryHref = (fund, id) => `#ledger/entry/${encodeURIComponent(fund)}/${encodeURIComponent(id)}`;
const accountHref = (fund, code) => `#ledger/account/${encodeURIComponent(fund)}/${encodeURIComponent(code)}`;

/** Shows the part of the ledger the address names. */
export async function showLedger(main, claims) {
  const [, view, fund, key] = window.location.hash.slice(1).split("/").map(decodeURIComponent);
  chosen.asOf ??= todayIso();
  chosen.to ??= chosen.asOf;
  chosen.from ??= startOfYear(chosen.to);
  if (view === "entry" && fund && key) return showEntry(main, fund, key);
  if (view === "account" && fund && key) return showStatement(main, fund, key);
  return showAccounts(main, claims);
}

/** An amount as text with its currency, as in an amount cell. */
function amountText(value, currency) {
  return [amount(value), h("span", { class: "currency" }, ` ${currency}`)];
}

/**
 * A `.pairs` list whose labels wrap on a narrow screen (the stylesheet sizes
 * the label column to its longest label, too wide at 360 px for long ones).
 */
function wrappingPairs(...children) {
  const list = h("dl", { class: "pairs" }, ...children);
  list.style.gridTemplateColumns = "minmax(0, max-content) auto";
  return list;
}

/** `cell` kept on one line (a time). */
function oneLine(cell) {
  cell.style.whiteSpace = "nowrap";
  return cell;
}

/** A debit and a credit cell for one amount on `side`. */
function sideCells(side, value, currency) {
  return side === "debit"
    ? [money(value, currency, { "data-amount": "debit" }), h("td", {})]
    : [h("td", {}), money(value, currency, { "data-amount": "credit" })];
}

function backLink(fund) {
  return h("p", {}, h("a", { href: "#ledger", id: "back-to-ledger", onclick: () => { selection.fund = fund; } }, t("ledgerPage.back")));
}

// ---------------------------------------------------------------- accounts

async function showAccounts(main, claims) {
  const funds = await pageFunds(main, t("ledgerPage.heading"));
  if (!funds) return;
  const fund = fundField(funds);
  const asOf = dateField("ledger-as-of", "as_of", t("ledgerPage.asOf"), chosen.asOf);
  const body = h("div", { id: "ledger" });
  const form = h(
    "form",
    {
      class: "card controls",
      onsubmit: (event) => {
        event.preventDefault();
        selection.fund = fund.select.value;
        chosen.asOf = asOf.input.value;
        showFund(body, funds.find((f) => f.code === selection.fund), claims);
      },
    },
    fund.field,
    asOf.field,
    h("button", { type: "submit", id: "ledger-show" }, t("dashboard.show")),
  );
  fill(main, h("h1", {}, t("ledgerPage.heading")), form, body);
  await showFund(body, funds.find((f) => f.code === selection.fund), claims);
}

async function showFund(body, fund, claims) {
  const asOf = chosen.asOf;
  body.setAttribute("aria-busy", "true");
  fill(body, h("p", {}, t("dashboard.loading")));
  let accounts, current;
  try {
    [accounts, current] = await Promise.all([get(`${fundPath(fund.code)}/accounts`, { as_of: asOf }), get(fundPath(fund.code))]);
  } catch (error) {
    body.removeAttribute("aria-busy");
    showError(body, error);
    return;
  }
  fill(
    body,
    accountsCard(fund.code, accounts.items, asOf),
    chainCard(current),
    EXPORTERS.includes(claims.role) ? exportsCard(current) : null,
    entriesCard(fund.code),
  );
  body.setAttribute("data-fund", fund.code);
  body.setAttribute("data-as-of", asOf);
  body.removeAttribute("aria-busy");
  announce(t("ledgerPage.loaded", { fund: fund.code, asOf }));
}

function accountsCard(fund, accounts, asOf) {
  const rows = accounts.map((a) =>
    h(
      "tr",
      { "data-account": a.code },
      h("th", { scope: "row" }, h("a", { href: accountHref(fund, a.code), "data-statement": a.code }, a.code)),
      h("td", {}, a.name),
      h("td", {}, a.type),
      money(a.debits, a.currency, { "data-amount": "debits" }),
      money(a.credits, a.currency, { "data-amount": "credits" }),
      money(a.balance, a.currency, { "data-amount": "balance" }),
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "accounts-heading" },
    h("h2", { id: "accounts-heading" }, t("ledgerPage.accountsHeading", { asOf })),
    h("p", { class: "note" }, t("ledgerPage.accountsNote")),
    table(
      t("ledgerPage.accountsCaption", { fund, asOf }),
      [[t("tb.account"), false], [t("tb.name"), false], [t("tb.type"), false], [t("tb.debits"), true], [t("tb.credits"), true], [t("tb.balance"), true]],
      rows,
      "accounts",
    ),
  );
}

// ---------------------------------------------------------------- the chain

/** The fund's chain head with "Verify the chain", its result and the checkpoints (also on the dashboard). */
export function chainCard(fund) {
  const result = h("p", { id: "verify-result", role: "status" });
  const problems = h("div", { id: "verify-problems" });
  // Hashes in the result and the problems' details wrap on a narrow screen.
  result.style.overflowWrap = "anywhere";
  problems.style.overflowWrap = "anywhere";
  const checkpoints = h("div", { id: "checkpoints" });
  const button = h("button", { type: "button", id: "verify" }, t("ledger.verify"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    result.className = "";
    result.textContent = t("ledger.verifying");
    fill(problems);
    try {
      const report = await get(`${fundPath(fund.code)}/ledger/verify`);
      result.textContent = report.ok
        ? t("ledgerPage.verified", { entries: count(report.entries_checked), head: report.chain_head })
        : t("ledgerPage.broken", { entries: count(report.entries_checked), problems: count(report.problems.length) });
      result.className = report.ok ? "ok" : "error";
      result.setAttribute("data-ok", String(report.ok));
      if (!report.ok) fill(problems, problemList(fund.code, report.problems));
      await loadCheckpoints(checkpoints, fund.code);
    } catch (error) {
      if (!handleSessionError(error)) fill(result, errorText(error));
    } finally {
      button.disabled = false;
    }
  });
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "chain-heading" },
    h("h2", { id: "chain-heading" }, t("ledgerPage.chainHeading")),
    h(
      "dl",
      { class: "pairs" },
      h("dt", {}, t("ledger.entries")),
      h("dd", { "data-figure": "entries" }, count(fund.entries)),
      h("dt", {}, t("ledger.chainHead")),
      h("dd", { class: "hash" }, h("code", { id: "fund-chain-head" }, fund.chain_head)),
    ),
    h("p", { class: "note" }, t("ledgerPage.verifyNote")),
    button,
    result,
    problems,
    checkpoints,
  );
  loadCheckpoints(checkpoints, fund.code);
  return section;
}

/** Verification problems in words: what is wrong, where. */
function problemList(fund, problems) {
  return h(
    "ul",
    { class: "error" },
    problems.map((p) =>
      h(
        "li",
        { "data-problem": p.code },
        t(`ledgerPage.problem.${p.code}`) === `ledgerPage.problem.${p.code}` ? p.code : t(`ledgerPage.problem.${p.code}`),
        p.sequence !== undefined ? [" ", p.entry_id ? h("a", { href: entryHref(fund, p.entry_id) }, t("ledgerPage.atEntry", { sequence: p.sequence })) : t("ledgerPage.atEntry", { sequence: p.sequence })] : null,
        p.account ? [" ", t("ledgerPage.atAccount", { account: p.account })] : null,
        ": ",
        p.detail,
      ),
    ),
  );
}

/** The fund's verification checkpoints, oldest first, a page at a time. */
async function loadCheckpoints(where, fund, after = undefined, rows = []) {
  let page;
  try {
    page = await get(`${fundPath(fund)}/ledger/checkpoints`, { after, limit: 100 });
  } catch (error) {
    showError(where, error);
    return;
  }
  rows.push(
    ...page.items.map((c) =>
      h(
        "tr",
        { "data-checkpoint": c.id },
        oneLine(h("th", { scope: "row" }, c.verified_at)),
        h("td", {}, c.verified_by),
        h("td", { class: "amount" }, count(c.sequence)),
        h("td", { class: "amount" }, count(c.entries_checked)),
        h("td", {}, t(c.full ? "ledgerPage.full" : "ledgerPage.sinceCheckpoint")),
        h("td", { class: "hash" }, h("code", {}, c.hash)),
      ),
    ),
  );
  const more = page.next
    ? h("button", { type: "button", id: "checkpoints-more", onclick: () => loadCheckpoints(where, fund, page.next, rows) }, t("ledgerPage.more"))
    : null;
  fill(
    where,
    rows.length === 0
      ? h("p", {}, t("ledgerPage.noCheckpoints"))
      : table(
          t("ledgerPage.checkpointsCaption"),
          [
            [t("ledgerPage.verifiedAt"), false],
            [t("ledgerPage.verifiedBy"), false],
            [t("ledgerPage.through"), true],
            [t("ledgerPage.checked"), true],
            [t("ledgerPage.run"), false],
            [t("ledgerPage.hash"), false],
          ],
          rows,
          "checkpoints-table",
        ),
    more,
  );
}

// ---------------------------------------------------------------- exports

/** `sequence:hash` as the export reports it, read from a downloaded file. */
export function chainHeadInFile(format, text) {
  if (format === "csv") {
    const last = text.trimEnd().split(/\r?\n/).pop().split(",");
    return last[0] === "chain_head" ? `${last[2]}:${last[13]}` : null;
  }
  if (format === "jsonl") {
    const lines = text.trimEnd().split(/\r?\n/);
    const end = JSON.parse(lines[lines.length - 1]);
    return end.chain_head ? `${end.chain_head.sequence}:${end.chain_head.hash}` : null;
  }
  const match = /chain head when exported: sequence (\d+), hash ([0-9a-f]{64})/.exec(text);
  return match ? `${match[1]}:${match[2]}` : null;
}

/** Hands `blob` to the browser as a file called `name`. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has the file once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function exportsCard(fund) {
  const from = dateField("export-from", "from", t("ledgerPage.exportFrom"), chosen.exportFrom, { required: false });
  const to = dateField("export-to", "to", t("ledgerPage.exportTo"), chosen.exportTo, { required: false });
  const results = h("ul", { id: "export-results" });
  const status = h("p", { role: "status", id: "export-status" });
  const buttons = FORMATS.map(([format, extension]) =>
    h(
      "button",
      {
        type: "button",
        id: `export-${format}`,
        "data-format": format,
        onclick: async (event) => {
          const button = event.currentTarget;
          if (!from.input.reportValidity() || !to.input.reportValidity()) return;
          chosen.exportFrom = from.input.value;
          chosen.exportTo = to.input.value;
          button.disabled = true;
          status.textContent = t("ledgerPage.downloading", { format });
          try {
            await download(fund.code, format, extension, results);
            status.textContent = t("ledgerPage.downloaded", { format });
          } catch (error) {
            if (!handleSessionError(error)) fill(status, errorText(error));
          } finally {
            button.disabled = false;
          }
        },
      },
      t("ledgerPage.download", { format: t(`ledgerPage.format.${format}`) }),
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "exports-heading" },
    h("h2", { id: "exports-heading" }, t("ledgerPage.exportsHeading")),
    h("p", { class: "note" }, t("ledgerPage.exportsNote")),
    h("div", { class: "controls" }, from.field, to.field),
    h("div", { class: "controls" }, buttons),
    status,
    results,
  );
}

async function download(fund, format, extension, results) {
  const range = { from: chosen.exportFrom || undefined, to: chosen.exportTo || undefined };
  const response = await fetchFile(`${fundPath(fund)}/exports/ledger`, { format, ...range });
  const exported = response.headers.get("X-Mwf-Chain-Head") ?? "";
  const blob = await response.blob();
  const inFile = chainHeadInFile(format, await blob.text());
  const current = await get(fundPath(fund));
  const head = `${current.entries}:${current.chain_head}`;
  const name = `${fund}-ledger-${range.from ?? "start"}-to-${range.to ?? todayIso()}.${extension}`;
  saveBlob(blob, name);
  const matches = exported === head && inFile === exported;
  const item = h(
    "li",
    { "data-export": format, "data-matches": String(matches) },
    h("span", { class: "file" }, t("ledgerPage.file", { name, size: count(blob.size) })),
    wrappingPairs(
      h("dt", {}, t("ledgerPage.exportHead")),
      h("dd", { class: "hash" }, h("code", { "data-head": "export" }, exported)),
      h("dt", {}, t("ledgerPage.fileHead")),
      h("dd", { class: "hash" }, h("code", { "data-head": "file" }, inFile ?? t("ledgerPage.noHead"))),
      h("dt", {}, t("ledgerPage.fundHead")),
      h("dd", { class: "hash" }, h("code", { "data-head": "fund" }, head)),
    ),
    h("p", { class: matches ? "ok" : "error", "data-verdict": matches ? "match" : "differ" }, t(matches ? "ledgerPage.headsMatch" : "ledgerPage.headsDiffer")),
  );
  results.querySelector(`[data-export="${format}"]`)?.remove();
  results.prepend(item);
}

// ---------------------------------------------------------------- entries

/** The fund's journal entries in sequence order, a page at a time. */
function entriesCard(fund) {
  const where = h("div", { id: "entries" });
  const rows = [];
  const load = async (after) => {
    let page;
    try {
      page = await get(`${fundPath(fund)}/journal-entries`, { after, limit: 50 });
    } catch (error) {
      showError(where, error);
      return;
    }
    rows.push(
      ...page.items.map((e) =>
        h(
          "tr",
          { "data-entry": e.id },
          h("th", { scope: "row", class: "amount" }, h("a", { href: entryHref(fund, e.id) }, count(e.sequence))),
          h("td", {}, e.effective_date),
          h("td", {}, e.kind),
          h("td", {}, e.memo),
        ),
      ),
    );
    fill(
      where,
      table(t("ledgerPage.entriesCaption"), [[t("ledgerPage.sequence"), true], [t("ledgerPage.date"), false], [t("ledgerPage.kind"), false], [t("ledgerPage.memo"), false]], rows, "entries-table"),
      page.next ? h("button", { type: "button", id: "entries-more", onclick: () => load(page.next) }, t("ledgerPage.more")) : null,
    );
  };
  load();
  return h("section", { class: "card", "aria-labelledby": "entries-heading" }, h("h2", { id: "entries-heading" }, t("ledgerPage.entriesHeading")), where);
}

async function showEntry(main, fund, id) {
  fill(main, backLink(fund), h("h1", {}, t("ledgerPage.entryHeading")), h("p", {}, t("dashboard.loading")));
  let entry;
  try {
    entry = await get(`${fundPath(fund)}/journal-entries/${encodeURIComponent(id)}`);
  } catch (error) {
    fill(main, backLink(fund), h("h1", {}, t("ledgerPage.entryHeading")));
    const where = h("div", {});
    main.append(where);
    showError(where, error);
    return;
  }
  const previous = await previousEntry(fund, entry);
  const postings = entry.postings.map((p) =>
    h(
      "tr",
      { "data-posting": p.account },
      h("th", { scope: "row" }, h("a", { href: accountHref(fund, p.account) }, p.account)),
      ...sideCells(p.side, p.amount, p.currency),
    ),
  );
  let previousLink;
  if (entry.previous_hash === GENESIS) previousLink = h("span", { class: "note" }, t("ledgerPage.genesis"));
  else if (previous) previousLink = h("a", { href: entryHref(fund, previous.id), id: "previous-entry" }, t("ledgerPage.previousEntry", { sequence: count(previous.sequence) }));
  const link = (target) => (target ? h("a", { href: entryHref(fund, target) }, target) : t("ledgerPage.none"));
  fill(
    main,
    backLink(fund),
    h("h1", {}, t("ledgerPage.entryTitle", { fund, sequence: count(entry.sequence) })),
    h(
      "section",
      { class: "card", "aria-labelledby": "entry-heading", id: "entry", "data-entry": entry.id },
      h("h2", { id: "entry-heading" }, entry.memo),
      h(
        "dl",
        { class: "pairs" },
        h("dt", {}, t("ledgerPage.sequence")),
        h("dd", { "data-field": "sequence" }, String(entry.sequence)),
        h("dt", {}, t("ledgerPage.date")),
        h("dd", { "data-field": "effective_date" }, entry.effective_date),
        h("dt", {}, t("ledgerPage.recordedAt")),
        h("dd", {}, entry.recorded_at),
        h("dt", {}, t("ledgerPage.kind")),
        h("dd", {}, entry.kind),
        h("dt", {}, t("ledgerPage.memo")),
        h("dd", { "data-field": "memo" }, entry.memo),
        h("dt", {}, t("ledgerPage.createdBy")),
        h("dd", {}, entry.created_by),
        entry.source ? [h("dt", {}, t("ledgerPage.source")), h("dd", {}, `${entry.source.type} ${entry.source.id}`)] : null,
        h("dt", {}, t("ledgerPage.reverses")),
        h("dd", { "data-field": "reverses" }, link(entry.reverses)),
        h("dt", {}, t("ledgerPage.reversedBy")),
        h("dd", { "data-field": "reversed_by" }, link(entry.reversed_by)),
        h("dt", {}, t("ledgerPage.hash")),
        h("dd", { class: "hash" }, h("code", { "data-field": "hash" }, entry.hash)),
        h("dt", {}, t("ledgerPage.previousHash")),
        h("dd", { class: "hash" }, h("code", { "data-field": "previous_hash" }, entry.previous_hash), previousLink ? [h("br", {}), previousLink] : null),
      ),
      table(t("ledgerPage.postingsCaption"), [[t("tb.account"), false], [t("ledgerPage.debit"), true], [t("ledgerPage.credit"), true]], postings, "postings"),
    ),
  );
  announce(t("ledgerPage.entryTitle", { fund, sequence: count(entry.sequence) }));
}

/**
 * The entry before `entry` in the chain: the list's page of one entry after
 * the sequence before it, kept only when its hash is `entry`'s previous hash.
 */
async function previousEntry(fund, entry) {
  if (entry.sequence <= 1) return null;
  try {
    const page = await get(`${fundPath(fund)}/journal-entries`, { after: String(entry.sequence - 2), limit: 1 });
    const previous = page.items[0];
    return previous && previous.hash === entry.previous_hash ? previous : null;
  } catch (error) {
    handleSessionError(error);
    return null;
  }
}

// ---------------------------------------------------------------- statement

async function showStatement(main, fund, code) {
  const heading = h("h1", {}, t("ledgerPage.statementHeading", { fund, account: code }));
  const from = dateField("statement-from", "from", t("ledgerPage.from"), chosen.from);
  const to = dateField("statement-to", "to", t("ledgerPage.to"), chosen.to);
  const body = h("div", { id: "statement" });
  const form = h(
    "form",
    {
      class: "card controls",
      onsubmit: (event) => {
        event.preventDefault();
        chosen.from = from.input.value;
        chosen.to = to.input.value;
        loadStatement(body, fund, code);
      },
    },
    from.field,
    to.field,
    h("button", { type: "submit", id: "statement-show" }, t("dashboard.show")),
  );
  fill(main, backLink(fund), heading, form, body);
  await loadStatement(body, fund, code);
}

async function loadStatement(body, fund, code) {
  body.setAttribute("aria-busy", "true");
  fill(body, h("p", {}, t("dashboard.loading")));
  let statement;
  try {
    statement = await get(`${fundPath(fund)}/accounts/${encodeURIComponent(code)}/statement`, { from: chosen.from, to: chosen.to });
  } catch (error) {
    body.removeAttribute("aria-busy");
    showError(body, error);
    return;
  }
  const c = statement.currency;
  const lines = statement.entries;
  const section = h("section", { class: "card", "aria-labelledby": "statement-heading" });
  const pageOf = h("div", {});
  const showPage = (start) => {
    const shown = lines.slice(start, start + STATEMENT_PAGE);
    const rows = shown.map((l) =>
      h(
        "tr",
        { "data-entry": l.entry_id, "data-sequence": l.sequence },
        h("td", {}, l.effective_date),
        h("th", { scope: "row", class: "amount" }, h("a", { href: entryHref(fund, l.entry_id) }, count(l.sequence))),
        h("td", {}, l.memo),
        ...sideCells(l.side, l.amount, c),
        money(l.balance, c, { "data-amount": "balance" }),
      ),
    );
    const nav = lines.length > STATEMENT_PAGE
      ? h(
          "div",
          { class: "controls", id: "statement-pages" },
          h("button", { type: "button", id: "statement-previous", disabled: start === 0, onclick: () => showPage(start - STATEMENT_PAGE) }, t("ledgerPage.previousPage")),
          h("button", { type: "button", id: "statement-next", disabled: start + STATEMENT_PAGE >= lines.length, onclick: () => showPage(start + STATEMENT_PAGE) }, t("ledgerPage.nextPage")),
        )
      : null;
    fill(
      pageOf,
      lines.length === 0
        ? h("p", {}, t("ledgerPage.noLines"))
        : [
            h("p", { id: "statement-range", role: "status" }, t("ledgerPage.linesShown", { first: count(start + 1), last: count(start + shown.length), total: count(lines.length) })),
            table(
              t("ledgerPage.statementCaption", { account: code, from: statement.from, to: statement.to }),
              [[t("ledgerPage.date"), false], [t("ledgerPage.sequence"), true], [t("ledgerPage.memo"), false], [t("ledgerPage.debit"), true], [t("ledgerPage.credit"), true], [t("ledgerPage.balance"), true]],
              rows,
              "statement-lines",
            ),
            nav,
          ],
    );
  };
  fill(
    section,
    h("h2", { id: "statement-heading" }, `${statement.account} — ${statement.name}`),
    wrappingPairs(
      h("dt", {}, t("ledgerPage.opening", { date: statement.from })),
      h("dd", { class: "amount", "data-figure": "opening" }, ...amountText(statement.opening_balance, c)),
      h("dt", {}, t("ledgerPage.closing", { date: statement.to })),
      h("dd", { class: "amount", "data-figure": "closing" }, ...amountText(statement.closing_balance, c)),
    ),
    pageOf,
  );
  showPage(0);
  fill(body, section);
  body.setAttribute("data-account", code);
  body.removeAttribute("aria-busy");
  announce(t("ledgerPage.statementLoaded", { account: code, lines: count(lines.length) }));
}
