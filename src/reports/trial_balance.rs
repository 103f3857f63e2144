//! The trial balance of a fund as of a date, by effective date: each account's
//! debits, credits and balance, and per currency the proof that debits equal
//! credits.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ledger::{self, Account, Side};
use crate::money::Currency;

#[derive(Debug, Clone)]
pub struct TrialBalanceLine {
    pub account: Account,
    pub debits_minor: i64,
    pub credits_minor: i64,
}

impl TrialBalanceLine {
    /// The net balance and the side it stands on (`debit` when debits are the
    /// larger, whatever the account's normal side).
    pub fn net(&self) -> (Side, i64) {
        if self.debits_minor >= self.credits_minor {
            (Side::Debit, self.debits_minor - self.credits_minor)
        } else {
            (Side::Credit, self.credits_minor - self.debits_minor)
        }
    }
}

/// One currency's column totals: posted debits and credits, and the net
/// balances in the debit and credit columns. Both pairs are equal in a
/// balanced ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrencyTotals {
    pub debits_minor: i64,
    pub credits_minor: i64,
    pub debit_balances_minor: i64,
    pub credit_balances_minor: i64,
}

impl CurrencyTotals {
    pub fn balanced(&self) -> bool {
        self.debits_minor == self.credits_minor
            && self.debit_balances_minor == self.credit_balances_minor
    }
}

#[derive(Debug, Clone)]
pub struct TrialBalance {
    pub as_of: NaiveDate,
    /// Every account of the fund in code order, including those without postings.
    pub lines: Vec<TrialBalanceLine>,
    pub totals: BTreeMap<Currency, CurrencyTotals>,
}

/// The trial balance at the end of `as_of`, summed from postings by effective
/// date: it reads the same tomorrow as today unless someone books into the
/// past (which a closed period refuses).
pub fn trial_balance(
    conn: &mut DbConnection,
    fund_id: i64,
    as_of: NaiveDate,
) -> AppResult<TrialBalance> {
    let accounts = ledger::list_accounts(conn, fund_id)?;
    let sums = ledger::balances_as_of(conn, fund_id, as_of)?;
    let mut totals: BTreeMap<Currency, CurrencyTotals> = BTreeMap::new();
    let lines: Vec<TrialBalanceLine> = accounts
        .into_iter()
        .map(|account| {
            let (debits_minor, credits_minor) = sums.get(&account.id).copied().unwrap_or_default();
            TrialBalanceLine {
                account,
                debits_minor,
                credits_minor,
            }
        })
        .collect();
    for line in &lines {
        let t = totals.entry(line.account.currency).or_default();
        t.debits_minor += line.debits_minor;
        t.credits_minor += line.credits_minor;
        match line.net() {
            (Side::Debit, n) => t.debit_balances_minor += n,
            (Side::Credit, n) => t.credit_balances_minor += n,
        }
    }
    Ok(TrialBalance {
        as_of,
        lines,
        totals,
    })
}
