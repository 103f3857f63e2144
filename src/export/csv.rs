//! CSV: one row per posting with its entry's fields repeated, then one row per
//! account for the closing balances (and the opening balances first, when the
//! export starts at a date), and a last `chain_head` row. The `record` column
//! says which a row is. Text cells that a spreadsheet could read as a formula
//! are neutralised (see [`csv_text`](super::csv_text)); numeric columns are
//! written as they are.
//!
//! Rows are written by hand into the export's buffer (see [`super::bytes`]),
//! exactly as the `csv` crate's writer with its defaults would write them: a
//! cell is quoted, its quotes doubled, only when it holds a comma, a quote or
//! a line break. What is the same for every posting of an entry, and for every
//! posting to an account, is written once and copied.

use std::collections::HashMap;
use std::io;

use super::bytes::{push_csv, push_csv_text, push_date, push_i64, push_minor, push_rfc3339};
use super::{normal_balance, BalancesAt, ExportSummary, LedgerExport, LedgerWriter};
use crate::ledger::StoredEntry as Entry;
use crate::money::format_minor;

pub struct CsvWriter {
    /// `posting,<fund>,`: the first two cells of every posting row.
    prefix: Vec<u8>,
    /// `<account>,<account_name>,<account_type>,` of each account, by id.
    accounts: HashMap<i64, Vec<u8>>,
    /// The cells of the entry being written, `sequence` to `hash`, each
    /// followed by a comma.
    entry: Vec<u8>,
}

impl CsvWriter {
    pub fn new() -> CsvWriter {
        CsvWriter {
            prefix: Vec::new(),
            accounts: HashMap::new(),
            entry: Vec::with_capacity(512),
        }
    }
}

/// The columns that hold numbers: `sequence`, `line`, `amount`, `amount_minor`.
const NUMERIC_COLUMNS: [usize; 4] = [2, 14, 19, 20];

const HEADER: [&str; 22] = [
    "record",
    "fund",
    "sequence",
    "entry_id",
    "effective_date",
    "recorded_at",
    "kind",
    "memo",
    "source_type",
    "source_id",
    "created_by",
    "reverses",
    "previous_hash",
    "hash",
    "line",
    "account",
    "account_name",
    "account_type",
    "side",
    "amount",
    "amount_minor",
    "currency",
];

/// Writes a row: text cells through `csv_text`, numeric columns as they are.
fn push_row(out: &mut Vec<u8>, row: &[&str; 22]) {
    for (column, cell) in row.iter().enumerate() {
        if column > 0 {
            out.push(b',');
        }
        if NUMERIC_COLUMNS.contains(&column) {
            push_csv(out, cell);
        } else {
            push_csv_text(out, cell);
        }
    }
    out.push(b'\n');
}

fn balance_rows(x: &LedgerExport, record: &str, balances: &BalancesAt, out: &mut Vec<u8>) {
    let date = balances.date.to_string();
    for (a, totals) in x.account_balances(balances) {
        let b = normal_balance(a, totals);
        let (amount, minor) = (format_minor(b, a.currency), b.to_string());
        push_row(
            out,
            &[
                record,
                &x.fund.code,
                "",
                "",
                &date,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &a.code,
                &a.name,
                a.account_type.as_str(),
                a.account_type.normal_side().as_str(),
                &amount,
                &minor,
                a.currency.code(),
            ],
        );
    }
}

/// A date or time cell: a text cell (a year before 0 would start with `-`).
fn push_text_with(out: &mut Vec<u8>, push: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    push(out);
    if matches!(out.get(start), Some(b'-' | b'+')) {
        let cell = String::from_utf8(out.split_off(start)).expect("dates are ASCII");
        push_csv_text(out, &cell);
    }
}

impl LedgerWriter for CsvWriter {
    fn begin(&mut self, x: &LedgerExport, out: &mut Vec<u8>) -> io::Result<()> {
        push_row(out, &HEADER);
        if let Some(opening) = &x.opening {
            balance_rows(x, "opening_balance", opening, out);
        }
        self.prefix.clear();
        push_csv_text(&mut self.prefix, "posting");
        self.prefix.push(b',');
        push_csv_text(&mut self.prefix, &x.fund.code);
        self.prefix.push(b',');
        self.accounts = x
            .accounts
            .iter()
            .map(|a| {
                let mut cells = Vec::new();
                for cell in [&a.code, &a.name, a.account_type.as_str()] {
                    push_csv_text(&mut cells, cell);
                    cells.push(b',');
                }
                (a.id, cells)
            })
            .collect();
        Ok(())
    }

    fn entry(&mut self, _x: &LedgerExport, e: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
        let header = &e.header;
        let cells = &mut self.entry;
        cells.clear();
        push_i64(cells, header.sequence);
        cells.push(b',');
        push_csv_text(cells, &header.id);
        cells.push(b',');
        push_text_with(cells, |b| push_date(b, header.effective_date));
        cells.push(b',');
        push_text_with(cells, |b| push_rfc3339(b, header.recorded_at));
        cells.push(b',');
        let texts: [&str; 8] = [
            &header.kind,
            &header.memo,
            header.source_type.as_deref().unwrap_or(""),
            header.source_id.as_deref().unwrap_or(""),
            &header.created_by,
            header.reverses.as_deref().unwrap_or(""),
            &header.previous_hash,
            &header.hash,
        ];
        for text in texts {
            push_csv_text(cells, text);
            cells.push(b',');
        }
        for p in &e.postings {
            let account = self.accounts.get(&p.account_id).ok_or_else(|| {
                io::Error::other(format!(
                    "posting to account {} of another fund",
                    p.account_id
                ))
            })?;
            out.extend_from_slice(&self.prefix);
            out.extend_from_slice(cells);
            push_i64(out, p.line as i64);
            out.push(b',');
            out.extend_from_slice(account);
            push_csv_text(out, p.side.as_str());
            out.push(b',');
            push_minor(out, p.amount_minor, p.currency.exponent());
            out.push(b',');
            push_i64(out, p.amount_minor);
            out.push(b',');
            push_csv_text(out, p.currency.code());
            out.push(b'\n');
        }
        Ok(())
    }

    fn finish(
        &mut self,
        x: &LedgerExport,
        _summary: &ExportSummary,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        if let Some(closing) = &x.closing {
            balance_rows(x, "closing_balance", closing, out);
        }
        let sequence = x.chain_sequence.to_string();
        let mut row = [""; 22];
        row[0] = "chain_head";
        row[1] = &x.fund.code;
        row[2] = &sequence;
        row[13] = &x.chain_head;
        push_row(out, &row);
        Ok(())
    }
}
