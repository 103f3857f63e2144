// The audit log (admin, auditor): who did what, when, to which record,
// filtered by actor and by day, a page at a time, and its export.
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { fetchFile, get } from "./api.js";
import { count, todayIso } from "./format.js";
import { dateField, errorText, showError, table } from "./widgets.js";
import { announce, handleSessionError } from "./app.js";
import { saveBlob } from "./ledger.js";

/** Records per page. */
const PAGE = 50;

/** The filters, kept while the tab is open. */
const chosen = { actor: "", from: "", to: "" };

export async function showAudit(main) {
  const actor = h("input", { id: "audit-actor", name: "actor", type: "text", autocomplete: "off", spellcheck: "false", value: chosen.actor, "aria-describedby": "audit-actor-hint" });
  const actorField = h(
    "div",
    { class: "field" },
    h("label", { for: "audit-actor" }, t("audit.actor")),
    actor,
    h("span", { class: "hint", id: "audit-actor-hint" }, t("audit.actorHint")),
  );
  const from = dateField("audit-from", "from", t("audit.from"), chosen.from, { required: false });
  const to = dateField("audit-to", "to", t("audit.to"), chosen.to, { required: false });
  const body = h("div", { id: "audit" });
  const form = h(
    "form",
    {
      class: "card controls",
      onsubmit: (event) => {
        event.preventDefault();
        chosen.actor = actor.value.trim();
        chosen.from = from.input.value;
        chosen.to = to.input.value;
        loadPage(body, []);
      },
    },
    actorField,
    from.field,
    to.field,
    h("button", { type: "submit", id: "audit-show" }, t("dashboard.show")),
  );
  fill(main, h("h1", {}, t("audit.heading")), h("p", { class: "note" }, t("audit.intro")), form, body, exportCard());
  await loadPage(body, []);
}

/** `cell` kept on one line (a time, a fund code). */
function nowrap(cell) {
  cell.style.whiteSpace = "nowrap";
  return cell;
}

/** The filters as query parameters (empty ones left out). */
function filters() {
  return { actor: chosen.actor || undefined, from: chosen.from || undefined, to: chosen.to || undefined };
}

/**
 * Shows the page after the last cursor of `cursors` (the cursors of the pages
 * before it, so that "Previous page" can go back).
 */
async function loadPage(body, cursors) {
  const after = cursors[cursors.length - 1];
  body.setAttribute("aria-busy", "true");
  let page;
  try {
    page = await get("/v1/audit-log", { ...filters(), after, limit: PAGE });
  } catch (error) {
    body.removeAttribute("aria-busy");
    showError(body, error);
    return;
  }
  const rows = page.items.map((r) =>
    h(
      "tr",
      { "data-record": r.id, "data-actor": r.actor },
      nowrap(h("td", {}, r.occurred_at)),
      h("th", { scope: "row" }, r.actor, h("span", { class: "currency" }, ` (${r.role})`)),
      h("td", {}, r.action),
      nowrap(h("td", {}, r.fund ?? "")),
      h("td", { class: "hash" }, r.target ? h("code", {}, r.target) : ""),
      h("td", {}, r.outcome === "succeeded" ? t("audit.succeeded") : t("audit.refused", { outcome: r.outcome.replace(/^refused:/, ""), status: r.status })),
    ),
  );
  const first = cursors.length * PAGE + 1;
  const pages = h(
    "div",
    { class: "controls", id: "audit-pages" },
    h("button", { type: "button", id: "audit-previous", disabled: cursors.length === 0, onclick: () => loadPage(body, cursors.slice(0, -1)) }, t("audit.previousPage")),
    h("button", { type: "button", id: "audit-next", disabled: !page.next, onclick: () => loadPage(body, [...cursors, page.next]) }, t("audit.nextPage")),
  );
  fill(
    body,
    page.items.length === 0
      ? h("p", { class: "card", id: "audit-empty" }, t("audit.none"))
      : h(
          "section",
          { class: "card", "aria-labelledby": "audit-records-heading" },
          h("h2", { id: "audit-records-heading" }, t("audit.records", { first: count(first), last: count(first + page.items.length - 1) })),
          table(
            t("audit.caption"),
            [[t("audit.time"), false], [t("audit.actor"), false], [t("audit.action"), false], [t("audit.fund"), false], [t("audit.object"), false], [t("audit.outcome"), false]],
            rows,
            "audit-log",
          ),
          pages,
        ),
  );
  body.setAttribute("data-page", String(cursors.length + 1));
  body.setAttribute("data-filter", JSON.stringify(filters()));
  body.removeAttribute("aria-busy");
  announce(t("audit.loaded", { count: count(page.items.length) }));
}

function exportCard() {
  const status = h("p", { role: "status", id: "audit-export-status" });
  const button = (format) =>
    h(
      "button",
      {
        type: "button",
        id: `audit-export-${format}`,
        onclick: async (event) => {
          const target = event.currentTarget;
          target.disabled = true;
          status.textContent = t("audit.downloading");
          try {
            const response = await fetchFile("/v1/audit-log/export", { format, ...filters() });
            const blob = await response.blob();
            const who = chosen.actor ? `-${chosen.actor.replace(/[^A-Za-z0-9._-]/g, "_")}` : "";
            const name = `audit-log${who}-${chosen.from || "start"}-to-${chosen.to || todayIso()}.${format}`;
            saveBlob(blob, name);
            status.textContent = t("audit.downloaded", { name, size: count(blob.size) });
          } catch (error) {
            if (!handleSessionError(error)) fill(status, errorText(error));
          } finally {
            target.disabled = false;
          }
        },
      },
      t("audit.download", { format: format.toUpperCase() }),
    );
  return h(
    "section",
    { class: "card", "aria-labelledby": "audit-export-heading" },
    h("h2", { id: "audit-export-heading" }, t("audit.exportHeading")),
    h("p", { class: "note" }, t("audit.exportNote")),
    h("div", { class: "controls" }, button("csv"), button("jsonl")),
    status,
  );
}
