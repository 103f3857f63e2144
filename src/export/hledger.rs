//! hledger journal: `commodity` and `account` declarations (so that
//! `hledger check -s` passes), an opening-balances transaction when the export
//! starts at a date, one transaction per entry with its sequence as the code
//! and its id, hash and previous hash as tags, and a closing transaction of
//! zero postings each asserting an account's balance exactly.

use std::io::{self, Write};

use super::journal::{
    journal_amount, one_line, write_closing_assertions, write_journal_postings,
    write_opening_transaction, write_preamble,
};
use super::{ExportSummary, LedgerExport, LedgerWriter};
use crate::ledger::StoredEntry as Entry;
use crate::money::Currency;
use crate::time::rfc3339;

pub struct HledgerWriter;

/// How deep a posting line is indented.
const INDENT: &str = "    ";

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

impl LedgerWriter for HledgerWriter {
    fn begin(&mut self, x: &LedgerExport, out: &mut Vec<u8>) -> io::Result<()> {
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
                _ => journal_amount(1000 * 10i64.pow(c.exponent()), c),
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
        write_opening_transaction(x, INDENT, out, |open_on, before| {
            format!("{open_on} * opening balances at the end of {before}")
        })
    }

    fn entry(&mut self, x: &LedgerExport, e: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
        let header = &e.header;
        write!(
            out,
            "\n{} * ({}) {} | {}  ; sequence:{}, entry-id:{}, hash:{}, previous-hash:{}, recorded-at:{}, created-by:{}",
            header.effective_date,
            header.sequence,
            text(&header.kind),
            text(&header.memo),
            header.sequence,
            header.id,
            header.hash,
            header.previous_hash,
            rfc3339(header.recorded_at),
            tag(&header.created_by)
        )?;
        if let (Some(t), Some(id)) = (&header.source_type, &header.source_id) {
            write!(out, ", source:{} {}", tag(t), tag(id))?;
        }
        if let Some(r) = &header.reverses {
            write!(out, ", reverses:{r}")?;
        }
        writeln!(out)?;
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
                    "{as_of} * closing balances at the end of {as_of}, equal to the API's (debits - credits)"
                )
            },
            |_, name, balance, currency| {
                format!(
                    "{INDENT}{name}  {} = {}",
                    journal_amount(0, currency),
                    journal_amount(balance, currency)
                )
            },
        )
    }
}
