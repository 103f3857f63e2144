// Display of the API's values. Amounts stay the decimal strings the API sends
// (never parsed into floating point): only the integer digits are grouped.

/** `"-1234567.50"` → `"-1,234,567.50"`. */
export function amount(decimal) {
  const text = String(decimal);
  const negative = text.startsWith("-");
  const [whole, fraction] = (negative ? text.slice(1) : text).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (negative ? "-" : "") + grouped + (fraction === undefined ? "" : "." + fraction);
}

/** A whole count, grouped like an amount. */
export function count(n) {
  return amount(String(n));
}

/** Today's date in UTC as an ISO date, the API's default "as of". */
export function todayIso() {
  return new Date().toISOString().slice(0, 10);
}

/** The first day of the year of an ISO date. */
export function startOfYear(iso) {
  return `${iso.slice(0, 4)}-01-01`;
}
