// Workers: search a fund's workers by document number or name, page through
// the results, enroll a worker (roles that may: src/auth/access.rs), and open
// a worker's page (`#workers/<id>`, drawn by worker-page.js).
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { ApiError, get, post, newIdempotencyKey } from "./api.js";
import { dateField, errorText, fundField, pageFunds, selection, table } from "./widgets.js";
import { announce, handleSessionError } from "./app.js";
import { showWorker } from "./worker-page.js";

/** Roles the API lets enroll workers and record contributions (`worker.enroll`, `contribution.record`). */
export const ENROLLERS = ["admin", "officer", "ministry"];

/** Results per page of a search. */
const PAGE_SIZE = 20;

/** The last search, kept while the tab is open (coming back shows it again). */
const search = { by: "document", text: "", cursors: [null], page: 0, fund: null };

/** A message for the next page drawn (after enrolling, for instance). */
export const flash = { text: null };

/** The page: a worker's (`#workers/<id>`) or the search. */
export async function showWorkers(main, claims) {
  const id = window.location.hash.slice(1).split("/")[1];
  if (id) return showWorker(main, claims, decodeURIComponent(id));
  return showSearch(main, claims);
}

/** A labelled text input in a `.field`: `{ field, input }`. */
export function textField(id, name, label, attributes = {}) {
  const hint = attributes.hint;
  delete attributes.hint;
  const input = h("input", { id, name, type: "text", autocomplete: "off", "aria-describedby": hint ? `${id}-hint` : null, ...attributes });
  const field = h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null);
  return { field, input };
}

/** A labelled select over `[value, text]` options: `{ field, input }`. */
export function selectField(id, name, label, options, value) {
  const input = h("select", { id, name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  return { field: h("div", { class: "field" }, h("label", { for: id }, label), input), input };
}

/**
 * Marks the inputs an API refusal names (`/given_name`, `/contracts/0/end_date`)
 * as invalid; `inputs` maps a field path without its leading slash to its input.
 */
export function markInvalid(form, error, inputs) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  if (!(error instanceof ApiError)) return;
  let first = null;
  for (const e of error.errors) {
    const input = inputs[e.field.replace(/^\//, "")];
    if (!input) continue;
    input.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  first?.focus();
}

async function showSearch(main, claims) {
  const funds = await pageFunds(main, t("workers.heading"));
  if (!funds) return;
  const fund = fundField(funds, "workers-fund");
  const by = selectField(
    "search-by",
    "by",
    t("workers.search.by"),
    [
      ["document", t("workers.search.byDocument")],
      ["name", t("workers.search.byName")],
    ],
    search.by,
  );
  const text = textField("search-text", "q", t("workers.search.text"), { value: search.text, hint: t("workers.search.hint"), spellcheck: "false" });
  const results = h("section", { id: "worker-results", class: "card", "aria-labelledby": "results-heading" });
  const form = h(
    "form",
    {
      class: "card controls",
      role: "search",
      "aria-label": t("workers.search.label"),
      onsubmit: (event) => {
        event.preventDefault();
        selection.fund = fund.select.value;
        Object.assign(search, { by: by.input.value, text: text.input.value.trim(), cursors: [null], page: 0 });
        showResults(results);
      },
    },
    fund.field,
    by.field,
    text.field,
    h("button", { type: "submit", id: "search" }, t("workers.search.submit")),
  );
  const message = flash.text ? h("p", { class: "ok", role: "status", id: "workers-flash" }, flash.text) : null;
  flash.text = null;
  fill(main, h("h1", {}, t("workers.heading")), message, form, results, ENROLLERS.includes(claims.role) ? enrollCard(fund.select) : null);
  if (search.fund === selection.fund) await showResults(results);
  else fill(results, h("h2", { id: "results-heading" }, t("workers.results.heading")), h("p", {}, t("workers.results.prompt")));
}

async function showResults(results) {
  const fund = selection.fund;
  search.fund = fund;
  const params = { limit: PAGE_SIZE, after: search.cursors[search.page] ?? undefined };
  if (search.text) params[search.by === "name" ? "name" : "document_number"] = search.text;
  results.setAttribute("aria-busy", "true");
  let page;
  try {
    page = await get(`/v1/funds/${encodeURIComponent(fund)}/workers`, params);
  } catch (error) {
    results.removeAttribute("aria-busy");
    fill(results, h("h2", { id: "results-heading" }, t("workers.results.heading")));
    if (!handleSessionError(error)) results.append(errorText(error, { id: "search-error" }));
    return;
  }
  search.cursors[search.page + 1] = page.next ?? null;
  const what = search.text ? t(search.by === "name" ? "workers.results.byName" : "workers.results.byDocument", { text: search.text }) : t("workers.results.all");
  const rows = page.items.map((w) =>
    h(
      "tr",
      { "data-worker": w.id },
      h("th", { scope: "row" }, h("a", { href: `#workers/${w.id}` }, `${w.family_name}, ${w.given_name}`)),
      h("td", {}, w.document_number),
      h("td", { class: "date" }, w.date_of_birth),
      h("td", {}, t(`workers.sex.${w.sex}`)),
      h("td", {}, w.occupation_sector ?? ""),
      h("td", {}, [...new Set(w.contracts.map((c) => c.destination_country))].join(", ")),
    ),
  );
  const pager = h(
    "div",
    { class: "pager" },
    search.page > 0 ? h("button", { type: "button", id: "previous-page", onclick: () => turn(results, -1) }, t("workers.results.previous")) : null,
    page.next ? h("button", { type: "button", id: "next-page", onclick: () => turn(results, 1) }, t("workers.results.next")) : null,
  );
  fill(
    results,
    h("h2", { id: "results-heading", tabindex: "-1" }, t("workers.results.heading")),
    h("p", { id: "results-summary" }, t("workers.results.summary", { what, fund, page: search.page + 1, count: page.items.length })),
    page.items.length
      ? table(
          t("workers.results.caption", { fund }),
          [
            [t("workers.name"), false],
            [t("workers.document"), false],
            [t("workers.birthDate"), false],
            [t("workers.sex"), false],
            [t("workers.sector"), false],
            [t("workers.destination"), false],
          ],
          rows,
          "worker-list",
        )
      : h("p", { id: "no-results" }, t("workers.results.none")),
    pager,
  );
  results.setAttribute("data-fund", fund);
  results.removeAttribute("aria-busy");
  announce(t("workers.results.summary", { what, fund, page: search.page + 1, count: page.items.length }));
}

function turn(results, step) {
  search.page += step;
  showResults(results).then(() => document.getElementById("results-heading")?.focus());
}

/** The enrollment form for the fund chosen above (`fundSelect`). */
function enrollCard(fundSelect) {
  const f = {
    document_type: textField("enroll-document-type", "document_type", t("workers.enroll.documentType"), { value: "passport", required: true, hint: t("workers.enroll.documentTypeHint") }),
    document_number: textField("enroll-document-number", "document_number", t("workers.document"), { required: true, spellcheck: "false" }),
    given_name: textField("enroll-given-name", "given_name", t("workers.enroll.givenName"), { required: true, autocomplete: "off" }),
    family_name: textField("enroll-family-name", "family_name", t("workers.enroll.familyName"), { required: true }),
    date_of_birth: dateField("enroll-birth-date", "date_of_birth", t("workers.birthDate"), ""),
    sex: selectField(
      "enroll-sex",
      "sex",
      t("workers.sex"),
      ["female", "male", "other", "unspecified"].map((s) => [s, t(`workers.sex.${s}`)]),
      "female",
    ),
    phone: textField("enroll-phone", "phone", t("workers.phone"), { type: "tel", hint: t("workers.enroll.optional") }),
    email: textField("enroll-email", "email", t("workers.email"), { type: "email", hint: t("workers.enroll.optional") }),
    occupation_sector: textField("enroll-sector", "occupation_sector", t("workers.sector"), { hint: t("workers.enroll.sectorHint") }),
  };
  const c = {
    employer: textField("enroll-employer", "employer", t("workers.contract.employer")),
    destination_country: textField("enroll-destination", "destination_country", t("workers.destination"), { maxlength: "2", size: "3", hint: t("workers.enroll.countryHint") }),
    occupation: textField("enroll-occupation", "occupation", t("workers.contract.occupation"), { hint: t("workers.enroll.optional") }),
    start_date: dateField("enroll-contract-start", "start_date", t("workers.contract.start"), "", { required: false }),
    end_date: dateField("enroll-contract-end", "end_date", t("workers.contract.end"), "", { required: false }),
  };
  const inputs = {};
  for (const [name, x] of Object.entries(f)) inputs[name] = x.input;
  for (const [name, x] of Object.entries(c)) inputs[`contracts/0/${name}`] = x.input;
  const result = h("div", { id: "enroll-result" });
  const button = h("button", { type: "submit", id: "enroll" }, t("workers.enroll.submit"));
  // One key per enrollment: a retry of the same form (after a network
  // failure) sends the same key; any change to the form makes it a new one.
  let key = null;
  const form = h(
    "form",
    {
      id: "enroll-form",
      novalidate: true,
      oninput: () => {
        key = null;
      },
      onsubmit: async (event) => {
        event.preventDefault();
        const value = (x) => x.input.value.trim();
        const body = {};
        for (const [name, x] of Object.entries(f)) {
          if (value(x) !== "" || ["document_type", "document_number", "given_name", "family_name", "date_of_birth", "sex"].includes(name)) body[name] = value(x);
        }
        if (value(c.employer) || value(c.destination_country) || value(c.start_date) || value(c.end_date)) {
          const contract = {};
          for (const [name, x] of Object.entries(c)) if (value(x) !== "") contract[name] = value(x);
          body.contracts = [contract];
        }
        key ??= newIdempotencyKey();
        button.disabled = true;
        fill(result, h("p", {}, t("workers.enroll.sending")));
        try {
          const worker = await post(`/v1/funds/${encodeURIComponent(fundSelect.value)}/workers`, body, key);
          key = null;
          flash.text = t("workers.enroll.done", { name: `${worker.given_name} ${worker.family_name}`, fund: worker.fund });
          window.location.hash = `#workers/${worker.id}`;
        } catch (error) {
          if (handleSessionError(error)) return;
          fill(result, errorText(error, { id: "enroll-error" }));
          markInvalid(form, error, inputs);
        } finally {
          button.disabled = false;
        }
      },
    },
    h("div", { class: "form-grid" }, Object.values(f).map((x) => x.field)),
    h(
      "fieldset",
      {},
      h("legend", {}, t("workers.enroll.contract")),
      h("p", { class: "hint" }, t("workers.enroll.contractHint")),
      h("div", { class: "form-grid" }, Object.values(c).map((x) => x.field)),
    ),
    result,
    button,
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "enroll-heading", id: "enroll-card" },
    h("h2", { id: "enroll-heading" }, t("workers.enroll.heading")),
    h("p", {}, t("workers.enroll.intro")),
    form,
  );
}
