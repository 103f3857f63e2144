//! Settings from the environment. Every variable is read once, at start, and a bad
//! value is refused with a message that names the variable.

use std::path::PathBuf;

/// Where the service runs: development generates a signing secret when none is
/// configured; production refuses to start without key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// HS256 shared secret (`MWF_JWT_SECRET`), at least 32 bytes.
    pub secret: Option<Vec<u8>>,
    /// PEM files with RSA or EC public keys (`MWF_JWT_PUBLIC_KEYS`, comma-separated).
    pub public_key_files: Vec<PathBuf>,
    pub issuer: String,
    pub audience: String,
    /// The longest lifetime accepted (`MWF_JWT_MAX_LIFETIME_SECONDS`): exp − iat,
    /// or exp − now for a token without `iat`.
    pub max_lifetime_seconds: i64,
    /// An identity provider's JWKS document (`MWF_JWT_JWKS`), read again every
    /// `MWF_JWT_JWKS_REFRESH_SECONDS`.
    pub jwks: Option<JwksSettings>,
}

impl JwtSettings {
    /// True when tokens of an identity provider may be checked: PEM public
    /// keys or a JWKS document.
    pub fn has_provider_keys(&self) -> bool {
        !self.public_key_files.is_empty() || self.jwks.is_some()
    }
}

/// Where an identity provider's JWKS document is read from, and how often.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    pub source: JwksSource,
    /// How often the document is read again (`MWF_JWT_JWKS_REFRESH_SECONDS`).
    pub refresh: std::time::Duration,
}

/// A JWKS document: a file, or an http(s) URL (a Keycloak realm's
/// `/protocol/openid-connect/certs`, Entra ID's `/discovery/v2.0/keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    File(PathBuf),
    Url(String),
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwksSource::File(path) => write!(f, "{}", path.display()),
            JwksSource::Url(url) => f.write_str(url),
        }
    }
}

/// How often a JWKS document is read again unless configured: 5 minutes.
pub const DEFAULT_JWKS_REFRESH_SECONDS: u64 = 300;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `postgres://...` for PostgreSQL; anything else is a SQLite file path.
    pub database_url: String,
    /// A PostgreSQL streaming replica of `database_url` (`MWF_READ_DATABASE_URL`)
    /// that serves the reads that tolerate its lag; `None`: every read on the primary.
    pub read_database_url: Option<String>,
    pub bind: String,
    pub environment: Environment,
    pub jwt: JwtSettings,
    /// Database connections per process.
    pub pool_size: u32,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// How long a client may take to send a request's head, and then its body
    /// (`MWF_CLIENT_REQUEST_TIMEOUT_SECONDS`).
    pub client_request_timeout: std::time::Duration,
    /// How webhook deliveries are sent and retried (`MWF_WEBHOOK_*`).
    pub webhooks: WebhookSettings,
    /// Origins whose browser pages may call the API (`MWF_CORS_ORIGINS`),
    /// exactly as a browser sends them in `Origin`; empty: no CORS headers.
    pub cors_origins: Vec<String>,
}

/// How the delivery worker sends webhooks: the defaults suit production; tests
/// shorten them.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How long one attempt may take (`MWF_WEBHOOK_TIMEOUT_SECONDS`).
    pub timeout: std::time::Duration,
    /// Attempts before a delivery is marked failed (`MWF_WEBHOOK_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// The wait after the first failure, doubled after each further one
    /// (`MWF_WEBHOOK_BACKOFF_MS`).
    pub backoff_base: std::time::Duration,
    /// How often the worker looks for due deliveries (`MWF_WEBHOOK_POLL_MS`).
    pub poll_interval: std::time::Duration,
    /// How long a worker owns a subscription it sends for, renewed before each
    /// send (`MWF_WEBHOOK_LEASE_SECONDS`); longer than the timeout.
    pub lease: std::time::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            timeout: std::time::Duration::from_secs(10),
            max_attempts: 8,
            backoff_base: std::time::Duration::from_secs(5),
            poll_interval: std::time::Duration::from_millis(500),
            lease: std::time::Duration::from_secs(60),
        }
    }
}

/// The time a client has for a request's head and then for its body, unless
/// configured: 10 seconds.
pub const DEFAULT_CLIENT_REQUEST_TIMEOUT_SECONDS: u64 = 10;

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// The shortest HS256 secret accepted: 32 bytes, the size of the HMAC-SHA256 key.
pub const MIN_SECRET_BYTES: usize = 32;
pub const MAX_POOL_SIZE: u32 = 256;

fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError {
            variable: name,
            message: "is not valid UTF-8".into(),
        }),
    }
}

fn parse_number<T>(
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(raw) = var(name)? else {
        return Ok(default);
    };
    let value: T = raw.trim().parse().map_err(|_| ConfigError {
        variable: name,
        message: format!("must be a whole number, got {raw:?}"),
    })?;
    if !range.contains(&value) {
        return Err(ConfigError {
            variable: name,
            message: format!(
                "must be between {} and {}, got {value}",
                range.start(),
                range.end()
            ),
        });
    }
    Ok(value)
}

impl Settings {
    /// Reads every variable in turn; the first bad one is the error.
    pub fn from_env() -> Result<Settings, ConfigError> {
        let environment = environment()?;
        let database_url = database_url()?;
        let read_database_url = read_database_url(&database_url)?;
        let bind = bind_address()?;
        let jwt = jwt_settings(environment)?;
        Ok(Settings {
            database_url,
            read_database_url,
            bind,
            environment,
            jwt,
            pool_size: parse_number("MWF_DB_POOL_SIZE", 8, 1..=MAX_POOL_SIZE)?,
            workers: parse_number("MWF_WORKERS", 0, 0..=256)?,
            client_request_timeout: std::time::Duration::from_secs(parse_number(
                "MWF_CLIENT_REQUEST_TIMEOUT_SECONDS",
                DEFAULT_CLIENT_REQUEST_TIMEOUT_SECONDS,
                1..=600,
            )?),
            webhooks: webhook_settings()?,
            cors_origins: cors_origins()?,
        })
    }

    pub fn is_postgres(&self) -> bool {
        crate::db::is_postgres_url(&self.database_url)
    }
}

/// `MWF_ENV`: development unless it says production.
fn environment() -> Result<Environment, ConfigError> {
    match var("MWF_ENV")?.as_deref().map(str::trim) {
        None | Some("development") => Ok(Environment::Development),
        Some("production") => Ok(Environment::Production),
        Some(other) => Err(ConfigError {
            variable: "MWF_ENV",
            message: format!("must be \"development\" or \"production\", got {other:?}"),
        }),
    }
}

/// `DATABASE_URL`: a PostgreSQL URL or a SQLite file path (`mwf.db` by default).
fn database_url() -> Result<String, ConfigError> {
    let database_url = var("DATABASE_URL")?.unwrap_or_else(|| "mwf.db".to_string());
    if database_url.starts_with("postgresql://") || database_url.starts_with("postgres://") {
        // accepted as is; libpq reports connection problems at start.
    } else if database_url.contains("://") {
        return Err(ConfigError {
            variable: "DATABASE_URL",
            message: format!(
                "must be postgres://... or a SQLite file path, got a {} URL",
                database_url.split("://").next().unwrap_or_default()
            ),
        });
    }
    Ok(database_url)
}

/// `MWF_READ_DATABASE_URL`: a PostgreSQL URL of a streaming replica of the
/// primary; only with a PostgreSQL `DATABASE_URL` (SQLite has no replicas).
fn read_database_url(database_url: &str) -> Result<Option<String>, ConfigError> {
    let Some(url) = var("MWF_READ_DATABASE_URL")? else {
        return Ok(None);
    };
    let url = url.trim().to_string();
    if !crate::db::is_postgres_url(&url) {
        return Err(ConfigError {
            variable: "MWF_READ_DATABASE_URL",
            message: "must be postgres://... (a streaming replica of DATABASE_URL)".into(),
        });
    }
    if !crate::db::is_postgres_url(database_url) {
        return Err(ConfigError {
            variable: "MWF_READ_DATABASE_URL",
            message: "needs a PostgreSQL DATABASE_URL: a SQLite database has no replica".into(),
        });
    }
    Ok(Some(url))
}

/// `MWF_BIND`: an address and port (`127.0.0.1:8080` by default).
fn bind_address() -> Result<String, ConfigError> {
    let bind = var("MWF_BIND")?.unwrap_or_else(|| "127.0.0.1:8080".to_string());
    if bind.parse::<std::net::SocketAddr>().is_err() {
        return Err(ConfigError {
            variable: "MWF_BIND",
            message: format!("must be an address and port such as 127.0.0.1:8080, got {bind:?}"),
        });
    }
    Ok(bind)
}

/// The token settings; production needs key material of some kind.
fn jwt_settings(environment: Environment) -> Result<JwtSettings, ConfigError> {
    let secret = jwt_secret()?;
    let public_key_files = public_key_files()?;
    let jwks = jwks_settings()?;
    if environment == Environment::Production
        && secret.is_none()
        && public_key_files.is_empty()
        && jwks.is_none()
    {
        return Err(ConfigError {
            variable: "MWF_JWT_SECRET",
            message: "MWF_ENV=production needs MWF_JWT_SECRET, MWF_JWT_PUBLIC_KEYS or MWF_JWT_JWKS"
                .into(),
        });
    }
    let issuer = var("MWF_JWT_ISSUER")?.unwrap_or_else(|| "mwf".to_string());
    let audience = var("MWF_JWT_AUDIENCE")?.unwrap_or_else(|| "mwf".to_string());
    Ok(JwtSettings {
        secret,
        public_key_files,
        issuer,
        audience,
        max_lifetime_seconds: parse_number(
            "MWF_JWT_MAX_LIFETIME_SECONDS",
            crate::auth::DEFAULT_TOKEN_LIFETIME_SECONDS,
            60..=crate::auth::MAX_TOKEN_LIFETIME_SECONDS,
        )?,
        jwks,
    })
}

/// `MWF_JWT_JWKS`: an http(s) URL, or a file that must exist; and
/// `MWF_JWT_JWKS_REFRESH_SECONDS` (1 s to a day).
fn jwks_settings() -> Result<Option<JwksSettings>, ConfigError> {
    let refresh = std::time::Duration::from_secs(parse_number(
        "MWF_JWT_JWKS_REFRESH_SECONDS",
        DEFAULT_JWKS_REFRESH_SECONDS,
        1..=86_400,
    )?);
    let Some(raw) = var("MWF_JWT_JWKS")? else {
        return Ok(None);
    };
    let raw = raw.trim();
    let source = if raw.starts_with("https://") || raw.starts_with("http://") {
        JwksSource::Url(raw.to_string())
    } else if raw.contains("://") {
        return Err(ConfigError {
            variable: "MWF_JWT_JWKS",
            message: format!("must be an http(s) URL or a file path, got {raw:?}"),
        });
    } else if std::path::Path::new(raw).is_file() {
        JwksSource::File(PathBuf::from(raw))
    } else {
        return Err(ConfigError {
            variable: "MWF_JWT_JWKS",
            message: format!("{raw} is not a readable file"),
        });
    };
    Ok(Some(JwksSettings { source, refresh }))
}

/// `MWF_JWT_SECRET`: at least [`MIN_SECRET_BYTES`] bytes, if given.
fn jwt_secret() -> Result<Option<Vec<u8>>, ConfigError> {
    match var("MWF_JWT_SECRET")? {
        Some(s) if s.len() < MIN_SECRET_BYTES => Err(ConfigError {
            variable: "MWF_JWT_SECRET",
            message: format!("must be at least {MIN_SECRET_BYTES} bytes, got {}", s.len()),
        }),
        other => Ok(other.map(String::into_bytes)),
    }
}

/// `MWF_JWT_PUBLIC_KEYS`: comma-separated PEM files, each of which must exist.
fn public_key_files() -> Result<Vec<PathBuf>, ConfigError> {
    let files: Vec<PathBuf> = var("MWF_JWT_PUBLIC_KEYS")?
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    for file in &files {
        if !file.is_file() {
            return Err(ConfigError {
                variable: "MWF_JWT_PUBLIC_KEYS",
                message: format!("{} is not a readable file", file.display()),
            });
        }
    }
    Ok(files)
}

/// The `MWF_WEBHOOK_*` settings. The lease must outlast an attempt, or another
/// process could send a delivery that is still in flight.
fn webhook_settings() -> Result<WebhookSettings, ConfigError> {
    use std::time::Duration;
    let defaults = WebhookSettings::default();
    let timeout = parse_number(
        "MWF_WEBHOOK_TIMEOUT_SECONDS",
        defaults.timeout.as_secs(),
        1..=300,
    )?;
    let lease = parse_number(
        "MWF_WEBHOOK_LEASE_SECONDS",
        defaults.lease.as_secs(),
        2..=3600,
    )?;
    if lease <= timeout {
        return Err(ConfigError {
            variable: "MWF_WEBHOOK_LEASE_SECONDS",
            message: format!(
                "must be longer than MWF_WEBHOOK_TIMEOUT_SECONDS ({timeout}), got {lease}"
            ),
        });
    }
    Ok(WebhookSettings {
        timeout: Duration::from_secs(timeout),
        max_attempts: parse_number("MWF_WEBHOOK_MAX_ATTEMPTS", defaults.max_attempts, 1..=100)?,
        backoff_base: Duration::from_millis(parse_number(
            "MWF_WEBHOOK_BACKOFF_MS",
            defaults.backoff_base.as_millis() as u64,
            1..=3_600_000,
        )?),
        poll_interval: Duration::from_millis(parse_number(
            "MWF_WEBHOOK_POLL_MS",
            defaults.poll_interval.as_millis() as u64,
            10..=60_000,
        )?),
        lease: Duration::from_secs(lease),
    })
}

/// `MWF_CORS_ORIGINS`: comma-separated origins, each `http(s)://host[:port]`
/// with nothing after it (a browser's `Origin` has no path and no slash).
fn cors_origins() -> Result<Vec<String>, ConfigError> {
    let Some(raw) = var("MWF_CORS_ORIGINS")? else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match host {
                Some(h) if !h.is_empty() && !h.contains(['/', '?', '#', ' ', '*']) => {
                    Ok(origin.to_string())
                }
                _ => Err(ConfigError {
                    variable: "MWF_CORS_ORIGINS",
                    message: format!(
                        "each origin must be http(s)://host[:port] without a path, got {origin:?}"
                    ),
                }),
            }
        })
        .collect()
}
