//! Paying claims that wait for funds. The Philippine fund collects
//! contributions in US dollars and pays benefits in pesos, so its peso cash is
//! empty until dollars are sold: the treasurer books the exchange as a manual
//! entry through a clearing account in each currency (Dr cash PHP / Cr clearing
//! PHP, Dr clearing USD / Cr cash USD), enough for the first two thirds of the
//! waiting claims, and a payment run pays them in approval order. The rest keep
//! waiting for the next exchange.

use super::{seal, Actors};
use crate::auth::Act;
use crate::claims::{self, ClaimFilter, ClaimStatus};
use crate::db::{write_transaction, DbConnection};
use crate::envelope::Done;
use crate::error::AppResult;
use crate::funds::Fund;
use crate::ledger::account_code::CASH;
use crate::ledger::{self, AccountType, NewAccount, NewEntry, NewPosting, Side};
use crate::money::{format_minor, Currency};

/// Fund-currency units bought by one unit of a contribution currency, by pair.
/// Both sides have two decimals, so minor units convert at the same rate.
const RATES: &[(&str, &str, i64)] = &[("USD", "PHP", 58)];
/// The clearing account's code (with the currency suffix for the foreign one).
const CLEARING: &str = "1900";
/// The most waiting claims one run of the demo pays: this many thirds.
const THIRDS_FUNDED: usize = 2;
/// Claims read at once.
const PAGE: i64 = 10_000;

/// Cash the fund holds in a currency other than its own, and its rate.
fn foreign_cash(conn: &mut DbConnection, fund: &Fund) -> AppResult<Option<(Currency, i64, i64)>> {
    for (from, to, rate) in RATES {
        if fund.currency.code() != *to {
            continue;
        }
        if let Some(cash) = ledger::find_account(conn, fund.id, &format!("{CASH}-{from}"))? {
            return Ok(Some((cash.currency, cash.balance_minor(), *rate)));
        }
    }
    Ok(None)
}

/// What the fund could pay out now, in its own currency, once foreign cash is sold.
pub fn cash_minor(conn: &mut DbConnection, fund: &Fund) -> AppResult<i64> {
    let own = ledger::find_account(conn, fund.id, CASH)?.map_or(0, |a| a.balance_minor());
    let foreign = foreign_cash(conn, fund)?.map_or(0, |(_, minor, rate)| minor * rate);
    Ok(own + foreign)
}

/// Funds part of the waiting claims by selling foreign cash, then runs a payment run.
/// Returns how many claims the run paid.
pub fn fund_waiting_claims(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
) -> AppResult<usize> {
    let filter = ClaimFilter {
        status: Some(ClaimStatus::AwaitingFunds.as_str().to_string()),
        limit: PAGE,
        ..ClaimFilter::default()
    };
    let mut waiting = claims::list(conn, fund, &filter)?;
    if waiting.is_empty() {
        return Ok(0);
    }
    waiting.sort_by(|a, b| (a.approved_at, &a.id).cmp(&(b.approved_at, &b.id)));
    let funded = waiting.len() * THIRDS_FUNDED / 3;
    let wanted: i64 = waiting
        .iter()
        .take(funded)
        .map(|c| c.decided_amount_minor.unwrap_or(0))
        .sum();
    let own = ledger::find_account(conn, fund.id, CASH)?.map_or(0, |a| a.balance_minor());
    if let Some((currency, available, rate)) = foreign_cash(conn, fund)? {
        let sold = ((wanted - own).max(0) + rate - 1) / rate;
        let sold = sold.min(available);
        if sold > 0 {
            sell(conn, fund, actors, currency, sold, rate)?;
        }
    }
    let today = crate::time::today();
    write_transaction(conn, |conn| -> AppResult<usize> {
        let run = claims::payment_run(conn, fund, today, &actors.officer.subject)?;
        let (paid, new_events) = (run.paid, run.events);
        let target = format!("payment run: {} paid", paid.len());
        seal(
            conn,
            &actors.officer,
            Act::RunPayments,
            &fund.code,
            Done::ok(target, ()).with_events(new_events),
        )?;
        Ok(paid.len())
    })
}

/// Opens the clearing accounts if missing, then books the exchange, each as the
/// admin's request would.
fn sell(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    currency: Currency,
    sold_minor: i64,
    rate: i64,
) -> AppResult<()> {
    debug_assert!(
        sold_minor > 0 && rate > 0,
        "only a positive amount is sold, at a positive rate"
    );
    let foreign_clearing = format!("{CLEARING}-{}", currency.code());
    for (code, account_currency) in [
        (CLEARING.to_string(), fund.currency),
        (foreign_clearing.clone(), currency),
    ] {
        open_clearing_account(conn, fund, actors, &code, account_currency)?;
    }
    let bought_minor = sold_minor * rate;
    let memo = exchange_memo(currency, sold_minor, fund.currency, bought_minor, rate);
    let posting = |account: &str, side, amount_minor, currency| NewPosting {
        account: account.to_string(),
        side,
        amount_minor,
        currency,
    };
    write_transaction(conn, |conn| -> AppResult<()> {
        let entry = ledger::post_entry(
            conn,
            fund.id,
            NewEntry {
                effective_date: crate::time::today(),
                kind: ledger::kind::ADJUSTMENT,
                memo,
                source: None,
                created_by: actors.admin.subject.clone(),
                reverses: None,
                postings: vec![
                    posting(CASH, Side::Debit, bought_minor, fund.currency),
                    posting(CLEARING, Side::Credit, bought_minor, fund.currency),
                    posting(&foreign_clearing, Side::Debit, sold_minor, currency),
                    posting(
                        &format!("{CASH}-{}", currency.code()),
                        Side::Credit,
                        sold_minor,
                        currency,
                    ),
                ],
            },
        )?;
        seal(
            conn,
            &actors.admin,
            Act::PostJournalEntry,
            &fund.code,
            Done::created(format!("journal_entry {}", entry.id), ()),
        )
    })
}

/// Opens the clearing account `code` in `currency` unless the fund has it, as
/// the admin's request would (with its audit record).
fn open_clearing_account(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    code: &str,
    currency: Currency,
) -> AppResult<()> {
    write_transaction(conn, |conn| -> AppResult<()> {
        if ledger::find_account(conn, fund.id, code)?.is_some() {
            return Ok(());
        }
        let new = NewAccount {
            code: code.to_string(),
            name: format!("Currency exchange clearing ({})", currency.code()),
            account_type: AccountType::Asset,
            currency,
            allow_negative: true,
        };
        ledger::create_account(conn, fund.id, &new)?;
        seal(
            conn,
            &actors.admin,
            Act::CreateAccount,
            &fund.code,
            Done::created(format!("account {code}"), ()),
        )
    })
}

/// The journal entry's memo: what was sold, for what, at which rate.
fn exchange_memo(
    sold: Currency,
    sold_minor: i64,
    bought: Currency,
    bought_minor: i64,
    rate: i64,
) -> String {
    format!(
        "Sale of {} {} for {} {} at {rate} {} per {}, to pay benefits",
        format_minor(sold_minor, sold),
        sold.code(),
        format_minor(bought_minor, bought),
        bought.code(),
        bought.code(),
        sold.code(),
    )
}
