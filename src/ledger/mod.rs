//! The double-entry ledger: accounts with maintained balances, immutable journal
//! entries with a gap-free per-fund sequence and a hash chain, reversals,
//! as-of balances, statements and verification.
//!
//! Every function that writes takes the caller's open connection and never
//! commits: the caller decides what commits together (DESIGN.md §2).

mod accounts;
pub mod balances;
mod booking;
pub mod chain;
mod checkpoints;
mod entries;
pub mod limits;
mod pages;
mod reader;
mod verify;

pub use accounts::account_code;
pub use accounts::{
    chart_of_accounts, create_account, ensure_standard_account, find_account, list_accounts,
    Account, NewAccount,
};
pub use balances::{balances_as_of, statement, Statement, StatementLine};
pub use booking::{
    book_reversal, post_entry, reverse_entry, Booking, NewEntry, NewPosting, PreparedEntry,
    Reversal,
};
pub use checkpoints::{
    latest as latest_checkpoint, list_checkpoints, record_checkpoint, VerificationCheckpoint,
};
pub use entries::{find_entry, list_entries, EntryFilter, JournalEntry, Posting};
pub(crate) use pages::{HeaderReader, PageReader, PostingReader, StoredEntry};
pub(crate) use reader::{effective_dates, page_end, EntryRange};
pub(crate) use reader::{read_ahead, read_ahead_in_two};
pub use verify::verify_fund_since_checkpoint;
pub use verify::{verify_fund, verify_fund_showing, Helpers, Verification, VerificationProblem};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Account types. Assets and expenses have a normal debit balance; liabilities,
/// equity and revenue a normal credit balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    Asset,
    Liability,
    Equity,
    Revenue,
    Expense,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Asset => "asset",
            AccountType::Liability => "liability",
            AccountType::Equity => "equity",
            AccountType::Revenue => "revenue",
            AccountType::Expense => "expense",
        }
    }

    pub fn parse(s: &str) -> Option<AccountType> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    pub fn normal_side(self) -> Side {
        match self {
            AccountType::Asset | AccountType::Expense => Side::Debit,
            _ => Side::Credit,
        }
    }

    /// The balance on the account's normal side: debits − credits for assets
    /// and expenses, credits − debits otherwise. Totals within
    /// [`limits::MAX_ACCOUNT_TOTAL_MINOR`] always have one; totals that do not
    /// are a ledger altered behind its back, which must not be carried on.
    pub fn balance(self, debits_minor: i64, credits_minor: i64) -> i64 {
        let balance = match self.normal_side() {
            Side::Debit => debits_minor.checked_sub(credits_minor),
            Side::Credit => credits_minor.checked_sub(debits_minor),
        };
        balance.expect("account totals lie within the ledger's limits; run `mwf verify`")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Debit,
    Credit,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Debit => "debit",
            Side::Credit => "credit",
        }
    }

    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "debit" => Some(Side::Debit),
            "credit" => Some(Side::Credit),
            _ => None,
        }
    }

    pub fn opposite(self) -> Side {
        match self {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        }
    }
}

/// Kinds of journal entry. Manual entries are `adjustment`; domain modules book
/// their own kinds.
pub mod kind {
    pub const ADJUSTMENT: &str = "adjustment";
    pub const REVERSAL: &str = "reversal";
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn balances_are_stated_on_the_normal_side() {
        assert_eq!(AccountType::Asset.balance(500, 200), 300);
        assert_eq!(AccountType::Expense.balance(500, 200), 300);
        assert_eq!(AccountType::Liability.balance(500, 200), -300);
        assert_eq!(AccountType::Revenue.balance(200, 500), 300);
        assert_eq!(AccountType::Equity.balance(0, 0), 0);
    }

    proptest! {
        /// In a balanced ledger, normal-side debit balances equal normal-side
        /// credit balances: the trial balance nets to zero whatever is posted.
        #[test]
        fn a_balanced_ledger_has_a_trial_balance_of_zero(
            moves in proptest::collection::vec((0usize..5, 0usize..5, 1i64..1_000_000_000), 1..50)
        ) {
            let types = [AccountType::Asset, AccountType::Liability, AccountType::Equity, AccountType::Revenue, AccountType::Expense];
            let mut debits = [0i64; 5];
            let mut credits = [0i64; 5];
            for (from, to, amount) in moves {
                debits[from] += amount;
                credits[to] += amount;
            }
            let (mut debit_side, mut credit_side) = (0i64, 0i64);
            for (i, t) in types.iter().enumerate() {
                match t.normal_side() {
                    Side::Debit => debit_side += t.balance(debits[i], credits[i]),
                    Side::Credit => credit_side += t.balance(debits[i], credits[i]),
                }
            }
            prop_assert_eq!(debit_side, credit_side);
        }
    }
}
