//! One error type for the whole service and its mapping to RFC 9457
//! `application/problem+json`. Every error a client can see has a stable
//! [`ErrorCode`]; each code has exactly one HTTP status.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::money::MoneyError;

/// Stable problem codes. Clients branch on these, never on `title` or `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    Unauthenticated,
    TokenExpired,
    TokenInvalid,
    RoleNotPermitted,
    FundNotInScope,
    NotFound,
    RouteNotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    PayloadTooLarge,
    RequestTimeout,
    HeadersTooLarge,
    MalformedJson,
    InvalidQuery,
    InvalidPathParameter,
    InvalidHeader,
    ValidationFailed,
    LimitExceeded,
    EntryUnbalanced,
    AmountLimitExceeded,
    InsufficientFunds,
    PeriodClosed,
    PeriodAlreadyClosed,
    AlreadyReversed,
    NotReversible,
    FundAlreadyExists,
    AccountAlreadyExists,
    IdempotencyKeyReused,
    RuleVersionExists,
    RulesWouldChangeRecords,
    WorkerAlreadyEnrolled,
    ExternalRefConflict,
    NoRulesInForce,
    ContributionAmountMismatch,
    PayersDoNotAddUp,
    ContractRequired,
    ContractEnded,
    WageRequired,
    ClaimStatusConflict,
    SelfApproval,
    AlreadyApproved,
    AlreadyAppealed,
    DecisionExceedsPayable,
    ClaimNotEligible,
    ContractStarted,
    AlreadyRefunded,
    RefundStatusConflict,
    RebateNotEligible,
    AlreadyRebated,
    PartyAlreadyRegistered,
    ClaimNotRecoverable,
    RecoveryExceedsAward,
    RecoveryAlreadyOpen,
    RecoveryStatusConflict,
    SettlementExceedsOutstanding,
    BondNotAvailable,
    ReceiptAlreadyRecorded,
    ReceiptOverMatched,
    NomineeAlreadyRegistered,
    ClaimAlreadyFiled,
    BeneficiaryAlreadyOnClaim,
    InstalmentStatusConflict,
    ServiceUnavailable,
    InternalError,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::Unauthenticated,
        ErrorCode::TokenExpired,
        ErrorCode::TokenInvalid,
        ErrorCode::RoleNotPermitted,
        ErrorCode::FundNotInScope,
        ErrorCode::NotFound,
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RequestTimeout,
        ErrorCode::HeadersTooLarge,
        ErrorCode::MalformedJson,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidPathParameter,
        ErrorCode::InvalidHeader,
        ErrorCode::ValidationFailed,
        ErrorCode::LimitExceeded,
        ErrorCode::EntryUnbalanced,
        ErrorCode::AmountLimitExceeded,
        ErrorCode::InsufficientFunds,
        ErrorCode::PeriodClosed,
        ErrorCode::PeriodAlreadyClosed,
        ErrorCode::AlreadyReversed,
        ErrorCode::NotReversible,
        ErrorCode::FundAlreadyExists,
        ErrorCode::AccountAlreadyExists,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::RuleVersionExists,
        ErrorCode::RulesWouldChangeRecords,
        ErrorCode::WorkerAlreadyEnrolled,
        ErrorCode::ExternalRefConflict,
        ErrorCode::NoRulesInForce,
        ErrorCode::ContributionAmountMismatch,
        ErrorCode::PayersDoNotAddUp,
        ErrorCode::ContractRequired,
        ErrorCode::ContractEnded,
        ErrorCode::WageRequired,
        ErrorCode::ClaimStatusConflict,
        ErrorCode::SelfApproval,
        ErrorCode::AlreadyApproved,
        ErrorCode::AlreadyAppealed,
        ErrorCode::DecisionExceedsPayable,
        ErrorCode::ClaimNotEligible,
        ErrorCode::ContractStarted,
        ErrorCode::AlreadyRefunded,
        ErrorCode::RefundStatusConflict,
        ErrorCode::RebateNotEligible,
        ErrorCode::AlreadyRebated,
        ErrorCode::PartyAlreadyRegistered,
        ErrorCode::ClaimNotRecoverable,
        ErrorCode::RecoveryExceedsAward,
        ErrorCode::RecoveryAlreadyOpen,
        ErrorCode::RecoveryStatusConflict,
        ErrorCode::SettlementExceedsOutstanding,
        ErrorCode::BondNotAvailable,
        ErrorCode::ReceiptAlreadyRecorded,
        ErrorCode::ReceiptOverMatched,
        ErrorCode::NomineeAlreadyRegistered,
        ErrorCode::ClaimAlreadyFiled,
        ErrorCode::BeneficiaryAlreadyOnClaim,
        ErrorCode::InstalmentStatusConflict,
        ErrorCode::ServiceUnavailable,
        ErrorCode::InternalError,
    ];

    /// The HTTP status every response with this code carries.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            Unauthenticated | TokenExpired | TokenInvalid => 401,
            RoleNotPermitted | FundNotInScope => 403,
            NotFound | RouteNotFound => 404,
            MethodNotAllowed => 405,
            UnsupportedMediaType => 415,
            PayloadTooLarge => 413,
            RequestTimeout => 408,
            HeadersTooLarge => 431,
            MalformedJson | InvalidQuery | InvalidPathParameter | InvalidHeader | LimitExceeded => {
                400
            }
            ValidationFailed | EntryUnbalanced | AmountLimitExceeded => 422,
            InsufficientFunds | PeriodClosed | PeriodAlreadyClosed | AlreadyReversed
            | NotReversible | FundAlreadyExists | AccountAlreadyExists | IdempotencyKeyReused => {
                409
            }
            RuleVersionExists => 409,
            RulesWouldChangeRecords => 409,
            WorkerAlreadyEnrolled => 409,
            ExternalRefConflict => 409,
            NoRulesInForce => 422,
            ContributionAmountMismatch => 422,
            PayersDoNotAddUp => 422,
            ContractRequired => 422,
            ContractEnded => 422,
            WageRequired => 422,
            ClaimStatusConflict => 409,
            SelfApproval => 409,
            AlreadyApproved => 409,
            AlreadyAppealed => 409,
            DecisionExceedsPayable => 422,
            ClaimNotEligible => 422,
            ContractStarted | AlreadyRefunded | RefundStatusConflict => 409,
            RebateNotEligible => 422,
            AlreadyRebated => 409,
            PartyAlreadyRegistered => 409,
            ClaimNotRecoverable => 409,
            RecoveryExceedsAward => 422,
            RecoveryAlreadyOpen => 409,
            RecoveryStatusConflict => 409,
            SettlementExceedsOutstanding => 409,
            BondNotAvailable => 409,
            ReceiptAlreadyRecorded => 409,
            ReceiptOverMatched => 409,
            NomineeAlreadyRegistered | ClaimAlreadyFiled | BeneficiaryAlreadyOnClaim => 409,
            InstalmentStatusConflict => 409,
            ServiceUnavailable => 503,
            InternalError => 500,
        }
    }

    pub fn title(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Unauthenticated => "Authentication required",
            TokenExpired => "Token expired",
            TokenInvalid => "Token invalid",
            RoleNotPermitted => "Role not permitted",
            FundNotInScope => "Fund not in the token's scope",
            NotFound => "Not found",
            RouteNotFound => "No such route",
            MethodNotAllowed => "Method not allowed",
            UnsupportedMediaType => "Unsupported media type",
            PayloadTooLarge => "Payload too large",
            RequestTimeout => "Request body too slow",
            HeadersTooLarge => "Request headers too large",
            MalformedJson => "Malformed JSON",
            InvalidQuery => "Invalid query parameter",
            InvalidPathParameter => "Invalid path parameter",
            InvalidHeader => "Invalid header",
            ValidationFailed => "Validation failed",
            LimitExceeded => "Limit exceeded",
            EntryUnbalanced => "Journal entry does not balance",
            AmountLimitExceeded => "Amount limit exceeded",
            InsufficientFunds => "Insufficient funds",
            PeriodClosed => "Accounting period closed",
            PeriodAlreadyClosed => "Period already closed",
            AlreadyReversed => "Entry already reversed",
            NotReversible => "Entry cannot be reversed here",
            FundAlreadyExists => "Fund already exists",
            AccountAlreadyExists => "Account already exists",
            IdempotencyKeyReused => "Idempotency key reused with a different request",
            RuleVersionExists => "Rule version exists",
            RulesWouldChangeRecords => "Rules would change recorded contributions",
            WorkerAlreadyEnrolled => "Worker already enrolled",
            ExternalRefConflict => "External reference used for another contribution",
            NoRulesInForce => "No rules in force",
            ContributionAmountMismatch => "Contribution amount does not match the rules",
            PayersDoNotAddUp => "Payers' parts do not add up",
            ContractRequired => "Contract required",
            ContractEnded => "Contract ended before payment",
            WageRequired => "Declared wage required",
            ClaimStatusConflict => "Claim status does not allow this",
            SelfApproval => "Approving one's own decision",
            AlreadyApproved => "Already approved by this approver",
            AlreadyAppealed => "Already appealed",
            DecisionExceedsPayable => "Decision exceeds the payable amount",
            ClaimNotEligible => "Claim no longer eligible",
            ContractStarted => "Contract already started",
            AlreadyRefunded => "Contribution already refunded",
            RefundStatusConflict => "Refund status does not allow this",
            RebateNotEligible => "Rebate not granted",
            AlreadyRebated => "Rebate already granted",
            PartyAlreadyRegistered => "Licence already registered in this fund",
            ClaimNotRecoverable => "Claim has no award to recover",
            RecoveryExceedsAward => "Recovery exceeds the award",
            RecoveryAlreadyOpen => "Recovery already open for this claim and party",
            RecoveryStatusConflict => "Recovery status does not allow this",
            SettlementExceedsOutstanding => "Settlement exceeds what is outstanding",
            BondNotAvailable => "Bond does not cover the draw",
            ReceiptAlreadyRecorded => "Bank reference already recorded",
            ReceiptOverMatched => "Matches exceed what the receipt left unmatched",
            NomineeAlreadyRegistered => "The worker's nominee is already registered",
            ClaimAlreadyFiled => "A claim for this event is already filed; join it",
            BeneficiaryAlreadyOnClaim => "Already a beneficiary of the claim",
            InstalmentStatusConflict => "Instalment schedule does not allow this",
            ServiceUnavailable => "Service unavailable",
            InternalError => "Internal error",
        }
    }

    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .expect("error codes serialise to strings")
    }
}

/// One invalid field: a JSON pointer into the request (`/postings/1/amount`), or
/// the name of a query or path parameter, with a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
    /// The limit the value went past (characters, bytes or items), when a limit
    /// was the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub limit: Option<usize>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
            limit: None,
        }
    }

    /// Names the limit the value went past.
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// A field error from a money parsing failure.
    pub fn money(field: impl Into<String>, error: &MoneyError) -> Self {
        let code = match error {
            MoneyError::UnknownCurrency => "unknown_currency",
            MoneyError::NotADecimal => "invalid_decimal",
            MoneyError::NotPositive => "not_positive",
            MoneyError::TooManyDecimals { .. } => "too_many_decimals",
            MoneyError::TooLarge => "too_large",
        };
        FieldError::new(field, code, error.to_string())
    }
}

/// An RFC 9457 problem document, as every error response carries it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "urn:mwf:problem:contribution_amount_mismatch", "title": "Contribution amount does not match the rules", "status": 422, "detail": "the rules in force on 2026-02-01 (KE-MWF-2026) expect 2000.00 KES (plus taxes 0.00), not 1500.00 KES", "code": "CONTRIBUTION_AMOUNT_MISMATCH", "expected": {"amount": "2000.00", "currency": "KES", "rule_version": "KE-MWF-2026", "total": "2000.00"}}))]
pub struct Problem {
    /// A URI naming the problem type (`urn:mwf:problem:<code>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable code to branch on.
    #[schema(value_type = ErrorCode)]
    pub code: String,
    /// Invalid fields, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Further members specific to the code (for example `existing_id`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
}

/// Why a request did not succeed: a **refusal** the caller can act on (a 4xx
/// answer, audited, decided before anything was written), or a **failure** of
/// the service (a 5xx: the database, the pool, a bug), which spoils the
/// transaction it happened in, is never audited, and is logged once, where the
/// response is made. Code that must tell them apart matches on the variant.
#[derive(Debug)]
pub enum AppError {
    Refused(Box<Refusal>),
    Failed(Box<Failure>),
}

pub type AppResult<T> = Result<T, AppError>;

/// A refusal: its stable code, what the client is told, and where it applies.
#[derive(Debug)]
pub struct Refusal {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub extra: Map<String, Value>,
    /// Headers the response must carry, by lowercase name (`allow`,
    /// `www-authenticate`).
    pub headers: Vec<(&'static str, String)>,
    /// The fund of the record a refused change had found, for the audit log
    /// (never shown to the client): see [`AppError::in_fund`]. Boxed to keep
    /// results small (clippy's `result_large_err`).
    pub fund_code: Option<Box<str>>,
    /// Whether `detail` was made from `errors` ([`AppError::validation`]), so
    /// that it is made again when their paths move ([`Refusal::nested_under`]).
    detail_from_errors: bool,
}

impl Refusal {
    /// The refusal of an item of a batch: its field paths (`/worker_id`) put
    /// under the item's position (`/items/3`). Only the batch layer knows it.
    /// A field named without a pointer (`contract_id`) keeps its name.
    pub fn nested_under(mut self, at: &str) -> Refusal {
        for error in self.errors.iter_mut().filter(|e| e.field.starts_with('/')) {
            error.field = format!("{at}{}", error.field);
        }
        if self.detail_from_errors {
            self.detail = validation_detail(&self.errors);
        }
        self
    }
}

/// A failure of the service, with its cause kept for the log (and for the
/// callers that must recognise one, such as a unique key taken by a racing
/// transaction: [`AppError::is_unique_violation`]).
#[derive(Debug)]
pub struct Failure {
    /// The database or its pool cannot be reached: a 503 the client may retry.
    unavailable: bool,
    cause: Cause,
}

#[derive(Debug)]
enum Cause {
    Database(diesel::result::Error),
    Pool(r2d2::Error),
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Cause::Database(e) => write!(f, "database: {e}"),
            Cause::Pool(e) => write!(f, "database pool: {e}"),
            Cause::Other(e) => f.write_str(e),
        }
    }
}

impl Failure {
    pub fn code(&self) -> ErrorCode {
        if self.unavailable {
            ErrorCode::ServiceUnavailable
        } else {
            ErrorCode::InternalError
        }
    }

    /// What the client is told: never the cause.
    fn detail(&self) -> &'static str {
        if self.unavailable {
            "the database is not reachable; retry later"
        } else {
            "an unexpected error occurred; it has been logged"
        }
    }
}

fn validation_detail(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{}: {}", one.field, one.message),
        many => format!("{} fields are invalid", many.len()),
    }
}

impl AppError {
    /// A refusal with its stable code (a 4xx; failures are made by
    /// [`AppError::internal`], [`AppError::unavailable`] and the conversions).
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        debug_assert!(
            !matches!(
                code,
                ErrorCode::InternalError | ErrorCode::ServiceUnavailable
            ),
            "{code:?} is a failure, not a refusal"
        );
        AppError::Refused(Box::new(Refusal {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            extra: Map::new(),
            headers: Vec::new(),
            fund_code: None,
            detail_from_errors: false,
        }))
    }

    /// An unexpected failure: its cause is logged where the response is made;
    /// the client sees a bare 500 without internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::failed(false, Cause::Other(cause.to_string()))
    }

    /// The service cannot reach what it needs (a 503 the client may retry).
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        Self::failed(true, Cause::Other(cause.to_string()))
    }

    fn failed(unavailable: bool, cause: Cause) -> Self {
        AppError::Failed(Box::new(Failure { unavailable, cause }))
    }

    /// Applies `change` to a refusal; a failure stays as it is.
    fn refusal_mut(mut self, change: impl FnOnce(&mut Refusal)) -> Self {
        if let AppError::Refused(refusal) = &mut self {
            change(refusal);
        }
        self
    }

    /// Names the fund of the record this refusal concerns, so that its audit
    /// record names it too. A refusal before the record was found has none.
    pub fn in_fund(self, code: &str) -> Self {
        self.refusal_mut(|r| {
            r.fund_code.get_or_insert_with(|| code.into());
        })
    }

    pub fn with_errors(self, errors: Vec<FieldError>) -> Self {
        self.refusal_mut(|r| r.errors = errors)
    }

    pub fn with(self, key: &str, value: impl Serialize) -> Self {
        self.refusal_mut(|r| {
            r.extra.insert(
                key.to_string(),
                serde_json::to_value(value).unwrap_or(Value::Null),
            );
        })
    }

    pub fn with_header(self, name: &'static str, value: impl Into<String>) -> Self {
        self.refusal_mut(|r| r.headers.push((name, value.into())))
    }

    /// A 422 listing every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = validation_detail(&errors);
        AppError::new(ErrorCode::ValidationFailed, detail)
            .with_errors(errors)
            .refusal_mut(|r| r.detail_from_errors = true)
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        AppError::validation(vec![FieldError::new(field, code, message)])
    }

    /// A bad query parameter (400 `INVALID_QUERY`), naming it.
    pub fn query(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::new(ErrorCode::InvalidQuery, format!("{field}: {message}"))
            .with_errors(vec![FieldError::new(field, code, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::new(ErrorCode::NotFound, what)
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Refused(r) => r.code,
            AppError::Failed(f) => f.code(),
        }
    }

    /// What the client is told.
    pub fn detail(&self) -> &str {
        match self {
            AppError::Refused(r) => &r.detail,
            AppError::Failed(f) => f.detail(),
        }
    }

    /// What an operator running a command is told: a refusal's detail, or a
    /// failure's cause (the command line has no log to send it to).
    pub fn explain(&self) -> String {
        match self {
            AppError::Refused(r) => r.detail.clone(),
            AppError::Failed(f) => f.to_string(),
        }
    }

    /// The fund a refused change had found ([`AppError::in_fund`]).
    pub fn fund_code(&self) -> Option<&str> {
        match self {
            AppError::Refused(r) => r.fund_code.as_deref(),
            AppError::Failed(_) => None,
        }
    }

    /// Whether this is the database refusing a row whose unique key another
    /// transaction holds (an idempotency key claimed by a racing request).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, AppError::Failed(f) if matches!(
            &f.cause,
            Cause::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        ))
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        let (errors, extra) = match self {
            AppError::Refused(r) => (r.errors.clone(), r.extra.clone()),
            AppError::Failed(_) => (Vec::new(), Map::new()),
        };
        Problem {
            problem_type: format!("urn:mwf:problem:{}", code.as_str().to_lowercase()),
            title: code.title().to_string(),
            status: code.status(),
            detail: self.detail().to_string(),
            code: code.as_str(),
            errors,
            extra,
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Refused(r) => write!(f, "{}: {}", r.code.as_str(), r.detail),
            AppError::Failed(failure) => write!(f, "{}: {failure}", failure.code().as_str()),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Refused(Box::new(refusal))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::failed(false, Cause::Database(e))
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::failed(true, Cause::Pool(e))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::internal(format_args!("json: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch item's refusal: pointers move under the item, names stay, and
    /// a detail made from the fields is made again; other details stay.
    #[test]
    fn a_refusal_nested_under_an_item_moves_its_pointers_and_detail() {
        let AppError::Refused(one) = AppError::field("/worker_id", "unknown_worker", "no worker w")
        else {
            panic!("a field error is a refusal")
        };
        let nested = one.nested_under("/items/3");
        assert_eq!(nested.errors[0].field, "/items/3/worker_id");
        assert_eq!(nested.detail, "/items/3/worker_id: no worker w");

        let named = AppError::new(ErrorCode::ContractRequired, "name the contract")
            .with_errors(vec![FieldError::new("contract_id", "required", "name it")]);
        let AppError::Refused(named) = named else {
            panic!("a refusal")
        };
        let nested = named.nested_under("/items/0");
        assert_eq!(nested.errors[0].field, "contract_id");
        assert_eq!(nested.detail, "name the contract");
    }

    #[test]
    fn every_error_code_is_documented_in_the_readme() {
        let readme = include_str!("../README.md");
        for code in ErrorCode::ALL {
            let needle = format!("`{}`", code.as_str());
            assert!(readme.contains(&needle), "README lacks {needle}");
        }
    }

    #[test]
    fn codes_serialise_in_screaming_snake_case() {
        assert_eq!(ErrorCode::PeriodClosed.as_str(), "PERIOD_CLOSED");
        assert_eq!(ErrorCode::PeriodClosed.status(), 409);
    }
}
