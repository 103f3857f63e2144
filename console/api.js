// Calls to the JSON API with the caller's token. A refusal becomes an
// ApiError carrying the problem's status, code, detail and field errors.
import { token } from "./session.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code;
    this.errors = problem.errors ?? [];
  }
}

/** `path?params` (an object; undefined and null values left out). */
export function urlOf(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) query.set(name, value);
  }
  return query.toString() ? `${path}?${query}` : path;
}

async function call(method, url, headers = {}, body = undefined) {
  const response = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token()}`, Accept: "application/json", ...headers },
    body,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

/** GET `path` with `params` as JSON. */
export function get(path, params = {}) {
  return call("GET", urlOf(path, params));
}

/** A fresh idempotency key: one per action the user takes. */
export function newIdempotencyKey() {
  return crypto.randomUUID();
}

/**
 * POST (or PATCH, ...) `body` as JSON to `path`. Every write carries an
 * `Idempotency-Key`: pass the same `key` when retrying the same action (a
 * second click on a form that failed on the network), so the API books once.
 */
export function send(method, path, body, key = newIdempotencyKey()) {
  return call(method, path, { "Content-Type": "application/json", "Idempotency-Key": key }, JSON.stringify(body ?? {}));
}

/** POST `body` to `path` (see `send`). */
export function post(path, body, key) {
  return send("POST", path, body, key);
}

/** GET `path` as a file (an export): the Response, for `.blob()` or `.text()`. */
export async function fetchFile(path, params = {}) {
  const response = await fetch(urlOf(path, params), { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  return response;
}
