//! JSON Lines: an `export` header record (fund, range, chain head, accounts),
//! `opening_balance` records when the export starts at a date, one `entry`
//! record per journal entry with its postings, `closing_balance` records on the
//! last page, and an `end` record with the counts and the next page's `after`.

use std::io::{self, Write};

use chrono::NaiveDate;
use serde::Serialize;

use super::{normal_balance, BalancesAt, ExportSummary, LedgerExport, LedgerWriter};
use crate::ledger::StoredEntry;
use crate::money::format_minor;
use crate::time::rfc3339;

/// Each entry record is serialised into `buf` (reused) and handed to the
/// output in one write, rather than in the serialiser's many small ones.
pub struct JsonlWriter {
    buf: Vec<u8>,
}

impl JsonlWriter {
    pub fn new() -> JsonlWriter {
        JsonlWriter {
            buf: Vec::with_capacity(4096),
        }
    }
}

#[derive(Serialize)]
struct ChainHead<'a> {
    sequence: i64,
    hash: &'a str,
}

#[derive(Serialize)]
struct AccountRecord<'a> {
    code: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    account_type: &'a str,
    currency: &'a str,
}

#[derive(Serialize)]
struct Header<'a> {
    record: &'static str,
    fund: &'a str,
    fund_name: &'a str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<i64>,
    limit: Option<i64>,
    generated_at: String,
    chain_head: ChainHead<'a>,
    accounts: Vec<AccountRecord<'a>>,
}

#[derive(Serialize)]
struct Balance<'a> {
    record: &'static str,
    as_of: NaiveDate,
    account: &'a str,
    currency: &'a str,
    debits: String,
    credits: String,
    /// On the account's normal side, as the API states it.
    balance: String,
    balance_minor: i64,
}

#[derive(Serialize)]
struct Posting<'a> {
    line: i32,
    account: &'a str,
    side: &'static str,
    amount: String,
    amount_minor: i64,
    currency: &'a str,
}

#[derive(Serialize)]
struct Entry<'a> {
    record: &'static str,
    sequence: i64,
    id: &'a str,
    effective_date: NaiveDate,
    recorded_at: String,
    kind: &'a str,
    memo: &'a str,
    source_type: Option<&'a str>,
    source_id: Option<&'a str>,
    created_by: &'a str,
    reverses: Option<&'a str>,
    previous_hash: &'a str,
    hash: &'a str,
    postings: Vec<Posting<'a>>,
}

#[derive(Serialize)]
struct End<'a> {
    record: &'static str,
    entries: u64,
    postings: u64,
    last_sequence: Option<i64>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<i64>,
    chain_head: ChainHead<'a>,
}

fn line<W: Write + ?Sized>(out: &mut W, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

fn balances(
    x: &LedgerExport,
    record: &'static str,
    balances: &BalancesAt,
    out: &mut dyn Write,
) -> io::Result<()> {
    for (a, t) in x.account_balances(balances) {
        let balance_minor = normal_balance(a, t);
        line(
            out,
            &Balance {
                record,
                as_of: balances.date,
                account: &a.code,
                currency: a.currency.code(),
                debits: format_minor(t.debits_minor, a.currency),
                credits: format_minor(t.credits_minor, a.currency),
                balance: format_minor(balance_minor, a.currency),
                balance_minor,
            },
        )?;
    }
    Ok(())
}

impl LedgerWriter for JsonlWriter {
    fn begin(&mut self, x: &LedgerExport, out: &mut dyn Write) -> io::Result<()> {
        let r = &x.request;
        line(
            out,
            &Header {
                record: "export",
                fund: &x.fund.code,
                fund_name: &x.fund.name,
                from: r.from,
                to: r.to,
                after: r.after,
                limit: r.limit,
                generated_at: rfc3339(x.generated_at),
                chain_head: ChainHead {
                    sequence: x.chain_sequence,
                    hash: &x.chain_head,
                },
                accounts: x
                    .accounts
                    .iter()
                    .map(|a| AccountRecord {
                        code: &a.code,
                        name: &a.name,
                        account_type: a.account_type.as_str(),
                        currency: a.currency.code(),
                    })
                    .collect(),
            },
        )?;
        if let Some(opening) = &x.opening {
            balances(x, "opening_balance", opening, out)?;
        }
        Ok(())
    }

    fn entry(&mut self, x: &LedgerExport, e: &StoredEntry, out: &mut dyn Write) -> io::Result<()> {
        let header = &e.header;
        self.buf.clear();
        line(
            &mut self.buf,
            &Entry {
                record: "entry",
                sequence: header.sequence,
                id: &header.id,
                effective_date: header.effective_date,
                recorded_at: rfc3339(header.recorded_at),
                kind: &header.kind,
                memo: &header.memo,
                source_type: header.source_type.as_deref(),
                source_id: header.source_id.as_deref(),
                created_by: &header.created_by,
                reverses: header.reverses.as_deref(),
                previous_hash: &header.previous_hash,
                hash: &header.hash,
                postings: e
                    .postings
                    .iter()
                    .map(|p| Posting {
                        line: p.line,
                        account: &x.account(p.account_id).code,
                        side: p.side.as_str(),
                        amount: format_minor(p.amount_minor, p.currency),
                        amount_minor: p.amount_minor,
                        currency: p.currency.code(),
                    })
                    .collect(),
            },
        )?;
        out.write_all(&self.buf)
    }

    fn finish(
        &mut self,
        x: &LedgerExport,
        summary: &ExportSummary,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if let Some(closing) = &x.closing {
            balances(x, "closing_balance", closing, out)?;
        }
        line(
            out,
            &End {
                record: "end",
                entries: summary.entries,
                postings: summary.postings,
                last_sequence: summary.last_sequence,
                next_after: x.next_after(),
                chain_head: ChainHead {
                    sequence: x.chain_sequence,
                    hash: &x.chain_head,
                },
            },
        )
    }
}
