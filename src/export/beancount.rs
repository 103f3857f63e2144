//! Beancount: `open` directives for every account, an opening-balances
//! transaction when the export starts at a date, one transaction per entry with
//! its sequence, id, hash and previous hash as metadata, and a `balance`
//! assertion with zero tolerance for every account at the end, so that
//! `bean-check` fails on any altered amount.

use std::io::{self, Write};

use chrono::Days;

use super::journal::{
    journal_amount, one_line, write_closing_assertions, write_journal_postings,
    write_opening_transaction, write_preamble,
};
use super::{ExportSummary, LedgerExport, LedgerWriter};
use crate::ledger::StoredEntry as Entry;
use crate::money::format_minor;
use crate::time::rfc3339;

pub struct BeancountWriter;

/// How deep a posting line is indented.
const INDENT: &str = "  ";

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
    fn begin(&mut self, x: &LedgerExport, out: &mut Vec<u8>) -> io::Result<()> {
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
        write_opening_transaction(x, INDENT, out, |open_on, before| {
            format!("{open_on} * \"Opening balances at the end of {before}\"")
        })
    }

    fn entry(&mut self, x: &LedgerExport, e: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
        let header = &e.header;
        writeln!(
            out,
            "\n{} * {} {}\n  sequence: {}\n  entry-id: \"{}\"\n  hash: \"{}\"\n  previous-hash: \"{}\"\n  recorded-at: \"{}\"\n  created-by: {}",
            header.effective_date,
            quoted(&header.kind),
            quoted(&header.memo),
            header.sequence,
            header.id,
            header.hash,
            header.previous_hash,
            rfc3339(header.recorded_at),
            quoted(&header.created_by)
        )?;
        if let (Some(t), Some(id)) = (&header.source_type, &header.source_id) {
            writeln!(out, "  source: {}", quoted(&format!("{t} {id}")))?;
        }
        if let Some(r) = &header.reverses {
            writeln!(out, "  reverses: \"{r}\"")?;
        }
        write_journal_postings(x, e, INDENT, out)
    }

    fn finish(
        &mut self,
        x: &LedgerExport,
        _summary: &ExportSummary,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        write_closing_assertions(
            x,
            out,
            |as_of| {
                format!(
                    ";; Closing balances at the end of {as_of}, equal to the API's (debits - credits; liabilities, equity and income negative)"
                )
            },
            // A balance directive checks the start of its day: the day after `as_of`.
            |as_of, name, balance, currency| {
                format!(
                    "{} balance {name}  {} ~ {}",
                    as_of + Days::new(1),
                    format_minor(balance, currency),
                    journal_amount(0, currency)
                )
            },
        )
    }
}
