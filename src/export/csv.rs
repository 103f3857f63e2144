//! CSV: one row per posting with its entry's fields repeated, then one row per
//! account for the closing balances (and the opening balances first, when the
//! export starts at a date), and a last `chain_head` row. The `record` column
//! says which a row is. Text cells that a spreadsheet could read as a formula
//! are neutralised (see [`csv_text`]); numeric columns are written as they are.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use super::{csv_text, normal_balance, BalancesAt, ExportSummary, LedgerExport, LedgerWriter};
use crate::ledger::{Account, StoredEntry};
use crate::money::format_minor;
use crate::time::rfc3339;

/// Rows go through one `csv::Writer` into a shared buffer that is handed to the
/// output after each entry (a writer per entry would allocate its buffer each time).
pub struct CsvWriter {
    csv: ::csv::Writer<Shared>,
    buf: Shared,
}

#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl CsvWriter {
    pub fn new() -> CsvWriter {
        let buf = Shared::default();
        CsvWriter {
            csv: ::csv::Writer::from_writer(buf.clone()),
            buf,
        }
    }

    /// Writes rows, text cells through [`csv_text`] (numeric columns as they are).
    fn emit(&mut self, out: &mut dyn Write, rows: &[[&str; 22]]) -> io::Result<()> {
        for row in rows {
            for (column, cell) in row.iter().enumerate() {
                if NUMERIC_COLUMNS.contains(&column) {
                    self.csv.write_field(cell)?;
                } else {
                    self.csv.write_field(csv_text(cell).as_ref())?;
                }
            }
            self.csv.write_record(None::<&[u8]>)?;
        }
        self.csv.flush()?;
        let mut buf = self.buf.0.borrow_mut();
        out.write_all(&buf)?;
        buf.clear();
        Ok(())
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

fn balance_rows(
    w: &mut CsvWriter,
    x: &LedgerExport,
    record: &str,
    balances: &BalancesAt,
    out: &mut dyn Write,
) -> io::Result<()> {
    let date = balances.date.to_string();
    let values: Vec<(&Account, String, String)> = x
        .account_balances(balances)
        .map(|(a, totals)| {
            let b = normal_balance(a, totals);
            (a, format_minor(b, a.currency), b.to_string())
        })
        .collect();
    let rows: Vec<[&str; 22]> = values
        .iter()
        .map(|(a, amount, minor)| {
            [
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
                amount,
                minor,
                a.currency.code(),
            ]
        })
        .collect();
    w.emit(out, &rows)
}

impl LedgerWriter for CsvWriter {
    fn begin(&mut self, x: &LedgerExport, out: &mut dyn Write) -> io::Result<()> {
        self.emit(out, &[HEADER])?;
        if let Some(opening) = &x.opening {
            balance_rows(self, x, "opening_balance", opening, out)?;
        }
        Ok(())
    }

    fn entry(&mut self, x: &LedgerExport, e: &StoredEntry, out: &mut dyn Write) -> io::Result<()> {
        let header = &e.header;
        let sequence = header.sequence.to_string();
        let date = header.effective_date.to_string();
        let recorded = rfc3339(header.recorded_at);
        let values: Vec<(String, String, String)> = e
            .postings
            .iter()
            .map(|p| {
                (
                    p.line.to_string(),
                    format_minor(p.amount_minor, p.currency),
                    p.amount_minor.to_string(),
                )
            })
            .collect();
        let rows: Vec<[&str; 22]> = e
            .postings
            .iter()
            .zip(&values)
            .map(|(p, (line, amount, minor))| {
                let a = x.account(p.account_id);
                [
                    "posting",
                    &x.fund.code,
                    &sequence,
                    &header.id,
                    &date,
                    &recorded,
                    &header.kind,
                    &header.memo,
                    header.source_type.as_deref().unwrap_or(""),
                    header.source_id.as_deref().unwrap_or(""),
                    &header.created_by,
                    header.reverses.as_deref().unwrap_or(""),
                    &header.previous_hash,
                    &header.hash,
                    line,
                    &a.code,
                    &a.name,
                    a.account_type.as_str(),
                    p.side.as_str(),
                    amount,
                    minor,
                    p.currency.code(),
                ]
            })
            .collect();
        self.emit(out, &rows)
    }

    fn finish(
        &mut self,
        x: &LedgerExport,
        _summary: &ExportSummary,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if let Some(closing) = &x.closing {
            balance_rows(self, x, "closing_balance", closing, out)?;
        }
        let sequence = x.chain_sequence.to_string();
        let mut row = [""; 22];
        row[0] = "chain_head";
        row[1] = &x.fund.code;
        row[2] = &sequence;
        row[13] = &x.chain_head;
        self.emit(out, &[row])
    }
}
