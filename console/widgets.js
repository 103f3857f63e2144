// Pieces every page uses: amount and count cells, tables that scroll on a
// narrow screen, ISO date fields, the fund chooser and error text.
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { get } from "./api.js";
import { amount, count } from "./format.js";
import { describeError, handleSessionError } from "./app.js";

/** The largest page of funds the API answers. */
const FUNDS_PAGE = 500;

/** The fund chosen on any page, kept while the tab is open. */
export const selection = { fund: null };

/** A right-aligned amount cell holding the API's string, grouped for reading. */
export function money(value, currency, attributes = {}) {
  return h("td", { class: "amount", ...attributes }, amount(value), currency ? h("span", { class: "currency" }, ` ${currency}`) : null);
}

/** A right-aligned count cell. */
export function number(value, attributes = {}) {
  return h("td", { class: "amount", ...attributes }, count(value));
}

/**
 * A table that scrolls sideways on a narrow screen (reachable by keyboard).
 * `head` is a list of `[label, numeric]`.
 */
export function table(caption, head, rows, id) {
  return h(
    "div",
    { class: "scroll", tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      { id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map(([label, numeric]) => h("th", { scope: "col", class: numeric ? "amount" : null }, label)))),
      h("tbody", {}, rows),
    ),
  );
}

/**
 * A labelled date field that shows and takes ISO dates (YYYY-MM-DD) whatever
 * the browser's locale: a text input with a pattern, not the browser's own
 * date picker (which shows dates in the reader's locale).
 */
export function dateField(id, name, label, value, { required = true } = {}) {
  const hint = `${id}-hint`;
  const input = h("input", {
    id,
    name,
    type: "text",
    inputmode: "numeric",
    pattern: "\\d{4}-\\d{2}-\\d{2}",
    placeholder: "YYYY-MM-DD",
    maxlength: "10",
    size: "11",
    autocomplete: "off",
    required,
    value: value ?? "",
    "aria-describedby": hint,
  });
  const field = h("div", { class: "field" }, h("label", { for: id }, label), input, h("span", { class: "hint", id: hint }, t("date.hint")));
  return { field, input };
}

/** The funds the caller may read (one page of up to 500). */
export async function readableFunds() {
  return (await get("/v1/funds", { limit: FUNDS_PAGE })).items;
}

/**
 * Starts a page that works on one fund: shows `heading` and "Loading…" in
 * `main`, then the funds the caller may read; null (with the refusal, or
 * "your token covers no fund", shown in `main`) when there is none.
 */
export async function pageFunds(main, heading) {
  fill(main, h("h1", {}, heading), h("p", {}, t("dashboard.loading")));
  let funds;
  try {
    funds = await readableFunds();
  } catch (error) {
    showError(main, error);
    return null;
  }
  if (funds.length === 0) {
    fill(main, h("h1", {}, heading), h("p", {}, t("dashboard.noFunds")));
    return null;
  }
  return funds;
}

/** A labelled fund chooser over `funds`, on `selection.fund`. */
export function fundField(funds, id = "fund") {
  if (!funds.some((f) => f.code === selection.fund)) selection.fund = funds[0]?.code ?? null;
  const select = h(
    "select",
    { id, name: "fund" },
    funds.map((f) => h("option", { value: f.code, selected: f.code === selection.fund }, `${f.code} — ${f.name}`)),
  );
  select.addEventListener("change", () => {
    selection.fund = select.value;
  });
  return { field: h("div", { class: "field" }, h("label", { for: id }, t("dashboard.fund")), select), select };
}

/** An alert paragraph with an API refusal in words, naming its fields. */
export function errorText(error, attributes = {}) {
  return h("p", { class: "error", role: "alert", ...attributes }, describeError(error));
}

/**
 * Shows `error` in `where` (replacing its content), unless the session ended,
 * in which case the sign-in page is shown instead.
 */
export function showError(where, error) {
  if (!handleSessionError(error)) fill(where, errorText(error));
}
