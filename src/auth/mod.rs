//! Access: bearer JWTs, the authenticated caller, roles and fund scope.
//!
//! Tokens are HS256 with a shared secret, or RS256/ES256 signed by a ministry's
//! identity provider whose public keys are configured. The algorithm in the
//! token header only selects among keys of that kind: an HS256 token is never
//! checked against a public key, and `alg: none` is refused.

use std::future::{ready, Ready};
use std::path::Path;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::JwtSettings;
use crate::error::{AppError, AppResult, ErrorCode};

/// The longest lifetime `mwf token` mints: 366 days.
pub const MAX_TOKEN_LIFETIME_SECONDS: i64 = 366 * 24 * 3600;
/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECONDS: u64 = 30;

/// What a caller may do. `admin` does everything; `officer` works workers,
/// contributions and claims; `approver` gives second and committee approvals;
/// `ministry` enrolls, contributes and submits claims in its own funds;
/// `auditor` reads everything and never writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Officer,
    Approver,
    Ministry,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Approver => "approver",
            Role::Ministry => "ministry",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// The claims mwf reads from a token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    /// Fund codes the token may touch; `["*"]` for all.
    pub funds: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    pub iss: String,
    pub aud: String,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    funds: Vec<String>,
}

impl Caller {
    pub fn new(subject: impl Into<String>, role: Role, funds: Vec<String>) -> Caller {
        Caller {
            subject: subject.into(),
            role,
            funds,
        }
    }

    /// True when the token's fund list covers `fund_code`.
    pub fn may_access_fund(&self, fund_code: &str) -> bool {
        self.funds.iter().any(|f| f == "*" || f == fund_code)
    }

    pub fn all_funds(&self) -> bool {
        self.funds.iter().any(|f| f == "*")
    }

    pub fn fund_codes(&self) -> &[String] {
        &self.funds
    }

    /// 403 unless the caller has one of `roles`. Checked before any lookup, so
    /// the answer says nothing about which funds or records exist.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::RoleNotPermitted,
                format!(
                    "the {} role may not do this; allowed: {}",
                    self.role.as_str(),
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
}

/// Roles allowed to read ledgers and funds.
pub const READERS: &[Role] = &[
    Role::Admin,
    Role::Officer,
    Role::Approver,
    Role::Ministry,
    Role::Auditor,
];
pub const ADMIN: &[Role] = &[Role::Admin];
pub const AUDIT_READERS: &[Role] = &[Role::Admin, Role::Auditor];

/// Checks tokens against the configured keys.
pub struct Verifier {
    secret: Option<DecodingKey>,
    rsa_keys: Vec<DecodingKey>,
    ec_keys: Vec<DecodingKey>,
    issuer: String,
    audience: String,
}

impl Verifier {
    /// Loads the keys named in the settings; `secret` overrides the settings'
    /// secret (development mode's generated one).
    pub fn new(settings: &JwtSettings, secret: Option<&[u8]>) -> Result<Verifier, String> {
        let mut rsa_keys = Vec::new();
        let mut ec_keys = Vec::new();
        for file in &settings.public_key_files {
            let pem = std::fs::read(file)
                .map_err(|e| format!("MWF_JWT_PUBLIC_KEYS: cannot read {}: {e}", file.display()))?;
            if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                rsa_keys.push(key);
            } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
                ec_keys.push(key);
            } else {
                return Err(format!(
                    "MWF_JWT_PUBLIC_KEYS: {} is not a PEM RSA or EC public key",
                    file.display()
                ));
            }
        }
        Ok(Verifier {
            secret: secret
                .or(settings.secret.as_deref())
                .map(DecodingKey::from_secret),
            rsa_keys,
            ec_keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        })
    }

    pub fn verify(&self, token: &str) -> AppResult<Caller> {
        let invalid = |why: &str| {
            AppError::new(
                ErrorCode::TokenInvalid,
                format!("the bearer token is not valid: {why}"),
            )
        };
        let header = decode_header(token).map_err(|_| invalid("malformed token"))?;
        let keys: Vec<&DecodingKey> = match header.alg {
            Algorithm::HS256 => self.secret.iter().collect(),
            Algorithm::RS256 => self.rsa_keys.iter().collect(),
            Algorithm::ES256 => self.ec_keys.iter().collect(),
            _ => return Err(invalid("algorithm not accepted (HS256, RS256, ES256)")),
        };
        if keys.is_empty() {
            return Err(invalid("no key is configured for its algorithm"));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let mut last_error = invalid("bad signature");
        for key in keys {
            match decode::<Claims>(token, key, &validation) {
                Ok(data) => {
                    let claims = data.claims;
                    if claims.sub.trim().is_empty() {
                        return Err(invalid("empty sub"));
                    }
                    return Ok(Caller::new(claims.sub, claims.role, claims.funds));
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    last_error = match e.kind() {
                        ErrorKind::ExpiredSignature => {
                            return Err(AppError::new(
                                ErrorCode::TokenExpired,
                                "the bearer token has expired",
                            ))
                        }
                        ErrorKind::InvalidIssuer => return Err(invalid("wrong issuer")),
                        ErrorKind::InvalidAudience => return Err(invalid("wrong audience")),
                        ErrorKind::MissingRequiredClaim(c) => {
                            return Err(invalid(&format!("missing claim {c}")))
                        }
                        ErrorKind::Json(_) => {
                            return Err(invalid("claims are not sub, role, funds, exp, iss, aud"))
                        }
                        _ => invalid("bad signature"),
                    };
                }
            }
        }
        Err(last_error)
    }
}

/// Mints an HS256 token (for `mwf token`, development mode and tests).
pub fn mint_token(
    secret: &[u8],
    settings: &JwtSettings,
    subject: &str,
    role: Role,
    funds: &[String],
    lifetime_seconds: i64,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: subject.to_string(),
        role,
        funds: funds.to_vec(),
        exp: now + lifetime_seconds,
        iat: Some(now),
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 encoding with a byte secret cannot fail")
}

/// Development mode's signing secret: read from `path`, or generated and
/// written there (mode 0600) on first use, so tokens survive restarts.
pub fn development_secret(path: &Path) -> Result<Vec<u8>, String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let trimmed = existing.trim();
        if trimmed.len() >= crate::config::MIN_SECRET_BYTES {
            return Ok(trimmed.as_bytes().to_vec());
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a secret: {e}"))?;
    let secret = hex::encode(bytes);
    write_private(path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Caller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> AppResult<Caller> {
    let challenge = |e: AppError| e.with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"mwf\"");
    let verifier = req
        .app_data::<web::Data<Verifier>>()
        .ok_or_else(|| AppError::internal("no verifier configured"))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        challenge(AppError::new(
            ErrorCode::Unauthenticated,
            "send Authorization: Bearer <token>",
        ))
    })?;
    let value = value.to_str().map_err(|_| {
        challenge(AppError::new(
            ErrorCode::TokenInvalid,
            "the Authorization header is not ASCII",
        ))
    })?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(challenge(AppError::new(
                ErrorCode::Unauthenticated,
                "the Authorization header must be \"Bearer <token>\"",
            )))
        }
    };
    verifier.verify(token).map_err(challenge)
}
