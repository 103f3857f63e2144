//! Accounts: the chart of accounts, creation and lookups.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AccountType;
use crate::db::schema::accounts;
use crate::db::{is_unique_violation, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::funds::FundId;
use crate::money::Currency;

/// An account with its maintained balance.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub fund_id: FundId,
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

/// An `accounts` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct AccountRow {
    id: i64,
    fund_id: FundId,
    code: String,
    name: String,
    account_type: String,
    currency: String,
    allow_negative: bool,
    debits_minor: i64,
    credits_minor: i64,
    created_at: NaiveDateTime,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Account {
        Account {
            id: row.id,
            fund_id: row.fund_id,
            code: row.code,
            name: row.name,
            account_type: AccountType::parse(&row.account_type)
                .expect("stored account types are valid"),
            currency: Currency::parse(&row.currency).expect("stored currencies are valid"),
            allow_negative: row.allow_negative,
            debits_minor: row.debits_minor,
            credits_minor: row.credits_minor,
            created_at: row.created_at,
        }
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

/// The codes of the standard accounts, named for what each account holds. Code
/// that books to a standard account names it through these; an account kept in
/// another currency than the fund's adds the currency (`rules::currency_account`).
pub mod account_code {
    pub const CASH: &str = "1000";
    pub const CASH_IN_TRANSIT: &str = "1100";
    /// What others owe the fund: contributions, and awards recovered from
    /// agencies and employers.
    pub const RECEIVABLES: &str = "1200";
    pub const BENEFITS_PAYABLE: &str = "2000";
    pub const TAXES_PAYABLE: &str = "2100";
    pub const REFUNDS_PAYABLE: &str = "2200";
    pub const FUND_RESERVE: &str = "3000";
    pub const OPENING_BALANCES: &str = "3100";
    pub const CONTRIBUTION_INCOME_BENEFIT_RESERVE: &str = "4000";
    pub const CONTRIBUTION_INCOME_ADMINISTRATION: &str = "4100";
    pub const GRANTS_AND_DONATIONS: &str = "4200";
    pub const INVESTMENT_INCOME: &str = "4300";
    pub const BENEFIT_EXPENSE_OTHER: &str = "5000";
    pub const BENEFIT_EXPENSE_DEATH: &str = "5100";
    pub const BENEFIT_EXPENSE_DISABILITY: &str = "5200";
    pub const BENEFIT_EXPENSE_REPATRIATION: &str = "5300";
    pub const BENEFIT_EXPENSE_MEDICAL: &str = "5400";
    pub const BENEFIT_EXPENSE_LEGAL_ASSISTANCE: &str = "5500";
    pub const BENEFIT_EXPENSE_EDUCATION_AND_LIVELIHOOD: &str = "5600";
    pub const ADMINISTRATIVE_EXPENSES: &str = "6000";
    pub const BANK_CHARGES: &str = "6100";
    /// Bulk transfers received and not yet matched to workers' contributions.
    pub const UNALLOCATED_RECEIPTS: &str = "2300";
    /// Awards the fund recovers from the agency or employer liable for them.
    pub const RECOVERIES: &str = "4400";
    /// Recoveries given up by a decision.
    pub const RECEIVABLES_WRITTEN_OFF: &str = "6200";
}

/// The standard chart of accounts every fund starts with, in its currency.
/// Cash may not go negative; benefit expense is split by benefit type.
pub fn chart_of_accounts(currency: Currency) -> Vec<NewAccount> {
    use account_code::*;
    use AccountType::*;
    let rows: [(&str, &str, AccountType, bool); 24] = [
        (CASH, "Cash at bank", Asset, false),
        (CASH_IN_TRANSIT, "Cash in transit", Asset, true),
        (RECEIVABLES, "Receivables", Asset, true),
        (BENEFITS_PAYABLE, "Benefits payable", Liability, true),
        (TAXES_PAYABLE, "Taxes payable", Liability, true),
        (REFUNDS_PAYABLE, "Refunds payable", Liability, true),
        (FUND_RESERVE, "Fund reserve", Equity, true),
        (OPENING_BALANCES, "Opening balances", Equity, true),
        (
            CONTRIBUTION_INCOME_BENEFIT_RESERVE,
            "Contribution income: benefit reserve",
            Revenue,
            true,
        ),
        (
            CONTRIBUTION_INCOME_ADMINISTRATION,
            "Contribution income: administration",
            Revenue,
            true,
        ),
        (GRANTS_AND_DONATIONS, "Grants and donations", Revenue, true),
        (INVESTMENT_INCOME, "Investment income", Revenue, true),
        (
            BENEFIT_EXPENSE_OTHER,
            "Benefit expense: other",
            Expense,
            true,
        ),
        (
            BENEFIT_EXPENSE_DEATH,
            "Benefit expense: death",
            Expense,
            true,
        ),
        (
            BENEFIT_EXPENSE_DISABILITY,
            "Benefit expense: disability",
            Expense,
            true,
        ),
        (
            BENEFIT_EXPENSE_REPATRIATION,
            "Benefit expense: repatriation",
            Expense,
            true,
        ),
        (
            BENEFIT_EXPENSE_MEDICAL,
            "Benefit expense: medical",
            Expense,
            true,
        ),
        (
            BENEFIT_EXPENSE_LEGAL_ASSISTANCE,
            "Benefit expense: legal assistance",
            Expense,
            true,
        ),
        (
            BENEFIT_EXPENSE_EDUCATION_AND_LIVELIHOOD,
            "Benefit expense: education and livelihood",
            Expense,
            true,
        ),
        (
            ADMINISTRATIVE_EXPENSES,
            "Administrative expenses",
            Expense,
            true,
        ),
        (BANK_CHARGES, "Bank charges", Expense, true),
        (
            UNALLOCATED_RECEIPTS,
            "Unallocated receipts",
            Liability,
            false,
        ),
        (
            RECOVERIES,
            "Recoveries from agencies and employers",
            Revenue,
            true,
        ),
        (
            RECEIVABLES_WRITTEN_OFF,
            "Receivables written off",
            Expense,
            true,
        ),
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
    fund_id: FundId,
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

pub fn list_accounts(conn: &mut DbConnection, fund_id: FundId) -> AppResult<Vec<Account>> {
    let rows = accounts::table
        .filter(accounts::fund_id.eq(fund_id))
        .order(accounts::code.asc())
        .select(AccountRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Account::from).collect())
}

pub fn find_account(
    conn: &mut DbConnection,
    fund_id: FundId,
    code: &str,
) -> AppResult<Option<Account>> {
    let row = accounts::table
        .filter(accounts::fund_id.eq(fund_id))
        .filter(accounts::code.eq(code))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Account::from))
}

/// Creates the standard account `base` (as the chart of accounts has it) kept
/// in `currency` in the fund, if missing: for a fund created before the
/// account joined the chart, or a currency other than the fund's (code and
/// name suffixed with the currency, as `rules::currency_account` names it).
/// Returns the account's code.
pub fn ensure_standard_account(
    conn: &mut DbConnection,
    fund_id: FundId,
    fund_currency: Currency,
    base: &str,
    currency: Currency,
) -> AppResult<String> {
    let code = crate::rules::currency_account(base, fund_currency, currency);
    if find_account(conn, fund_id, &code)?.is_some() {
        return Ok(code);
    }
    let standard = chart_of_accounts(currency)
        .into_iter()
        .find(|a| a.code == base)
        .ok_or_else(|| AppError::internal(format!("the chart of accounts has {base}")))?;
    let name = if currency == fund_currency {
        standard.name.clone()
    } else {
        format!("{} ({})", standard.name, currency.code())
    };
    create_account(
        conn,
        fund_id,
        &NewAccount {
            code: code.clone(),
            name,
            ..standard
        },
    )?;
    Ok(code)
}
