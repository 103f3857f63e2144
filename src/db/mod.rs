//! Storage: one connection type over SQLite and PostgreSQL, the pool, embedded
//! migrations and the write transaction every booking runs in.

pub mod schema;
pub mod stored_text;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend of [`DbConnection`] (for boxed queries).
pub type DbBackend = <DbConnection as Connection>::Backend;

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDb = PooledConnection<ConnectionManager<DbConnection>>;

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Sets the per-connection SQLite pragmas: WAL, durable commits, foreign keys.
#[derive(Debug)]
struct ConnectionSettings;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            let pragmas = format!(
                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
            );
            // Switching a new file to WAL needs an exclusive lock, and SQLite
            // answers "database is locked" without waiting the busy timeout when
            // another process opens the same new file at that moment: try again.
            let mut tries = 0;
            loop {
                match c.batch_execute(&pragmas) {
                    Err(e) if tries < 200 && e.to_string().contains("database is locked") => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    other => return other.map_err(diesel::r2d2::Error::QueryError),
                }
            }
        }
        Ok(())
    }
}

/// Opens one connection, choosing the backend from the URL (so a failed
/// PostgreSQL connect reports its real reason).
pub fn establish(url: &str) -> Result<DbConnection, diesel::ConnectionError> {
    let mut conn = if is_postgres_url(url) {
        DbConnection::Postgresql(PgConnection::establish(url)?)
    } else {
        DbConnection::Sqlite(SqliteConnection::establish(url)?)
    };
    ConnectionSettings
        .on_acquire(&mut conn)
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// A pool of connections to `url`; fails if the database can't be reached.
pub fn pool(url: &str, size: u32) -> Result<DbPool, String> {
    // Establish once directly: r2d2 only says "timed out" when the URL is bad.
    establish(url).map_err(|e| format!("cannot connect to the database: {e}"))?;
    let manager = ConnectionManager::<DbConnection>::new(url);
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSettings))
        .build(manager)
        .map_err(|e| format!("cannot open the connection pool: {e}"))
}

/// Where a read ran: the primary or the read replica (`MWF_READ_DATABASE_URL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSource {
    Primary,
    Replica,
}

impl ReadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadSource::Primary => "primary",
            ReadSource::Replica => "replica",
        }
    }
}

/// After the replica could not be reached, reads go to the primary for this long
/// before the replica is tried again.
pub const REPLICA_RETRY: Duration = Duration::from_secs(10);

/// How long a read waits for a replica connection before it reads the primary.
const REPLICA_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The connections for reads that tolerate a replica's lag: the replica's
/// pool when one is configured, else the primary's. A replica that cannot be
/// reached is not an error: the read goes to the primary, with a warning in
/// the log, and the replica is tried again after [`REPLICA_RETRY`].
#[derive(Clone)]
pub struct ReadPools {
    primary: DbPool,
    replica: Option<std::sync::Arc<Replica>>,
}

struct Replica {
    pool: DbPool,
    /// Until when the replica is skipped after a failed connect (process-local:
    /// it only decides where reads go, never what is true).
    down_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl ReadPools {
    /// Reads on the primary only.
    pub fn primary_only(primary: DbPool) -> ReadPools {
        ReadPools {
            primary,
            replica: None,
        }
    }

    /// Reads on a replica at `url`. The pool is built without connecting, so
    /// that a replica down at start does not stop the service.
    pub fn with_replica(primary: DbPool, url: &str, size: u32) -> ReadPools {
        let manager = ConnectionManager::<DbConnection>::new(url);
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(REPLICA_CONNECT_TIMEOUT)
            .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
            .connection_customizer(Box::new(ConnectionSettings))
            .build_unchecked(manager);
        ReadPools {
            primary,
            replica: Some(std::sync::Arc::new(Replica {
                pool,
                down_until: std::sync::Mutex::new(None),
            })),
        }
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// A connection for a lag-tolerant read, and where it goes (`None` when no
    /// replica is configured).
    pub fn get(&self) -> Result<(PooledDb, Option<ReadSource>), diesel::r2d2::PoolError> {
        let Some(replica) = &self.replica else {
            return Ok((self.primary.get()?, None));
        };
        let now = std::time::Instant::now();
        let skip = replica
            .down_until
            .lock()
            .map(|until| until.is_some_and(|t| now < t))
            .unwrap_or(false);
        if !skip {
            match replica.pool.get() {
                Ok(conn) => {
                    if let Ok(mut until) = replica.down_until.lock() {
                        if until.take().is_some() {
                            log::warn!("the read replica answers again; reports read from it");
                        }
                    }
                    return Ok((conn, Some(ReadSource::Replica)));
                }
                Err(e) => {
                    log::warn!(
                        "the read replica (MWF_READ_DATABASE_URL) cannot be reached ({e}); \
                         reading from the primary for the next {} s",
                        REPLICA_RETRY.as_secs()
                    );
                    if let Ok(mut until) = replica.down_until.lock() {
                        *until = Some(now + REPLICA_RETRY);
                    }
                }
            }
        }
        Ok((self.primary.get()?, Some(ReadSource::Primary)))
    }

    /// The pool a read made of several short reads (an export, page by page)
    /// takes its connections from: the replica's when it answers now, else the
    /// primary's; chosen once, so that every page reads the same database.
    pub fn pool(&self) -> Result<(DbPool, Option<ReadSource>), diesel::r2d2::PoolError> {
        let (conn, source) = self.get()?;
        drop(conn);
        Ok((self.pool_of(source).clone(), source))
    }

    /// The pool a connection of `source` (as [`get`](Self::get) gave it)
    /// came from.
    pub fn pool_of(&self, source: Option<ReadSource>) -> &DbPool {
        match (&self.replica, source) {
            (Some(replica), Some(ReadSource::Replica)) => &replica.pool,
            _ => &self.primary,
        }
    }
}

/// Any constant: the PostgreSQL advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x6d77_665f_6d69_6772;

/// Applies pending migrations; returns how many ran. Processes starting at once
/// on one database take turns: SQLite in one `BEGIN IMMEDIATE` transaction,
/// PostgreSQL under an advisory lock; the later finds the migrations applied.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, String> {
    type MigrationResult = Result<usize, Box<dyn std::error::Error + Send + Sync>>;
    let applied: MigrationResult = match conn {
        DbConnection::Sqlite(c) => {
            c.immediate_transaction(|c| Ok(c.run_pending_migrations(SQLITE_MIGRATIONS)?.len()))
        }
        DbConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(|e| format!("migrations failed: {e}"))?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            let _ = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            applied
        }
    };
    let applied = applied.map_err(|e| format!("migrations failed: {e}"))?;
    crate::reports::membership_summary::backfill(conn)
        .map_err(|e| format!("membership summary: {e}"))?;
    crate::workers::backfill_name_keys(conn).map_err(|e| format!("worker name keys: {e}"))?;
    Ok(applied)
}

/// True when no migration is pending.
pub fn is_migrated(conn: &mut DbConnection) -> bool {
    match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    }
    .is_ok_and(|pending| !pending)
}

pub fn backend_name(conn: &DbConnection) -> &'static str {
    match conn {
        DbConnection::Sqlite(_) => "sqlite",
        DbConnection::Postgresql(_) => "postgresql",
    }
}

/// Runs `f` in a write transaction and commits if it returns `Ok`.
///
/// SQLite starts the transaction with `BEGIN IMMEDIATE`, taking the write lock
/// up front so that two writers queue on the busy timeout instead of failing
/// when a reader upgrades. PostgreSQL runs READ COMMITTED; services serialise
/// on the rows they update (a fund's chain head, an account's balance).
/// Nested calls to `conn.transaction` inside `f` become savepoints.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    type Manager = <DbConnection as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit_error) => {
                let _ = Manager::rollback_transaction(conn);
                Err(commit_error.into())
            }
        },
        Err(error) => {
            Manager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// Runs `f` in a read-only transaction that sees one consistent snapshot
/// (PostgreSQL REPEATABLE READ; a SQLite read transaction), so that a report
/// read in several queries (verification) is not torn by concurrent bookings.
pub fn read_snapshot<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")?
        }
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        )?,
    }
    type Manager = <DbConnection as Connection>::TransactionManager;
    let outcome = f(conn);
    Manager::rollback_transaction(conn)?;
    outcome
}

/// How much one SQLite connection keeps in memory: its page cache
/// (`cache_size`: pages when positive, KiB when negative), the bytes it reads
/// through a memory mapping (`mmap_size`, 0 for none) and where its temporary
/// files go (`temp_store`: 0 SQLite's default, 1 a file, 2 memory; among them
/// the statement journals that let a statement inside a transaction be
/// undone, which spill to a file past 64 KiB). New connections get SQLite's
/// defaults (2 MB, none, files); a long run that reads or writes a large part
/// of the file changes them for its own time with [`with_sqlite_cache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteCache {
    pub cache_size: i64,
    pub mmap_size: i64,
    pub temp_store: i64,
}

impl SqliteCache {
    /// The connection's settings now.
    pub fn read(conn: &mut SqliteConnection) -> diesel::QueryResult<SqliteCache> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct CacheSize {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            cache_size: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct MmapSize {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            mmap_size: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct TempStore {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            temp_store: i64,
        }
        let cache: Vec<CacheSize> = diesel::sql_query("PRAGMA cache_size").load(conn)?;
        let mmap: Vec<MmapSize> = diesel::sql_query("PRAGMA mmap_size").load(conn)?;
        let temp: Vec<TempStore> = diesel::sql_query("PRAGMA temp_store").load(conn)?;
        Ok(SqliteCache {
            cache_size: cache.first().map_or(-2_000, |r| r.cache_size),
            mmap_size: mmap.first().map_or(0, |r| r.mmap_size),
            temp_store: temp.first().map_or(0, |r| r.temp_store),
        })
    }

    pub fn set(self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA cache_size = {}; PRAGMA mmap_size = {}; PRAGMA temp_store = {};",
            self.cache_size, self.mmap_size, self.temp_store
        ))
    }
}

/// Runs `f` with a SQLite connection's cache set to `wide`, and puts the
/// connection's own settings back after, whatever `f` returned. On
/// PostgreSQL it only runs `f`.
pub fn with_sqlite_cache<T, E, F>(conn: &mut DbConnection, wide: SqliteCache, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConnection::Sqlite(c) = conn else {
        return f(conn);
    };
    let before = SqliteCache::read(c)?;
    wide.set(c)?;
    let outcome = f(conn);
    if let DbConnection::Sqlite(c) = conn {
        before.set(c)?;
    }
    outcome
}

/// True for a unique-constraint violation (a concurrent insert won the race).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Rows per multi-row INSERT: under both backends' limits on bound parameters
/// (SQLite 32,766; PostgreSQL 65,535) for tables of up to 30 columns.
pub const INSERT_CHUNK: usize = 1_000;

/// Inserts `rows` (a slice of column-value tuples, `(col.eq(value), ...)`) into
/// `table` with one multi-row INSERT per [`INSERT_CHUNK`] rows. Multi-row inserts
/// do not compile through the [`DbConnection`] enum, so this matches on the
/// backend. Evaluates to the `QueryResult` of the inserts.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        let conn: &mut $crate::db::DbConnection = $conn;
        (|| -> diesel::QueryResult<usize> {
            let mut inserted = 0;
            for chunk in $rows.chunks($crate::db::INSERT_CHUNK) {
                inserted += match &mut *conn {
                    $crate::db::DbConnection::Postgresql(c) => {
                        diesel::insert_into($table).values(chunk).execute(c)?
                    }
                    $crate::db::DbConnection::Sqlite(c) => {
                        diesel::insert_into($table).values(chunk).execute(c)?
                    }
                };
            }
            Ok(inserted)
        })()
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(conn: &mut DbConnection) -> SqliteCache {
        match conn {
            DbConnection::Sqlite(c) => SqliteCache::read(c).expect("pragmas read"),
            DbConnection::Postgresql(_) => unreachable!("a SQLite file"),
        }
    }

    #[test]
    fn a_wide_run_has_its_sqlite_settings_and_the_connection_gets_its_own_back() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("cache.db");
        let mut conn = establish(path.to_str().expect("UTF-8 path")).expect("opens");
        let own = settings(&mut conn);
        assert_eq!(own.temp_store, 0, "SQLite's default: {own:?}");
        let wide = SqliteCache {
            cache_size: -4_096,
            mmap_size: 1 << 20,
            temp_store: 2,
        };
        let inside = with_sqlite_cache(&mut conn, wide, |conn| {
            Ok::<_, diesel::result::Error>(settings(conn))
        })
        .expect("runs");
        assert_eq!(inside, wide);
        assert_eq!(settings(&mut conn), own);

        let failed = with_sqlite_cache(&mut conn, wide, |_| {
            Err::<(), _>(diesel::result::Error::RollbackTransaction)
        });
        assert!(matches!(
            failed,
            Err(diesel::result::Error::RollbackTransaction)
        ));
        assert_eq!(settings(&mut conn), own, "put back after a failure too");
    }
}
