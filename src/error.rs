//! One error type for the whole service and its mapping to RFC 9457
//! `application/problem+json`. Every error a client can see has a stable
//! [`ErrorCode`]; each code has exactly one HTTP status.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::money::MoneyError;

/// Stable problem codes. Clients branch on these, never on `title` or `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
pub struct Problem {
    /// A URI naming the problem type (`urn:mwf:problem:<code>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable code to branch on.
    pub code: String,
    /// Invalid fields, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Further members specific to the code (for example `existing_id`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
}

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub extra: Map<String, Value>,
    /// Headers the response must carry, by lowercase name (`allow`,
    /// `www-authenticate`).
    pub headers: Vec<(&'static str, String)>,
    /// The fund of the record a refused change had found, for the audit log
    /// (never shown to the client): see [`AppError::in_fund`]. Boxed to keep
    /// the error small (clippy's `result_large_err`).
    pub fund_code: Option<Box<str>>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            extra: Map::new(),
            headers: Vec::new(),
            fund_code: None,
        }
    }

    /// Names the fund of the record this refusal concerns, so that its audit
    /// record names it too. A refusal before the record was found has none.
    pub fn in_fund(mut self, code: &str) -> Self {
        self.fund_code.get_or_insert_with(|| code.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extra.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A 422 listing every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        AppError::new(ErrorCode::ValidationFailed, detail).with_errors(errors)
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

    /// An unexpected failure: logged with its cause, shown to the client as a
    /// bare 500 without internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        log::error!("internal error: {cause}");
        AppError::new(
            ErrorCode::InternalError,
            "an unexpected error occurred; it has been logged",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:mwf:problem:{}", self.code.as_str().to_lowercase()),
            title: self.code.title().to_string(),
            status: self.code.status(),
            detail: self.detail.clone(),
            code: self.code.as_str(),
            errors: self.errors.clone(),
            extra: self.extra.clone(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::internal(format!("database: {e}"))
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        log::error!("database pool: {e}");
        AppError::new(
            ErrorCode::ServiceUnavailable,
            "the database is not reachable; retry later",
        )
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::internal(format!("json: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
