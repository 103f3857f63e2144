//! Two `mwf serve` processes on one database: contributions and claim payments
//! through both at once. No overdraft, no duplicate, no gap in the fund's
//! journal sequence, and the ledger verifies.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::json;

use crate::server::{
    admin_token, assert_cli_verifies, decimal, journal_without_gaps, short, Client, Database,
    Response, Server,
};

const FUND: &str = "KE-MWF";
/// Approved claims of 50,000 each: 400,000, more than all the cash that ever
/// comes in (the grant, the claimants' and the racing contributions: 364,000).
const CLAIMS: usize = 8;
const CLAIM_AMOUNT: &str = "50000.00";
/// Each claimant's own contribution (a 30-month contract): 8 × 3,000 of cash to start.
const MEMBER_AMOUNT: &str = "3000.00";
const CONTRIBUTORS: usize = 12;
const CONTRIBUTION_THREADS: usize = 4;
const CONTRIBUTIONS_PER_THREAD: usize = 30;
/// A 12-month contract's contribution: 120 × 2,000 = 240,000 more during the race.
const AMOUNT: &str = "2000.00";
/// Cash granted before the race, so that the first claims' payments through both
/// processes at once find enough for one of them.
const GRANT: &str = "100000.00";
/// Payments are dated no earlier than their approval, which is today.
fn paid_on() -> String {
    mwf::time::today().to_string()
}
/// Manual entries taking cash out (to bank charges) while claims are paid, each
/// sent to both processes at once: booked once, or refused `INSUFFICIENT_FUNDS`.
const WITHDRAWALS: usize = 5;
const WITHDRAWAL: &str = "20000.00";

#[test]
fn two_processes_on_one_postgresql_never_overdraw_duplicate_or_leave_a_gap() {
    let Some(db) = Database::postgres() else {
        println!("skipped: needs TEST_DATABASE_URL (a PostgreSQL server) to run two processes on one PostgreSQL database");
        return;
    };
    two_processes_on_one_database(db);
}

/// SQLite serialises writers across processes with `BEGIN IMMEDIATE` and the busy
/// timeout; the same checks hold for two processes on one file.
#[test]
fn two_processes_on_one_sqlite_file_never_overdraw_duplicate_or_leave_a_gap() {
    two_processes_on_one_database(Database::sqlite());
}

/// Two processes started at the same moment on a fresh database (two replicas
/// deployed at once) both apply-or-find the migrations and serve.
#[test]
fn two_processes_started_at_once_on_a_fresh_database_both_serve() {
    // The race is lost only now and then: several fresh databases each.
    let mut databases: Vec<Database> = (0..5).map(|_| Database::sqlite()).collect();
    match Database::postgres() {
        Some(_) => databases.extend((0..3).filter_map(|_| Database::postgres())),
        None => println!("PostgreSQL part skipped: needs TEST_DATABASE_URL"),
    }
    for db in &databases {
        let mut servers = [Server::spawn(db, "first"), Server::spawn(db, "second")];
        for server in &mut servers {
            server.wait_ready();
        }
        let token = admin_token("together");
        let [a, b] = [
            Client::new(&servers[0], &token),
            Client::new(&servers[1], &token),
        ];
        a.post(
            "/v1/funds",
            &json!({"code": "KE-MWF", "country": "KE", "name": "Kenya", "currency": "KES"}),
        )
        .expect(201);
        b.get("/v1/funds/KE-MWF").expect(200);
    }
}

struct Outcomes {
    /// Idempotency key → every answer it got (one or two processes).
    contributions: Vec<(String, Vec<Response>)>,
    /// (claim, process, answer) of each payment request.
    payments: Vec<(String, &'static str, Response)>,
    /// The `paid` list of every payment run.
    runs: Vec<(&'static str, Response)>,
    /// Idempotency key → the answers of both processes.
    withdrawals: Vec<(String, Vec<Response>)>,
}

fn two_processes_on_one_database(db: Database) {
    let started = Instant::now();
    // The first process applies the migrations; the second finds them applied.
    let server_a = Server::start(&db, "a");
    let server_b = Server::start(&db, "b");
    let token = admin_token("two-processes");
    let a = Client::new(&server_a, &token);
    let b = Client::new(&server_b, &token);
    let via = |i: usize| if i % 2 == 0 { (&a, "a") } else { (&b, "b") };

    // Claimants, their approved claims, and workers to contribute for, made
    // through both processes.
    a.load_fund(FUND);
    let mut member_contributions = BTreeSet::new();
    let mut claims = Vec::new();
    for i in 0..CLAIMS {
        let (this, _) = via(i);
        let (other, _) = via(i + 1);
        let (worker, contract) =
            this.enroll(FUND, &format!("MEMBER{i}"), ("2026-02-01", "2028-07-31"));
        let c = other.post(
            &format!("/v1/funds/{FUND}/contributions"),
            &json!({"worker_id": worker, "contract_id": contract, "paid_on": "2026-01-05", "amount": MEMBER_AMOUNT,
                    "currency": "KES", "payers": [{"type": "worker", "amount": MEMBER_AMOUNT}]}),
        );
        member_contributions.insert(c.expect(201)["id"].as_str().unwrap().to_string());
        let claim = this.post(
            &format!("/v1/workers/{worker}/claims"),
            &json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
                    "filed_on": "2026-03-05", "claimant": {"relationship": "worker"}, "claimed_amount": CLAIM_AMOUNT,
                    "documents": [{"type": "TRAVEL_RECEIPTS", "reference": format!("T-{i}")}]}),
        );
        assert_eq!(
            claim.expect(201)["assessment"]["outcome"],
            "eligible",
            "{}",
            claim.text
        );
        let id = claim.body["id"].as_str().unwrap().to_string();
        let decided = other.post(
            &format!("/v1/claims/{id}/decision"),
            &json!({"outcome": "approve"}),
        );
        assert_eq!(
            decided.expect(200)["status"],
            "approved",
            "{}",
            decided.text
        );
        claims.push(id);
    }
    let contributors: Vec<(String, String)> = (0..CONTRIBUTORS)
        .map(|i| {
            via(i)
                .0
                .enroll(FUND, &format!("PAYER{i}"), ("2026-02-01", "2027-01-31"))
        })
        .collect();
    b.post(
        &format!("/v1/funds/{FUND}/journal-entries"),
        &json!({"effective_date": "2026-01-02", "memo": "Opening grant", "postings": [
            {"account": "1000", "side": "debit", "amount": GRANT, "currency": "KES"},
            {"account": "3100", "side": "credit", "amount": GRANT, "currency": "KES"}]}),
    )
    .expect(201);
    let cash_before = a.balance(FUND, "1000");
    assert_eq!(
        cash_before,
        Decimal::from(CLAIMS as u64) * MEMBER_AMOUNT.parse::<Decimal>().unwrap()
            + GRANT.parse::<Decimal>().unwrap()
    );

    let contributing = AtomicBool::new(true);
    let outcomes = std::thread::scope(|s| {
        // Contributions split across both processes; every third one sent to
        // both at once with the same key and body.
        let contribution_threads: Vec<_> = (0..CONTRIBUTION_THREADS)
            .map(|t| {
                let (a, b, contributors) = (&a, &b, &contributors);
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(t as u64);
                    let mut answers = Vec::new();
                    for n in 0..CONTRIBUTIONS_PER_THREAD {
                        let key = format!("t{t}-n{n}");
                        let worker = &contributors[rng.usize(..contributors.len())];
                        let mut body = json!({"worker_id": worker.0, "contract_id": worker.1,
                            "paid_on": format!("2026-02-{:02}", rng.u32(1..=28)), "amount": AMOUNT, "currency": "KES",
                            "payers": [{"type": "worker", "amount": AMOUNT}]});
                        if n % 2 == 0 {
                            body["external_ref"] = json!(format!("R-{key}"));
                        }
                        let path = format!("/v1/funds/{FUND}/contributions");
                        let send = |c: &Client| {
                            c.try_post(&path, Some(&key), &body)
                                .unwrap_or_else(|e| panic!("{key} via {}: {e}", c.base))
                        };
                        let got = if n % 3 == 0 {
                            std::thread::scope(|s2| {
                                let on_b = s2.spawn(|| send(b));
                                vec![send(a), on_b.join().unwrap()]
                            })
                        } else if (t + n) % 2 == 0 {
                            vec![send(a)]
                        } else {
                            vec![send(b)]
                        };
                        answers.push((key, got));
                    }
                    answers
                })
            })
            .collect();
        // Each claim paid through both processes at the same moment, the claims
        // one after another while cash comes in.
        let payment_threads: Vec<_> = claims
            .iter()
            .enumerate()
            .flat_map(|(i, id)| {
                [(&a, "a"), (&b, "b")].map(|(client, name)| {
                    s.spawn(move || {
                        std::thread::sleep(Duration::from_millis(150 * i as u64));
                        let res = client
                            .try_post(
                                &format!("/v1/claims/{id}/payment"),
                                None,
                                &json!({"paid_on": paid_on(), "payee_reference": format!("BANK-{name}")}),
                            )
                            .unwrap_or_else(|e| panic!("payment of {id} via {name}: {e}"));
                        (id.clone(), name, res)
                    })
                })
            })
            .collect();
        // Cash taken out by manual entries, through both processes at once.
        let withdrawal_thread = {
            let (a, b) = (&a, &b);
            s.spawn(move || {
                (0..WITHDRAWALS)
                    .map(|w| {
                        std::thread::sleep(Duration::from_millis(250));
                        let key = format!("w{w}");
                        let body = json!({"effective_date": paid_on(), "memo": format!("Transfer {w} to the bank"), "postings": [
                            {"account": "6100", "side": "debit", "amount": WITHDRAWAL, "currency": "KES"},
                            {"account": "1000", "side": "credit", "amount": WITHDRAWAL, "currency": "KES"}]});
                        let path = format!("/v1/funds/{FUND}/journal-entries");
                        let send = |c: &Client| {
                            c.try_post(&path, Some(&key), &body)
                                .unwrap_or_else(|e| panic!("{key} via {}: {e}", c.base))
                        };
                        let answers = std::thread::scope(|s2| {
                            let on_b = s2.spawn(|| send(b));
                            vec![send(a), on_b.join().unwrap()]
                        });
                        (key, answers)
                    })
                    .collect::<Vec<_>>()
            })
        };
        // Payment runs on both processes while contributions come in.
        let run_threads: Vec<_> = [(&a, "a"), (&b, "b")]
            .into_iter()
            .enumerate()
            .map(|(i, (client, name))| {
                let contributing = &contributing;
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(100 + i as u64);
                    let mut runs = Vec::new();
                    while contributing.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(rng.u64(80..250)));
                        let res = client
                            .try_post(
                                &format!("/v1/funds/{FUND}/payment-runs"),
                                None,
                                &json!({"paid_on": paid_on()}),
                            )
                            .unwrap_or_else(|e| panic!("payment run via {name}: {e}"));
                        runs.push((name, res));
                    }
                    runs
                })
            })
            .collect();
        let contributions: Vec<(String, Vec<Response>)> = contribution_threads
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let payments: Vec<_> = payment_threads
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let withdrawals = withdrawal_thread.join().unwrap();
        contributing.store(false, Ordering::SeqCst);
        let mut runs: Vec<_> = run_threads
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        // A last payment run on both processes at once, after all the cash is in.
        let last: Vec<_> = [(&a, "a"), (&b, "b")]
            .map(|(client, name)| {
                s.spawn(move || {
                    let res = client.post(
                        &format!("/v1/funds/{FUND}/payment-runs"),
                        &json!({"paid_on": paid_on()}),
                    );
                    (name, res)
                })
            })
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        runs.extend(last);
        Outcomes {
            contributions,
            payments,
            runs,
            withdrawals,
        }
    });

    let mut problems: Vec<String> = Vec::new();

    // Each idempotency key booked once: one contribution per key, the same answer
    // from both processes.
    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    let mut both_replayed = 0;
    for (key, answers) in &outcomes.contributions {
        for res in answers {
            if res.status != 201 {
                problems.push(format!("{key}: {} {}", res.status, res.text));
            }
        }
        if answers.len() == 2 {
            if answers[0].text != answers[1].text {
                problems.push(format!(
                    "{key} sent to both processes got two answers: {} / {}",
                    answers[0].text, answers[1].text
                ));
            }
            if answers.iter().filter(|r| r.replayed).count() != 1 {
                problems.push(format!(
                    "{key} sent to both processes: not exactly one answer a replay"
                ));
            }
            both_replayed += 1;
        }
        if let Some(id) = answers[0].body["id"].as_str() {
            if let Some(other) = acknowledged.insert(id.to_string(), key.clone()) {
                problems.push(format!("contribution {id} answered to {other} and {key}"));
            }
        }
    }
    let listed = a.list_all(&format!("/v1/funds/{FUND}/contributions"));
    let listed_ids: BTreeSet<String> = listed
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let expected_ids: BTreeSet<String> = acknowledged
        .keys()
        .chain(&member_contributions)
        .cloned()
        .collect();
    if listed.len() != listed_ids.len() || listed_ids != expected_ids {
        problems.push(format!(
            "{} contributions listed ({} distinct), {} expected: missing {:?}, extra {:?}",
            listed.len(),
            listed_ids.len(),
            expected_ids.len(),
            expected_ids.difference(&listed_ids).collect::<Vec<_>>(),
            listed_ids.difference(&expected_ids).collect::<Vec<_>>()
        ));
    }

    // Each withdrawal booked at most once, or refused for want of cash.
    let mut withdrawn = BTreeSet::new();
    for (key, answers) in &outcomes.withdrawals {
        let booked: Vec<&Response> = answers.iter().filter(|r| r.status == 201).collect();
        for res in answers {
            if res.status != 201 && !(res.status == 409 && res.body["code"] == "INSUFFICIENT_FUNDS")
            {
                problems.push(format!("withdrawal {key}: {} {}", res.status, res.text));
            }
        }
        if booked.len() == 2 && booked[0].text != booked[1].text {
            problems.push(format!(
                "withdrawal {key} booked by both processes: {} / {}",
                booked[0].text, booked[1].text
            ));
        }
        if let Some(res) = booked.first() {
            withdrawn.insert(res.body["id"].as_str().unwrap_or_default().to_string());
        }
    }

    // Each claim paid once: by one answer, and by one journal entry.
    let mut paid_answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pay_counts: BTreeMap<String, usize> = BTreeMap::new();
    for (id, name, res) in &outcomes.payments {
        let outcome = res.body["status"]
            .as_str()
            .or(res.body["code"].as_str())
            .unwrap_or("?");
        *pay_counts.entry(outcome.to_string()).or_default() += 1;
        match (
            res.status,
            res.body["status"].as_str(),
            res.body["code"].as_str(),
        ) {
            (200, Some("paid"), _) => paid_answers
                .entry(id.clone())
                .or_default()
                .push(format!("payment via {name}")),
            (200, Some("awaiting_funds"), _) => {}
            (409, _, Some("CLAIM_STATUS_CONFLICT")) if res.body["claim_status"] == "paid" => {}
            _ => problems.push(format!(
                "payment of {id} via {name}: {} {}",
                res.status, res.text
            )),
        }
    }
    for (name, res) in &outcomes.runs {
        if res.status != 200 {
            problems.push(format!(
                "payment run via {name}: {} {}",
                res.status, res.text
            ));
            continue;
        }
        for id in res.body["paid"].as_array().unwrap() {
            paid_answers
                .entry(id.as_str().unwrap().to_string())
                .or_default()
                .push(format!("payment run via {name}"));
        }
    }
    let mut paid = BTreeSet::new();
    for id in &claims {
        let claim = a.get(&format!("/v1/claims/{id}"));
        let status = claim.expect(200)["status"].as_str().unwrap().to_string();
        let answers = paid_answers.get(id).cloned().unwrap_or_default();
        match status.as_str() {
            "paid" => {
                paid.insert(id.clone());
                if answers.len() != 1 {
                    problems.push(format!("claim {id} paid, by {answers:?}"));
                }
            }
            "awaiting_funds" if answers.is_empty() => {}
            _ => problems.push(format!("claim {id} is {status}, paid by {answers:?}")),
        }
    }

    // The journal: no gap, cash never below zero in commit order, one payment
    // entry per paid claim.
    let entries = journal_without_gaps(&b, FUND);
    let mut cash = Decimal::ZERO;
    let mut payment_entries: BTreeMap<String, usize> = BTreeMap::new();
    let mut withdrawal_entries = BTreeSet::new();
    for e in &entries {
        if e["postings"][0]["account"] == "6100" {
            withdrawal_entries.insert(e["id"].as_str().unwrap().to_string());
        }
        for p in e["postings"].as_array().unwrap() {
            if p["account"] == "1000" {
                let amount = decimal(&p["amount"]);
                cash += if p["side"] == "debit" {
                    amount
                } else {
                    -amount
                };
            }
        }
        if cash < Decimal::ZERO {
            problems.push(format!("cash is {cash} after entry #{}", e["sequence"]));
        }
        if e["kind"] == "claim_payment" {
            *payment_entries
                .entry(e["source"]["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    let paid_in_journal: BTreeSet<String> = payment_entries.keys().cloned().collect();
    if paid_in_journal != paid || payment_entries.values().any(|n| *n != 1) {
        problems.push(format!(
            "paid claims {paid:?} but payment entries {payment_entries:?}"
        ));
    }

    if withdrawal_entries != withdrawn {
        problems.push(format!(
            "withdrawals answered 201: {withdrawn:?}, booked: {withdrawal_entries:?}"
        ));
    }

    // All cash that came in, less what was taken out and the claims paid, is what
    // is left; it cannot pay the next waiting claim (the last runs paid every one
    // they could).
    let claim_amount: Decimal = CLAIM_AMOUNT.parse().unwrap();
    let cash_in =
        cash_before + Decimal::from(acknowledged.len() as u64) * AMOUNT.parse::<Decimal>().unwrap();
    let taken_out = Decimal::from(withdrawn.len() as u64) * WITHDRAWAL.parse::<Decimal>().unwrap();
    let balance = a.balance(FUND, "1000");
    let expected_paid = ((cash_in - taken_out) / claim_amount).floor();
    if balance != cash
        || balance != cash_in - taken_out - claim_amount * Decimal::from(paid.len() as u64)
    {
        problems.push(format!(
            "cash {balance} (journal says {cash}), but {cash_in} came in, {taken_out} was taken out and {} claims were paid",
            paid.len()
        ));
    }
    if Decimal::from(paid.len() as u64) != expected_paid {
        problems.push(format!(
            "{} claims of {CLAIM_AMOUNT} paid from {cash_in} less {taken_out}: expected {expected_paid} (cash left {balance})",
            paid.len()
        ));
    }

    println!(
        "two processes on {}: {} contributions ({both_replayed} keys sent to both processes at once), \
         {} of {WITHDRAWALS} withdrawals of {WITHDRAWAL} booked, {} of {CLAIMS} claims paid from {cash_in} of cash \
         (payment answers: {pay_counts:?}), {} left, {} payment runs, {} journal entries, in {:.1} s",
        db.backend(),
        acknowledged.len(),
        withdrawn.len(),
        paid.len(),
        balance,
        outcomes.runs.len(),
        entries.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "{} problems, the first:\n{}\nlog of a:\n{}\nlog of b:\n{}",
        problems.len(),
        problems
            .iter()
            .take(20)
            .map(|p| short(p))
            .collect::<Vec<_>>()
            .join("\n"),
        server_a.log_tail(),
        server_b.log_tail()
    );
    a.assert_books_balance(FUND);
    b.assert_books_balance(FUND);
    assert_cli_verifies(&db, FUND, entries.len());
}

/// One family's claims, all filed first, then decided, approved and paid through
/// two processes at once: four children claiming their parent's death (a
/// `max_claims: 1` benefit, and its `max_claims: 1` rider each), and six
/// invalidity claims of the worker against one lifetime cap. Each claim is
/// pushed along by two actors, one per process, racing each other and every
/// other claim. Never more awards than `max_claims`, never more than the cap,
/// every refusal `DECISION_EXCEEDS_PAYABLE`, `CLAIM_NOT_ELIGIBLE` or
/// `CLAIM_STATUS_CONFLICT`, cash never below zero, and the ledger verifies.
mod one_family {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Barrier;
    use std::time::{Duration, Instant};

    use rust_decimal::Decimal;
    use serde_json::{json, Value};

    use crate::server::{
        admin_token, assert_cli_verifies, decimal, journal_without_gaps, short, Client, Database,
        Response, Server,
    };

    const FUND: &str = "KE-MWF";
    const CHILDREN: usize = 4;
    const DEATH: &str = "DEATH_NATURAL";
    const RIDER: &str = "REPATRIATION_OF_REMAINS";
    const INVALIDITY: &str = "INVALIDITY";
    /// Grades of the invalidity claims: 300,000, 200,000, 200,000, 300,000,
    /// 100,000 and 200,000 of a 400,000 lifetime cap (above 250,000 a second
    /// approver is needed).
    const GRADES: [&str; 6] = ["2", "3", "3", "2", "4", "3"];
    const LIFETIME_CAP: &str = "400000.00";
    /// More than every award the rules allow (death 300,000, rider 100,000,
    /// invalidity 400,000), less than what they would cost without the limits.
    const GRANT: &str = "1000000.00";
    /// Requests one actor makes for its claim at most.
    const ACTOR_STEPS: usize = 10;
    const REFUSALS: [&str; 3] = [
        "DECISION_EXCEEDS_PAYABLE",
        "CLAIM_NOT_ELIGIBLE",
        "CLAIM_STATUS_CONFLICT",
    ];
    const AWARDED: [&str; 4] = ["approved", "partially_approved", "awaiting_funds", "paid"];

    #[test]
    fn two_processes_on_one_postgresql_never_award_a_family_beyond_max_claims_or_a_lifetime_cap() {
        let Some(db) = Database::postgres() else {
            println!("skipped: needs TEST_DATABASE_URL (a PostgreSQL server) to run two processes on one PostgreSQL database");
            return;
        };
        one_family_through_two_processes(db);
    }

    #[test]
    fn two_processes_on_one_sqlite_file_never_award_a_family_beyond_max_claims_or_a_lifetime_cap() {
        one_family_through_two_processes(Database::sqlite());
    }

    /// A token of `role` for `subject`, minted by `mwf token`.
    fn token(role: &str, subject: &str) -> String {
        let out = crate::server::mwf(
            &[
                "token",
                "--role",
                role,
                "--subject",
                subject,
                "--lifetime",
                "2h",
            ],
            &[],
        );
        assert!(
            out.status.success(),
            "mwf token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// One process as seen by one actor: an officer and an approver of its own.
    struct Desk {
        name: &'static str,
        officer: Client,
        approver: Client,
    }

    /// (claim label, desk, action, answer) of every request of the race.
    type Answers = Vec<(String, &'static str, &'static str, Response)>;

    /// Pushes one claim along through one process until it is paid, waiting for
    /// funds, rejected or out of steps: decides (approve; after a refusal or
    /// under review with nothing left, reject), approves, pays.
    fn actor(desk: &Desk, label: &str, id: &str, paid_on: &str) -> Answers {
        let mut answers = Vec::new();
        let mut refused_approval = false;
        for _ in 0..ACTOR_STEPS {
            let claim = desk.officer.get(&format!("/v1/claims/{id}"));
            let status = claim.expect(200)["status"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let (action, client, body) = match status.as_str() {
                "submitted" | "appealed" | "under_review" if !refused_approval => (
                    "decision",
                    &desk.officer,
                    json!({"outcome": "approve", "note": format!("by {}", desk.name)}),
                ),
                "submitted" | "appealed" | "under_review" => (
                    "decision",
                    &desk.officer,
                    json!({"outcome": "reject", "reasons": ["LIMIT_USED"]}),
                ),
                "awaiting_second_approval" | "awaiting_committee" => {
                    ("approval", &desk.approver, json!({"note": desk.name}))
                }
                "approved" | "partially_approved" => (
                    "payment",
                    &desk.officer,
                    json!({"paid_on": paid_on, "payee_reference": format!("BANK-{label}")}),
                ),
                _ => break,
            };
            let segment = if action == "approval" {
                "approvals"
            } else {
                action
            };
            let path = format!("/v1/claims/{id}/{segment}");
            let res = client
                .try_post(&path, None, &body)
                .unwrap_or_else(|e| panic!("{label} {action} via {}: {e}", desk.name));
            if action == "decision"
                && matches!(
                    res.body["code"].as_str(),
                    Some("DECISION_EXCEEDS_PAYABLE" | "CLAIM_NOT_ELIGIBLE")
                )
            {
                refused_approval = true;
            }
            answers.push((label.to_string(), desk.name, action, res));
        }
        answers
    }

    fn one_family_through_two_processes(db: Database) {
        let started = Instant::now();
        let server_a = Server::start(&db, "family-a");
        let server_b = Server::start(&db, "family-b");
        let admin = admin_token("family-admin");
        let a = Client::new(&server_a, &admin);
        let b = Client::new(&server_b, &admin);
        let desks = [
            Desk {
                name: "a",
                officer: Client::new(&server_a, &token("officer", "officer-a")),
                approver: Client::new(&server_a, &token("approver", "approver-a")),
            },
            Desk {
                name: "b",
                officer: Client::new(&server_b, &token("officer", "officer-b")),
                approver: Client::new(&server_b, &token("approver", "approver-b")),
            },
        ];

        // The family: a worker without a spouse (the children rank first), covered
        // from 2026-01-05, and cash for every award the rules allow.
        a.load_fund(FUND);
        let children: Vec<Value> = (0..CHILDREN)
            .map(|k| json!({"name": format!("Child {k}"), "relationship": "child"}))
            .collect();
        let worker = b.post(
            &format!("/v1/funds/{FUND}/workers"),
            &json!({
                "document_type": "passport", "document_number": "FAMILY-1", "given_name": "Achieng",
                "family_name": "Odhiambo", "date_of_birth": "1985-09-09", "sex": "female",
                "dependants": children,
                "contracts": [{"employer": "Gulf Builders", "destination_country": "QA",
                               "start_date": "2026-01-02", "end_date": "2028-06-30"}]
            }),
        );
        let worker = worker.expect(201).clone();
        let worker_id = worker["id"].as_str().unwrap().to_string();
        let contract = worker["contracts"][0]["id"].as_str().unwrap().to_string();
        a.post(
            &format!("/v1/funds/{FUND}/contributions"),
            &json!({"worker_id": worker_id, "contract_id": contract, "paid_on": "2026-01-05", "amount": "3000.00",
                    "currency": "KES", "payers": [{"type": "worker", "amount": "3000.00"}]}),
        )
        .expect(201);
        b.post(
            &format!("/v1/funds/{FUND}/journal-entries"),
            &json!({"effective_date": "2026-01-05", "memo": "Grant", "postings": [
                {"account": "1000", "side": "debit", "amount": GRANT, "currency": "KES"},
                {"account": "4200", "side": "credit", "amount": GRANT, "currency": "KES"}]}),
        )
        .expect(201);

        // Every claim filed before any is decided: each assessed in full.
        let mut claims: Vec<(String, String)> = Vec::new();
        for (k, child) in worker["dependants"].as_array().unwrap().iter().enumerate() {
            let via = if k % 2 == 0 { &a } else { &b };
            let res = via.post(
                &format!("/v1/workers/{worker_id}/claims"),
                &json!({"benefit": DEATH, "incident_date": "2026-07-01", "incident_phase": "abroad",
                        "filed_on": "2026-07-10",
                        "claimant": {"relationship": "child", "dependant_id": child["id"]},
                        "documents": [{"type": "DEATH_CERTIFICATE", "reference": "DC-1"},
                                      {"type": "PROOF_OF_RELATIONSHIP", "reference": format!("BC-{k}")},
                                      {"type": "CLAIMANT_ID", "reference": format!("ID-{k}")}]}),
            );
            let body = res.expect(201);
            assert_eq!(body["assessment"]["payable"], "300000.00", "{}", res.text);
            claims.push((
                format!("death-{k}"),
                body["id"].as_str().unwrap().to_string(),
            ));
            let rider = body["riders"][0]["id"].as_str().unwrap().to_string();
            let documented = via.post(
                &format!("/v1/claims/{rider}/documents"),
                &json!({"documents": [{"type": "TRANSPORT_RECEIPTS", "reference": format!("TR-{k}")}],
                        "claimed_amount": "100000.00"}),
            );
            assert_eq!(
                documented.expect(200)["assessment"]["payable"],
                "100000.00",
                "{}",
                documented.text
            );
            claims.push((format!("rider-{k}"), rider));
        }
        let incidents = [
            "2026-03-15",
            "2026-04-12",
            "2026-05-20",
            "2026-07-01",
            "2026-08-25",
            "2026-10-05",
        ];
        for (k, (grade, incident)) in GRADES.iter().zip(incidents).enumerate() {
            let via = if k % 2 == 0 { &b } else { &a };
            let res = via.post(
                &format!("/v1/workers/{worker_id}/claims"),
                &json!({"benefit": INVALIDITY, "incident_date": incident, "incident_phase": "abroad",
                        "filed_on": "2026-11-01", "claimant": {"relationship": "worker"}, "grade": grade,
                        "documents": [{"type": "MEDICAL_CERTIFICATE", "reference": format!("MC-{k}")}]}),
            );
            let body = res.expect(201);
            assert_eq!(body["assessment"]["outcome"], "eligible", "{}", res.text);
            claims.push((
                format!("invalidity-{k}-grade-{grade}"),
                body["id"].as_str().unwrap().to_string(),
            ));
        }

        // The race: two actors per claim, one per process, all at once, while
        // payment runs go through both processes.
        let paid_on = chrono::Utc::now().date_naive().to_string();
        let racing = AtomicBool::new(true);
        let barrier = Barrier::new(claims.len() * desks.len());
        let (answers, runs) = std::thread::scope(|s| {
            let actors: Vec<_> = claims
                .iter()
                .flat_map(|(label, id)| {
                    let (barrier, paid_on) = (&barrier, &paid_on);
                    desks.iter().map(move |desk| {
                        s.spawn(move || {
                            barrier.wait();
                            actor(desk, label, id, paid_on)
                        })
                    })
                })
                .collect();
            let runners: Vec<_> = [(&a, "a"), (&b, "b")]
                .into_iter()
                .map(|(client, name)| {
                    let (racing, paid_on) = (&racing, &paid_on);
                    s.spawn(move || {
                        let mut runs = Vec::new();
                        while racing.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(40));
                            let res = client
                                .try_post(
                                    &format!("/v1/funds/{FUND}/payment-runs"),
                                    None,
                                    &json!({"paid_on": paid_on}),
                                )
                                .unwrap_or_else(|e| panic!("payment run via {name}: {e}"));
                            runs.push((name, res));
                        }
                        runs
                    })
                })
                .collect();
            let answers: Answers = actors.into_iter().flat_map(|h| h.join().unwrap()).collect();
            racing.store(false, Ordering::SeqCst);
            let runs: Vec<(&str, Response)> = runners
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            (answers, runs)
        });

        let mut problems: Vec<String> = Vec::new();
        let mut tally: BTreeMap<String, usize> = BTreeMap::new();
        for (label, desk, action, res) in &answers {
            let outcome = res.body["status"]
                .as_str()
                .or(res.body["code"].as_str())
                .unwrap_or("?");
            *tally.entry(format!("{action} {outcome}")).or_default() += 1;
            let refusal_ok = res.body["code"]
                .as_str()
                .is_some_and(|c| REFUSALS.contains(&c));
            if res.status >= 300 && !refusal_ok {
                problems.push(format!(
                    "{label} {action} via {desk}: {} {}",
                    res.status,
                    short(&res.text)
                ));
            }
        }
        for (name, res) in &runs {
            if res.status != 200 {
                problems.push(format!(
                    "payment run via {name}: {} {}",
                    res.status,
                    short(&res.text)
                ));
            }
        }

        // What the family was awarded, as the service lists it.
        let listed = a.list_all(&format!("/v1/funds/{FUND}/claims"));
        let awards = |benefit: &str| -> Vec<&Value> {
            listed
                .iter()
                .filter(|c| c["benefit"] == benefit)
                .filter(|c| AWARDED.contains(&c["status"].as_str().unwrap_or_default()))
                .collect()
        };
        let amount = |c: &Value| decimal(&c["decision"]["amount"]);
        let statuses: Vec<String> = claims
            .iter()
            .map(|(label, id)| {
                let c = listed.iter().find(|c| c["id"] == id.as_str()).unwrap();
                format!(
                    "{label} {} {}",
                    c["status"].as_str().unwrap_or("?"),
                    c["decision"]["amount"].as_str().unwrap_or("-")
                )
            })
            .collect();
        for benefit in [DEATH, RIDER] {
            if awards(benefit).len() > 1 {
                problems.push(format!(
                    "{} awards of {benefit} (max_claims 1)",
                    awards(benefit).len()
                ));
            }
        }
        let invalidity: Decimal = awards(INVALIDITY).iter().map(|c| amount(c)).sum();
        if invalidity > LIFETIME_CAP.parse::<Decimal>().unwrap() {
            problems.push(format!(
                "invalidity awards add up to {invalidity}, over the lifetime cap {LIFETIME_CAP}"
            ));
        }
        // Benefits payable holds what was awarded and not yet paid.
        let unpaid: Decimal = listed
            .iter()
            .filter(|c| {
                ["approved", "partially_approved", "awaiting_funds"]
                    .contains(&c["status"].as_str().unwrap_or_default())
                    || (c["status"] == "under_review" && c["approval_entry_id"].is_string())
            })
            .map(amount)
            .sum();
        let payable = a.balance(FUND, "2000");
        if payable != unpaid {
            problems.push(format!(
                "benefits payable is {payable}, the unpaid awards add up to {unpaid}"
            ));
        }

        // Cash never below zero in commit order; the ledger verifies.
        let entries = journal_without_gaps(&b, FUND);
        let mut cash = Decimal::ZERO;
        for e in &entries {
            for p in e["postings"].as_array().unwrap() {
                if p["account"] == "1000" {
                    let x = decimal(&p["amount"]);
                    cash += if p["side"] == "debit" { x } else { -x };
                }
            }
            if cash < Decimal::ZERO {
                problems.push(format!("cash is {cash} after entry #{}", e["sequence"]));
            }
        }

        println!(
            "one family through two processes on {}: {} requests ({tally:?}), {} payment runs, \
             claims {statuses:?}, {} journal entries, in {:.1} s",
            db.backend(),
            answers.len(),
            runs.len(),
            entries.len(),
            started.elapsed().as_secs_f64()
        );
        assert!(
            problems.is_empty(),
            "{} problems:\n{}\nclaims: {statuses:#?}\nlog of a:\n{}\nlog of b:\n{}",
            problems.len(),
            problems
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
            server_a.log_tail(),
            server_b.log_tail()
        );
        a.assert_books_balance(FUND);
        b.assert_books_balance(FUND);
        assert_cli_verifies(&db, FUND, entries.len());
    }
}
