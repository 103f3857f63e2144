//! Journal routes: manual entries, listing, reversal and ledger verification.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::page::PageRequest;
use super::write::{Done, Mutation};
use super::{fund_in_scope, read, AppState, Page};
use crate::auth::{Act, Caller};
use crate::error::{AppError, AppResult, FieldError};
use crate::ledger::{self, kind, EntryFilter, JournalEntry, NewEntry, NewPosting, Side};
use crate::money::{format_minor, to_minor, Currency, DecimalString};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(post_journal_entry)
        .service(list_journal_entries)
        .service(get_journal_entry)
        .service(reverse_journal_entry)
        .service(verify_ledger);
}

const MAX_MEMO_LENGTH: usize = 500;

/// Effective dates must lie between 1900-01-01 and tomorrow (UTC), so that a
/// fund east of UTC can book its own today.
fn check_effective_date(field: &str, date: NaiveDate, errors: &mut Vec<FieldError>) {
    let latest = crate::time::today() + Days::new(1);
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date");
    if date > latest {
        errors.push(FieldError::new(
            field,
            "in_future",
            format!("must not be after {latest}"),
        ));
    } else if date < earliest {
        errors.push(FieldError::new(
            field,
            "too_early",
            "must not be before 1900-01-01",
        ));
    }
}

fn check_memo(field: &str, memo: &str, errors: &mut Vec<FieldError>) {
    if memo.trim().is_empty() || memo.chars().count() > MAX_MEMO_LENGTH {
        errors.push(
            FieldError::new(
                field,
                "invalid_length",
                format!("must be 1 to {MAX_MEMO_LENGTH} characters"),
            )
            .with_limit(MAX_MEMO_LENGTH),
        );
    }
}

/// One posting: an amount on one side of one account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"account": "1000", "side": "debit", "amount": "1500000.00", "currency": "KES"}))]
pub struct PostingRequest {
    /// Account code in the fund.
    #[schema(example = "1000")]
    pub account: String,
    pub side: Side,
    /// Positive decimal string with at most the currency's decimals.
    #[schema(example = "1500.00")]
    pub amount: DecimalString,
    /// The account's currency.
    #[schema(value_type = crate::money::Currency, example = "KES")]
    pub currency: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"effective_date": "2026-02-02", "memo": "Opening balance brought forward", "postings": [{"account": "1000", "side": "debit", "amount": "1500000.00", "currency": "KES"}, {"account": "3100", "side": "credit", "amount": "1500000.00", "currency": "KES"}]}))]
pub struct PostJournalEntry {
    /// The value date; not after tomorrow (UTC) and after any closed period.
    #[serde(deserialize_with = "crate::date::strict")]
    pub effective_date: NaiveDate,
    #[schema(example = "Opening balance brought forward", max_length = 500)]
    pub memo: String,
    /// Two or more postings; per currency, debits must equal credits.
    pub postings: Vec<PostingRequest>,
}

impl PostJournalEntry {
    fn validate(self, created_by: &str) -> AppResult<NewEntry> {
        let mut errors = Vec::new();
        check_effective_date("/effective_date", self.effective_date, &mut errors);
        check_memo("/memo", &self.memo, &mut errors);
        let mut postings = Vec::new();
        for (i, p) in self.postings.into_iter().enumerate() {
            let currency = match Currency::parse(&p.currency) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(FieldError::money(format!("/postings/{i}/currency"), &e));
                    continue;
                }
            };
            match to_minor(p.amount.0, currency) {
                Ok(amount_minor) => postings.push(NewPosting {
                    account: p.account,
                    side: p.side,
                    amount_minor,
                    currency,
                }),
                Err(e) => errors.push(FieldError::money(format!("/postings/{i}/amount"), &e)),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        Ok(NewEntry {
            effective_date: self.effective_date,
            kind: kind::ADJUSTMENT,
            memo: self.memo.trim().to_string(),
            source: None,
            created_by: created_by.to_string(),
            reverses: None,
            postings,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostingResponse {
    pub account: String,
    pub side: Side,
    #[schema(value_type = crate::money::DecimalString)]
    pub amount: String,
    #[schema(value_type = crate::money::Currency)]
    pub currency: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceRef {
    /// The kind of record (`contribution`, `claim`).
    #[serde(rename = "type")]
    pub source_type: String,
    #[schema(format = Uuid)]
    pub id: String,
}

/// A journal entry with its postings and its place in the fund's hash chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "01a24cf6-ef75-769b-b0c2-93717dc49ba5", "fund": "KE-MWF", "sequence": 1, "effective_date": "2026-02-01", "recorded_at": "2026-12-06T20:06:21.301951Z", "kind": "contribution", "memo": "Contribution of worker 01a24cf6-ef49-7603-96a4-c8763bd474f9 under KE-MWF-2026", "source": {"type": "contribution", "id": "01a24cf6-ef75-769b-b0c2-9370a9b69af0"}, "created_by": "officer.njeri", "reverses": null, "reversed_by": null, "previous_hash": "0000000000000000000000000000000000000000000000000000000000000000", "hash": "d80aab4ecb761bbff888130bbd3969a06cfcab32ee4e77954985891db732b94d", "postings": [{"account": "1000", "side": "debit", "amount": "2000.00", "currency": "KES"}, {"account": "4000", "side": "credit", "amount": "1800.00", "currency": "KES"}, {"account": "4100", "side": "credit", "amount": "200.00", "currency": "KES"}]}))]
pub struct JournalEntryResponse {
    /// UUID v7.
    #[schema(format = Uuid)]
    pub id: String,
    pub fund: String,
    /// Position in the fund's ledger: 1, 2, 3, … with no gaps.
    pub sequence: i64,
    pub effective_date: NaiveDate,
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// `adjustment` (manual), `reversal`, `contribution`, `claim_approval`, `claim_payment`, …
    pub kind: String,
    pub memo: String,
    /// The domain record this entry books, if any.
    #[schema(required = true)]
    pub source: Option<SourceRef>,
    pub created_by: String,
    /// The entry this one reverses.
    #[schema(required = true, format = Uuid)]
    pub reverses: Option<String>,
    /// The entry that reverses this one.
    #[schema(required = true, format = Uuid)]
    pub reversed_by: Option<String>,
    /// The hash of the fund's previous entry (64 zeros for the first).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub previous_hash: String,
    /// SHA-256 over `previous_hash` and the entry's canonical form (see ARCHITECTURE.md).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    pub postings: Vec<PostingResponse>,
}

pub fn entry_response(e: JournalEntry) -> JournalEntryResponse {
    JournalEntryResponse {
        id: e.id,
        fund: e.fund_code,
        sequence: e.sequence,
        effective_date: e.effective_date,
        recorded_at: crate::time::rfc3339(e.recorded_at),
        kind: e.kind,
        memo: e.memo,
        source: e
            .source_type
            .zip(e.source_id)
            .map(|(source_type, id)| SourceRef { source_type, id }),
        created_by: e.created_by,
        reverses: e.reverses,
        reversed_by: e.reversed_by,
        previous_hash: e.previous_hash,
        hash: e.hash,
        postings: e
            .postings
            .into_iter()
            .map(|p| PostingResponse {
                account: p.account,
                side: p.side,
                amount: format_minor(p.amount_minor, p.currency),
                currency: p.currency.code().to_string(),
            })
            .collect(),
    }
}

/// Post a manual journal entry (admin): opening balances, grants, bank charges,
/// currency conversion.
///
/// Refused with `ENTRY_UNBALANCED` unless debits equal credits in every currency, with
/// `PERIOD_CLOSED` if dated in a closed period, and with `INSUFFICIENT_FUNDS` if a guarded account
/// (cash) would go below zero. Nothing is written when refused.
#[utoipa::path(
    tag = "ledger",
    request_body = PostJournalEntry,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 201, description = "Booked", body = JournalEntryResponse),
        (status = 409, description = "`PERIOD_CLOSED`, `INSUFFICIENT_FUNDS`, `IDEMPOTENCY_KEY_REUSED`", body = crate::error::Problem),
        (status = 422, description = "`ENTRY_UNBALANCED`, `VALIDATION_FAILED`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/journal-entries")]
pub async fn post_journal_entry(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    Mutation::new(&req, state, caller, Act::PostJournalEntry)
        .fund(&code)
        .run(&req, body, move |conn, caller, input: PostJournalEntry| {
            let fund = fund_in_scope(conn, caller, &code)?;
            let entry = ledger::post_entry(conn, fund.id, input.validate(&caller.subject)?)?;
            Ok(Done::created(
                format!("journal_entry {}", entry.id),
                entry_response(entry),
            ))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// First effective date, inclusive.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub from: Option<NaiveDate>,
    /// Last effective date, inclusive.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub to: Option<NaiveDate>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// List a fund's journal entries in sequence order.
#[utoipa::path(
    tag = "ledger",
    params(("fund" = String, Path, description = "Fund code"), EntryQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<JournalEntryResponse>),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/journal-entries")]
pub async fn list_journal_entries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<EntryQuery>,
) -> AppResult<Page<JournalEntryResponse>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let q = query.0;
    let request = PageRequest::new(q.after, q.limit)?.by_position()?;
    let page = super::read_replica(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let filter = EntryFilter {
            from: q.from,
            to: q.to,
            after_sequence: Some(request.after),
            limit: request.rows(),
        };
        let (rows, next) = request.cut(ledger::list_entries(conn, fund.id, &filter)?, |e| {
            e.sequence
        });
        Ok(Page {
            items: rows.into_iter().map(entry_response).collect(),
            next,
        })
    })
    .await?;
    Ok(page)
}

/// Read one journal entry.
#[utoipa::path(
    tag = "ledger",
    params(("fund" = String, Path, description = "Fund code"), ("id" = uuid::Uuid, Path, description = "Entry id")),
    responses(
        (status = 200, description = "The entry", body = JournalEntryResponse),
        (status = 404, description = "`NOT_FOUND`", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/journal-entries/{id}")]
pub async fn get_journal_entry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> AppResult<web::Json<JournalEntryResponse>> {
    caller.require(Act::ReadFunds)?;
    let (code, id) = path.into_inner();
    let entry = read(&state, move |conn| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        ledger::find_entry(conn, fund.id, &id)?
            .ok_or_else(|| AppError::not_found(format!("no journal entry {id} in this fund")))
    })
    .await?;
    Ok(web::Json(entry_response(entry)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"effective_date": "2026-02-03", "memo": "Reversal: posted to the wrong account"}))]
pub struct ReverseJournalEntry {
    /// The reversal's value date (default: today, UTC).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub effective_date: Option<NaiveDate>,
    #[schema(example = "Reversal: posted to the wrong account", max_length = 500)]
    pub memo: String,
}

/// Reverse a manual journal entry (admin): a new entry with the same postings on
/// opposite sides.
///
/// An entry is reversed once; a second reversal is 409 `ALREADY_REVERSED`. Entries booked by a
/// contribution or claim are reversed through that record (`NOT_REVERSIBLE`).
#[utoipa::path(
    tag = "ledger",
    request_body = ReverseJournalEntry,
    params(
        ("fund" = String, Path, description = "Fund code"),
        ("id" = uuid::Uuid, Path, description = "The entry to reverse"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")
    ),
    responses(
        (status = 201, description = "The reversing entry", body = JournalEntryResponse),
        (status = 409, description = "`ALREADY_REVERSED`, `NOT_REVERSIBLE`, `PERIOD_CLOSED`, `INSUFFICIENT_FUNDS`", body = crate::error::Problem),
        (status = "4XX", description = "Other refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[post("/v1/funds/{fund}/journal-entries/{id}/reversal")]
pub async fn reverse_journal_entry(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (code, id) = path.into_inner();
    Mutation::new(&req, state, caller, Act::ReverseJournalEntry)
        .fund(&code)
        .run(
            &req,
            body,
            move |conn, caller, input: ReverseJournalEntry| {
                let fund = fund_in_scope(conn, caller, &code)?;
                let mut errors = Vec::new();
                let effective_date = input.effective_date.unwrap_or_else(crate::time::today);
                check_effective_date("/effective_date", effective_date, &mut errors);
                check_memo("/memo", &input.memo, &mut errors);
                if !errors.is_empty() {
                    return Err(AppError::validation(errors));
                }
                let reversal = ledger::Reversal {
                    entry_id: &id,
                    only_kind: Some(kind::ADJUSTMENT),
                    effective_date,
                    memo: input.memo.trim().to_string(),
                    created_by: &caller.subject,
                    kind: kind::REVERSAL,
                };
                let entry = ledger::book_reversal(conn, fund.id, reversal)?;
                Ok(Done::created(
                    format!("journal_entry {}", entry.id),
                    entry_response(entry),
                ))
            },
        )
        .await
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerifySince {
    Checkpoint,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// `checkpoint`: verify only the entries after the fund's latest
    /// verification checkpoint (see the description).
    #[param(inline)]
    pub since: Option<VerifySince>,
}

/// Verify a fund's ledger: recompute the hash chain, check every entry balances
/// and re-add every posting against the stored balances.
///
/// A verification that finds no problem is recorded as a checkpoint (the
/// sequence and hash verified through, signed off with the time and the
/// token's subject; `GET /ledger/checkpoints`). With `since=checkpoint` only
/// the entries after the latest checkpoint are walked: the entry at the
/// checkpoint's sequence must still have the checkpoint's hash (otherwise the
/// report names `CHECKPOINT_MISMATCH` and the whole chain is verified), each
/// later entry's hash, link and balance are checked, and each account's stored
/// totals are compared with the checkpoint's totals plus the later postings.
/// An edit to an entry before the checkpoint is seen only by a full run.
/// `from_sequence` and `checkpoint` say what the run covered.
#[utoipa::path(
    tag = "ledger",
    params(("fund" = String, Path, description = "Fund code"), VerifyQuery),
    responses(
        (status = 200, description = "The verification report; `ok` is false when any problem was found", body = ledger::Verification),
        (status = "4XX", description = "Refusals (problem+json)", body = crate::error::Problem)
    ),
    security(("bearer" = []))
)]
#[get("/v1/funds/{fund}/ledger/verify")]
pub async fn verify_ledger(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: Query<VerifyQuery>,
) -> AppResult<web::Json<ledger::Verification>> {
    caller.require(Act::ReadFunds)?;
    let code = path.into_inner();
    let since_checkpoint = query.0.since.is_some();
    let verified_by = caller.subject.clone();
    // The run's snapshot on one connection of the read pool; free connections
    // of the same pool read beside it (`ledger::Helpers`).
    let (fund_id, report) = super::read_replica_pooled(&state, move |conn, pool| {
        let fund = fund_in_scope(conn, &caller, &code)?;
        let mut progress = crate::progress::Progress::hidden();
        let helpers = ledger::Helpers(Some(pool));
        let report = if since_checkpoint {
            ledger::verify_fund_since_checkpoint(conn, helpers, fund.id, &mut progress)?
        } else {
            ledger::verify_fund_showing(conn, helpers, fund.id, &mut progress)?
        };
        Ok((fund.id, report))
    })
    .await?;
    if report.ok {
        let state = state.clone();
        web::block(move || {
            let mut conn = state.pool.get()?;
            crate::db::write_transaction(&mut conn, |conn| {
                ledger::record_checkpoint(conn, fund_id, &report, &verified_by)
            })?;
            Ok::<_, AppError>(web::Json(report))
        })
        .await?
    } else {
        Ok(web::Json(report))
    }
}
