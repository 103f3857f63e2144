//! A fund's ledger opened for booking inside one transaction.
//!
//! [`Booking::open`] takes the fund's row lock (every booking of a fund takes it
//! first, so bookings of one fund are ordered on any number of processes) and
//! reads the chain head and the account balances once. Entries posted through it
//! are inserted at once; the balances, the accounts' daily totals
//! (`account_daily_totals`) and the chain head are kept here and written back
//! once by [`Booking::close`]. A batch of thousands of entries therefore
//! updates each hot row (the fund, the cash account, today's totals of cash)
//! once per transaction instead of once per entry.
//!
//! Posting is two steps: [`Booking::prepare`] makes every check and writes
//! nothing; [`Booking::commit`] writes. A batch prepares an item (a refusal is that
//! item's answer and leaves no trace) and then commits it; a failure while writing
//! fails the whole transaction. So batches need no savepoints, which PostgreSQL
//! handles in quadratic time when a transaction holds thousands of them.

mod prepare;
mod reversal;

pub use prepare::{NewEntry, NewPosting};
pub use reversal::{book_reversal, reverse_entry, Reversal};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::accounts::{list_accounts, Account};
use super::entries::{totals_by_currency, JournalEntry};
use super::limits;
use super::Side;
use crate::db::schema::{journal_entries, postings};
use crate::db::{is_unique_violation, DbConnection};
use crate::error::AppResult;
use crate::funds::{lock_fund, FundId, FundLock};
use crate::money::Currency;

/// Books one entry in fund `fund_id` inside the caller's transaction: opens a
/// [`Booking`], posts, closes. See [`Booking::prepare`] for the checks.
pub fn post_entry(
    conn: &mut DbConnection,
    fund_id: FundId,
    entry: NewEntry,
) -> AppResult<JournalEntry> {
    book_alone(conn, fund_id, |conn, booking| booking.post(conn, entry))
}

/// Runs `book` in a [`Booking`] of its own on fund `fund_id`: opens it, and
/// closes it when `book` succeeds.
fn book_alone<T>(
    conn: &mut DbConnection,
    fund_id: FundId,
    book: impl FnOnce(&mut DbConnection, &mut Booking) -> AppResult<T>,
) -> AppResult<T> {
    let mut booking = Booking::open(conn, fund_id)?;
    let booked = book(conn, &mut booking)?;
    booking.close(conn)?;
    Ok(booked)
}

/// An open booking session on one fund's ledger. Call [`Booking::close`] before
/// the transaction commits.
#[must_use = "a Booking must be closed for its balances and chain head to be written"]
pub struct Booking {
    /// The fund's row lock, taken by [`Booking::open`].
    lock: FundLock,
    fund_id: FundId,
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
    deferred: Option<Unwritten>,
    /// What the committed entries add to `account_daily_totals`: (debits,
    /// credits) per (account id, effective date), written by [`Booking::close`].
    daily: BTreeMap<(i64, NaiveDate), (i64, i64)>,
}

/// Entries committed but not yet inserted, and where they continue the chain
/// as written.
struct Unwritten {
    /// The sequence and hash of the last entry inserted before them.
    after: (i64, String),
    entries: Vec<JournalEntry>,
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
    pub fn open(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Booking> {
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
            daily: BTreeMap::new(),
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
        if self.deferred.is_none() {
            self.deferred = Some(Unwritten {
                after: (self.last_sequence, self.chain_head.clone()),
                entries: Vec::new(),
            });
        }
    }

    /// Inserts the entries kept by [`Booking::defer_inserts`].
    pub fn flush(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        let Some(unwritten) = self.deferred.as_mut() else {
            return Ok(());
        };
        let entries = std::mem::take(&mut unwritten.entries);
        let Some(last) = entries.last() else {
            return Ok(());
        };
        let after = std::mem::replace(&mut unwritten.after, (last.sequence, last.hash.clone()));
        self.insert(conn, (after.0, &after.1), &entries)
    }

    /// The entries committed but not yet inserted, in sequence order.
    fn unwritten(&self) -> impl Iterator<Item = &JournalEntry> {
        self.deferred.iter().flat_map(|u| &u.entries)
    }

    pub fn fund_id(&self) -> FundId {
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
            Some(unwritten) => unwritten.entries.push(entry.clone()),
            None => self.insert(
                conn,
                (self.last_sequence, &self.chain_head),
                std::slice::from_ref(&entry),
            )?,
        }
        for p in &entry.postings {
            // Within an account's total, which `prepare` held to its limit.
            let day = self
                .daily
                .entry((self.accounts[&p.account].id, entry.effective_date))
                .or_default();
            match p.side {
                Side::Debit => day.0 += p.amount_minor,
                Side::Credit => day.1 += p.amount_minor,
            }
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
    /// `after` is the sequence and hash of the last entry inserted before.
    fn insert(
        &self,
        conn: &mut DbConnection,
        after: (i64, &str),
        entries: &[JournalEntry],
    ) -> AppResult<()> {
        debug_assert!(
            continues_chain(after, entries),
            "entries are written in sequence, each linked to the one before"
        );
        debug_assert!(
            entries.iter().all(is_balanced_and_positive),
            "an entry's postings are positive and balance per currency when it is written"
        );
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
                Some(reversed) if is_unique_violation(&e) => {
                    Err(reversal::already_reversed(reversed))
                }
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

    /// Writes the balances, the daily totals and the chain head. Call once,
    /// before commit.
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
        sql.push_str(&daily_totals_upsert(&self.daily));
        sql.push_str(&format!(
            "UPDATE funds SET last_sequence = {}, chain_head = '{}' WHERE id = {};",
            self.last_sequence, self.chain_head, self.fund_id
        ));
        conn.batch_execute(&sql)?;
        Ok(())
    }
}

/// Rows of `account_daily_totals` upserted in one statement at most.
const DAILY_CHUNK: usize = 1_000;

/// The statements that add `daily` to `account_daily_totals`: a multi-row
/// `INSERT … ON CONFLICT … DO UPDATE` (SQLite ≥ 3.24 and PostgreSQL) per
/// thousand rows, written as literals (integers and `YYYY-MM-DD` dates this
/// session computed). Postings are positive, so no row written is zero on
/// both sides; within the account limits no day's figure leaves 64 bits.
fn daily_totals_upsert(daily: &BTreeMap<(i64, NaiveDate), (i64, i64)>) -> String {
    let rows: Vec<String> = daily
        .iter()
        .map(|((account_id, day), (debits, credits))| {
            debug_assert!(*debits > 0 || *credits > 0, "a day's row has postings");
            format!(
                "({account_id}, '{}', {debits}, {credits})",
                day.format("%Y-%m-%d")
            )
        })
        .collect();
    rows.chunks(DAILY_CHUNK)
        .map(|chunk| {
            format!(
                "INSERT INTO account_daily_totals (account_id, day, debits_minor, credits_minor) \
                 VALUES {} ON CONFLICT (account_id, day) DO UPDATE SET \
                 debits_minor = account_daily_totals.debits_minor + excluded.debits_minor, \
                 credits_minor = account_daily_totals.credits_minor + excluded.credits_minor; ",
                chunk.join(", ")
            )
        })
        .collect()
}

/// Whether `entries` follow the entry with sequence and hash `after`, each the
/// next number and linked by its previous hash to the one before.
fn continues_chain(after: (i64, &str), entries: &[JournalEntry]) -> bool {
    let (mut sequence, mut hash) = after;
    entries.iter().all(|e| {
        let continues = e.sequence == sequence + 1 && e.previous_hash == hash;
        (sequence, hash) = (e.sequence, &e.hash);
        continues
    })
}

/// Whether every posting of `entry` is positive and its debits equal its
/// credits in every currency.
fn is_balanced_and_positive(entry: &JournalEntry) -> bool {
    let totals = totals_by_currency(
        entry
            .postings
            .iter()
            .map(|p| (p.side, p.amount_minor, p.currency)),
    );
    entry.postings.iter().all(|p| p.amount_minor > 0) && totals.values().all(|(d, c)| d == c)
}
