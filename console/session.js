// The caller's token: kept in sessionStorage (this tab only), never in a URL.
const KEY = "mwf.token";

/**
 * The development link (`/console/#token=…`) puts the token in the fragment,
 * which the browser never sends to a server. It is moved to session storage
 * and removed from the address bar and the history entry at once.
 */
export function takeTokenFromFragment() {
  const match = /^#token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(value) {
  sessionStorage.setItem(KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/**
 * The token's claims (subject, role, funds), read without verifying the
 * signature: they decide what the page shows, and the server checks the token
 * on every call. Null when the token is not a JWT.
 */
export function claimsOf(value) {
  const parts = (value ?? "").trim().split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims.role !== "string" || typeof claims.sub !== "string") return null;
    return { subject: claims.sub, role: claims.role, funds: claims.funds ?? [], expires: claims.exp };
  } catch {
    return null;
  }
}
