//! What the readers of a fund's entries share: the range of entries they
//! read ([`EntryRange`]), the query of a fund's entries in a range, and the
//! threads that read the next page while the caller handles the one before
//! ([`read_ahead`], [`read_ahead_in_two`]). The whole-ledger reader itself,
//! a page of entries with their postings at a time, is `pages.rs`.

use chrono::NaiveDate;
use diesel::dsl::{max, min};
use diesel::prelude::*;

use crate::db::schema::journal_entries;
use crate::db::{DbBackend, DbConnection};
use crate::error::AppResult;
use crate::funds::FundId;

/// Which of a fund's entries to read: effective dates from `from` to `to`
/// (inclusive; open ends when absent), sequences after `after` up to
/// `through`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<i64>,
    pub through: Option<i64>,
}

type EntriesQuery<'a> = journal_entries::BoxedQuery<'a, DbBackend>;

/// The boxed query of a fund's entries in `range` for one backend, in no
/// particular order (a macro: diesel's bounds for a query generic over the
/// backend are longer than the query).
macro_rules! fund_entries_in {
    ($backend:ty, $fund_id:expr, $range:expr) => {{
        let range: &$crate::ledger::EntryRange = $range;
        let mut query = journal_entries::table
            .filter(journal_entries::fund_id.eq($fund_id))
            .into_boxed::<$backend>();
        if let Some(from) = range.from {
            query = query.filter(journal_entries::effective_date.ge(from));
        }
        if let Some(to) = range.to {
            query = query.filter(journal_entries::effective_date.le(to));
        }
        if let Some(after) = range.after {
            query = query.filter(journal_entries::sequence.gt(after));
        }
        if let Some(through) = range.through {
            query = query.filter(journal_entries::sequence.le(through));
        }
        query
    }};
}
pub(super) use fund_entries_in;

/// A fund's entries in `range`, in no particular order.
pub(super) fn entries_in_range<'a>(fund_id: FundId, range: &EntryRange) -> EntriesQuery<'a> {
    fund_entries_in!(DbBackend, fund_id, range)
}

/// Reads with `read` on a second thread, one item ahead, while `consume`
/// handles the item before on this one: the database read of the next page
/// overlaps the hashing or writing of the last. Stops at the first error of
/// either side (the reader then stops at its next item) or when `read` gives
/// `None`.
pub fn read_ahead<T, E>(
    read: impl FnMut() -> Result<Option<T>, E> + Send,
    mut consume: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: Send,
{
    std::thread::scope(|scope| {
        let (rx, reader) = read_on(scope, read);
        let mut outcome = Ok(());
        for item in rx.iter() {
            if let Err(e) = item.and_then(&mut consume) {
                outcome = Err(e);
                break;
            }
        }
        drop(rx);
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

/// [`read_ahead`] in two stages, each on a thread of its own: `first` reads
/// an item (a page's entries), `second` completes the item before (their
/// postings), and `consume` handles the one before that, so two reads are in
/// flight at once (on two connections) while the last item is handled.
pub fn read_ahead_in_two<A, B, E>(
    first: impl FnMut() -> Result<Option<A>, E> + Send,
    mut second: impl FnMut(A) -> Result<B, E> + Send,
    consume: impl FnMut(B) -> Result<(), E>,
) -> Result<(), E>
where
    A: Send,
    B: Send,
    E: Send,
{
    std::thread::scope(|scope| {
        let (rx, reader) = read_on(scope, first);
        let outcome = read_ahead(
            move || match rx.recv() {
                Ok(item) => item.and_then(&mut second).map(Some),
                Err(_) => Ok(None),
            },
            consume,
        );
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

/// Calls `read` on a thread of `scope` until it gives `None` or an error, or
/// until the receiver is dropped, sending each item one ahead.
fn read_on<'scope, T, E>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    mut read: impl FnMut() -> Result<Option<T>, E> + Send + 'scope,
) -> (
    std::sync::mpsc::Receiver<Result<T, E>>,
    std::thread::ScopedJoinHandle<'scope, ()>,
)
where
    T: Send + 'scope,
    E: Send + 'scope,
{
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<T, E>>(1);
    let reader = scope.spawn(move || loop {
        let item = match read() {
            Ok(Some(item)) => Ok(item),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = item.is_err();
        if tx.send(item).is_err() || failed {
            return;
        }
    });
    (rx, reader)
}

/// The last sequence of the first `limit` entries of `range`, when entries of
/// the range remain after them (where a limited page ends).
pub fn page_end(
    conn: &mut DbConnection,
    fund_id: FundId,
    range: &EntryRange,
    limit: i64,
) -> AppResult<Option<i64>> {
    let ends: Vec<i64> = entries_in_range(fund_id, range)
        .order(journal_entries::sequence.asc())
        .select(journal_entries::sequence)
        .offset(limit - 1)
        .limit(2)
        .load(conn)?;
    Ok((ends.len() == 2).then(|| ends[0]))
}

/// The earliest and the latest effective date of the fund's entries.
pub fn effective_dates(
    conn: &mut DbConnection,
    fund_id: FundId,
) -> AppResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    Ok(journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .select((
            min(journal_entries::effective_date),
            max(journal_entries::effective_date),
        ))
        .first(conn)?)
}
