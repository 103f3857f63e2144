//! Beancount: `open` directives for every account, an opening-balances
//! transaction when the export starts at a date, one transaction per entry with
//! its sequence, id, hash and previous hash as metadata, and a `balance`
//! assertion with zero tolerance for every account at the end, so that
//! `bean-check` fails on any altered amount.

use std::io::{self, Write};

use chrono::Days;

use super::{
    one_line, signed, write_preamble, ExportEntry, ExportSummary, LedgerExport, LedgerWriter,
};
use crate::money::format_minor;
use crate::time::rfc3339;

pub struct BeancountWriter;

/// A beancount string literal.
fn quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in one_line(s).chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

impl LedgerWriter for BeancountWriter {
    fn begin(&mut self, x: &LedgerExport, out: &mut dyn Write) -> io::Result<()> {
        write_preamble(x, ";;", out)?;
        writeln!(
            out,
            "option \"title\" {}",
            quoted(&format!("{} ledger", x.fund.code))
        )?;
        writeln!(
            out,
            "option \"operating_currency\" \"{}\"",
            x.fund.currency.code()
        )?;
        writeln!(out)?;
        for a in &x.accounts {
            writeln!(
                out,
                "{} open {} {}\n  code: {}\n  name: {}",
                x.first_date,
                x.journal_name(a.id),
                a.currency.code(),
                quoted(&a.code),
                quoted(&a.name)
            )?;
        }
        if let Some((before, totals)) = &x.opening {
            let open_on = *before + Days::new(1);
            writeln!(
                out,
                "\n{open_on} * \"Opening balances at the end of {before}\""
            )?;
            for a in &x.accounts {
                let t = totals.get(&a.id).copied().unwrap_or_default();
                let amount = t.debits_less_credits();
                if amount != 0 {
                    writeln!(
                        out,
                        "  {}  {} {}",
                        x.journal_name(a.id),
                        format_minor(amount, a.currency),
                        a.currency.code()
                    )?;
                }
            }
        }
        Ok(())
    }

    fn entry(&mut self, x: &LedgerExport, e: &ExportEntry, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "\n{} * {} {}\n  sequence: {}\n  entry-id: \"{}\"\n  hash: \"{}\"\n  previous-hash: \"{}\"\n  recorded-at: \"{}\"\n  created-by: {}",
            e.effective_date,
            quoted(&e.kind),
            quoted(&e.memo),
            e.sequence,
            e.id,
            e.hash,
            e.previous_hash,
            rfc3339(e.recorded_at),
            quoted(&e.created_by)
        )?;
        if let (Some(t), Some(id)) = (&e.source_type, &e.source_id) {
            writeln!(out, "  source: {}", quoted(&format!("{t} {id}")))?;
        }
        if let Some(r) = &e.reverses {
            writeln!(out, "  reverses: \"{r}\"")?;
        }
        for p in &e.postings {
            writeln!(
                out,
                "  {}  {} {}",
                x.journal_name(p.account_id),
                format_minor(signed(p.side, p.amount_minor), p.currency),
                p.currency.code()
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
        // A balance directive checks the start of its day: the day after `as_of`.
        let on = *as_of + Days::new(1);
        writeln!(
            out,
            "\n;; Closing balances at the end of {as_of}, equal to the API's (debits - credits; liabilities, equity and income negative)"
        )?;
        for a in &x.accounts {
            let t = totals.get(&a.id).copied().unwrap_or_default();
            writeln!(
                out,
                "{on} balance {}  {} ~ {} {}",
                x.journal_name(a.id),
                format_minor(t.debits_less_credits(), a.currency),
                format_minor(0, a.currency),
                a.currency.code()
            )?;
        }
        Ok(())
    }
}
