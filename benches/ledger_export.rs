//! Measures the ledger export on SQLite: entries per second and peak memory of
//! exporting a ledger of one million journal entries in each format; and
//! verification: a full run, and a run since a checkpoint over 10,000 entries
//! booked after it (on a copy of the ledger).
//!
//!     cargo bench --bench ledger_export
//!     MWF_BENCH_ENTRIES=200000 cargo bench --bench ledger_export
//!
//! With `MWF_BENCH_DATABASE_URL=postgres://…/<database>` the exports run on
//! that PostgreSQL database instead (an empty one: the ledger is built in it
//! on the first run and reused after; verification is not run there).
//!
//! The ledger is built once through the real booking code (hash chain and all)
//! and kept in `target/bench-ledger-<entries>.db` for later runs. Each export
//! runs in a child process of this benchmark so that its peak resident memory
//! (VmHWM) is the export's alone; the output goes to a byte counter.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::{Days, NaiveDate};
use mwf::db::{self, write_transaction};
use mwf::error::AppError;
use mwf::export::{self, LedgerExportRequest, LedgerFormat};
use mwf::funds::{self, FundId, NewFund};
use mwf::ledger::{Booking, NewEntry, NewPosting, Side};
use mwf::money::Currency;
use mwf::progress::Progress;

const FUND: &str = "BENCH-KE";
const PER_TRANSACTION: usize = 20_000;

fn entries_wanted() -> usize {
    std::env::var("MWF_BENCH_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

/// Counts bytes and throws them away (or keeps them in a file, to compare
/// the output of two builds: `MWF_BENCH_KEEP_OUTPUT=<folder>`).
struct Counter(u64, Option<io::BufWriter<std::fs::File>>);

impl Counter {
    fn new(name: &str) -> Counter {
        let file = std::env::var_os("MWF_BENCH_KEEP_OUTPUT").map(|dir| {
            let path = Path::new(&dir).join(name);
            io::BufWriter::new(std::fs::File::create(path).expect("create the kept output"))
        });
        Counter(0, file)
    }
}

impl Write for Counter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0 += data.len() as u64;
        if let Some(file) = &mut self.1 {
            file.write_all(data)?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.1 {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// The ledger on PostgreSQL: built in the database at `url` unless it holds
/// it already.
fn postgres_ledger(url: &str, entries: usize) {
    let mut conn = db::establish(url).expect("open the bench database");
    db::migrate(&mut conn).expect("migrate");
    if let Some(fund) = funds::find_fund(&mut conn, FUND).expect("read the funds") {
        assert_eq!(
            fund.last_sequence as usize, entries,
            "{url} holds a ledger of another size: give an empty database"
        );
        println!("using {FUND} in {url}");
        return;
    }
    let fund = write_transaction(&mut conn, |conn| {
        funds::create_fund(
            conn,
            &NewFund {
                code: FUND.into(),
                country: "KE".into(),
                name: "Benchmark fund".into(),
                currency: Currency::parse("KES").unwrap(),
            },
        )
    })
    .expect("create the fund");
    let started = Instant::now();
    let mut progress = Progress::new("building the ledger", Some(entries as u64));
    book(&mut conn, fund.id, 0, entries, entries, &mut progress);
    progress.finish();
    println!(
        "built {entries} entries in {:.1}s into {url}",
        started.elapsed().as_secs_f64()
    );
}

fn build_ledger(path: &Path, entries: usize) {
    let url = path.to_string_lossy().to_string();
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut conn = db::establish(&partial.to_string_lossy()).expect("open the bench database");
    db::migrate(&mut conn).expect("migrate");
    let kes = Currency::parse("KES").unwrap();
    let fund = write_transaction(&mut conn, |conn| {
        funds::create_fund(
            conn,
            &NewFund {
                code: FUND.into(),
                country: "KE".into(),
                name: "Benchmark fund".into(),
                currency: kes,
            },
        )
    })
    .expect("create the fund");
    let started = Instant::now();
    let mut progress = Progress::new("building the ledger", Some(entries as u64));
    book(&mut conn, fund.id, 0, entries, entries, &mut progress);
    progress.finish();
    drop(conn);
    std::fs::rename(&partial, path).expect("keep the bench database");
    let _ = std::fs::remove_file(partial.with_extension("partial-wal"));
    println!(
        "built {entries} entries in {:.1}s ({:.0} entries/s booked) into {url}",
        started.elapsed().as_secs_f64(),
        entries as f64 / started.elapsed().as_secs_f64()
    );
}

/// Books entries `done..done + n` of a ledger of `entries`, in transactions of
/// [`PER_TRANSACTION`].
fn book(
    conn: &mut db::DbConnection,
    fund_id: FundId,
    mut done: usize,
    n: usize,
    entries: usize,
    progress: &mut Progress,
) {
    let kes = Currency::parse("KES").unwrap();
    let start = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
    let end = done + n;
    while done < end {
        let n = PER_TRANSACTION.min(end - done);
        write_transaction(conn, |conn| -> Result<(), AppError> {
            let mut booking = Booking::open(conn, fund_id)?;
            for i in done..done + n {
                let amount = 1_000 + (i as i64 * 7919) % 500_000;
                // Payments stay smaller than deposits: cash may not go negative.
                let (debit, credit, amount) = match i % 4 {
                    0 | 1 => ("1000", "4000", amount),
                    2 => ("5100", "1000", amount % 1_000 + 1),
                    _ => ("1000", "4100", amount),
                };
                let day = start + Days::new((i.min(entries - 1) * 3650 / entries) as u64);
                booking.post(
                    conn,
                    NewEntry {
                        effective_date: day,
                        kind: "adjustment",
                        memo: format!("bench entry {i}"),
                        source: None,
                        created_by: "bench".into(),
                        reverses: None,
                        postings: vec![
                            NewPosting {
                                account: debit.into(),
                                side: Side::Debit,
                                amount_minor: amount,
                                currency: kes,
                            },
                            NewPosting {
                                account: credit.into(),
                                side: Side::Credit,
                                amount_minor: amount,
                                currency: kes,
                            },
                        ],
                    },
                )?;
            }
            booking.close(conn)
        })
        .expect("book a slice of the ledger");
        done += n;
        progress.add(n as u64);
    }
}

/// Entries booked after the checkpoint for the since-checkpoint run.
const AFTER_CHECKPOINT: usize = 10_000;

/// The child for verification: on a copy of the ledger, a full verification
/// (recording a checkpoint), [`AFTER_CHECKPOINT`] more entries, and a
/// verification since the checkpoint.
fn verify_child(path: &str) {
    use mwf::ledger;
    let copy = format!("{path}.verify-copy");
    std::fs::copy(path, &copy).expect("copy the bench database");
    let mut conn = db::establish(&copy).expect("open the copy");
    db::migrate(&mut conn).expect("migrate the copy");
    let fund = funds::find_fund(&mut conn, FUND)
        .unwrap()
        .expect("the bench fund");
    // As `mwf verify` runs: two more connections read beside the walk.
    let helpers = db::pool(&copy, 2).expect("a pool on the copy");
    let started = Instant::now();
    let full = db::read_snapshot(&mut conn, |conn| {
        let helpers = ledger::Helpers(Some(&helpers));
        ledger::verify_fund_showing(conn, helpers, fund.id, &mut Progress::hidden())
    })
    .expect("verify");
    let seconds = started.elapsed().as_secs_f64();
    assert!(full.ok, "{:?}", full.problems);
    println!(
        "verify     {:>9} entries (full)            in {seconds:>6.2}s = {:>8.0} entries/s, peak RSS {:>6.1} MiB",
        full.entries_checked,
        full.entries_checked as f64 / seconds,
        peak_rss_mib()
    );
    write_transaction(&mut conn, |conn| {
        ledger::record_checkpoint(conn, fund.id, &full, "bench")
    })
    .expect("record a checkpoint");
    let entries = full.entries_checked as usize;
    book(
        &mut conn,
        fund.id,
        entries,
        AFTER_CHECKPOINT,
        entries + AFTER_CHECKPOINT,
        &mut Progress::hidden(),
    );
    let started = Instant::now();
    let since = db::read_snapshot(&mut conn, |conn| {
        ledger::verify_fund_since_checkpoint(
            conn,
            ledger::Helpers::NONE,
            fund.id,
            &mut Progress::hidden(),
        )
    })
    .expect("verify since the checkpoint");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        since.ok && since.checkpoint.is_some(),
        "{:?}",
        since.problems
    );
    println!(
        "verify     {:>9} entries (since checkpoint) in {:>6.3}s = {:>8.0} entries/s",
        since.entries_checked,
        seconds,
        since.entries_checked as f64 / seconds
    );
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{copy}{suffix}"));
    }
}

/// The child: exports the whole ledger in one format and prints one line;
/// `pooled`: as the server does, reading with connections from a pool of two
/// ([`export::write_pooled`]) instead of on one connection in one snapshot.
fn export_child(path: &str, format: LedgerFormat, pooled: bool) {
    let mut conn = db::establish(path).expect("open the bench database");
    let pool = pooled.then(|| db::pool(path, 2).expect("open the pool"));
    let before = peak_rss_mib();
    let started = Instant::now();
    let name = if pooled { "pooled" } else { "export" };
    let mut out = Counter::new(&format!("{name}.{}", format.extension()));
    let summary = db::read_snapshot(&mut conn, |conn| {
        let fund = funds::find_fund(conn, FUND)?.expect("the bench fund");
        let request = LedgerExportRequest {
            format,
            from: None,
            to: None,
            after: None,
            limit: None,
        };
        let x = export::prepare(conn, fund, request)?;
        match &pool {
            Some(pool) => export::write_pooled(pool, &x, &mut out, &mut Progress::hidden()),
            None => export::write(conn, &x, &mut out, &mut Progress::hidden()),
        }
        .map_err(AppError::internal)
    })
    .expect("export");
    out.flush().expect("keep the output");
    let seconds = started.elapsed().as_secs_f64();
    let label = match pooled {
        true => format!("{} pooled", format.extension()),
        false => format.extension().to_string(),
    };
    println!(
        "{:<13} {:>9} entries {:>9} postings in {seconds:>6.2}s = {:>8.0} entries/s, {:>7.1} MB written, peak RSS {:>6.1} MiB (before the export {:.1} MiB)",
        label,
        summary.entries,
        summary.postings,
        summary.entries as f64 / seconds,
        out.0 as f64 / 1e6,
        peak_rss_mib(),
        before
    );
}

/// The child for the HTTP path: starts the server in this process, streams
/// the export over HTTP into a byte counter, and prints one line.
fn http_child(path: &str, format: &str) {
    use mwf::auth::{mint_token, Role};
    use mwf::config::{Environment, JwtSettings, Settings};
    use mwf::startup::Application;
    const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
    let jwt = JwtSettings {
        secret: Some(SECRET.as_bytes().to_vec()),
        public_key_files: vec![],
        issuer: "mwf".into(),
        audience: "mwf".into(),
        max_lifetime_seconds: mwf::auth::DEFAULT_TOKEN_LIFETIME_SECONDS,
        jwks: None,
    };
    let token = mint_token(
        SECRET.as_bytes(),
        &jwt,
        "bench",
        Role::Auditor,
        &["*".to_string()],
        3600,
    );
    let settings = Settings {
        database_url: path.to_string(),
        read_database_url: None,
        bind: "127.0.0.1:0".into(),
        environment: Environment::Production,
        jwt,
        pool_size: 4,
        workers: 2,
        client_request_timeout: std::time::Duration::from_secs(10),
        webhooks: Default::default(),
        cors_origins: Vec::new(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings).expect("server starts");
            tx.send(app.port()).unwrap();
            app.run_until_stopped().await
        })
    });
    let port = rx.recv().unwrap();
    let before = peak_rss_mib();
    let started = Instant::now();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(3600)))
        .build()
        .into();
    let mut res = agent
        .get(format!(
            "http://127.0.0.1:{port}/v1/funds/{FUND}/exports/ledger?format={format}"
        ))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .expect("the export answers");
    let mut out = Counter::new(&format!("http.{format}"));
    io::copy(&mut res.body_mut().as_reader(), &mut out).expect("read the stream");
    let seconds = started.elapsed().as_secs_f64();
    let entries = entries_wanted();
    println!(
        "{:<10} over HTTP: {:>9} entries in {seconds:>6.2}s = {:>8.0} entries/s, {:>7.1} MB streamed, peak RSS of server and client {:>6.1} MiB (before {:.1} MiB)",
        format,
        entries,
        entries as f64 / seconds,
        out.0 as f64 / 1e6,
        peak_rss_mib(),
        before
    );
}

fn main() {
    if let Ok(child) = std::env::var("MWF_BENCH_EXPORT_CHILD") {
        let (path, format) = child.split_once('|').expect("path|format");
        if format == "verify" {
            verify_child(path);
            return;
        }
        if let Some(format) = format.strip_prefix("http-") {
            http_child(path, format);
        } else if let Some(format) = format.strip_prefix("pooled-") {
            export_child(path, LedgerFormat::parse(format).expect("a format"), true);
        } else {
            export_child(path, LedgerFormat::parse(format).expect("a format"), false);
        }
        return;
    }
    let entries = entries_wanted();
    let (url, others): (String, &[&str]) = match std::env::var("MWF_BENCH_DATABASE_URL") {
        Ok(url) => {
            postgres_ledger(&url, entries);
            println!("ledger export on PostgreSQL: {entries} journal entries");
            (
                url,
                &["pooled-csv", "pooled-jsonl", "http-csv", "http-jsonl"][..],
            )
        }
        Err(_) => {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
            let path = dir.join(format!("bench-ledger-{entries}.db"));
            if !path.exists() {
                build_ledger(&path, entries);
            } else {
                println!("using {}", path.display());
            }
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            println!(
                "ledger export on SQLite: {entries} journal entries, database {:.0} MB",
                size as f64 / 1e6
            );
            let url = path.to_string_lossy().to_string();
            (
                url,
                &[
                    "pooled-csv",
                    "pooled-jsonl",
                    "http-csv",
                    "http-jsonl",
                    "http-beancount",
                    "verify",
                ][..],
            )
        }
    };
    for name in LedgerFormat::ALL
        .iter()
        .map(|(n, _)| *n)
        .chain(others.iter().copied())
    {
        let status = Command::new(std::env::current_exe().expect("this benchmark"))
            .env("MWF_BENCH_EXPORT_CHILD", format!("{url}|{name}"))
            .status()
            .expect("run the export child");
        assert!(status.success(), "the {name} export failed");
    }
}
