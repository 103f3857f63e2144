//! Accounts: the chart of accounts, creation and lookups.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AccountType;
use crate::db::schema::accounts;
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::money::Currency;

/// An account with its maintained balance.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub fund_id: i64,
    pub code: String,
    pub name: String,
    pub account_type: AccountType,
    pub currency: Currency,
    pub allow_negative: bool,
    pub debits_minor: i64,
    pub credits_minor: i64,
    pub created_at: NaiveDateTime,
}

impl Account {
    /// The balance on the account's normal side, in minor units.
    pub fn balance_minor(&self) -> i64 {
        self.account_type
            .balance(self.debits_minor, self.credits_minor)
    }
}

type AccountRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    bool,
    i64,
    i64,
    NaiveDateTime,
);

fn from_row(row: AccountRow) -> Account {
    let (
        id,
        fund_id,
        code,
        name,
        account_type,
        currency,
        allow_negative,
        debits_minor,
        credits_minor,
        created_at,
    ) = row;
    Account {
        id,
        fund_id,
        code,
        name,
        account_type: AccountType::parse(&account_type).expect("stored account types are valid"),
        currency: Currency::parse(&currency).expect("stored currencies are valid"),
        allow_negative,
        debits_minor,
        credits_minor,
        created_at,
    }
}

/// A validated account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub code: String,
    pub name: String,
    pub account_type: AccountType,
    pub currency: Currency,
    pub allow_negative: bool,
}

/// The standard chart of accounts every fund starts with, in its currency.
/// Cash may not go negative; benefit expense is split by benefit type.
pub fn chart_of_accounts(currency: Currency) -> Vec<NewAccount> {
    use AccountType::*;
    let rows: [(&str, &str, AccountType, bool); 21] = [
        ("1000", "Cash at bank", Asset, false),
        ("1100", "Cash in transit", Asset, true),
        ("1200", "Contributions receivable", Asset, true),
        ("2000", "Benefits payable", Liability, true),
        ("2100", "Taxes payable", Liability, true),
        ("2200", "Refunds payable", Liability, true),
        ("3000", "Fund reserve", Equity, true),
        ("3100", "Opening balances", Equity, true),
        (
            "4000",
            "Contribution income: benefit reserve",
            Revenue,
            true,
        ),
        ("4100", "Contribution income: administration", Revenue, true),
        ("4200", "Grants and donations", Revenue, true),
        ("4300", "Investment income", Revenue, true),
        ("5000", "Benefit expense: other", Expense, true),
        ("5100", "Benefit expense: death", Expense, true),
        ("5200", "Benefit expense: disability", Expense, true),
        ("5300", "Benefit expense: repatriation", Expense, true),
        ("5400", "Benefit expense: medical", Expense, true),
        ("5500", "Benefit expense: legal assistance", Expense, true),
        (
            "5600",
            "Benefit expense: education and livelihood",
            Expense,
            true,
        ),
        ("6000", "Administrative expenses", Expense, true),
        ("6100", "Bank charges", Expense, true),
    ];
    rows.iter()
        .map(|(code, name, account_type, allow_negative)| NewAccount {
            code: code.to_string(),
            name: name.to_string(),
            account_type: *account_type,
            currency,
            allow_negative: *allow_negative,
        })
        .collect()
}

/// Creates an account in `fund_id`; a code already used in the fund is a 409.
pub fn create_account(
    conn: &mut DbConnection,
    fund_id: i64,
    new: &NewAccount,
) -> AppResult<Account> {
    let now = crate::time::now();
    let inserted = diesel::insert_into(accounts::table)
        .values((
            accounts::fund_id.eq(fund_id),
            accounts::code.eq(&new.code),
            accounts::name.eq(&new.name),
            accounts::account_type.eq(new.account_type.as_str()),
            accounts::currency.eq(new.currency.code()),
            accounts::allow_negative.eq(new.allow_negative),
            accounts::debits_minor.eq(0i64),
            accounts::credits_minor.eq(0i64),
            accounts::created_at.eq(now),
        ))
        .returning(accounts::id)
        .get_result::<i64>(conn);
    match inserted {
        Ok(id) => Ok(Account {
            id,
            fund_id,
            code: new.code.clone(),
            name: new.name.clone(),
            account_type: new.account_type,
            currency: new.currency,
            allow_negative: new.allow_negative,
            debits_minor: 0,
            credits_minor: 0,
            created_at: now,
        }),
        Err(e) if is_unique_violation(&e) => Err(AppError::new(
            ErrorCode::AccountAlreadyExists,
            format!("account {} already exists in this fund", new.code),
        )
        .with("account", &new.code)),
        Err(e) => Err(e.into()),
    }
}

pub fn list_accounts(conn: &mut DbConnection, fund_id: i64) -> AppResult<Vec<Account>> {
    let rows = accounts::table
        .filter(accounts::fund_id.eq(fund_id))
        .order(accounts::code.asc())
        .select(accounts::all_columns)
        .load::<AccountRow>(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub fn find_account(
    conn: &mut DbConnection,
    fund_id: i64,
    code: &str,
) -> AppResult<Option<Account>> {
    let row = accounts::table
        .filter(accounts::fund_id.eq(fund_id))
        .filter(accounts::code.eq(code))
        .select(accounts::all_columns)
        .first::<AccountRow>(conn)
        .optional()?;
    Ok(row.map(from_row))
}
