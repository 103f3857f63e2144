// Every English string of the console, in one place. A translation is another
// object with the same keys; `t` falls back to English for a missing key.
const en = {
  "app.title": "mwf console",
  "app.skip": "Skip to the content",
  "nav.label": "Main",
  "nav.dashboard": "Fund dashboard",
  "nav.docs": "API reference",
  "session.signedInAs": "Signed in as {subject} ({role})",
  "session.signOut": "Sign out",
  "session.expired": "Your session has ended. Sign in again.",
  "signIn.heading": "Sign in",
  "signIn.intro":
    "Paste the token you were given (by “mwf token” or your identity provider). It is kept in this tab only and forgotten when the tab closes.",
  "signIn.token": "Token",
  "signIn.submit": "Sign in",
  "signIn.malformed": "This is not a token: it should be three parts separated by dots.",
  "signIn.refused": "The service refused this token: {detail}",
  "role.noPages":
    "The console has no pages for the role {role}. Fund staff (admin, officer, approver, ministry, auditor) use it.",
  "dashboard.heading": "Fund dashboard",
  "dashboard.fund": "Fund",
  "dashboard.asOf": "As of",
  "dashboard.claimsFrom": "Claims filed from",
  "dashboard.show": "Show",
  "dashboard.loading": "Loading…",
  "dashboard.loaded": "Figures for {fund} as of {asOf}.",
  "dashboard.noFunds": "Your token covers no fund.",
  "dashboard.chartsLater": "Charts over time come in a later version of the console.",
  "key.heading": "Key figures as of {asOf}",
  "key.cash": "Cash (1000)",
  "key.reserve": "Fund reserve (3000)",
  "key.contributions": "Contribution income (4000)",
  "key.active": "Active members",
  "tb.heading": "Trial balance as of {asOf}",
  "tb.lines": "Every account's debits, credits and balance",
  "tb.account": "Account",
  "tb.name": "Name",
  "tb.type": "Type",
  "tb.currency": "Currency",
  "tb.debits": "Debits",
  "tb.credits": "Credits",
  "tb.balance": "Balance",
  "tb.totals": "Totals ({currency})",
  "tb.balanced": "Debits equal credits",
  "tb.unbalanced": "Debits do not equal credits",
  "members.heading": "Members as of {asOf}",
  "members.active": "Active",
  "members.lapsed": "Lapsed",
  "members.bySex": "Active members by sex",
  "members.byDestination": "Active members by destination",
  "members.bySector": "Active members by sector",
  "members.sex": "Sex",
  "members.destination": "Destination",
  "members.sector": "Sector",
  "claims.heading": "Claims filed {from} to {to}",
  "claims.count": "Claims",
  "claims.payees": "Beneficiaries",
  "claims.byStatus": "Claims by status",
  "claims.byBenefit": "Claims by benefit",
  "claims.status": "Status",
  "claims.benefit": "Benefit",
  "claims.claimed": "Claimed",
  "claims.assessed": "Assessed",
  "claims.approved": "Approved",
  "claims.paid": "Paid",
  "claims.none": "No claims were filed in this period.",
  "ledger.heading": "Ledger",
  "ledger.entries": "Journal entries",
  "ledger.chainHead": "Chain head",
  "ledger.verify": "Verify the chain",
  "ledger.verifying": "Verifying…",
  "ledger.verified": "The chain verifies: {entries} entries checked.",
  "ledger.broken": "Verification found problems: {problems}",
  "date.hint": "YYYY-MM-DD",
  "error.api": "{detail}",
  "error.field": "{field}: {message}",
  "error.network": "The service could not be reached.",
};

let strings = en;

/** Chooses the strings of another language (an object with en's keys). */
export function useStrings(translation) {
  strings = { ...en, ...translation };
}

/** The text for `key` with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = strings[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}
