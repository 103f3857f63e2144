//! JSON Lines: an `export` header record (fund, range, chain head, accounts),
//! `opening_balance` records when the export starts at a date, one `entry`
//! record per journal entry with its postings, `closing_balance` records on the
//! last page, and an `end` record with the counts and the next page's `after`.

use std::collections::HashMap;
use std::io::{self, Write};

use chrono::NaiveDate;
use serde::Serialize;

use super::bytes::{push_date, push_i64, push_json_opt, push_json_str, push_minor, push_rfc3339};
use super::{normal_balance, BalancesAt, ExportSummary, LedgerExport, LedgerWriter};
use crate::ledger::StoredEntry as Entry;
use crate::money::format_minor;
use crate::time::rfc3339;

/// The header, balance and end records go through `serde`; the entry records,
/// one per journal entry, are written by hand (see [`super::bytes`]) exactly
/// as `serde_json` writes the same fields: in this order, `null` for what is
/// absent, no spaces.
pub struct JsonlWriter {
    /// Each account's code as a JSON string, by id.
    accounts: HashMap<i64, Vec<u8>>,
}

impl JsonlWriter {
    pub fn new() -> JsonlWriter {
        JsonlWriter {
            accounts: HashMap::new(),
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
    fn begin(&mut self, x: &LedgerExport, out: &mut Vec<u8>) -> io::Result<()> {
        self.accounts = x
            .accounts
            .iter()
            .map(|a| {
                let mut code = Vec::new();
                push_json_str(&mut code, &a.code);
                (a.id, code)
            })
            .collect();
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

    fn entry(&mut self, _x: &LedgerExport, e: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
        let h = &e.header;
        out.extend_from_slice(b"{\"record\":\"entry\",\"sequence\":");
        push_i64(out, h.sequence);
        out.extend_from_slice(b",\"id\":");
        push_json_str(out, &h.id);
        out.extend_from_slice(b",\"effective_date\":\"");
        push_date(out, h.effective_date);
        out.extend_from_slice(b"\",\"recorded_at\":\"");
        push_rfc3339(out, h.recorded_at);
        out.extend_from_slice(b"\",\"kind\":");
        push_json_str(out, &h.kind);
        out.extend_from_slice(b",\"memo\":");
        push_json_str(out, &h.memo);
        out.extend_from_slice(b",\"source_type\":");
        push_json_opt(out, h.source_type.as_deref());
        out.extend_from_slice(b",\"source_id\":");
        push_json_opt(out, h.source_id.as_deref());
        out.extend_from_slice(b",\"created_by\":");
        push_json_str(out, &h.created_by);
        out.extend_from_slice(b",\"reverses\":");
        push_json_opt(out, h.reverses.as_deref());
        out.extend_from_slice(b",\"previous_hash\":");
        push_json_str(out, &h.previous_hash);
        out.extend_from_slice(b",\"hash\":");
        push_json_str(out, &h.hash);
        out.extend_from_slice(b",\"postings\":[");
        for (i, p) in e.postings.iter().enumerate() {
            let account = self.accounts.get(&p.account_id).ok_or_else(|| {
                io::Error::other(format!(
                    "posting to account {} of another fund",
                    p.account_id
                ))
            })?;
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"line\":");
            push_i64(out, p.line as i64);
            out.extend_from_slice(b",\"account\":");
            out.extend_from_slice(account);
            out.extend_from_slice(b",\"side\":");
            push_json_str(out, p.side.as_str());
            out.extend_from_slice(b",\"amount\":\"");
            push_minor(out, p.amount_minor, p.currency.exponent());
            out.extend_from_slice(b"\",\"amount_minor\":");
            push_i64(out, p.amount_minor);
            out.extend_from_slice(b",\"currency\":");
            push_json_str(out, p.currency.code());
            out.push(b'}');
        }
        out.extend_from_slice(b"]}\n");
        Ok(())
    }

    fn finish(
        &mut self,
        x: &LedgerExport,
        summary: &ExportSummary,
        out: &mut Vec<u8>,
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
