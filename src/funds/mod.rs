//! Funds: creation with the standard chart of accounts, lookups within a
//! caller's scope, and closing accounting periods.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::funds;
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ledger::{self, chain::GENESIS_HASH};
use crate::money::Currency;

mod country;
pub use country::is_country;

/// A fund's id. Amounts, sequence numbers and other tables' ids are `i64`
/// too; a function that takes a `FundId` cannot be handed one of them. It binds
/// and loads as the `BIGINT` it is stored as.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::BigInt)]
pub struct FundId(i64);

impl std::fmt::Display for FundId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::BigInt, DB> for FundId
where
    DB: diesel::backend::Backend,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, DB>,
    ) -> diesel::serialize::Result {
        self.0.to_sql(out)
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB> for FundId
where
    DB: diesel::backend::Backend,
    i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        i64::from_sql(bytes).map(FundId)
    }
}

#[derive(Debug, Clone)]
pub struct Fund {
    pub id: FundId,
    pub code: String,
    pub country: String,
    pub name: String,
    pub currency: Currency,
    pub closed_through: Option<NaiveDate>,
    pub last_sequence: i64,
    pub chain_head: String,
    pub created_at: NaiveDateTime,
}

/// A `funds` row. Its fields are in the table's column order: `RETURNING`
/// reads it as `funds::all_columns` (`as_returning()` does not compile through
/// the `DbConnection` enum).
#[derive(Queryable, Selectable)]
#[diesel(table_name = funds, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct FundRow {
    id: FundId,
    code: String,
    country: String,
    name: String,
    currency: String,
    closed_through: Option<NaiveDate>,
    last_sequence: i64,
    chain_head: String,
    created_at: NaiveDateTime,
}

impl From<FundRow> for Fund {
    fn from(row: FundRow) -> Fund {
        Fund {
            id: row.id,
            code: row.code,
            country: row.country,
            name: row.name,
            currency: Currency::parse(&row.currency).expect("stored currencies are valid"),
            closed_through: row.closed_through,
            last_sequence: row.last_sequence,
            chain_head: row.chain_head,
            created_at: row.created_at,
        }
    }
}

/// A new `funds` row: its id is assigned by the database.
#[derive(Insertable)]
#[diesel(table_name = funds)]
struct NewFundRow<'a> {
    code: &'a str,
    country: &'a str,
    name: &'a str,
    currency: &'a str,
    last_sequence: i64,
    chain_head: &'a str,
    created_at: NaiveDateTime,
}

/// A validated fund to create.
#[derive(Debug, Clone)]
pub struct NewFund {
    pub code: String,
    pub country: String,
    pub name: String,
    pub currency: Currency,
}

/// Fund codes: upper-case letters, digits and hyphens, starting with a letter,
/// 2 to 32 characters (`KE-MWF`, `ID-BPJS-PMI`).
pub fn is_fund_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !code.ends_with('-')
}

/// Creates the fund and its standard chart of accounts in the caller's transaction.
pub fn create_fund(conn: &mut DbConnection, new: &NewFund) -> AppResult<Fund> {
    let now = crate::time::now();
    let inserted = diesel::insert_into(funds::table)
        .values(NewFundRow {
            code: &new.code,
            country: &new.country,
            name: &new.name,
            currency: new.currency.code(),
            last_sequence: 0,
            chain_head: GENESIS_HASH,
            created_at: now,
        })
        .returning(funds::id)
        .get_result::<FundId>(conn);
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::new(
                ErrorCode::FundAlreadyExists,
                format!("fund {} already exists", new.code),
            )
            .with("fund", &new.code))
        }
        Err(e) => return Err(e.into()),
    };
    for account in ledger::chart_of_accounts(new.currency) {
        ledger::create_account(conn, id, &account)?;
    }
    Ok(Fund {
        id,
        code: new.code.clone(),
        country: new.country.clone(),
        name: new.name.clone(),
        currency: new.currency,
        closed_through: None,
        last_sequence: 0,
        chain_head: GENESIS_HASH.to_string(),
        created_at: now,
    })
}

pub fn find_fund(conn: &mut DbConnection, code: &str) -> AppResult<Option<Fund>> {
    Ok(funds::table
        .filter(funds::code.eq(code))
        .select(FundRow::as_select())
        .first(conn)
        .optional()?
        .map(Fund::from))
}

/// Funds in creation order after `after_id`, limited to `codes` unless `None` (all).
pub fn list_funds(
    conn: &mut DbConnection,
    codes: Option<&[String]>,
    after_id: i64,
    limit: i64,
) -> AppResult<Vec<Fund>> {
    let mut query = funds::table.filter(funds::id.gt(after_id)).into_boxed();
    if let Some(codes) = codes {
        query = query.filter(funds::code.eq_any(codes));
    }
    Ok(query
        .order(funds::id.asc())
        .limit(limit)
        .select(FundRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Fund::from)
        .collect())
}

pub fn all_fund_ids(conn: &mut DbConnection) -> AppResult<Vec<(FundId, String)>> {
    Ok(funds::table
        .order(funds::id.asc())
        .select((funds::id, funds::code))
        .load(conn)?)
}

/// Closes the books through `through`: afterwards no entry may be dated on or
/// before it. A period only moves forward.
pub fn close_period(conn: &mut DbConnection, fund: &Fund, through: NaiveDate) -> AppResult<Fund> {
    let updated = diesel::update(funds::table.find(fund.id))
        .filter(
            funds::closed_through
                .is_null()
                .or(funds::closed_through.lt(through)),
        )
        .set(funds::closed_through.eq(through))
        .returning(funds::all_columns)
        .get_result::<FundRow>(conn)
        .optional()?;
    match updated {
        Some(row) => Ok(Fund::from(row)),
        None => {
            let current = find_fund(conn, &fund.code)?.and_then(|f| f.closed_through);
            Err(AppError::new(
                ErrorCode::PeriodAlreadyClosed,
                format!(
                    "the books are already closed through {}; a close only moves forward",
                    current.map(|d| d.to_string()).unwrap_or_default()
                ),
            )
            .with("closed_through", current.map(|d| d.to_string())))
        }
    }
}

/// Proof that the transaction holds a fund's row lock, made only by
/// [`lock_fund`]. Functions that must run under the lock (a booking, a claim's
/// re-assessment, an enrollment's duplicate check, a rule publication) take
/// one, so a caller cannot forget to take it. It also carries what the lock
/// read: the ledger's head as of the lock, which only this transaction can now
/// change.
#[derive(Debug)]
pub struct FundLock {
    fund_id: FundId,
    pub(crate) code: String,
    pub(crate) last_sequence: i64,
    pub(crate) chain_head: String,
    pub(crate) closed_through: Option<NaiveDate>,
}

impl FundLock {
    pub fn fund_id(&self) -> FundId {
        self.fund_id
    }

    /// Whether this is the lock of `fund` (for `debug_assert!`s).
    pub fn holds(&self, fund: &Fund) -> bool {
        self.fund_id == fund.id
    }
}

/// Takes the fund's row lock for the rest of the transaction (an `UPDATE` of
/// its row, which orders every booking, re-assessment, enrollment and rule
/// publication of the fund across processes) and reads the ledger's head.
pub fn lock_fund(conn: &mut DbConnection, fund_id: FundId) -> AppResult<FundLock> {
    let (last_sequence, chain_head, closed_through, code) =
        diesel::update(funds::table.find(fund_id))
            .set(funds::last_sequence.eq(funds::last_sequence))
            .returning((
                funds::last_sequence,
                funds::chain_head,
                funds::closed_through,
                funds::code,
            ))
            .get_result(conn)?;
    Ok(FundLock {
        fund_id,
        code,
        last_sequence,
        chain_head,
        closed_through,
    })
}

/// The code of the fund with `id`.
pub fn fund_code(conn: &mut DbConnection, id: FundId) -> AppResult<String> {
    Ok(funds::table.find(id).select(funds::code).first(conn)?)
}
