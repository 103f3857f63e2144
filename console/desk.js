// What the claims desk's modules share: which role may do what, words for the
// API's codes, worker names, and writes with one Idempotency-Key per action.
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { ApiError, get, newIdempotencyKey, post } from "./api.js";
import { errorText } from "./widgets.js";
import { handleSessionError } from "./app.js";

/**
 * The roles that may take each action (src/auth/access.rs: `claim.decide`,
 * `claim.pay`, `claim.payment_run` and `claim.add_documents` for officers,
 * `claim.approve` for approvers; admin may do everything). Ministry and
 * auditor read only: the desk shows them no action.
 */
const ACTORS = {
  decide: ["admin", "officer"],
  pay: ["admin", "officer"],
  run: ["admin", "officer"],
  documents: ["admin", "officer"],
  approve: ["admin", "approver"],
};

/** Whether `role` may take `action` (`any`: some action at all). */
export function mayAct(role, action) {
  if (action === "any") return Object.values(ACTORS).some((roles) => roles.includes(role));
  return (ACTORS[action] ?? []).includes(role);
}

/** The last 8 characters of an id (ids are time-ordered: their starts repeat). */
export function shortId(id) {
  return `…${id.slice(-8)}`;
}

/** The words for a code under `prefix` (`desk.status.paid`), else the code itself. */
export function words(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

export function statusWords(status) {
  return words("desk.status", status);
}

/** A reason code in words, with the code: "MISSING_DOCUMENTS: Required documents are missing." */
export function reasonWords(code) {
  const key = `desk.reason.${code}`;
  const text = t(key);
  return text === key ? t("desk.reason.unknown", { code }) : text;
}

/** An RFC 3339 time of the API as "2026-12-07 11:39:17 UTC" (a date stays as it is). */
export function when(time) {
  if (!time || time.length <= 10) return time ?? "";
  return `${time.slice(0, 10)} ${time.slice(11, 19)} UTC`;
}

/** Names of workers read so far, by id (one request per worker while the tab is open). */
const workers = new Map();

/** The worker (a promise), or null when it cannot be read. */
export function worker(id) {
  if (!workers.has(id)) workers.set(id, get(`/v1/workers/${encodeURIComponent(id)}`).catch(() => null));
  return workers.get(id);
}

export async function workerName(id) {
  const w = await worker(id);
  return w ? `${w.given_name} ${w.family_name}` : t("desk.unknownWorker");
}

/**
 * One Idempotency-Key per user action: the same key while the action is
 * retried with the same body (a click again after the network failed), a new
 * one when the body changes or after the action succeeded.
 */
export function keyedAction() {
  let last = null;
  const keyOf = (body) => {
    const text = JSON.stringify(body);
    if (!last || last.text !== text) last = { text, key: newIdempotencyKey() };
    return last.key;
  };
  keyOf.done = () => {
    last = null;
  };
  return keyOf;
}

/**
 * POSTs `body` to `path` with the action's key, the button disabled while it
 * runs; a refusal is shown in `result` in words with its fields. The answer,
 * or null when refused.
 */
export async function submitAction({ button, result, path, body, keyOf, working }) {
  button.disabled = true;
  fill(result, h("p", { role: "status" }, working ?? t("desk.actions.working")));
  try {
    const answer = await post(path, body, keyOf(body));
    keyOf.done();
    fill(result);
    return answer;
  } catch (error) {
    // A refusal was answered: the next click is a new attempt only if the
    // body changes; a lost answer (network) keeps the key for the retry.
    if (!handleSessionError(error)) fill(result, errorText(error, { "data-error": error instanceof ApiError ? error.code ?? "" : "network" }));
    return null;
  } finally {
    button.disabled = false;
  }
}

/**
 * `a + b` of two decimal strings, exactly (through integers of the smallest
 * unit, never floating point).
 */
export function addDecimals(a, b) {
  const places = Math.max(fractionDigits(a), fractionDigits(b));
  const sum = toUnits(a, places) + toUnits(b, places);
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(places + 1, "0");
  const whole = digits.slice(0, digits.length - places);
  const fraction = places ? `.${digits.slice(digits.length - places)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

function fractionDigits(decimal) {
  const [, fraction = ""] = String(decimal).split(".");
  return fraction.length;
}

function toUnits(decimal, places) {
  const text = String(decimal);
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = (negative ? text.slice(1) : text).split(".");
  const units = BigInt(whole + fraction.padEnd(places, "0"));
  return negative ? -units : units;
}

/** The desk's style sheet (claims.css), linked once. */
export function useDeskStyles() {
  if (document.getElementById("desk-styles")) return;
  document.head.append(h("link", { rel: "stylesheet", href: "claims.css", id: "desk-styles" }));
}
