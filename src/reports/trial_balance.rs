//! The trial balance of a fund as of a date, by effective date: each account's
//! debits, credits and balance, and per currency the proof that debits equal
//! credits.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::db::DbConnection;
use crate::error::AppResult;
use crate::funds::FundId;
use crate::ledger::limits::narrow;
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
        // Both totals lie in 0..=MAX_ACCOUNT_TOTAL_MINOR (they were narrowed from
        // checked sums), so the difference cannot overflow.
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
    fund_id: FundId,
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
    // Summed in i128 and narrowed with a check. Every column is at most the
    // fund's debits in the currency, which the Booking keeps within
    // MAX_FUND_TOTAL_MINOR (< i64::MAX): only an altered database fails here.
    let mut wide: BTreeMap<Currency, [i128; 4]> = BTreeMap::new();
    for line in &lines {
        let t = wide.entry(line.account.currency).or_default();
        t[0] += line.debits_minor as i128;
        t[1] += line.credits_minor as i128;
        match line.net() {
            (Side::Debit, n) => t[2] += n as i128,
            (Side::Credit, n) => t[3] += n as i128,
        }
    }
    for (currency, [debits, credits, debit_balances, credit_balances]) in wide {
        let what = || format!("the trial balance's {currency} columns");
        totals.insert(
            currency,
            CurrencyTotals {
                debits_minor: narrow(debits, what)?,
                credits_minor: narrow(credits, what)?,
                debit_balances_minor: narrow(debit_balances, what)?,
                credit_balances_minor: narrow(credit_balances, what)?,
            },
        );
    }
    Ok(TrialBalance {
        as_of,
        lines,
        totals,
    })
}
