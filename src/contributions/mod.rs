//! Contributions: quoting under the rules in force on the payment date,
//! recording (with the journal entry that books it, in the same transaction),
//! reversal and listing.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::events::{kind as event_kind, NewEvent};
use crate::db::schema::{contribution_payers, contributions, workers};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ErrorCode, FieldError, Refusal};
use crate::funds::{lock_fund, Fund, FundId, FundLock};
use crate::ledger::account_code;
use crate::ledger::{self, Booking, NewEntry, NewPosting, PreparedEntry, Reversal, Side};
use crate::money::{format_minor, Currency};
use crate::rules::document::{PayerType, RuleDocument};
use crate::rules::evaluate::{quote as quote_rules, version_in_force, Quote, QuoteError};
use crate::rules::{currency_account, version_table};
use crate::workers::{find_contract, fund_of_worker, workers_with_contracts, Contract};

/// Entry kinds booked by contributions.
pub const ENTRY_KIND: &str = "contribution";
pub const REVERSAL_KIND: &str = "contribution_reversal";

#[derive(Debug, Clone)]
pub struct NewPayer {
    pub payer_type: PayerType,
    pub amount_minor: i64,
    pub reference: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub amount_minor: i64,
    pub currency: Currency,
    pub exchange_rate: Decimal,
}

/// A contribution to record, parsed at the edge.
#[derive(Debug, Clone)]
pub struct NewContribution {
    pub worker_id: String,
    pub contract_id: Option<String>,
    pub paid_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: Currency,
    pub payers: Vec<NewPayer>,
    pub external_ref: Option<String>,
    pub received: Option<Received>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaxLine {
    pub code: String,
    pub rate: String,
    pub amount_minor: i64,
}

#[derive(Debug, Clone)]
pub struct Payer {
    pub payer_type: String,
    pub amount_minor: i64,
    pub reference: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Contribution {
    pub id: String,
    pub fund_code: String,
    pub worker_id: String,
    pub contract_id: Option<String>,
    pub rule_version: String,
    pub paid_on: NaiveDate,
    pub currency: Currency,
    pub amount_minor: i64,
    pub taxes: Vec<TaxLine>,
    pub total_minor: i64,
    pub benefit_reserve_minor: i64,
    pub administration_minor: i64,
    pub external_ref: Option<String>,
    pub received: Option<(i64, Currency, String)>,
    pub coverage_start: NaiveDate,
    pub coverage_end: NaiveDate,
    pub coverage_basis: String,
    pub grace_days: i32,
    pub journal_entry_id: String,
    pub status: String,
    pub reversal_entry_id: Option<String>,
    pub reversal_reason: Option<String>,
    pub reversed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub payers: Vec<Payer>,
}

/// A quote together with the version that produced it.
#[derive(Debug, Clone)]
pub struct VersionedQuote {
    pub rule_version: String,
    pub quote: Quote,
    /// Who may pay under that version.
    pub payers: Vec<PayerType>,
    /// Sectors whose contribution the employer alone pays under that version.
    pub employer_pays_for_sectors: Vec<String>,
}

impl VersionedQuote {
    /// Whether the version puts the contribution of a worker of `sector` on
    /// the employer alone.
    fn employer_alone(&self, sector: Option<&str>) -> bool {
        sector.is_some_and(|s| self.employer_pays_for_sectors.iter().any(|x| x == s))
    }

    /// Who may pay for a worker of `sector`: the employer alone where the
    /// version says so, else every payer it names (what recording accepts).
    pub fn payers_for(&self, sector: Option<&str>) -> Vec<PayerType> {
        if self.employer_alone(sector) {
            vec![PayerType::Employer]
        } else {
            self.payers.clone()
        }
    }
}

fn quote_error(e: QuoteError) -> AppError {
    let code = match e {
        QuoteError::ContractRequired(_) => ErrorCode::ContractRequired,
        QuoteError::ContractEndedBeforePayment(_) => ErrorCode::ContractEnded,
        QuoteError::WageRequired | QuoteError::WageCurrencyMismatch { .. } => {
            ErrorCode::WageRequired
        }
        QuoteError::AmountTooLarge => ErrorCode::ValidationFailed,
    };
    let error = AppError::new(code, e.to_string());
    match e {
        QuoteError::ContractRequired(_) => error.with_errors(vec![FieldError::new(
            "contract_id",
            "required",
            "name the contract the contribution pays for",
        )]),
        _ => error,
    }
}

/// A fund's rule versions, read once per transaction (after the fund lock, so
/// they cannot change until it commits) and used for every item of a batch.
pub struct FundRules {
    fund_code: String,
    versions: Vec<(NaiveDate, (String, RuleDocument))>,
}

impl FundRules {
    pub fn load(conn: &mut DbConnection, fund: &Fund) -> AppResult<FundRules> {
        Ok(FundRules {
            fund_code: fund.code.clone(),
            versions: version_table(conn, fund.id)?,
        })
    }

    /// The version label and document in force on `date`.
    pub fn in_force(&self, date: NaiveDate) -> AppResult<(&str, &RuleDocument)> {
        version_in_force(&self.versions, date)
            .map(|(label, doc)| (label.as_str(), doc))
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NoRulesInForce,
                    format!("fund {} has no rules in force on {date}", self.fund_code),
                )
                .with("date", date.to_string())
            })
    }

    /// What the rules in force on `paid_on` expect for this contract, from a
    /// worker whose earliest standing contribution was paid on `first_paid_on`.
    pub fn quote(
        &self,
        contract: Option<&Contract>,
        paid_on: NaiveDate,
        first_paid_on: Option<NaiveDate>,
    ) -> AppResult<VersionedQuote> {
        let (rule_version, doc) = self.in_force(paid_on)?;
        let terms = contract.map(|c| c.terms());
        let quote =
            quote_rules(doc, paid_on, terms.as_ref(), first_paid_on).map_err(quote_error)?;
        Ok(VersionedQuote {
            rule_version: rule_version.to_string(),
            quote,
            payers: doc.contribution.payers.clone(),
            employer_pays_for_sectors: (doc.contribution.employer_pays_for_sectors.clone())
                .unwrap_or_default(),
        })
    }

    /// Whether any version prices renewals apart, so quoting needs the
    /// workers' earliest standing contributions.
    pub fn price_renewals(&self) -> bool {
        (self.versions.iter()).any(|(_, (_, doc))| doc.contribution.renewal.is_some())
    }

    /// Whether any version puts some sector's contributions on the employer,
    /// so recording needs the workers' sectors.
    fn name_employer_sectors(&self) -> bool {
        self.versions.iter().any(|(_, (_, doc))| {
            (doc.contribution.employer_pays_for_sectors.as_ref()).is_some_and(|s| !s.is_empty())
        })
    }
}

/// Records contributions of one fund in the caller's transaction, as a batch,
/// a group of single requests or the demo asks: each item is recorded and
/// booked, or refused having written nothing (its refusal is its answer, and
/// the others go on). The outer `Err` is a failure that spoils the transaction
/// (roll it back: `?` does). `items` pairs each contribution with who records
/// it. The fund's ledger is opened once (which locks the fund), its rules and
/// what the items name are read in a few queries, and the rows are inserted
/// with one multi-row INSERT per table, so a batch costs a few statements
/// however many contributions it holds.
pub fn record_many(
    conn: &mut DbConnection,
    fund: &Fund,
    items: &[(&NewContribution, &str)],
) -> AppResult<Vec<Result<Recorded, Refusal>>> {
    record_many_from(conn, fund, items, Funding::Cash)
}

/// Where the money a contribution books comes from: its debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funding {
    /// Paid in for it: cash at bank.
    Cash,
    /// Part of a bulk transfer already booked to cash and held as unallocated
    /// receipts until matched to it (`receipts`).
    UnallocatedReceipts,
}

impl Funding {
    /// The standard account the contribution's total is debited to.
    fn account(self) -> &'static str {
        match self {
            Funding::Cash => account_code::CASH,
            Funding::UnallocatedReceipts => account_code::UNALLOCATED_RECEIPTS,
        }
    }
}

/// [`record_many`], with each contribution's total debited to `funding`.
pub fn record_many_from(
    conn: &mut DbConnection,
    fund: &Fund,
    items: &[(&NewContribution, &str)],
    funding: Funding,
) -> AppResult<Vec<Result<Recorded, Refusal>>> {
    let mut recorder = begin_recording(conn, fund, items.iter().map(|(new, _)| *new))?;
    recorder.funding = funding;
    let recorded = items
        .iter()
        .map(|(new, created_by)| recorder.record(conn, fund, new, created_by))
        .collect::<AppResult<Vec<_>>>()?;
    recorder.finish(conn)?;
    debug_assert_eq!(recorded.len(), items.len());
    Ok(recorded)
}

/// Records contributions of one fund within one transaction: the fund's
/// ledger opened for booking (which locks the fund) and its rules read once.
/// Rows are kept in memory and inserted by [`Recorder::finish`].
struct Recorder {
    rules: FundRules,
    booking: Booking,
    /// The contributions already recorded under the items' `external_ref`s,
    /// read in one go (and those recorded since).
    known_refs: HashMap<String, Contribution>,
    /// The fund's workers named by the items, with their contracts.
    known_workers: HashMap<String, Vec<Contract>>,
    /// The occupation sectors of those workers, read only when a rule version
    /// makes the employer pay for some sectors.
    sectors: HashMap<String, Option<String>>,
    /// Contributions booked and not yet inserted.
    pending: Vec<Contribution>,
    /// The payment date of each worker's earliest standing contribution, read
    /// only when a rule version prices renewals apart (and kept up to date
    /// with the contributions recorded since).
    first_paid: HashMap<String, NaiveDate>,
    /// Where their money comes from.
    funding: Funding,
}

/// External references read per query when a batch preloads them.
const REF_CHUNK: usize = 500;

/// Opens the fund's ledger and reads its rules: once per transaction, before
/// recording `items` in it. Reads in a few queries what recording them would
/// look up one by one: the contributions already recorded under their external
/// references, and their workers with their contracts. The fund lock, taken
/// first, keeps other processes from recording under the same references until
/// this transaction ends. Finish with [`Recorder::finish`].
fn begin_recording<'a>(
    conn: &mut DbConnection,
    fund: &Fund,
    items: impl IntoIterator<Item = &'a NewContribution>,
) -> AppResult<Recorder> {
    let mut booking = Booking::open(conn, fund.id)?;
    booking.defer_inserts();
    let rules = FundRules::load(conn, fund)?;
    let mut refs = Vec::new();
    let mut workers = Vec::new();
    for item in items {
        refs.extend(item.external_ref.as_deref());
        workers.push(item.worker_id.as_str());
    }
    workers.sort_unstable();
    workers.dedup();
    let mut known_refs = HashMap::new();
    for chunk in refs.chunks(REF_CHUNK) {
        let rows: Vec<ContributionRow> = contributions::table
            .filter(contributions::fund_id.eq(fund.id))
            .filter(contributions::external_ref.eq_any(chunk))
            .select(contributions::all_columns)
            .load(conn)?;
        for c in load(conn, rows)? {
            if let Some(r) = c.external_ref.clone() {
                known_refs.insert(r, c);
            }
        }
    }
    let sectors = if rules.name_employer_sectors() {
        sectors_of(conn, fund.id, &workers)?
    } else {
        HashMap::new()
    };
    let first_paid = if rules.price_renewals() {
        first_paid_on(conn, fund.id, &workers)?
    } else {
        HashMap::new()
    };
    Ok(Recorder {
        rules,
        booking,
        known_refs,
        known_workers: workers_with_contracts(conn, fund.id, &workers)?,
        sectors,
        pending: Vec::new(),
        first_paid,
        funding: Funding::Cash,
    })
}

/// The payment date of the earliest standing (recorded, not reversed)
/// contribution of each of the fund's workers among `ids` that has one.
pub fn first_paid_on(
    conn: &mut DbConnection,
    fund_id: FundId,
    ids: &[&str],
) -> AppResult<HashMap<String, NaiveDate>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(REF_CHUNK) {
        // By worker alone, the fund checked here: with `fund_id = ?` in the
        // query SQLite's planner reads the whole fund through its (fund_id, …) index.
        let rows: Vec<(String, FundId, Option<NaiveDate>)> = contributions::table
            .filter(contributions::worker_id.eq_any(chunk))
            .filter(contributions::status.eq("recorded"))
            .group_by((contributions::worker_id, contributions::fund_id))
            .select((
                contributions::worker_id,
                contributions::fund_id,
                diesel::dsl::min(contributions::paid_on),
            ))
            .load(conn)?;
        found.extend(
            rows.into_iter()
                .filter(|(_, fund, _)| *fund == fund_id)
                .filter_map(|(w, _, d)| Some((w, d?))),
        );
    }
    Ok(found)
}

/// The occupation sector of a worker of the fund (`None`: none recorded, or
/// no such worker).
pub fn sector_of(
    conn: &mut DbConnection,
    fund_id: FundId,
    worker_id: &str,
) -> AppResult<Option<String>> {
    Ok(sectors_of(conn, fund_id, &[worker_id])?
        .remove(worker_id)
        .flatten())
}

fn sectors_of(
    conn: &mut DbConnection,
    fund_id: FundId,
    ids: &[&str],
) -> AppResult<HashMap<String, Option<String>>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(REF_CHUNK) {
        // By id alone, the fund checked here (see `first_paid_on`).
        let rows: Vec<(String, FundId, Option<String>)> = workers::table
            .filter(workers::id.eq_any(chunk))
            .select((workers::id, workers::fund_id, workers::occupation_sector))
            .load(conn)?;
        found.extend(
            rows.into_iter()
                .filter(|(_, fund, _)| *fund == fund_id)
                .map(|(id, _, sector)| (id, sector)),
        );
    }
    Ok(found)
}

impl Recorder {
    /// Records one contribution. The outer `Err` is a failure that spoils the
    /// transaction; the inner `Err` is a refusal that wrote nothing.
    fn record(
        &mut self,
        conn: &mut DbConnection,
        fund: &Fund,
        new: &NewContribution,
        created_by: &str,
    ) -> AppResult<Result<Recorded, Refusal>> {
        match plan(conn, fund, self, new, created_by) {
            Ok(Plan::Existing(c)) => Ok(Ok(Recorded::Existing(c))),
            Ok(Plan::New(c, entry)) => {
                let entry = self.booking.commit(conn, entry)?;
                let event = recorded_event(&c, &entry.id);
                if let Some(r) = &c.external_ref {
                    self.known_refs.insert(r.clone(), (*c).clone());
                }
                let first = self
                    .first_paid
                    .entry(c.worker_id.clone())
                    .or_insert(c.paid_on);
                *first = (*first).min(c.paid_on);
                self.pending.push((*c).clone());
                Ok(Ok(Recorded::Created(*c, event)))
            }
            Err(AppError::Refused(refusal)) => Ok(Err(*refusal)),
            Err(failure) => Err(failure),
        }
    }

    /// Inserts the journal entries and the contributions recorded, then writes
    /// the ledger's balances and chain head; call before commit.
    fn finish(mut self, conn: &mut DbConnection) -> AppResult<()> {
        self.booking.flush(conn)?;
        insert(conn, self.booking.fund_id(), &self.pending)?;
        self.booking.close(conn)
    }
}

/// Finds the worker (in this fund) and the named contract (of this worker);
/// `field_prefix` locates the fields in a batch item.
pub fn worker_and_contract(
    conn: &mut DbConnection,
    fund: &Fund,
    worker_id: &str,
    contract_id: Option<&str>,
    field_prefix: &str,
) -> AppResult<(String, Option<Contract>)> {
    let worker = fund_of_worker(conn, worker_id)?
        .filter(|fund_id| *fund_id == fund.id)
        .map(|_| worker_id.to_string())
        .ok_or_else(|| unknown_worker(field_prefix, worker_id, fund))?;
    let contract = match contract_id {
        Some(id) => Some(
            find_contract(conn, &worker, id)?
                .ok_or_else(|| unknown_contract(field_prefix, &worker, id))?,
        ),
        None => None,
    };
    Ok((worker, contract))
}

fn unknown_worker(field_prefix: &str, worker_id: &str, fund: &Fund) -> AppError {
    AppError::field(
        &format!("{field_prefix}worker_id"),
        "unknown_worker",
        format!("no worker {worker_id} in fund {}", fund.code),
    )
}

fn unknown_contract(field_prefix: &str, worker_id: &str, contract_id: &str) -> AppError {
    AppError::field(
        &format!("{field_prefix}contract_id"),
        "unknown_contract",
        format!("worker {worker_id} has no contract {contract_id}"),
    )
}

/// [`worker_and_contract`] from the workers and contracts read beforehand.
fn known_worker_and_contract(
    known: &HashMap<String, Vec<Contract>>,
    fund: &Fund,
    new: &NewContribution,
    field_prefix: &str,
) -> AppResult<(String, Option<Contract>)> {
    let worker_id = &new.worker_id;
    let contracts = known
        .get(worker_id)
        .ok_or_else(|| unknown_worker(field_prefix, worker_id, fund))?;
    let contract = match new.contract_id.as_deref() {
        Some(id) => Some(
            contracts
                .iter()
                .find(|c| c.id == id)
                .cloned()
                .ok_or_else(|| unknown_contract(field_prefix, worker_id, id))?,
        ),
        None => None,
    };
    Ok((worker_id.clone(), contract))
}

/// The outcome of recording: a new contribution, or the one already recorded
/// under the same `external_ref`.
pub enum Recorded {
    Created(Contribution, NewEvent),
    Existing(Contribution),
}

/// What recording a contribution will do, decided before anything is written.
enum Plan {
    Existing(Contribution),
    New(Box<Contribution>, PreparedEntry),
}

/// Makes every check of a contribution under the fund's rules and prepares
/// its journal entry, writing nothing: a refusal leaves no trace, so a batch
/// item needs no savepoint. Field paths are the item's own (`/worker_id`);
/// a batch puts them under the item's position.
fn plan(
    conn: &mut DbConnection,
    fund: &Fund,
    recorder: &Recorder,
    new: &NewContribution,
    created_by: &str,
) -> AppResult<Plan> {
    if let Some(existing) = already_recorded(recorder, new)? {
        return Ok(Plan::Existing(existing));
    }
    let (worker, contract) = known_worker_and_contract(&recorder.known_workers, fund, new, "/")?;
    let first_paid_on = recorder.first_paid.get(&worker).copied();
    let versioned = recorder
        .rules
        .quote(contract.as_ref(), new.paid_on, first_paid_on)?;
    check_amount(new, &versioned)?;
    check_payers(new, &versioned)?;
    let sector = recorder.sectors.get(&worker).and_then(Option::as_deref);
    check_employer_pays(new, &versioned, sector)?;
    let VersionedQuote {
        rule_version,
        quote,
        ..
    } = versioned;
    let id = Uuid::now_v7().to_string();
    let prepared = recorder.booking.prepare(
        conn,
        NewEntry {
            effective_date: new.paid_on,
            kind: ENTRY_KIND,
            memo: format!("Contribution of worker {worker} under {rule_version}"),
            source: Some(("contribution".to_string(), id.clone())),
            created_by: created_by.to_string(),
            reverses: None,
            postings: postings(fund, &quote, recorder.funding),
        },
    )?;
    let decided = Decided {
        id,
        worker,
        rule_version,
        journal_entry_id: prepared.entry().id.clone(),
        created_by,
    };
    let contribution = decided.contribution(fund, new, &quote);
    Ok(Plan::New(Box::new(contribution), prepared))
}

/// The contribution already recorded under the item's `external_ref`, if it
/// has the same details; a reference used for other details is refused.
fn already_recorded(recorder: &Recorder, new: &NewContribution) -> AppResult<Option<Contribution>> {
    let Some(external_ref) = &new.external_ref else {
        return Ok(None);
    };
    let Some(existing) = recorder.known_refs.get(external_ref) else {
        return Ok(None);
    };
    let same = existing.worker_id == new.worker_id
        && existing.paid_on == new.paid_on
        && existing.amount_minor == new.amount_minor
        && existing.currency == new.currency;
    if !same {
        return Err(AppError::new(
            ErrorCode::ExternalRefConflict,
            format!(
                "external_ref {external_ref} already names contribution {} with other details",
                existing.id
            ),
        )
        .with("contribution_id", &existing.id));
    }
    Ok(Some(existing.clone()))
}

/// Refuses an amount or currency other than the rules in force expect.
fn check_amount(new: &NewContribution, versioned: &VersionedQuote) -> AppResult<()> {
    let VersionedQuote {
        rule_version,
        quote,
        ..
    } = versioned;
    if quote.currency == new.currency && quote.amount_minor == new.amount_minor {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::ContributionAmountMismatch,
        format!(
            "the rules in force on {} ({rule_version}) expect {} {} (plus taxes {}), not {} {}",
            new.paid_on,
            format_minor(quote.amount_minor, quote.currency),
            quote.currency,
            format_minor(quote.total_minor - quote.amount_minor, quote.currency),
            format_minor(new.amount_minor, new.currency),
            new.currency
        ),
    )
    .with(
        "expected",
        json!({
            "amount": format_minor(quote.amount_minor, quote.currency),
            "currency": quote.currency.code(),
            "total": format_minor(quote.total_minor, quote.currency),
            "rule_version": rule_version,
        }),
    ))
}

/// Refuses payers the rules in force do not accept (each named), and parts
/// that do not add up to the contribution with its taxes.
fn check_payers(new: &NewContribution, versioned: &VersionedQuote) -> AppResult<()> {
    let VersionedQuote {
        rule_version,
        quote,
        payers: allowed,
        ..
    } = versioned;
    let errors: Vec<FieldError> = (new.payers.iter().enumerate())
        .filter(|(_, payer)| !allowed.contains(&payer.payer_type))
        .map(|(i, _)| {
            let accepted: Vec<&str> = allowed.iter().map(|p| p.as_str()).collect();
            FieldError::new(
                format!("/payers/{i}/type"),
                "payer_not_allowed",
                format!(
                    "{rule_version} accepts payments from {}",
                    accepted.join(", ")
                ),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let paid: i64 = new.payers.iter().map(|p| p.amount_minor).sum();
    if paid == quote.total_minor {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::PayersDoNotAddUp,
        format!(
            "the payers' parts add up to {} but the contribution with taxes is {} {}",
            format_minor(paid, quote.currency),
            format_minor(quote.total_minor, quote.currency),
            quote.currency
        ),
    )
    .with(
        "expected_total",
        format_minor(quote.total_minor, quote.currency),
    ))
}

/// Refuses a contribution for a worker whose sector the rules in force put on
/// the employer unless the employer alone pays it (`/payers`, `employer_must_pay`).
fn check_employer_pays(
    new: &NewContribution,
    versioned: &VersionedQuote,
    sector: Option<&str>,
) -> AppResult<()> {
    if !versioned.employer_alone(sector)
        || (new.payers.iter()).all(|p| p.payer_type == PayerType::Employer)
    {
        return Ok(());
    }
    let sector = sector.unwrap_or_default();
    Err(AppError::validation(vec![FieldError::new(
        "/payers",
        "employer_must_pay",
        format!(
            "{} puts the contribution of a worker in {sector} on the employer: name only employer payers",
            versioned.rule_version
        ),
    )]))
}

/// The contribution's postings: cash received (or the `funding` that holds
/// it), credited to the benefit reserve, administration and the taxes collected.
fn postings(fund: &Fund, quote: &Quote, funding: Funding) -> Vec<NewPosting> {
    let c = quote.currency;
    let account = |base: &str| currency_account(base, fund.currency, c);
    let posting = |base: &str, side, amount_minor| NewPosting {
        account: account(base),
        side,
        amount_minor,
        currency: c,
    };
    let mut postings = vec![posting(funding.account(), Side::Debit, quote.total_minor)];
    for (base, amount) in [
        (
            account_code::CONTRIBUTION_INCOME_BENEFIT_RESERVE,
            quote.benefit_reserve_minor,
        ),
        (
            account_code::CONTRIBUTION_INCOME_ADMINISTRATION,
            quote.administration_minor,
        ),
    ] {
        if amount > 0 {
            postings.push(posting(base, Side::Credit, amount));
        }
    }
    for tax in quote.taxes.iter().filter(|t| t.amount_minor > 0) {
        postings.push(posting(
            account_code::TAXES_PAYABLE,
            Side::Credit,
            tax.amount_minor,
        ));
    }
    debug_assert_eq!(
        (postings.iter())
            .filter(|p| p.side == Side::Credit)
            .map(|p| p.amount_minor)
            .sum::<i64>(),
        quote.total_minor,
        "a contribution's credits add up to what was received"
    );
    postings
}

/// What recording decided about a new contribution, besides its request.
struct Decided<'a> {
    id: String,
    worker: String,
    rule_version: String,
    journal_entry_id: String,
    created_by: &'a str,
}

impl Decided<'_> {
    /// The contribution as it will be inserted.
    fn contribution(self, fund: &Fund, new: &NewContribution, quote: &Quote) -> Contribution {
        let c = quote.currency;
        Contribution {
            id: self.id,
            fund_code: fund.code.clone(),
            worker_id: self.worker,
            contract_id: new.contract_id.clone(),
            rule_version: self.rule_version,
            paid_on: new.paid_on,
            currency: c,
            amount_minor: quote.amount_minor,
            taxes: quote
                .taxes
                .iter()
                .map(|t| TaxLine {
                    code: t.code.clone(),
                    rate: t.rate.to_string(),
                    amount_minor: t.amount_minor,
                })
                .collect(),
            total_minor: quote.total_minor,
            benefit_reserve_minor: quote.benefit_reserve_minor,
            administration_minor: quote.administration_minor,
            external_ref: new.external_ref.clone(),
            received: new
                .received
                .as_ref()
                .map(|r| (r.amount_minor, r.currency, r.exchange_rate.to_string())),
            coverage_start: quote.coverage_start,
            coverage_end: quote.coverage_end,
            coverage_basis: match quote.validity {
                crate::rules::document::Validity::FixedMonths => "fixed_months",
                crate::rules::document::Validity::ContractEnd => "contract_end",
                crate::rules::document::Validity::ContractEvents => "contract_events",
            }
            .to_string(),
            grace_days: quote.grace_days as i32,
            journal_entry_id: self.journal_entry_id,
            status: "recorded".to_string(),
            reversal_entry_id: None,
            reversal_reason: None,
            reversed_at: None,
            created_at: crate::time::now(),
            created_by: self.created_by.to_string(),
            payers: new
                .payers
                .iter()
                .map(|p| Payer {
                    payer_type: p.payer_type.as_str().to_string(),
                    amount_minor: p.amount_minor,
                    reference: p.reference.clone(),
                })
                .collect(),
        }
    }
}

/// Inserts recorded contributions and their payers, after their journal entries.
fn insert(conn: &mut DbConnection, fund_id: FundId, recorded: &[Contribution]) -> AppResult<()> {
    if recorded.is_empty() {
        return Ok(());
    }
    let taxes = recorded
        .iter()
        .map(|c| serde_json::to_string(&c.taxes))
        .collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<_> = recorded
        .iter()
        .zip(&taxes)
        .map(|(c, taxes)| {
            (
                contributions::id.eq(&c.id),
                contributions::fund_id.eq(fund_id),
                contributions::worker_id.eq(&c.worker_id),
                contributions::contract_id.eq(&c.contract_id),
                contributions::rule_version.eq(&c.rule_version),
                contributions::paid_on.eq(c.paid_on),
                contributions::currency.eq(c.currency.code()),
                contributions::amount_minor.eq(c.amount_minor),
                contributions::taxes.eq(taxes),
                contributions::total_minor.eq(c.total_minor),
                contributions::benefit_reserve_minor.eq(c.benefit_reserve_minor),
                contributions::administration_minor.eq(c.administration_minor),
                contributions::external_ref.eq(&c.external_ref),
                contributions::received_amount_minor.eq(c.received.as_ref().map(|r| r.0)),
                contributions::received_currency.eq(c.received.as_ref().map(|r| r.1.code())),
                contributions::exchange_rate.eq(c.received.as_ref().map(|r| &r.2)),
                contributions::coverage_start.eq(c.coverage_start),
                contributions::coverage_end.eq(c.coverage_end),
                contributions::coverage_basis.eq(&c.coverage_basis),
                contributions::grace_days.eq(c.grace_days),
                contributions::journal_entry_id.eq(&c.journal_entry_id),
                contributions::status.eq(&c.status),
                contributions::created_at.eq(c.created_at),
                contributions::created_by.eq(&c.created_by),
            )
        })
        .collect();
    crate::insert_rows!(conn, contributions::table, rows)?;
    let payers: Vec<_> = recorded
        .iter()
        .flat_map(|c| {
            c.payers.iter().enumerate().map(move |(line, payer)| {
                (
                    contribution_payers::contribution_id.eq(&c.id),
                    contribution_payers::line.eq(line as i32 + 1),
                    contribution_payers::payer_type.eq(&payer.payer_type),
                    contribution_payers::amount_minor.eq(payer.amount_minor),
                    contribution_payers::reference.eq(&payer.reference),
                )
            })
        })
        .collect();
    crate::insert_rows!(conn, contribution_payers::table, payers)?;
    crate::reports::contribution_months::add(
        conn,
        fund_id,
        recorded
            .iter()
            .map(|c| crate::reports::contribution_months::Counted {
                paid_on: c.paid_on,
                currency: c.currency.code(),
                total_minor: c.total_minor,
                payers: (c.payers.iter())
                    .map(|p| (p.payer_type.as_str(), p.amount_minor))
                    .collect(),
            }),
    )?;
    crate::reports::membership_summary::refresh_workers(
        conn,
        fund_id,
        recorded.iter().map(|c| &c.worker_id),
    )?;
    Ok(())
}

/// The `contribution.recorded` event of a contribution booked by `entry_id`.
fn recorded_event(c: &Contribution, entry_id: &str) -> NewEvent {
    NewEvent {
        fund_code: c.fund_code.clone(),
        event_type: event_kind::CONTRIBUTION_RECORDED,
        subject_id: c.id.clone(),
        payload: json!({
            "contribution_id": c.id,
            "worker_id": c.worker_id,
            "paid_on": c.paid_on,
            "amount": format_minor(c.amount_minor, c.currency),
            "total": format_minor(c.total_minor, c.currency),
            "currency": c.currency.code(),
            "rule_version": c.rule_version,
            "coverage": {"start": c.coverage_start, "end": c.coverage_end},
            "journal_entry_id": entry_id,
        }),
    }
}

/// Reverses a contribution (a bounced payment): books the reversing entry and
/// removes the coverage it bought.
pub fn reverse(
    conn: &mut DbConnection,
    fund: &Fund,
    contribution: &Contribution,
    reason: &str,
    created_by: &str,
) -> AppResult<(Contribution, NewEvent)> {
    lock_fund(conn, fund.id)?;
    let current = find(conn, &contribution.id)?.expect("the contribution exists");
    if current.status == "reversed" {
        return Err(AppError::new(
            ErrorCode::AlreadyReversed,
            format!("contribution {} is already reversed", current.id),
        )
        .with("reversal_entry_id", &current.reversal_entry_id));
    }
    let entry = ledger::book_reversal(
        conn,
        fund.id,
        Reversal {
            entry_id: &current.journal_entry_id,
            only_kind: Some(ENTRY_KIND),
            effective_date: crate::time::today().max(current.paid_on),
            memo: format!("Reversal of contribution {}: {reason}", current.id),
            created_by,
            kind: REVERSAL_KIND,
        },
    )?;
    diesel::update(contributions::table.find(&current.id))
        .set((
            contributions::status.eq("reversed"),
            contributions::reversal_entry_id.eq(&entry.id),
            contributions::reversal_reason.eq(reason),
            contributions::reversed_at.eq(crate::time::now()),
        ))
        .execute(conn)?;
    crate::reports::membership_summary::refresh_workers(conn, fund.id, [&current.worker_id])?;
    let reversed = find(conn, &current.id)?.expect("the contribution exists");
    let event = reversed_event(&current, reason, &entry.id);
    Ok((reversed, event))
}

/// The `contribution.reversed` event of a contribution ended by `entry_id`
/// (its reversal, or the approval of its refund).
fn reversed_event(c: &Contribution, reason: &str, entry_id: &str) -> NewEvent {
    NewEvent {
        fund_code: c.fund_code.clone(),
        event_type: event_kind::CONTRIBUTION_REVERSED,
        subject_id: c.id.clone(),
        payload: json!({
            "contribution_id": c.id,
            "worker_id": c.worker_id,
            "reason": reason,
            "journal_entry_id": entry_id,
        }),
    }
}

/// Ends a contribution by its approved refund, under the fund lock `lock`: it
/// is marked reversed by the refund's entry (which booked its income and taxes
/// back), so, as after a reversal, it buys no coverage and cannot be reversed
/// again. Refuses (as a bug) a contribution that no longer stands: the refund
/// checked that under the same lock.
pub fn end_by_refund(
    conn: &mut DbConnection,
    lock: &FundLock,
    contribution: &Contribution,
    entry_id: &str,
    reason: &str,
) -> AppResult<NewEvent> {
    let id = &contribution.id;
    let ended = diesel::update(
        contributions::table
            .find(id)
            .filter(contributions::fund_id.eq(lock.fund_id()))
            .filter(contributions::status.eq("recorded")),
    )
    .set((
        contributions::status.eq("reversed"),
        contributions::reversal_entry_id.eq(entry_id),
        contributions::reversal_reason.eq(reason),
        contributions::reversed_at.eq(crate::time::now()),
    ))
    .execute(conn)?;
    if ended != 1 {
        return Err(AppError::internal(format!(
            "contribution {id} no longer stands under its refund"
        )));
    }
    crate::reports::membership_summary::refresh_workers(
        conn,
        lock.fund_id(),
        [&contribution.worker_id],
    )?;
    Ok(reversed_event(contribution, reason, entry_id))
}

/// A `contributions` row. Its fields are in the table's column order, so it
/// also reads `contributions::all_columns`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contributions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ContributionRow {
    id: String,
    fund_id: FundId,
    worker_id: String,
    contract_id: Option<String>,
    rule_version: String,
    paid_on: NaiveDate,
    currency: String,
    amount_minor: i64,
    taxes: String,
    total_minor: i64,
    benefit_reserve_minor: i64,
    administration_minor: i64,
    external_ref: Option<String>,
    received_amount_minor: Option<i64>,
    received_currency: Option<String>,
    exchange_rate: Option<String>,
    coverage_start: NaiveDate,
    coverage_end: NaiveDate,
    coverage_basis: String,
    grace_days: i32,
    journal_entry_id: String,
    status: String,
    reversal_entry_id: Option<String>,
    reversal_reason: Option<String>,
    reversed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    created_by: String,
}

impl ContributionRow {
    /// The contribution of this row, in the fund `fund_code`, paid by `payers`.
    fn into_contribution(self, fund_code: String, payers: Vec<Payer>) -> AppResult<Contribution> {
        let parse_currency =
            |code: &str| Currency::parse(code).expect("stored currencies are valid");
        Ok(Contribution {
            currency: parse_currency(&self.currency),
            taxes: serde_json::from_str(&self.taxes)
                .map_err(|e| AppError::internal(format!("stored taxes: {e}")))?,
            received: match (
                self.received_amount_minor,
                self.received_currency,
                self.exchange_rate,
            ) {
                (Some(amount), Some(currency), Some(rate)) => {
                    Some((amount, parse_currency(&currency), rate))
                }
                _ => None,
            },
            id: self.id,
            fund_code,
            worker_id: self.worker_id,
            contract_id: self.contract_id,
            rule_version: self.rule_version,
            paid_on: self.paid_on,
            amount_minor: self.amount_minor,
            total_minor: self.total_minor,
            benefit_reserve_minor: self.benefit_reserve_minor,
            administration_minor: self.administration_minor,
            external_ref: self.external_ref,
            coverage_start: self.coverage_start,
            coverage_end: self.coverage_end,
            coverage_basis: self.coverage_basis,
            grace_days: self.grace_days,
            journal_entry_id: self.journal_entry_id,
            status: self.status,
            reversal_entry_id: self.reversal_entry_id,
            reversal_reason: self.reversal_reason,
            reversed_at: self.reversed_at,
            created_at: self.created_at,
            created_by: self.created_by,
            payers,
        })
    }
}

/// What is read of a `contribution_payers` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contribution_payers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct PayerRow {
    contribution_id: String,
    payer_type: String,
    amount_minor: i64,
    reference: Option<String>,
}

/// The contributions of `rows`, each with its payers and its fund's code.
fn load(conn: &mut DbConnection, rows: Vec<ContributionRow>) -> AppResult<Vec<Contribution>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let payer_rows: Vec<PayerRow> = contribution_payers::table
        .filter(contribution_payers::contribution_id.eq_any(&ids))
        .order((
            contribution_payers::contribution_id.asc(),
            contribution_payers::line.asc(),
        ))
        .select(PayerRow::as_select())
        .load(conn)?;
    let fund_ids: Vec<FundId> = rows.iter().map(|r| r.fund_id).collect();
    let fund_codes: HashMap<FundId, String> = crate::db::schema::funds::table
        .filter(crate::db::schema::funds::id.eq_any(&fund_ids))
        .select((crate::db::schema::funds::id, crate::db::schema::funds::code))
        .load::<(FundId, String)>(conn)?
        .into_iter()
        .collect();
    let mut payers: HashMap<String, Vec<Payer>> = HashMap::new();
    for row in payer_rows {
        payers.entry(row.contribution_id).or_default().push(Payer {
            payer_type: row.payer_type,
            amount_minor: row.amount_minor,
            reference: row.reference,
        });
    }
    rows.into_iter()
        .map(|row| {
            let fund_code = fund_codes.get(&row.fund_id).cloned().unwrap_or_default();
            let payers = payers.remove(&row.id).unwrap_or_default();
            row.into_contribution(fund_code, payers)
        })
        .collect()
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<Contribution>> {
    let rows: Vec<ContributionRow> = contributions::table
        .filter(contributions::id.eq(id))
        .select(ContributionRow::as_select())
        .load(conn)?;
    Ok(load(conn, rows)?.pop())
}

#[derive(Debug, Clone, Default)]
pub struct ContributionFilter {
    pub worker_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after_id: Option<String>,
    pub limit: i64,
}

/// Contributions of a fund in recording order.
pub fn list(
    conn: &mut DbConnection,
    fund: &Fund,
    filter: &ContributionFilter,
) -> AppResult<Vec<Contribution>> {
    // One worker's by worker alone, the fund checked on the rows read: with
    // `fund_id = ?` and `ORDER BY id` SQLite's planner walks the fund's
    // `(fund_id, id)` index and reads every contribution of the fund. A
    // worker's contributions are all in its fund, so the check keeps a page
    // whole or empties it.
    let mut query = match &filter.worker_id {
        Some(worker) => contributions::table
            .filter(contributions::worker_id.eq(worker.clone()))
            .into_boxed(),
        None => contributions::table
            .filter(contributions::fund_id.eq(fund.id))
            .into_boxed(),
    };
    if let Some(from) = filter.from {
        query = query.filter(contributions::paid_on.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(contributions::paid_on.le(to));
    }
    if let Some(after) = &filter.after_id {
        query = query.filter(contributions::id.gt(after.clone()));
    }
    let rows: Vec<ContributionRow> = query
        .order(contributions::id.asc())
        .limit(filter.limit)
        .select(ContributionRow::as_select())
        .load(conn)?;
    let rows = rows.into_iter().filter(|r| r.fund_id == fund.id).collect();
    load(conn, rows)
}

/// How many contributions the fund holds in each status (`recorded`, `reversed`).
pub fn count_by_status(conn: &mut DbConnection, fund: &Fund) -> AppResult<Vec<(String, i64)>> {
    Ok(contributions::table
        .filter(contributions::fund_id.eq(fund.id))
        .group_by(contributions::status)
        .select((contributions::status, diesel::dsl::count_star()))
        .order(contributions::status.asc())
        .load(conn)?)
}
