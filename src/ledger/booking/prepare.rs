//! What an entry must pass before it is booked, and its place in the chain:
//! [`Booking::prepare`] and its checks, which write nothing.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::{Booking, PreparedEntry};
use crate::db::schema::postings;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::ledger::accounts::Account;
use crate::ledger::balances::{sum_wide, wide, SumWide};
use crate::ledger::chain::entry_hash;
use crate::ledger::entries::{totals_by_currency, JournalEntry, Posting};
use crate::ledger::limits::{self, format_wide, MAX_FUND_TOTAL_MINOR};
use crate::ledger::Side;
use crate::money::{Currency, MAX_AMOUNT_MINOR};

/// The most postings one entry may carry.
const MAX_POSTINGS_PER_ENTRY: usize = 200;

#[derive(Debug, Clone)]
pub struct NewPosting {
    pub account: String,
    pub side: Side,
    pub amount_minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone)]
pub struct NewEntry {
    pub effective_date: NaiveDate,
    pub kind: &'static str,
    pub memo: String,
    /// The domain record the entry books (`("contribution", id)`).
    pub source: Option<(String, String)>,
    pub created_by: String,
    pub reverses: Option<String>,
    pub postings: Vec<NewPosting>,
}

/// What an entry moves in each account: (debits, credits), by account code.
type AccountMoves<'a> = BTreeMap<&'a str, (i64, i64)>;

impl Booking {
    /// Checks `entry` and gives it its sequence and hash, writing nothing.
    /// Refused unless: it has 2 to 200 positive postings; every account is the
    /// fund's and in the posting's currency; debits equal credits per currency;
    /// it is dated after the closed period; no account's debit or credit total,
    /// and no currency's total in the fund, would pass its limit (see
    /// [`limits`]); and no account that may not go negative would, as of any
    /// date from the entry's effective date on (see [`Booking::check_guard`];
    /// only an entry that takes from such an account reads anything). Commit it
    /// before preparing the next entry.
    pub fn prepare(&self, conn: &mut DbConnection, entry: NewEntry) -> AppResult<PreparedEntry> {
        check_shape(&entry)?;
        self.check_posting_accounts(&entry)?;
        check_balanced(&entry)?;
        self.check_period_open(entry.effective_date)?;
        // New totals per account and per currency, checked against the limits
        // and the guards before anything is written. An entry's own sums are
        // small (at most 200 postings of at most 10^15); the totals are added
        // in i128 and checked before they are narrowed.
        let new_fund_totals = self.check_fund_totals(&entry)?;
        let moves = account_moves(&entry);
        let new_totals = self.check_account_totals(&moves)?;
        self.check_guards(conn, &moves, entry.effective_date)?;
        Ok(PreparedEntry {
            entry: self.place_in_chain(entry),
            new_totals,
            new_fund_totals,
        })
    }

    /// Every posting names an account of the fund kept in its currency; the
    /// refusal lists every posting that does not.
    fn check_posting_accounts(&self, entry: &NewEntry) -> AppResult<()> {
        let mut errors = Vec::new();
        for (i, p) in entry.postings.iter().enumerate() {
            match self.accounts.get(&p.account) {
                None => errors.push(FieldError::new(
                    format!("/postings/{i}/account"),
                    "unknown_account",
                    format!("no account {} in this fund", p.account),
                )),
                Some(a) if a.currency != p.currency => errors.push(FieldError::new(
                    format!("/postings/{i}/currency"),
                    "currency_mismatch",
                    format!(
                        "account {} is kept in {}, not {}",
                        a.code, a.currency, p.currency
                    ),
                )),
                Some(_) => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(errors))
        }
    }

    /// An entry is dated after the period the fund closed, if any.
    fn check_period_open(&self, effective_date: NaiveDate) -> AppResult<()> {
        match self.closed_through {
            Some(closed) if effective_date <= closed => Err(AppError::new(
                ErrorCode::PeriodClosed,
                format!(
                    "the books are closed through {closed}; date the entry after it (effective_date {effective_date})"
                ),
            )
            .with("closed_through", closed.to_string())),
            _ => Ok(()),
        }
    }

    /// The fund's debits per currency once `entry` is booked, refused past
    /// [`MAX_FUND_TOTAL_MINOR`] (the entry is balanced: its credits add the same).
    fn check_fund_totals(&self, entry: &NewEntry) -> AppResult<Vec<(Currency, i128)>> {
        let moves = totals_by_currency(
            entry
                .postings
                .iter()
                .map(|p| (p.side, p.amount_minor, p.currency)),
        );
        let mut new_totals = Vec::with_capacity(moves.len());
        for (currency, (debits, _)) in moves {
            let total = self.fund_totals.get(&currency).copied().unwrap_or(0) + debits;
            if total > MAX_FUND_TOTAL_MINOR as i128 {
                return Err(limits::fund_limit_exceeded(currency, total));
            }
            new_totals.push((currency, total));
        }
        Ok(new_totals)
    }

    /// Each moved account's (code, new debits, new credits), refused when
    /// either total would leave `0..=MAX_ACCOUNT_TOTAL_MINOR`.
    fn check_account_totals(&self, moves: &AccountMoves) -> AppResult<Vec<(String, i64, i64)>> {
        let mut new_totals = Vec::with_capacity(moves.len());
        for (code, (debits, credits)) in moves {
            let account = &self.accounts[*code];
            let (new_debits, new_credits) = new_account_totals(account, *debits, *credits)?;
            new_totals.push((code.to_string(), new_debits, new_credits));
        }
        Ok(new_totals)
    }

    /// The overdraft guard of every account the entry takes from that may not
    /// go negative (see [`Booking::check_guard`]).
    fn check_guards(
        &self,
        conn: &mut DbConnection,
        moves: &AccountMoves,
        effective_date: NaiveDate,
    ) -> AppResult<()> {
        for (code, (debits, credits)) in moves {
            let account = &self.accounts[*code];
            let change = account.account_type.balance(*debits, *credits);
            if !account.allow_negative && change < 0 {
                self.check_guard(conn, account, effective_date, change)?;
            }
        }
        Ok(())
    }

    /// The overdraft guard: taking `change` (negative, on the account's normal
    /// side) from `account` with effective date `date` must leave it at or
    /// above zero as of every date from `date` on, not only today. The balance
    /// as of a day `d` is the current balance less the net movement dated after
    /// `d`, so one query (the account's postings dated after `date`, summed per
    /// date and side; index `postings_account_date`) plus the entries this
    /// session keeps unwritten gives every as-of balance that can differ. The
    /// refusal names the first date the account would go below zero (`as_of`)
    /// and what it can spare from `date` on (`available`: the lowest balance as
    /// of any of those dates).
    fn check_guard(
        &self,
        conn: &mut DbConnection,
        account: &Account,
        date: NaiveDate,
        change: i64,
    ) -> AppResult<()> {
        let later = self.movements_after(conn, account, date)?;
        // As of `date`, then as of each later date with postings.
        let change = change as i128;
        let mut before = account.balance_minor() as i128 - later.values().sum::<i128>();
        let mut available = before;
        let mut overdrawn = (before + change < 0).then_some((date, before + change));
        for (day, net) in later {
            before += net;
            available = available.min(before);
            if overdrawn.is_none() && before + change < 0 {
                overdrawn = Some((day, before + change));
            }
        }
        match overdrawn {
            None => Ok(()),
            Some((as_of, balance)) => Err(insufficient_funds(account, as_of, balance, available)),
        }
    }

    /// The account's net movement on its normal side per date after `date`:
    /// what is stored and what this session keeps unwritten. In i128: within
    /// the limits every figure here fits in i64, but the sums are not trusted
    /// to.
    fn movements_after(
        &self,
        conn: &mut DbConnection,
        account: &Account,
        date: NaiveDate,
    ) -> AppResult<BTreeMap<NaiveDate, i128>> {
        let rows: Vec<(NaiveDate, String, SumWide)> = postings::table
            .filter(postings::account_id.eq(account.id))
            .filter(postings::effective_date.gt(date))
            .group_by((postings::effective_date, postings::side))
            .select((postings::effective_date, postings::side, sum_wide()))
            .load(conn)?;
        let mut later: BTreeMap<NaiveDate, i128> = BTreeMap::new();
        let normal = account.account_type.normal_side();
        let signed = |side: Side, amount: i128| if side == normal { amount } else { -amount };
        for (day, side, amount) in rows {
            let side = Side::parse(&side).expect("stored sides are debit or credit");
            *later.entry(day).or_default() += signed(side, wide(amount));
        }
        for e in self.unwritten().filter(|e| e.effective_date > date) {
            for p in e.postings.iter().filter(|p| p.account == account.code) {
                *later.entry(e.effective_date).or_default() +=
                    signed(p.side, p.amount_minor as i128);
            }
        }
        Ok(later)
    }

    /// `entry` as it will be booked: the next sequence after the chain head,
    /// linked to it by its previous hash, with its own hash.
    fn place_in_chain(&self, entry: NewEntry) -> JournalEntry {
        let mut booked = JournalEntry {
            id: Uuid::now_v7().to_string(),
            fund_code: self.fund_code.clone(),
            sequence: self.last_sequence + 1,
            effective_date: entry.effective_date,
            recorded_at: crate::time::now(),
            kind: entry.kind.to_string(),
            memo: entry.memo,
            source_type: entry.source.as_ref().map(|s| s.0.clone()),
            source_id: entry.source.as_ref().map(|s| s.1.clone()),
            created_by: entry.created_by,
            reverses: entry.reverses,
            reversed_by: None,
            previous_hash: self.chain_head.clone(),
            hash: String::new(),
            postings: entry
                .postings
                .into_iter()
                .map(|p| Posting {
                    account: p.account,
                    side: p.side,
                    amount_minor: p.amount_minor,
                    currency: p.currency,
                })
                .collect(),
        };
        booked.hash = entry_hash(&booked.previous_hash, &booked.canonical());
        debug_assert!(
            booked.sequence == self.last_sequence + 1 && booked.previous_hash == self.chain_head,
            "an entry continues the chain from its head"
        );
        booked
    }
}

/// 2 to [`MAX_POSTINGS_PER_ENTRY`] postings. Amounts were validated positive
/// and within [`MAX_AMOUNT_MINOR`] where they entered; one that is not is a bug.
fn check_shape(entry: &NewEntry) -> AppResult<()> {
    if entry.postings.len() < 2 {
        return Err(AppError::field(
            "/postings",
            "too_few",
            "an entry needs at least two postings",
        ));
    }
    if entry.postings.len() > MAX_POSTINGS_PER_ENTRY {
        return Err(AppError::field(
            "/postings",
            "too_many",
            format!("an entry may have at most {MAX_POSTINGS_PER_ENTRY} postings"),
        ));
    }
    for p in &entry.postings {
        assert!(
            p.amount_minor > 0 && p.amount_minor <= MAX_AMOUNT_MINOR,
            "postings are validated positive before they reach the ledger"
        );
    }
    Ok(())
}

/// Debits equal credits in every currency; the refusal lists each currency
/// that does not balance.
fn check_balanced(entry: &NewEntry) -> AppResult<()> {
    let totals = totals_by_currency(
        entry
            .postings
            .iter()
            .map(|p| (p.side, p.amount_minor, p.currency)),
    );
    let unbalanced: Vec<_> = totals
        .iter()
        .filter(|(_, (d, c))| d != c)
        .map(|(currency, (d, c))| {
            json!({
                "currency": currency.code(),
                "debits": format_wide(*d, *currency),
                "credits": format_wide(*c, *currency),
            })
        })
        .collect();
    if unbalanced.is_empty() {
        return Ok(());
    }
    let detail = unbalanced
        .iter()
        .map(|u| {
            format!(
                "{}: debits {} ≠ credits {}",
                u["currency"].as_str().unwrap_or_default(),
                u["debits"].as_str().unwrap_or_default(),
                u["credits"].as_str().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(AppError::new(
        ErrorCode::EntryUnbalanced,
        format!("debits must equal credits in every currency: {detail}"),
    )
    .with("imbalances", unbalanced))
}

/// What the entry moves in each account, by code.
fn account_moves(entry: &NewEntry) -> AccountMoves<'_> {
    let mut moves = AccountMoves::new();
    for p in &entry.postings {
        let t = moves.entry(p.account.as_str()).or_default();
        match p.side {
            Side::Debit => t.0 += p.amount_minor,
            Side::Credit => t.1 += p.amount_minor,
        }
    }
    moves
}

/// `account`'s totals once `debits` and `credits` are added, refused when
/// either would leave `0..=MAX_ACCOUNT_TOTAL_MINOR` (a stored total already
/// outside it, which only an altered database holds, refuses every entry that
/// touches the account).
fn new_account_totals(account: &Account, debits: i64, credits: i64) -> AppResult<(i64, i64)> {
    let new_debits = account.debits_minor as i128 + debits as i128;
    let new_credits = account.credits_minor as i128 + credits as i128;
    for (side, total) in [(Side::Debit, new_debits), (Side::Credit, new_credits)] {
        if !limits::within_account_limit(total) {
            return Err(limits::account_limit_exceeded(
                &account.code,
                side,
                account.currency,
                total,
            ));
        }
    }
    Ok((new_debits as i64, new_credits as i64))
}

/// The refusal of the overdraft guard: `account` would read `balance` as of
/// `as_of`, and can spare `available` from the entry's date on.
fn insufficient_funds(
    account: &Account,
    as_of: NaiveDate,
    balance: i128,
    available: i128,
) -> AppError {
    AppError::new(
        ErrorCode::InsufficientFunds,
        format!(
            "account {} ({}) would read {} {} as of {as_of}; it may not go below zero on any date",
            account.code,
            account.name,
            format_wide(balance, account.currency),
            account.currency
        ),
    )
    .with("account", &account.code)
    .with("available", format_wide(available.max(0), account.currency))
    .with("currency", account.currency.code())
    .with("as_of", as_of.to_string())
}
