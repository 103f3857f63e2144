//! Demo data: the six example funds of `demo/funds/` (Philippines, Nepal, Sri
//! Lanka, Bangladesh, Indonesia, Kenya) with their rule versions, compiled into
//! the binary so that `mwf demo` works anywhere, and a realistic history for
//! each: about a thousand workers (women and men, the destinations and sectors of
//! each country's migration), their dependants and contracts, contributions
//! from 2019 (or the fund's first rules) to the demo's today, a few bounced
//! contributions reversed, and claims in every status.
//!
//! Everything goes through the domain services, in the transactions the API
//! uses, with its audit records and events: every amount is a balanced,
//! chained journal entry exactly as the API would book it. The generator is
//! seeded, so the same command gives the same workers, contributions and
//! claims; only ids, timestamps and what the services date "today" (decisions,
//! payments, reversals, the currency exchange) follow the clock.

mod claims;
mod exchange;
mod goal;
mod heirs;
mod history;
mod incident;
mod instalments;
pub mod national;
mod people;
mod plan;
mod record;
mod recovery;
mod refunds;
mod scenario;

use std::fmt;

use chrono::NaiveDate;
use fastrand::Rng;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::{Act, Caller, Role};
use crate::db::{read_snapshot, write_transaction, DbConnection};
use crate::envelope::{Done, Envelope};
use crate::error::{AppError, AppResult};
use crate::funds::{self, Fund, NewFund};
use crate::money::Currency;
use crate::progress::Progress;
use crate::rules::{self, RuleDocument};

/// Workers per fund when `--workers` is not given.
pub const DEFAULT_WORKERS_PER_FUND: usize = 1_000;
/// The most workers per fund the demo makes.
pub const MAX_WORKERS_PER_FUND: usize = 100_000;
/// The generator's seed: the same seed, the same data.
const SEED: u64 = 0x6d77_665f_6465_6d6f;

/// The demo's history: from `history_start` (or a fund's first rules, if later)
/// to `today`. Fixed, so that the data does not change from day to day.
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    pub history_start: NaiveDate,
    pub today: NaiveDate,
}

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("a valid date"),
    }
}

impl Calendar {
    pub const DEMO: Calendar = Calendar {
        history_start: date(2019, 1, 1),
        today: date(2026, 10, 31),
    };
}

/// Who does what in the demo, as the tokens of the people who would.
pub struct Actors {
    /// Funds, rules, accounts, manual entries.
    pub admin: Caller,
    /// The labour ministry's system: enrollments, contracts, contributions.
    pub ministry: Caller,
    /// The fund's officer: claims, decisions, payments, reversals.
    pub officer: Caller,
    /// Second and committee approvals: never the officer who decided.
    pub approvers: [Caller; 3],
}

impl Actors {
    fn new() -> Actors {
        let all = || vec!["*".to_string()];
        Actors {
            admin: Caller::new("mwf-demo", Role::Admin, all()),
            ministry: Caller::new("demo-ministry", Role::Ministry, all()),
            officer: Caller::new("demo-officer", Role::Officer, all()),
            approvers: [1, 2, 3]
                .map(|n| Caller::new(format!("demo-approver-{n}"), Role::Approver, all())),
        }
    }
}

/// Writes the audit record of one of the demo's requests, as the API would.
fn seal(
    conn: &mut DbConnection,
    caller: &Caller,
    act: Act,
    fund_code: &str,
    done: Done<()>,
) -> AppResult<()> {
    let envelope = Envelope {
        caller: caller.clone(),
        action: act.name(),
        fund_code: Some(fund_code.to_string()),
        request_id: "mwf-demo".to_string(),
        keyed: None,
    };
    envelope.seal(conn, done).map(drop)
}

/// The example fund files, by fund code.
pub const FUND_FILES: &[(&str, &str)] = &[
    ("PH-OWWA", include_str!("../../demo/funds/PH-OWWA.json")),
    ("NP-FEWF", include_str!("../../demo/funds/NP-FEWF.json")),
    ("LK-SLBFE", include_str!("../../demo/funds/LK-SLBFE.json")),
    ("BD-WEWB", include_str!("../../demo/funds/BD-WEWB.json")),
    (
        "ID-BPJS-PMI",
        include_str!("../../demo/funds/ID-BPJS-PMI.json"),
    ),
    ("KE-MWF", include_str!("../../demo/funds/KE-MWF.json")),
];

/// One example fund file: the fund, notes on its sources, its rule versions (oldest first).
#[derive(Debug, Deserialize)]
pub struct FundFile {
    pub fund: FundSpec,
    pub notes: String,
    pub versions: Vec<Value>,
}

#[derive(Debug, Deserialize)]
pub struct FundSpec {
    pub code: String,
    pub country: String,
    pub name: String,
    pub currency: String,
}

/// The parsed example file of `code`.
pub fn fund_file(code: &str) -> Option<FundFile> {
    FUND_FILES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, text)| serde_json::from_str(text).expect("the example fund files parse"))
}

/// Creates each example fund and publishes its rule versions; what already
/// exists is left as it is. Returns a line per fund.
pub fn load_funds(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    let caller = Actors::new().admin;
    let mut report = Vec::new();
    for (code, _) in FUND_FILES {
        let file = fund_file(code).expect("listed files exist");
        let line = write_transaction(conn, |conn| -> Result<String, AppError> {
            let fund = match funds::find_fund(conn, code)? {
                Some(f) => f,
                None => {
                    let new = NewFund {
                        code: file.fund.code.clone(),
                        country: file.fund.country.clone(),
                        name: file.fund.name.clone(),
                        currency: Currency::parse(&file.fund.currency)
                            .map_err(|e| AppError::internal(e.to_string()))?,
                    };
                    let fund = funds::create_fund(conn, &new)?;
                    seal(
                        conn,
                        &caller,
                        Act::CreateFund,
                        code,
                        Done::created(format!("fund {code}"), ()),
                    )?;
                    fund
                }
            };
            let existing: Vec<String> = rules::versions_for_fund(conn, fund.id)?
                .into_iter()
                .map(|v| v.version)
                .collect();
            let mut published = 0;
            for version in &file.versions {
                let doc: RuleDocument = serde_json::from_value(version.clone())
                    .map_err(|e| AppError::internal(e.to_string()))?;
                if existing.contains(&doc.version) {
                    continue;
                }
                let label = doc.version.clone();
                rules::publish(conn, &fund, doc, &caller.subject)?;
                seal(
                    conn,
                    &caller,
                    Act::PublishRules,
                    code,
                    Done::created(format!("rules {label}"), ()),
                )?;
                published += 1;
            }
            Ok(format!(
                "{code}: {} ({published} rule version(s) published)",
                file.fund.name
            ))
        })
        .map_err(|e| format!("{code}: {}", e.explain()))?;
        report.push(line);
    }
    Ok(report)
}

/// What `mwf demo` is asked to make.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Workers to enroll in each fund that has none yet (0: funds and rules only).
    pub workers_per_fund: usize,
}

/// What one fund holds after the demo, and whether this run generated it.
#[derive(Debug, Clone)]
pub struct FundReport {
    pub code: String,
    /// False when the fund already held workers and was left as it was.
    pub generated: bool,
    pub workers: i64,
    /// Contributions by status (`recorded`, `reversed`).
    pub contributions: Vec<(String, i64)>,
    /// Claims by status.
    pub claims: Vec<(String, i64)>,
    pub ledger_entries: i64,
    /// Claims this run meant to end otherwise than the rules let them.
    pub unplanned_claims: usize,
}

impl fmt::Display for FundReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = |rows: &[(String, i64)]| rows.iter().map(|(_, n)| n).sum::<i64>();
        let list = |rows: &[(String, i64)]| {
            rows.iter()
                .map(|(status, n)| format!("{status} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "{}: {}{} workers, {} contributions ({}), {} claims ({}), {} ledger entries",
            self.code,
            if self.generated { "" } else { "already held " },
            self.workers,
            total(&self.contributions),
            list(&self.contributions),
            total(&self.claims),
            list(&self.claims),
            self.ledger_entries
        )
    }
}

/// Loads the example funds, then gives each fund that has no workers yet its
/// history, and verifies every example fund's ledger. A fund that already holds
/// workers is left as it is, so running the demo again adds nothing.
pub fn run(
    conn: &mut DbConnection,
    options: DemoOptions,
    progress: &mut Progress,
) -> Result<(Vec<String>, Vec<FundReport>), String> {
    if options.workers_per_fund > MAX_WORKERS_PER_FUND {
        return Err(format!(
            "--workers {}: at most {MAX_WORKERS_PER_FUND} per fund",
            options.workers_per_fund
        ));
    }
    let today = crate::time::today();
    if options.workers_per_fund > 0 && today < Calendar::DEMO.today {
        return Err(format!(
            "the clock says {today}, before the demo's history ends ({}): fix the clock, or run with --workers 0",
            Calendar::DEMO.today
        ));
    }
    let loaded = load_funds(conn)?;
    let actors = Actors::new();
    let mut reports = Vec::new();
    for (position, (code, _)) in FUND_FILES.iter().enumerate() {
        let failed = |e: AppError| format!("{code}: {}", e.explain());
        let fund = funds::find_fund(conn, code)
            .map_err(failed)?
            .expect("load_funds created it");
        let empty = crate::workers::count_in_fund(conn, fund.id).map_err(failed)? == 0;
        let generate = empty && options.workers_per_fund > 0;
        let mut unplanned_claims = 0;
        if generate {
            let seed = SEED.wrapping_add(position as u64);
            unplanned_claims = generate_fund(
                conn,
                &fund,
                &actors,
                seed,
                options.workers_per_fund,
                progress,
            )
            .map_err(failed)?;
        }
        let mut report = summarize(conn, code).map_err(failed)?;
        report.generated = generate;
        report.unplanned_claims = unplanned_claims;
        reports.push(report);
    }
    verify(conn, progress)?;
    Ok((loaded, reports))
}

/// Gives one fund its workers, contributions and claims; returns how many
/// claims ended otherwise than planned.
fn generate_fund(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    seed: u64,
    workers: usize,
    progress: &mut Progress,
) -> AppResult<usize> {
    let code = &fund.code;
    let origin = people::origin(code).expect("every example fund has its people");
    let versions = rules::version_table(conn, fund.id)?;
    let calendar = Calendar::DEMO;
    let mut rng = Rng::with_seed(seed);
    let plans: Vec<plan::WorkerPlan> = (0..workers)
        .map(|i| {
            plan::plan_worker(
                &mut rng,
                &history::Shape::DEMO,
                origin,
                &versions,
                fund.currency,
                &calendar,
                i,
            )
        })
        .collect();
    let payments: usize = plans.iter().map(|p| p.payments.len()).sum();

    progress.stage(format!("{code}: workers"), Some(workers as u64));
    let mut enrolled = record::enroll(conn, fund, actors, plans, progress)?;
    record::add_later_contracts(conn, fund, actors, &mut enrolled, record::Trail::PerRequest)?;
    progress.stage(format!("{code}: contributions"), Some(payments as u64));
    record::record_contributions(
        conn,
        fund,
        actors,
        &mut enrolled,
        record::Order::PaymentDate,
        record::BATCH_ITEMS,
        progress,
    )?;
    record::record_contract_events(conn, fund, actors, &enrolled, record::Trail::PerRequest)?;
    record::reverse_some(conn, &mut rng, fund, actors, &mut enrolled)?;

    // Paid claims are chosen to leave a quarter of the cash in the fund.
    let budget_minor = exchange::cash_minor(conn, fund)? / 4 * 3;
    let goals = scenario::Chooser::goals(&mut rng, workers);
    let chooser = scenario::Chooser {
        versions: &versions,
        currency: fund.currency,
        calendar: &calendar,
        enrolled: &enrolled,
        budget_minor,
    };
    let scenarios = chooser.choose(&mut rng, &goals);
    progress.stage(format!("{code}: claims"), Some(scenarios.len() as u64));
    if fund.code == heirs::FUND {
        // First in the queue of claims waiting for pesos, so the exchange pays it.
        heirs::share_a_death(conn, fund, actors)?;
    }
    let mut driver = claims::ClaimDriver::new(fund, actors, &versions, &enrolled);
    driver.run(conn, &mut rng, &scenarios, progress)?;
    instalments::run(conn, fund, actors, &enrolled)?;
    exchange::fund_waiting_claims(conn, fund, actors)?;
    refunds::make_refunds(conn, fund, actors, &enrolled)?;
    recovery::recover(conn, fund, actors, &enrolled)?;
    progress.finish();
    Ok(driver.unplanned)
}

/// What the fund holds now.
fn summarize(conn: &mut DbConnection, code: &str) -> AppResult<FundReport> {
    let fund = funds::find_fund(conn, code)?
        .ok_or_else(|| AppError::not_found(format!("no fund {code}")))?;
    Ok(FundReport {
        code: code.to_string(),
        generated: false,
        workers: crate::workers::count_in_fund(conn, fund.id)?,
        contributions: crate::contributions::count_by_status(conn, &fund)?,
        claims: crate::claims::count_by_status(conn, &fund)?,
        ledger_entries: fund.last_sequence,
        unplanned_claims: 0,
    })
}

/// Verifies the ledger of every example fund; any problem fails the demo.
fn verify(conn: &mut DbConnection, progress: &mut Progress) -> Result<(), String> {
    progress.stage("verifying ledgers", Some(FUND_FILES.len() as u64));
    let mut failures = Vec::new();
    for (code, _) in FUND_FILES {
        let fund = funds::find_fund(conn, code)
            .map_err(|e| e.explain())?
            .expect("load_funds created it");
        let report = read_snapshot(conn, |conn| crate::ledger::verify_fund(conn, fund.id))
            .map_err(|e| format!("{code}: {}", e.explain()))?;
        if !report.ok {
            let first = report
                .problems
                .first()
                .map(|p| format!("{} {}", p.code, p.detail))
                .unwrap_or_default();
            failures.push(format!(
                "{code}: {} problem(s), first: {first}",
                report.problems.len()
            ));
        }
        progress.add(1);
    }
    progress.finish();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the demo ledgers do not verify (run mwf verify): {}",
            failures.join("; ")
        ))
    }
}
