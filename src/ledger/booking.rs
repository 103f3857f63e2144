//! A fund's ledger opened for booking inside one transaction.
//!
//! [`Booking::open`] takes the fund's row lock (every booking of a fund takes it
//! first, so bookings of one fund are ordered on any number of processes) and
//! reads the chain head and the account balances once. Entries posted through it
//! are inserted at once; the balances and the chain head are kept here and written
//! back once by [`Booking::close`]. A batch of thousands of entries therefore
//! updates each hot row (the fund, the cash account) once per transaction instead
//! of once per entry.
//!
//! Posting is two steps: [`Booking::prepare`] makes every check and writes
//! nothing; [`Booking::commit`] writes. A batch prepares an item (a refusal is that
//! item's answer and leaves no trace) and then commits it; a failure while writing
//! fails the whole transaction. So batches need no savepoints, which PostgreSQL
//! handles in quadratic time when a transaction holds thousands of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::accounts::{list_accounts, Account};
use super::balances::{sum_wide, wide, SumWide};
use super::chain::entry_hash;
use super::entries::{
    already_reversed, check_balanced, check_shape, totals_by_currency, JournalEntry, NewEntry,
    Posting,
};
use super::limits::{self, MAX_FUND_TOTAL_MINOR};
use super::Side;
use crate::db::schema::{journal_entries, postings};
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::funds::{lock_fund, FundLock};
use crate::money::Currency;

/// `account`'s totals once `debits` and `credits` are added, refused when
/// either would leave `0..=MAX_ACCOUNT_TOTAL_MINOR` (a stored total already
/// outside it, which only an altered database holds, refuses every entry that
/// touches the account).
fn check_account_totals(account: &Account, debits: i64, credits: i64) -> AppResult<(i64, i64)> {
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

/// An open booking session on one fund's ledger. Call [`Booking::close`] before
/// the transaction commits.
#[must_use = "a Booking must be closed for its balances and chain head to be written"]
pub struct Booking {
    /// The fund's row lock, taken by [`Booking::open`].
    lock: FundLock,
    fund_id: i64,
    fund_code: String,
    closed_through: Option<NaiveDate>,
    last_sequence: i64,
    chain_head: String,
    accounts: HashMap<String, Account>,
    /// The fund's debits per currency (equal to its credits): what
    /// [`limits::MAX_FUND_TOTAL_MINOR`] bounds.
    fund_totals: BTreeMap<Currency, i128>,
    /// Codes of the accounts whose balances changed.
    changed: BTreeSet<String>,
    /// Entries committed but not yet inserted (see [`Booking::defer_inserts`]).
    deferred: Option<Vec<JournalEntry>>,
}

/// An entry that passed every check, ready to be written by [`Booking::commit`].
#[must_use]
pub struct PreparedEntry {
    entry: JournalEntry,
    /// (account code, new debits, new credits).
    new_totals: Vec<(String, i64, i64)>,
    /// (currency, the fund's new debits in it).
    new_fund_totals: Vec<(Currency, i128)>,
}

impl PreparedEntry {
    /// The entry as it will be booked (its id, sequence and hash included).
    pub fn entry(&self) -> &JournalEntry {
        &self.entry
    }
}

impl Booking {
    /// Locks the fund's row and reads its chain head, closed period and accounts.
    pub fn open(conn: &mut DbConnection, fund_id: i64) -> AppResult<Booking> {
        let lock = lock_fund(conn, fund_id)?;
        let (last_sequence, chain_head, closed_through, fund_code) = (
            lock.last_sequence,
            lock.chain_head.clone(),
            lock.closed_through,
            lock.code.clone(),
        );
        let accounts: HashMap<String, Account> = list_accounts(conn, fund_id)?
            .into_iter()
            .map(|a| (a.code.clone(), a))
            .collect();
        let mut fund_totals = BTreeMap::new();
        for a in accounts.values() {
            *fund_totals.entry(a.currency).or_default() += a.debits_minor as i128;
        }
        Ok(Booking {
            lock,
            fund_id,
            fund_code,
            closed_through,
            last_sequence,
            chain_head,
            accounts,
            fund_totals,
            changed: BTreeSet::new(),
            deferred: None,
        })
    }

    /// The fund lock this booking holds: what functions that must run under
    /// it take as proof.
    pub fn lock(&self) -> &FundLock {
        &self.lock
    }

    /// From now on [`Booking::commit`] keeps entries in memory and
    /// [`Booking::flush`] (or [`Booking::close`]) inserts them and their postings
    /// with one multi-row INSERT per table: a group of hundreds of contributions
    /// then costs a handful of statements instead of several per entry. Rows that
    /// reference an entry must be inserted after the flush.
    pub fn defer_inserts(&mut self) {
        self.deferred.get_or_insert_with(Vec::new);
    }

    /// Inserts the entries kept by [`Booking::defer_inserts`].
    pub fn flush(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        let Some(pending) = self.deferred.as_mut() else {
            return Ok(());
        };
        let entries = std::mem::take(pending);
        if entries.is_empty() {
            return Ok(());
        }
        self.insert(conn, &entries)
    }

    pub fn fund_id(&self) -> i64 {
        self.fund_id
    }

    /// The current balance of an account, as this session sees it.
    pub fn account(&self, code: &str) -> Option<&Account> {
        self.accounts.get(code)
    }

    /// Books `entry`: [`Booking::prepare`] then [`Booking::commit`].
    pub fn post(&mut self, conn: &mut DbConnection, entry: NewEntry) -> AppResult<JournalEntry> {
        let prepared = self.prepare(conn, entry)?;
        self.commit(conn, prepared)
    }

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
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        check_balanced(&entry)?;
        if let Some(closed) = self.closed_through {
            if entry.effective_date <= closed {
                return Err(AppError::new(
                    ErrorCode::PeriodClosed,
                    format!(
                        "the books are closed through {closed}; date the entry after it (effective_date {})",
                        entry.effective_date
                    ),
                )
                .with("closed_through", closed.to_string()));
            }
        }

        // New totals per account and per currency, checked against the limits
        // and the guards before anything is written. An entry's own sums are
        // small (at most 200 postings of at most 10^15); the totals are added
        // in i128 and checked before they are narrowed.
        let new_fund_totals = self.check_fund_totals(&entry)?;
        let mut per_account: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for p in &entry.postings {
            let t = per_account.entry(p.account.as_str()).or_default();
            match p.side {
                Side::Debit => t.0 += p.amount_minor,
                Side::Credit => t.1 += p.amount_minor,
            }
        }
        let mut new_totals = Vec::with_capacity(per_account.len());
        for (code, (debits, credits)) in &per_account {
            let account = &self.accounts[*code];
            let (new_debits, new_credits) = check_account_totals(account, *debits, *credits)?;
            new_totals.push((code.to_string(), new_debits, new_credits));
        }
        for (code, (debits, credits)) in &per_account {
            let account = &self.accounts[*code];
            let change = account.account_type.balance(*debits, *credits);
            if !account.allow_negative && change < 0 {
                self.check_guard(conn, account, entry.effective_date, change)?;
            }
        }

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
                .iter()
                .map(|p| Posting {
                    account: p.account.clone(),
                    side: p.side,
                    amount_minor: p.amount_minor,
                    currency: p.currency,
                })
                .collect(),
        };
        booked.hash = entry_hash(&booked.previous_hash, &booked.canonical());
        Ok(PreparedEntry {
            entry: booked,
            new_totals,
            new_fund_totals,
        })
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
        let rows: Vec<(NaiveDate, String, SumWide)> = postings::table
            .filter(postings::account_id.eq(account.id))
            .filter(postings::effective_date.gt(date))
            .group_by((postings::effective_date, postings::side))
            .select((postings::effective_date, postings::side, sum_wide()))
            .load(conn)?;
        // Net movement on the normal side per later date, in i128: within the
        // limits every figure here fits in i64, but the sums are not trusted to.
        let mut later: BTreeMap<NaiveDate, i128> = BTreeMap::new();
        let normal = account.account_type.normal_side();
        let signed = |side: Side, amount: i128| if side == normal { amount } else { -amount };
        for (day, side, amount) in rows {
            let side = Side::parse(&side).expect("stored sides are debit or credit");
            *later.entry(day).or_default() += signed(side, wide(amount));
        }
        for e in self.deferred.iter().flatten() {
            if e.effective_date > date {
                for p in e.postings.iter().filter(|p| p.account == account.code) {
                    *later.entry(e.effective_date).or_default() +=
                        signed(p.side, p.amount_minor as i128);
                }
            }
        }
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
        let Some((as_of, balance)) = overdrawn else {
            return Ok(());
        };
        Err(AppError::new(
            ErrorCode::InsufficientFunds,
            format!(
                "account {} ({}) would read {} {} as of {as_of}; it may not go below zero on any date",
                account.code,
                account.name,
                limits::format_wide(balance, account.currency),
                account.currency
            ),
        )
        .with("account", &account.code)
        .with(
            "available",
            limits::format_wide(available.max(0), account.currency),
        )
        .with("currency", account.currency.code())
        .with("as_of", as_of.to_string()))
    }

    /// Writes a prepared entry and its postings and moves the balances and chain
    /// head on. An error here leaves the transaction unusable: let it fail.
    pub fn commit(
        &mut self,
        conn: &mut DbConnection,
        prepared: PreparedEntry,
    ) -> AppResult<JournalEntry> {
        let PreparedEntry {
            entry,
            new_totals,
            new_fund_totals,
        } = prepared;
        assert_eq!(
            entry.sequence,
            self.last_sequence + 1,
            "entries are committed in the order prepared"
        );
        assert_eq!(
            entry.previous_hash, self.chain_head,
            "entries are committed in the order prepared"
        );
        match self.deferred.as_mut() {
            Some(pending) => pending.push(entry.clone()),
            None => self.insert(conn, std::slice::from_ref(&entry))?,
        }
        for (code, debits, credits) in new_totals {
            let account = self.accounts.get_mut(&code).expect("checked when prepared");
            account.debits_minor = debits;
            account.credits_minor = credits;
            self.changed.insert(code);
        }
        self.fund_totals.extend(new_fund_totals);
        self.last_sequence = entry.sequence;
        self.chain_head = entry.hash.clone();
        Ok(entry)
    }

    /// Inserts entries and their postings: one multi-row INSERT per table.
    fn insert(&self, conn: &mut DbConnection, entries: &[JournalEntry]) -> AppResult<()> {
        let entry_rows: Vec<_> = entries
            .iter()
            .map(|e| {
                (
                    journal_entries::id.eq(&e.id),
                    journal_entries::fund_id.eq(self.fund_id),
                    journal_entries::sequence.eq(e.sequence),
                    journal_entries::effective_date.eq(e.effective_date),
                    journal_entries::recorded_at.eq(e.recorded_at),
                    journal_entries::kind.eq(&e.kind),
                    journal_entries::memo.eq(&e.memo),
                    journal_entries::source_type.eq(&e.source_type),
                    journal_entries::source_id.eq(&e.source_id),
                    journal_entries::created_by.eq(&e.created_by),
                    journal_entries::reverses.eq(&e.reverses),
                    journal_entries::previous_hash.eq(&e.previous_hash),
                    journal_entries::hash.eq(&e.hash),
                )
            })
            .collect();
        let inserted = crate::insert_rows!(conn, journal_entries::table, entry_rows);
        if let Err(e) = inserted {
            // The unique index on `reverses`: the entry was reversed meanwhile.
            return match entries.iter().find_map(|e| e.reverses.as_ref()) {
                Some(reversed) if is_unique_violation(&e) => Err(already_reversed(reversed)),
                _ => Err(e.into()),
            };
        }
        let accounts = &self.accounts;
        let posting_rows: Vec<_> = entries
            .iter()
            .flat_map(|e| {
                e.postings.iter().enumerate().map(move |(line, p)| {
                    (
                        postings::entry_id.eq(&e.id),
                        postings::line.eq(line as i32 + 1),
                        postings::account_id.eq(accounts[&p.account].id),
                        postings::side.eq(p.side.as_str()),
                        postings::amount_minor.eq(p.amount_minor),
                        postings::currency.eq(p.currency.code()),
                        postings::effective_date.eq(e.effective_date),
                    )
                })
            })
            .collect();
        crate::insert_rows!(conn, postings::table, posting_rows)?;
        Ok(())
    }

    /// Writes the balances and the chain head. Call once, before commit.
    pub fn close(mut self, conn: &mut DbConnection) -> AppResult<()> {
        self.flush(conn)?;
        // One round trip for every changed account and the fund row. Every value
        // is an integer or the hex chain head this session computed, so they are
        // written as literals; `(VALUES …)` columns are column1… on both backends.
        let mut rows = Vec::with_capacity(self.changed.len());
        for code in &self.changed {
            let a = &self.accounts[code];
            assert!(
                limits::within_account_limit(a.debits_minor as i128)
                    && limits::within_account_limit(a.credits_minor as i128),
                "the account limits were checked before posting"
            );
            assert!(
                a.allow_negative || a.balance_minor() >= 0,
                "the overdraft guard was checked before posting"
            );
            rows.push(format!(
                "({}, {}, {})",
                a.id, a.debits_minor, a.credits_minor
            ));
        }
        assert!(
            self.chain_head.bytes().all(|b| b.is_ascii_hexdigit()),
            "the chain head is a hex digest"
        );
        let mut sql = String::new();
        if !rows.is_empty() {
            sql.push_str(&format!(
                "UPDATE accounts SET debits_minor = v.column2, credits_minor = v.column3 \
                 FROM (VALUES {}) AS v WHERE accounts.id = v.column1; ",
                rows.join(", ")
            ));
        }
        sql.push_str(&format!(
            "UPDATE funds SET last_sequence = {}, chain_head = '{}' WHERE id = {};",
            self.last_sequence, self.chain_head, self.fund_id
        ));
        conn.batch_execute(&sql)?;
        Ok(())
    }
}
