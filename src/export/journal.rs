//! What the two plain-text journals (beancount and hledger) write alike:
//! account names, signed amounts, posting lines, the preamble, the opening
//! transaction and the closing assertions.

use std::collections::HashMap;
use std::io::{self, Write};

use chrono::{Days, NaiveDate};

use super::bytes::push_minor;
use super::LedgerExport;
use crate::ledger::StoredEntry as Entry;
use crate::ledger::{Account, AccountType, Side};
use crate::money::{format_minor, Currency};

/// The root of an account type in beancount and hledger.
fn journal_root(t: AccountType) -> &'static str {
    match t {
        AccountType::Asset => "Assets",
        AccountType::Liability => "Liabilities",
        AccountType::Equity => "Equity",
        AccountType::Revenue => "Income",
        AccountType::Expense => "Expenses",
    }
}

/// Account names both journal tools accept: `Assets:1000-USD`. A code is kept
/// as it is when it starts with a capital letter or digit and holds only
/// letters, digits and `-`; otherwise other characters become `-`, a leading
/// lowercase letter is capitalised, and the account's id is appended so that
/// two codes never share a name.
pub(super) fn journal_names(accounts: &[Account]) -> HashMap<i64, String> {
    accounts
        .iter()
        .map(|a| {
            let clean = a
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && a.code
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            let component = if clean {
                a.code.clone()
            } else {
                let mut s: String = a
                    .code
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                if let Some(first) = s.get(0..1) {
                    let upper = first.to_ascii_uppercase();
                    s.replace_range(0..1, &upper);
                }
                if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    s.insert(0, 'X');
                }
                format!("{s}-{}", a.id)
            };
            (
                a.id,
                format!("{}:{component}", journal_root(a.account_type)),
            )
        })
        .collect()
}

/// A posting's signed amount as both journal tools read it: debits positive,
/// credits negative.
fn signed(side: Side, amount_minor: i64) -> i64 {
    match side {
        Side::Debit => amount_minor,
        Side::Credit => -amount_minor,
    }
}

/// An amount as both journal tools write it: `1234.50 KES`.
pub(super) fn journal_amount(minor: i64, currency: Currency) -> String {
    format!("{} {}", format_minor(minor, currency), currency.code())
}

/// A posting line of a plain-text journal, `indent` deep:
/// `Assets:1000  1234.50 KES`.
fn write_journal_posting(
    out: &mut dyn Write,
    indent: &str,
    name: &str,
    minor: i64,
    currency: Currency,
) -> io::Result<()> {
    writeln!(out, "{indent}{name}  {}", journal_amount(minor, currency))
}

/// The postings of an entry in a plain-text journal, signed: each line as
/// [`write_journal_posting`] writes it, put together by hand (the hot loop).
pub(super) fn write_journal_postings(
    x: &LedgerExport,
    e: &Entry,
    indent: &str,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    for p in &e.postings {
        out.extend_from_slice(indent.as_bytes());
        out.extend_from_slice(x.journal_name(p.account_id).as_bytes());
        out.extend_from_slice(b"  ");
        push_minor(out, signed(p.side, p.amount_minor), p.currency.exponent());
        out.push(b' ');
        out.extend_from_slice(p.currency.code().as_bytes());
        out.push(b'\n');
    }
    Ok(())
}

/// The opening-balances transaction of a plain-text journal, when the export
/// starts at a date: `heading(first day, day before)`, then each account's
/// balance at the end of the day before (debits less credits), leaving out
/// those at zero.
pub(super) fn write_opening_transaction(
    x: &LedgerExport,
    indent: &str,
    out: &mut dyn Write,
    heading: impl Fn(NaiveDate, NaiveDate) -> String,
) -> io::Result<()> {
    let Some(opening) = &x.opening else {
        return Ok(());
    };
    let before = opening.date;
    writeln!(out, "\n{}", heading(before + Days::new(1), before))?;
    for (a, totals) in x.account_balances(opening) {
        let balance = totals.debits_less_credits();
        if balance != 0 {
            write_journal_posting(out, indent, x.journal_name(a.id), balance, a.currency)?;
        }
    }
    Ok(())
}

/// The closing balance assertions of a plain-text journal, on the last page:
/// `heading(as_of)`, then `assertion(as_of, account name, balance, currency)`
/// for every account, its balance at the end of `as_of` stated as debits less
/// credits.
pub(super) fn write_closing_assertions(
    x: &LedgerExport,
    out: &mut dyn Write,
    heading: impl Fn(NaiveDate) -> String,
    assertion: impl Fn(NaiveDate, &str, i64, Currency) -> String,
) -> io::Result<()> {
    let Some(closing) = &x.closing else {
        return Ok(());
    };
    writeln!(out, "\n{}", heading(closing.date))?;
    for (a, totals) in x.account_balances(closing) {
        let name = x.journal_name(a.id);
        let balance = totals.debits_less_credits();
        writeln!(
            out,
            "{}",
            assertion(closing.date, name, balance, a.currency)
        )?;
    }
    Ok(())
}

/// The comment lines that open a plain-text journal: the fund, the range, when
/// it was made and the chain head.
pub(super) fn write_preamble(
    x: &LedgerExport,
    comment: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let end = |d: Option<NaiveDate>, open: &str| d.map(|d| d.to_string()).unwrap_or(open.into());
    writeln!(
        out,
        "{comment} mwf ledger export of fund {} ({})",
        x.fund.code,
        one_line(&x.fund.name)
    )?;
    writeln!(
        out,
        "{comment} entries effective {} to {}; generated {}",
        end(x.request.from, "the start"),
        end(x.request.to, "the end"),
        crate::time::rfc3339(x.generated_at)
    )?;
    writeln!(
        out,
        "{comment} chain head when exported: sequence {}, hash {}",
        x.chain_sequence, x.chain_head
    )
}

/// Text for a one-line field of a plain-text journal: control characters and
/// line breaks become spaces.
pub(super) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
