//! Access: bearer JWTs, the authenticated caller, roles and fund scope.
//!
//! Tokens are HS256 with a shared secret, or RS256/ES256 signed by a ministry's
//! identity provider whose public keys are configured (PEM files, or a JWKS
//! document whose keys are chosen by the token's `kid`: [`jwks`]). The
//! algorithm in the token header only selects among keys of that kind: an
//! HS256 token is never checked against a public key, and `alg: none` is refused.

mod access;
pub mod jwks;

use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use crate::config::JwtSettings;
use crate::error::{AppError, AppResult, ErrorCode};

pub use access::Act;

/// The longest token lifetime that may be configured: 366 days.
pub const MAX_TOKEN_LIFETIME_SECONDS: i64 = 366 * 24 * 3600;
/// The token lifetime accepted when none is configured: 24 hours.
pub const DEFAULT_TOKEN_LIFETIME_SECONDS: i64 = 24 * 3600;
/// Clock skew tolerated when checking `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 30;
/// The longest `sub` accepted, in characters.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// What a caller may do. `admin` does everything; `officer` works workers,
/// contributions and claims; `approver` gives second and committee approvals;
/// `ministry` enrolls, contributes and submits claims in its own funds;
/// `auditor` reads everything and never writes; `worker` is a worker (or a
/// registered dependant: `sub` is their id) reading their own records and
/// filing their own claims ([`Caller::own_records`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Officer,
    Approver,
    Ministry,
    Auditor,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Approver => "approver",
            Role::Ministry => "ministry",
            Role::Auditor => "auditor",
            Role::Worker => "worker",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// The claims mwf reads from a token. Times are seconds since 1970 (JWT
/// NumericDate); mwf checks them itself, so a bad one is named, never "missing".
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    /// Fund codes the token may touch; `["*"]` for all.
    pub funds: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub iss: String,
    pub aud: String,
}

/// Who vouched for a token: mwf's own shared secret (HS256, `mwf token`), or an
/// identity provider's public key (RS256, ES256). The same `sub` from each is a
/// different caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuer {
    SharedSecret,
    PublicKey,
}

impl Issuer {
    fn tag(self) -> &'static str {
        match self {
            Issuer::SharedSecret => "secret",
            Issuer::PublicKey => "public-key",
        }
    }
}

/// Separates the issuer's tag from the subject in a principal.
const PRINCIPAL_SEPARATOR: char = '|';

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's `sub` as written: for display and the audit log.
    pub subject: String,
    /// The issuer and the subject together: what four-eyes and idempotency compare.
    principal: String,
    pub role: Role,
    funds: Vec<String>,
}

impl Caller {
    /// A caller vouched for by mwf's own secret (the demo, `mwf token`).
    pub fn new(subject: impl Into<String>, role: Role, funds: Vec<String>) -> Caller {
        Caller::issued_by(Issuer::SharedSecret, subject, role, funds)
    }

    pub fn issued_by(
        issuer: Issuer,
        subject: impl Into<String>,
        role: Role,
        funds: Vec<String>,
    ) -> Caller {
        let subject = subject.into();
        let normalised: String = subject.nfc().collect();
        Caller {
            principal: format!("{}{PRINCIPAL_SEPARATOR}{normalised}", issuer.tag()),
            subject,
            role,
            funds,
        }
    }

    /// The issuer and the subject together (`secret|olivia`,
    /// `public-key|olivia`), the subject in Unicode NFC: two callers are the
    /// same person only when their principals are equal. Subjects with
    /// whitespace around them are refused at the edge (see [`check_subject`]),
    /// so two spellings of one name are one principal.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// True when `recorded` (a principal stored by an earlier request, or a bare
    /// subject stored before principals existed) names this caller.
    pub fn is(&self, recorded: &str) -> bool {
        recorded == self.principal || (!is_principal(recorded) && recorded == self.subject)
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

    /// The person a `worker` token speaks for: its `sub`, the id of a worker or
    /// of a dependant registered on one. Such a caller reads only the records
    /// of that worker (a dependant shares the family's records) and files
    /// claims only as that person; `None` for the institutional roles, whose
    /// scope is whole funds.
    pub fn own_records(&self) -> Option<&str> {
        (self.role == Role::Worker).then_some(self.subject.as_str())
    }

    /// 403 unless the caller's role may do `act` ([`access`]). Checked before
    /// any lookup, so the answer says nothing about which funds or records exist.
    pub fn require(&self, act: Act) -> AppResult<()> {
        if act.allows(self.role) {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::RoleNotPermitted,
                format!(
                    "the {} role may not do this; allowed: {}",
                    self.role.as_str(),
                    act.roles()
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
}

fn is_principal(recorded: &str) -> bool {
    recorded
        .split_once(PRINCIPAL_SEPARATOR)
        .is_some_and(|(tag, _)| {
            [Issuer::SharedSecret, Issuer::PublicKey]
                .iter()
                .any(|i| i.tag() == tag)
        })
}

/// The subject a stored principal names, for display; a bare subject stored
/// before principals existed is returned as it is.
pub fn displayed_subject(recorded: &str) -> &str {
    match recorded.split_once(PRINCIPAL_SEPARATOR) {
        Some((_, subject)) if is_principal(recorded) => subject,
        _ => recorded,
    }
}

/// A `sub` is 1 to 255 characters, without control characters and without
/// whitespace around it, so two spellings of one name cannot be two callers.
pub fn check_subject(sub: &str) -> Result<(), String> {
    let chars = sub.chars().count();
    if chars == 0 || sub.trim().is_empty() {
        return Err("claim sub is empty".into());
    }
    if chars > MAX_SUBJECT_CHARS {
        return Err(format!(
            "claim sub is {chars} characters long; at most {MAX_SUBJECT_CHARS} are accepted"
        ));
    }
    if let Some(c) = sub.chars().find(|c| c.is_control()) {
        return Err(format!(
            "claim sub contains the control character U+{:04X}",
            c as u32
        ));
    }
    if sub.trim() != sub {
        return Err("claim sub begins or ends with whitespace".into());
    }
    Ok(())
}

/// Checks tokens against the configured keys.
pub struct Verifier {
    secret: Option<Arc<DecodingKey>>,
    rsa_keys: Vec<Arc<DecodingKey>>,
    ec_keys: Vec<Arc<DecodingKey>>,
    /// The identity provider's key set (`MWF_JWT_JWKS`), chosen by `kid`.
    jwks: Option<Arc<jwks::KeySet>>,
    issuer: String,
    audience: String,
    max_lifetime_seconds: i64,
}

impl Verifier {
    /// Loads the keys named in the settings; `secret` overrides the settings'
    /// secret (development mode's generated one). A JWKS document is read
    /// now, and then again in the background.
    pub fn new(settings: &JwtSettings, secret: Option<&[u8]>) -> Result<Verifier, String> {
        let mut rsa_keys = Vec::new();
        let mut ec_keys = Vec::new();
        for file in &settings.public_key_files {
            let pem = std::fs::read(file)
                .map_err(|e| format!("MWF_JWT_PUBLIC_KEYS: cannot read {}: {e}", file.display()))?;
            if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                rsa_keys.push(Arc::new(key));
            } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
                ec_keys.push(Arc::new(key));
            } else {
                return Err(format!(
                    "MWF_JWT_PUBLIC_KEYS: {} is not a PEM RSA or EC public key",
                    file.display()
                ));
            }
        }
        let jwks = settings.jwks.as_ref().map(jwks::KeySet::load).transpose()?;
        Ok(Verifier {
            secret: secret
                .or(settings.secret.as_deref())
                .map(|s| Arc::new(DecodingKey::from_secret(s))),
            rsa_keys,
            ec_keys,
            jwks,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            max_lifetime_seconds: settings.max_lifetime_seconds,
        })
    }

    /// True when `token` (RS256 or ES256) names a key id the JWKS does not
    /// hold and the document should be read again before the token is
    /// verified ([`Verifier::read_keys_for`]).
    pub fn wants_keys_for(&self, token: &str) -> bool {
        match (&self.jwks, provider_kid(token)) {
            (Some(set), Some(kid)) => set.wants_reading_for(&kid),
            _ => false,
        }
    }

    /// Reads the JWKS document again for the key id `token` names, at most
    /// once per [`jwks::ON_DEMAND_INTERVAL`]. Blocking: run it on the
    /// blocking pool.
    pub fn read_keys_for(&self, token: &str) {
        if let (Some(set), Some(kid)) = (&self.jwks, provider_kid(token)) {
            set.read_for(&kid);
        }
    }

    pub fn verify(&self, token: &str) -> AppResult<Caller> {
        let header = decode_header(token).map_err(|_| invalid("malformed token"))?;
        let (issuer, keys) = self.keys_for(&header)?;
        if keys.is_empty() {
            return Err(invalid("no key is configured for its algorithm"));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        // The times are checked below, with messages that name the claim.
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let mut last_error = invalid("bad signature");
        for key in keys {
            match decode::<serde_json::Value>(token, &key, &validation) {
                Ok(data) => {
                    let claims = self.check_claims(data.claims)?;
                    return Ok(Caller::issued_by(
                        issuer,
                        claims.sub,
                        claims.role,
                        claims.funds,
                    ));
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    last_error = match e.kind() {
                        ErrorKind::InvalidIssuer => return Err(invalid("wrong issuer")),
                        ErrorKind::InvalidAudience => return Err(invalid("wrong audience")),
                        ErrorKind::MissingRequiredClaim(c) => {
                            return Err(invalid(&format!("missing claim {c}")))
                        }
                        ErrorKind::Json(_) => return Err(invalid("claims are not a JSON object")),
                        _ => invalid("bad signature"),
                    };
                }
            }
        }
        Err(last_error)
    }

    /// The keys a token may be checked against: the secret for HS256; for
    /// RS256 and ES256 the JWKS key its `kid` names, else the PEM keys of
    /// that kind. A token for the JWKS without a `kid`, or with one the set
    /// does not hold, is refused when no PEM key could check it instead.
    fn keys_for(&self, header: &Header) -> AppResult<(Issuer, Vec<Arc<DecodingKey>>)> {
        let pem_keys = match header.alg {
            Algorithm::HS256 => {
                return Ok((Issuer::SharedSecret, self.secret.iter().cloned().collect()))
            }
            Algorithm::RS256 => &self.rsa_keys,
            Algorithm::ES256 => &self.ec_keys,
            _ => return Err(invalid("algorithm not accepted (HS256, RS256, ES256)")),
        };
        let Some(set) = &self.jwks else {
            return Ok((Issuer::PublicKey, pem_keys.clone()));
        };
        if let Some(key) = set_key(set, header) {
            return Ok((Issuer::PublicKey, vec![key?]));
        }
        if !pem_keys.is_empty() {
            return Ok((Issuer::PublicKey, pem_keys.clone()));
        }
        Err(match &header.kid {
            Some(kid) => invalid(&format!(
                "no key with kid {kid:?} is known (the identity provider's key set is read again for an unknown kid at most every {} s)",
                jwks::ON_DEMAND_INTERVAL.as_secs()
            )),
            None => invalid("it has no kid; keys of the identity provider's key set are chosen by kid"),
        })
    }

    /// The claims of a token whose signature, issuer and audience are good:
    /// their types, the times (`exp`, `nbf`, `iat` with [`LEEWAY_SECONDS`]),
    /// the lifetime and the subject.
    fn check_claims(&self, raw: serde_json::Value) -> AppResult<Claims> {
        if raw.get("exp").is_none() {
            return Err(invalid("missing claim exp"));
        }
        let claims: Claims = serde_path_to_error::deserialize(raw).map_err(|e| {
            let path = e.path().to_string();
            let claim = path.split(['.', '[']).next().unwrap_or_default();
            match claim {
                "exp" | "nbf" | "iat" => invalid(&format!(
                    "claim {claim} is not a time in whole seconds since 1970"
                )),
                "" | "?" => invalid(&format!("claims: {}", e.inner())),
                _ => invalid(&format!("claim {claim}: {}", e.inner())),
            }
        })?;
        let now = chrono::Utc::now().timestamp();
        if claims.exp.saturating_add(LEEWAY_SECONDS) < now {
            return Err(AppError::new(
                ErrorCode::TokenExpired,
                "the bearer token has expired (exp is in the past)",
            ));
        }
        if let Some(nbf) = claims
            .nbf
            .filter(|nbf| *nbf > now.saturating_add(LEEWAY_SECONDS))
        {
            return Err(invalid(&format!(
                "it is not valid before {} (nbf is {} seconds from now)",
                rfc3339_or_number(nbf),
                nbf.saturating_sub(now)
            )));
        }
        if let Some(iat) = claims
            .iat
            .filter(|iat| *iat > now.saturating_add(LEEWAY_SECONDS))
        {
            return Err(invalid(&format!(
                "it claims to be issued at {}, in the future (iat is {} seconds from now)",
                rfc3339_or_number(iat),
                iat.saturating_sub(now)
            )));
        }
        let lifetime = claims.exp.saturating_sub(claims.iat.unwrap_or(now));
        if lifetime > self.max_lifetime_seconds.saturating_add(LEEWAY_SECONDS) {
            return Err(invalid(&format!(
                "its lifetime (exp - {}) is {lifetime} seconds; at most {} are accepted",
                if claims.iat.is_some() { "iat" } else { "now" },
                self.max_lifetime_seconds
            )));
        }
        check_subject(&claims.sub).map_err(|why| invalid(&why))?;
        Ok(claims)
    }
}

/// The `kid` of a token signed with an identity provider's key (RS256, ES256).
fn provider_kid(token: &str) -> Option<String> {
    decode_header(token)
        .ok()
        .filter(|h| matches!(h.alg, Algorithm::RS256 | Algorithm::ES256))
        .and_then(|h| h.kid)
}

/// The JWKS key the header's `kid` names, if the set holds it; refused when
/// the key is for another algorithm than the header's.
fn set_key(set: &jwks::KeySet, header: &Header) -> Option<AppResult<Arc<DecodingKey>>> {
    let kid = header.kid.as_deref()?;
    let key = set.get(kid)?;
    Some(if key.algorithm == header.alg {
        Ok(key.key)
    } else {
        Err(invalid(&format!(
            "the key {kid:?} is for {:?}, not {:?}",
            key.algorithm, header.alg
        )))
    })
}

fn invalid(why: &str) -> AppError {
    AppError::new(
        ErrorCode::TokenInvalid,
        format!("the bearer token is not valid: {why}"),
    )
}

fn rfc3339_or_number(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| seconds.to_string())
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
        nbf: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_is_one_to_255_characters_without_control_characters_or_surrounding_space() {
        assert!(check_subject("olivia").is_ok());
        assert!(check_subject(&"é".repeat(MAX_SUBJECT_CHARS)).is_ok());
        for bad in ["", "   ", "a\u{0}b", "a\nb", " olivia", "olivia\u{a0}"] {
            assert!(check_subject(bad).is_err(), "{bad:?}");
        }
        assert!(check_subject(&"é".repeat(MAX_SUBJECT_CHARS + 1)).is_err());
    }

    #[test]
    fn the_principal_joins_issuer_and_normalised_subject_and_displays_the_subject() {
        let secret = Caller::new("Jose\u{301}", Role::Officer, vec![]);
        let key = Caller::issued_by(Issuer::PublicKey, "Jos\u{e9}", Role::Officer, vec![]);
        assert_eq!(secret.principal(), "secret|Jos\u{e9}");
        assert_eq!(key.principal(), "public-key|Jos\u{e9}");
        assert!(secret.is("secret|Jos\u{e9}"));
        assert!(!key.is(secret.principal()));
        // A bare subject recorded before principals existed still counts.
        assert!(secret.is("Jose\u{301}"));
        assert_eq!(displayed_subject("public-key|olivia"), "olivia");
        assert_eq!(displayed_subject("olivia|x"), "olivia|x");
    }
}
