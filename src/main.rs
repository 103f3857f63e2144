//! The `mwf` binary: parse the command line, build the application, run it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use mwf::auth::{self, Role, MAX_TOKEN_LIFETIME_SECONDS};
use mwf::config::{Environment, Settings};
use mwf::startup::{self, Application};
use mwf::{db, funds, http, ledger};

/// mimalloc, not glibc's malloc, for every command: a national load (`mwf
/// demo --fund`) spent a fifth of its CPU in glibc's allocator (merging and
/// unlinking freed blocks) and takes about a fifth less CPU with mimalloc
/// (docs/national-scale.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "mwf", version, about = "Migrant Welfare Fund ledger service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Mint an HS256 token signed with MWF_JWT_SECRET (or the development secret).
    Token {
        /// admin, officer, approver, ministry, auditor or worker (with --subject the
        /// worker's or a dependant's id).
        #[arg(long)]
        role: String,
        /// Comma-separated fund codes the token may touch, or * for all.
        #[arg(long, default_value = "*")]
        funds: String,
        /// The token's subject (who is calling).
        #[arg(long, default_value = "cli")]
        subject: String,
        /// Lifetime: a number with s, m, h or d (e.g. 12h, 1d); at most what the
        /// server accepts (MWF_JWT_MAX_LIFETIME_SECONDS, 24h by default).
        #[arg(long, default_value = "12h")]
        lifetime: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Load the example funds (Philippines, Nepal, Sri Lanka, Bangladesh,
    /// Indonesia, Kenya) with their rule versions and a realistic history:
    /// workers, contributions since 2019, claims in every status. Safe to run
    /// again: a fund that already holds workers is left as it is.
    ///
    /// With --fund, builds one national-size fund instead: --workers workers
    /// (up to ten million) with --years of contracts and contributions, booked
    /// through the batch endpoints' code, no claims; the fund must be empty.
    Demo {
        /// Workers to enroll in each fund (0: funds and rules only); with
        /// --fund, in that fund.
        #[arg(long, default_value_t = mwf::demo::DEFAULT_WORKERS_PER_FUND)]
        workers: usize,
        /// Build one national-size fund: an example fund's code (e.g. PH-OWWA).
        #[arg(long)]
        fund: Option<String>,
        /// With --fund: years of history up to the demo's today.
        #[arg(long, default_value_t = 10)]
        years: u32,
        /// With --fund: the generator's seed (the same seed, the same workers).
        #[arg(long, default_value_t = mwf::demo::national::DEFAULT_SEED)]
        seed: u64,
    },
    /// Export a fund's ledger to a file (or standard output), as the API's
    /// `/v1/funds/{fund}/exports/ledger` does. Shows progress on a terminal.
    Export {
        /// Fund code.
        #[arg(long)]
        fund: String,
        /// csv, jsonl, beancount or hledger.
        #[arg(long)]
        format: String,
        /// First effective date, inclusive (YYYY-MM-DD).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last effective date, inclusive (YYYY-MM-DD).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// The file to write; standard output when omitted.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Verify the ledger of one fund (or all): hash chain, balance of every
    /// entry, stored balances. Exits non-zero on any problem.
    Verify {
        /// Fund code; all funds when omitted.
        #[arg(long)]
        fund: Option<String>,
        /// Verify only the entries after each fund's latest verification
        /// checkpoint (the whole chain when there is none or it no longer
        /// matches). A verification without problems records a checkpoint
        /// signed off by the OS user ($USER), or "cli".
        #[arg(long)]
        since_checkpoint: bool,
    },
}

fn parse_lifetime(text: &str) -> Result<i64, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("lifetime {text:?}: end it with s, m, h or d")),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("lifetime {text:?}: not a whole number"))?;
    let seconds = n.checked_mul(seconds_per).unwrap_or(i64::MAX);
    if !(1..=MAX_TOKEN_LIFETIME_SECONDS).contains(&seconds) {
        return Err(format!("lifetime {text:?}: must be between 1s and 366d"));
    }
    Ok(seconds)
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mwf: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Token {
            role,
            funds,
            subject,
            lifetime,
        } => token(&settings, &role, &funds, &subject, &lifetime),
        Command::Openapi => {
            print!("{}", http::openapi_json());
            Ok(())
        }
        Command::Verify {
            fund,
            since_checkpoint,
        } => verify(&settings, fund.as_deref(), since_checkpoint),
        Command::Export {
            fund,
            format,
            from,
            to,
            output,
        } => export(&settings, &fund, &format, from, to, output.as_deref()),
        Command::Demo {
            workers,
            fund: None,
            ..
        } => demo(&settings, workers),
        Command::Demo {
            workers,
            fund: Some(fund),
            years,
            seed,
        } => national_demo(&settings, fund, workers, years, seed),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mwf: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> Result<(), String> {
    let bind = settings.bind.clone();
    let backend = if settings.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let database = settings.database_url.clone();
    let development = settings.environment == Environment::Development;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        log::info!("mwf listening on http://{bind} ({backend}); docs at http://{bind}/docs");
        if !database.contains("://") {
            log::info!("SQLite database file: {database}");
        }
        if let Some(token) = &app.development_token {
            log::warn!(
                "DEVELOPMENT MODE: no MWF_JWT_SECRET or MWF_JWT_PUBLIC_KEYS set; tokens are signed with a \
                 generated secret kept in {}. Not fit for production (set MWF_ENV=production to refuse this).",
                startup::development_secret_path().display()
            );
            eprintln!("\nAdmin token (12 hours, all funds):\n\n{token}\n\nTry: curl -H \"Authorization: Bearer $TOKEN\" http://{bind}/v1/funds\n");
            // The token rides in the fragment, which browsers never send to a
            // server; the console moves it to session storage and drops it.
            eprintln!(
                "Console, signed in as the admin: http://{}/console/#token={token}\n",
                browsable(&bind)
            );
        } else if development {
            log::info!("development mode with configured key material");
        }
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

/// The address a browser can open for `bind`: a wildcard address is reached
/// on the loopback interface.
fn browsable(bind: &str) -> String {
    match bind.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => bind.to_string(),
    }
}

fn connect(settings: &Settings) -> Result<db::DbConnection, String> {
    let mut conn = db::establish(&settings.database_url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    db::migrate(&mut conn)?;
    Ok(conn)
}

fn demo(settings: &Settings, workers: usize) -> Result<(), String> {
    let mut conn = connect(settings)?;
    let options = mwf::demo::DemoOptions {
        workers_per_fund: workers,
    };
    let mut progress = mwf::progress::Progress::new("funds", None);
    let (loaded, reports) = mwf::demo::run(&mut conn, options, &mut progress)?;
    progress.finish();
    for line in loaded {
        println!("{line}");
    }
    for report in &reports {
        println!("{report}");
    }
    println!("every demo fund's ledger verifies");
    Ok(())
}

fn national_demo(
    settings: &Settings,
    fund: String,
    workers: usize,
    years: u32,
    seed: u64,
) -> Result<(), String> {
    let mut conn = connect(settings)?;
    let options = mwf::demo::national::NationalOptions {
        fund,
        workers,
        years,
        seed,
    };
    let mut progress = mwf::progress::Progress::new("funds", None);
    let report = mwf::demo::national::run(&mut conn, &options, &mut progress)?;
    println!("{report}");
    println!("check its ledger with: mwf verify --fund {}", options.fund);
    Ok(())
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let mut conn = db::establish(&settings.database_url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied = db::migrate(&mut conn)?;
    println!(
        "applied {applied} migration(s); the {} database is up to date",
        db::backend_name(&conn)
    );
    Ok(())
}

fn token(
    settings: &Settings,
    role: &str,
    funds: &str,
    subject: &str,
    lifetime: &str,
) -> Result<(), String> {
    let role = Role::parse(role).ok_or_else(|| {
        format!("--role {role:?}: must be admin, officer, approver, ministry, auditor or worker")
    })?;
    let funds: Vec<String> = funds
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    if funds.is_empty() {
        return Err("--funds: name at least one fund code, or *".into());
    }
    for code in &funds {
        if code != "*" && !mwf::funds::is_fund_code(code) {
            return Err(format!("--funds: {code:?} is not a fund code"));
        }
    }
    let seconds = parse_lifetime(lifetime)?;
    if seconds > settings.jwt.max_lifetime_seconds {
        return Err(format!(
            "--lifetime {lifetime}: the server accepts tokens of at most {}s (MWF_JWT_MAX_LIFETIME_SECONDS)",
            settings.jwt.max_lifetime_seconds
        ));
    }
    let secret = startup::signing_secret(settings)?.ok_or(
        "no HS256 secret: set MWF_JWT_SECRET (public keys can verify tokens but not mint them)",
    )?;
    println!(
        "{}",
        auth::mint_token(&secret, &settings.jwt, subject, role, &funds, seconds)
    );
    Ok(())
}

fn export(
    settings: &Settings,
    fund: &str,
    format: &str,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    output: Option<&std::path::Path>,
) -> Result<(), String> {
    use std::io::Write;
    let format = mwf::export::LedgerFormat::parse(format)
        .ok_or_else(|| format!("--format {format:?}: must be csv, jsonl, beancount or hledger"))?;
    let mut conn = connect(settings)?;
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::with_capacity(
            256 * 1024,
            std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let (export, total) = db::read_snapshot(&mut conn, |conn| {
        let found = funds::find_fund(conn, fund)?
            .ok_or_else(|| mwf::error::AppError::not_found(format!("no fund {fund}")))?;
        let total = found.last_sequence as u64;
        let request = mwf::export::LedgerExportRequest {
            format,
            from,
            to,
            after: None,
            limit: None,
        };
        Ok::<_, mwf::error::AppError>((mwf::export::prepare(conn, found, request)?, total))
    })
    .map_err(|e| e.explain())?;
    drop(conn);
    // As the API streams it: bounded by the chain head `prepare` read (entries
    // never change), each read on a connection of its own, two at once on
    // PostgreSQL.
    let pool = db::pool(&settings.database_url, 2)?;
    let mut progress = mwf::progress::Progress::new(format!("{fund} entries"), Some(total));
    let summary = mwf::export::write_pooled(&pool, &export, &mut out, &mut progress)
        .map_err(|e| format!("writing the export: {e}"))?;
    if let Some(path) = output {
        eprintln!(
            "{fund}: {} entries, {} postings written to {}",
            summary.entries,
            summary.postings,
            path.display()
        );
    }
    Ok(())
}

/// Who signs off a checkpoint recorded by `mwf verify`: the OS user, or "cli".
fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|user| user.trim().to_string())
        .find(|user| !user.is_empty())
        .unwrap_or_else(|| "cli".to_string())
}

fn verify(settings: &Settings, fund: Option<&str>, since_checkpoint: bool) -> Result<(), String> {
    let mut conn = connect(settings)?;
    let all = funds::all_fund_ids(&mut conn).map_err(|e| e.to_string())?;
    let selected: Vec<(funds::FundId, String)> = match fund {
        Some(code) => {
            let found: Vec<_> = all.into_iter().filter(|(_, c)| c == code).collect();
            if found.is_empty() {
                return Err(format!("no fund {code}"));
            }
            found
        }
        None => all,
    };
    // Two more connections: one reads each page's postings while the next
    // page's entries are read, the other checks the summaries meanwhile.
    let helpers = mwf::db::pool(&settings.database_url, 2)?;
    let mut failed = 0;
    for (id, code) in selected {
        let mut progress = mwf::progress::Progress::new(format!("{code} entries checked"), None);
        let started = std::time::Instant::now();
        let report = mwf::db::read_snapshot(&mut conn, |conn| {
            let helpers = ledger::Helpers(Some(&helpers));
            if since_checkpoint {
                ledger::verify_fund_since_checkpoint(conn, helpers, id, &mut progress)
            } else {
                ledger::verify_fund_showing(conn, helpers, id, &mut progress)
            }
        })
        .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        progress.finish();
        let recorded = mwf::db::write_transaction(&mut conn, |conn| {
            ledger::record_checkpoint(conn, id, &report, &os_user())
        })
        .map_err(|e| e.to_string())?;
        let since = match &report.checkpoint {
            Some(c) => format!(" since checkpoint {} (entry #{})", c.id, c.sequence),
            None => String::new(),
        };
        println!(
            "{code}: {} entries checked{since} in {seconds:.3}s ({:.0} entries/s), chain head {}: {}{}",
            report.entries_checked,
            report.entries_checked as f64 / seconds.max(1e-9),
            report.chain_head,
            if report.ok { "OK" } else { "PROBLEMS" },
            recorded
                .map(|c| format!(", checkpoint {} recorded", c.id))
                .unwrap_or_default()
        );
        for p in &report.problems {
            println!(
                "  {} {}{}{}",
                p.code,
                p.sequence
                    .map(|s| format!("entry #{s} "))
                    .unwrap_or_default(),
                p.account
                    .as_ref()
                    .map(|a| format!("account {a} "))
                    .unwrap_or_default(),
                p.detail
            );
        }
        if !report.ok {
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(format!("{failed} fund(s) failed verification"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_lifetime;

    #[test]
    fn lifetimes_take_a_unit_and_stay_within_the_limit() {
        assert_eq!(parse_lifetime("12h"), Ok(43200));
        assert_eq!(parse_lifetime("30d"), Ok(30 * 86400));
        assert!(parse_lifetime("400d").is_err());
        assert!(parse_lifetime("12").is_err());
        assert!(parse_lifetime("0s").is_err());
    }
}
