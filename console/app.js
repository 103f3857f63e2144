// The console's shell: signing in and out, the navigation the caller's role
// may use, and the page shown. The server still decides every call.
import { t } from "./i18n.js";
import { h, fill } from "./dom.js";
import { claimsOf, signIn, signOut, takeTokenFromFragment, token } from "./session.js";
import { ApiError, get } from "./api.js";
import { showDashboard } from "./dashboard.js";
import { showClaims } from "./claims.js";
import { showWorkers } from "./workers.js";
import { showLedger } from "./ledger.js";
import { showAudit } from "./audit.js";

/** Roles that read fund figures (the API's `funds.read`, src/auth/access.rs). */
const FUND_READERS = ["admin", "officer", "approver", "ministry", "auditor"];

/** The pages, each with the roles it is shown to; later slices add more. */
const PAGES = [
  { id: "dashboard", label: "nav.dashboard", roles: FUND_READERS, show: showDashboard },
  { id: "claims", label: "nav.claims", roles: FUND_READERS, show: showClaims },
  { id: "workers", label: "nav.workers", roles: FUND_READERS, show: showWorkers },
  { id: "ledger", label: "ledgerPage.nav", roles: FUND_READERS, show: showLedger },
  { id: "audit", label: "audit.nav", roles: ["admin", "auditor"], show: showAudit },
];

const main = document.getElementById("main");

/** Says `text` to screen readers. */
export function announce(text) {
  document.getElementById("status").textContent = text;
}

/** An API refusal in words, with the fields it names. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return t("error.network");
  const fields = error.errors.map((e) => t("error.field", { field: e.field, message: e.message }));
  return [t("error.api", { detail: error.message }), ...fields].join(" ");
}

/** Ends the session when the API no longer accepts the token. */
export function handleSessionError(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut();
    render(t("session.expired"));
    return true;
  }
  return false;
}

/**
 * The page the fragment names (its first part: `#ledger/entry/…` is the
 * ledger page), else the first the role may use.
 */
function currentPage(pages) {
  const wanted = window.location.hash.slice(1).split("/")[0];
  return pages.find((p) => p.id === wanted) ?? pages[0];
}

function renderChrome(claims) {
  document.getElementById("brand").textContent = t("app.title");
  document.getElementById("skip-link").textContent = t("app.skip");
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav.label"));
  const who = document.getElementById("who");
  if (!claims) {
    fill(nav);
    fill(who);
    return [];
  }
  const pages = PAGES.filter((p) => p.roles.includes(claims.role));
  const shown = currentPage(pages);
  fill(
    nav,
    h(
      "ul",
      {},
      pages.map((p) => h("li", {}, h("a", { href: `#${p.id}`, "aria-current": p === shown ? "page" : null, "data-page": p.id }, t(p.label)))),
      h("li", {}, h("a", { href: "/docs" }, t("nav.docs"))),
    ),
  );
  fill(
    who,
    h("span", { "data-testid": "signed-in-as" }, t("session.signedInAs", { subject: claims.subject, role: claims.role })),
    h("button", { type: "button", id: "sign-out", onclick: () => { signOut(); render(); } }, t("session.signOut")),
  );
  return pages;
}

function renderSignIn(message) {
  const error = h("p", { class: "error", id: "sign-in-error", role: "alert" }, message ?? "");
  const field = h("textarea", {
    id: "token",
    name: "token",
    rows: "4",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "sign-in-intro sign-in-error",
  });
  const form = h(
    "form",
    {
      class: "card sign-in",
      onsubmit: async (event) => {
        event.preventDefault();
        const value = field.value.trim();
        if (!claimsOf(value)) {
          error.textContent = t("signIn.malformed");
          field.focus();
          return;
        }
        signIn(value);
        try {
          // A cheap call that every staff role may make: is the token accepted?
          if (FUND_READERS.includes(claimsOf(value).role)) await get("/v1/funds", { limit: 1 });
        } catch (e) {
          signOut();
          error.textContent = t("signIn.refused", { detail: describeError(e) });
          field.focus();
          return;
        }
        render();
      },
    },
    h("h1", {}, t("signIn.heading")),
    h("p", { id: "sign-in-intro" }, t("signIn.intro")),
    h("label", { for: "token" }, t("signIn.token")),
    field,
    error,
    h("button", { type: "submit" }, t("signIn.submit")),
  );
  fill(main, form);
  field.focus();
}

/** Draws the page for the current session (or the sign-in form). */
export function render(message) {
  const claims = claimsOf(token());
  const expired = claims && typeof claims.expires === "number" && claims.expires * 1000 <= Date.now();
  if (!claims || expired) {
    signOut();
    renderChrome(null);
    renderSignIn(expired ? t("session.expired") : message);
    return;
  }
  const pages = renderChrome(claims);
  if (pages.length === 0) {
    fill(main, h("p", { class: "card", "data-testid": "no-pages" }, t("role.noPages", { role: claims.role })));
    return;
  }
  currentPage(pages).show(main, claims);
}

takeTokenFromFragment();
// The skip link moves focus to the content without touching the address (the
// fragment names the page shown).
document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", () => render());
render();
