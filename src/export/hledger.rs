//! hledger journal: `commodity` and `account` declarations (so that
//! `hledger check -s` passes), an opening-balances transaction when the export
//! starts at a date, one transaction per entry with its sequence as the code
//! and its id, hash and previous hash as tags, and a closing transaction of
//! zero postings each asserting an account's balance exactly.

use std::io::{self, Write};

use chrono::Days;

use super::{
    one_line, signed, write_preamble, ExportEntry, ExportSummary, LedgerExport, LedgerWriter,
};
use crate::money::{format_minor, Currency};
use crate::time::rfc3339;

pub struct HledgerWriter;

/// A description or comment: one line, and no `;` (which would start a comment
/// inside a description) or `|` (payee separator).
fn text(s: &str) -> String {
    one_line(s).replace([';', '|'], ",")
}

/// A tag value: ends at a comma, and a `word:` inside would start another
/// tag, so commas and colons become spaces.
fn tag(s: &str) -> String {
    one_line(s).replace([',', ':'], " ")
}

fn amount(minor: i64, c: Currency) -> String {
    format!("{} {}", format_minor(minor, c), c.code())
}

impl LedgerWriter for HledgerWriter {
    fn begin(&mut self, x: &LedgerExport, out: &mut dyn Write) -> io::Result<()> {
        write_preamble(x, ";", out)?;
        writeln!(out)?;
        let mut currencies: Vec<Currency> = x.accounts.iter().map(|a| a.currency).collect();
        currencies.sort();
        currencies.dedup();
        for c in currencies {
            // The declared style sets the precision hledger balances with, so it
            // must carry exactly the currency's decimals (`1000.` for none).
            let style = match c.exponent() {
                0 => format!("1000. {}", c.code()),
                _ => amount(1000 * 10i64.pow(c.exponent()), c),
            };
            writeln!(out, "commodity {style}")?;
        }
        writeln!(out)?;
        for a in &x.accounts {
            writeln!(
                out,
                "account {}  ; code:{}, name:{}",
                x.journal_name(a.id),
                tag(&a.code),
                tag(&a.name)
            )?;
        }
        if let Some((before, totals)) = &x.opening {
            let open_on = *before + Days::new(1);
            writeln!(out, "\n{open_on} * opening balances at the end of {before}")?;
            for a in &x.accounts {
                let t = totals.get(&a.id).copied().unwrap_or_default();
                let n = t.debits_less_credits();
                if n != 0 {
                    writeln!(
                        out,
                        "    {}  {}",
                        x.journal_name(a.id),
                        amount(n, a.currency)
                    )?;
                }
            }
        }
        Ok(())
    }

    fn entry(&mut self, x: &LedgerExport, e: &ExportEntry, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "\n{} * ({}) {} | {}  ; sequence:{}, entry-id:{}, hash:{}, previous-hash:{}, recorded-at:{}, created-by:{}",
            e.effective_date,
            e.sequence,
            text(&e.kind),
            text(&e.memo),
            e.sequence,
            e.id,
            e.hash,
            e.previous_hash,
            rfc3339(e.recorded_at),
            tag(&e.created_by)
        )?;
        if let (Some(t), Some(id)) = (&e.source_type, &e.source_id) {
            write!(out, ", source:{} {}", tag(t), tag(id))?;
        }
        if let Some(r) = &e.reverses {
            write!(out, ", reverses:{r}")?;
        }
        writeln!(out)?;
        for p in &e.postings {
            writeln!(
                out,
                "    {}  {}",
                x.journal_name(p.account_id),
                amount(signed(p.side, p.amount_minor), p.currency)
            )?;
        }
        Ok(())
    }

    fn finish(
        &mut self,
        x: &LedgerExport,
        _summary: &ExportSummary,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let Some((as_of, totals)) = &x.closing else {
            return Ok(());
        };
        writeln!(
            out,
            "\n{as_of} * closing balances at the end of {as_of}, equal to the API's (debits - credits)"
        )?;
        for a in &x.accounts {
            let t = totals.get(&a.id).copied().unwrap_or_default();
            writeln!(
                out,
                "    {}  {} = {}",
                x.journal_name(a.id),
                amount(0, a.currency),
                amount(t.debits_less_credits(), a.currency)
            )?;
        }
        Ok(())
    }
}
