//! Heirs share a death benefit (issue 15): payees and their shares, a minor paid
//! through a guardian, a later heir joining the claim, payment payee by payee
//! while cash lasts, and the nominee before the next of kin.

use std::collections::BTreeSet;

use mwf::auth::Role;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

const PH_DEATH_DOCS: [&str; 3] = ["DEATH_CERTIFICATE", "PROOF_OF_RELATIONSHIP", "CLAIMANT_ID"];
const NP_DEATH_DOCS: [&str; 4] = [
    "DEATH_CERTIFICATE",
    "PROOF_OF_RELATIONSHIP",
    "CLAIMANT_ID",
    "LABOUR_PERMIT",
];

fn docs(list: &[&str]) -> Value {
    Value::Array(
        list.iter()
            .map(|t| json!({"type": t, "reference": format!("REF-{t}")}))
            .collect(),
    )
}

/// Payments are dated no earlier than their approval (today, in these tests).
fn today() -> String {
    mwf::time::today().to_string()
}

/// A worker of `fund` with `dependants`, covered by one contribution: the
/// worker's id and the dependants' ids by name.
struct Household {
    worker: String,
    contribution: String,
    ids: Vec<(String, String)>,
}

impl Household {
    fn id(&self, name: &str) -> String {
        self.ids
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.clone())
            .unwrap_or_else(|| panic!("no dependant {name}"))
    }
}

fn household(
    app: &TestApp,
    fund: &str,
    document: &str,
    dependants: Value,
    contract: (&str, &str),
    paid: (&str, &str, &str),
) -> Household {
    let res = app.post(
        &format!("/v1/funds/{fund}/workers"),
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": document, "given_name": "Lorna", "family_name": "Cruz",
            "date_of_birth": "1980-01-01", "sex": "female", "dependants": dependants,
            "contracts": [{"employer": "E", "destination_country": "SA", "start_date": contract.0, "end_date": contract.1}]
        }),
    );
    let w = res.expect(201).clone();
    let worker = w["id"].as_str().unwrap().to_string();
    let contract_id = w["contracts"][0]["id"].as_str().unwrap().to_string();
    let contribution = app.contribute(
        fund,
        &worker,
        Some(&contract_id),
        paid.0,
        (paid.1, paid.2, paid.1),
    );
    let contribution = id(contribution.expect(201));
    let ids = w["dependants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    Household {
        worker,
        contribution,
        ids,
    }
}

/// A Philippine worker who dies abroad in May 2018 leaving a spouse, a grown
/// child, a child of eight, a parent and a child who died before them.
fn owwa_family(app: &TestApp, document: &str) -> Household {
    household(
        app,
        "PH-OWWA",
        document,
        json!([
            {"name": "Maria Cruz", "relationship": "spouse", "date_of_birth": "1982-02-02"},
            {"name": "Jose Cruz", "relationship": "child", "date_of_birth": "1999-06-01"},
            {"name": "Ana Cruz", "relationship": "child", "date_of_birth": "2010-03-15"},
            {"name": "Pedro Cruz", "relationship": "parent", "date_of_birth": "1950-01-01"},
            {"name": "Luis Cruz", "relationship": "child", "date_of_birth": "2001-01-01", "deceased": true}
        ]),
        ("2017-03-15", "2019-03-14"),
        ("2017-03-01", "25.00", "USD"),
    )
}

fn owwa_death(claimant: (&str, &str), beneficiaries: Option<Value>) -> Value {
    let mut body = json!({"benefit": "DEATH_NATURAL", "incident_date": "2018-05-10", "incident_phase": "abroad",
        "filed_on": "2018-06-01", "claimant": {"relationship": claimant.0, "dependant_id": claimant.1},
        "documents": docs(&PH_DEATH_DOCS)});
    if let Some(b) = beneficiaries {
        body["beneficiaries"] = b;
    }
    body
}

fn file(app: &TestApp, worker: &str, body: &Value) -> Response {
    app.post(&format!("/v1/workers/{worker}/claims"), &app.admin(), body)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn fund_cash(app: &TestApp, fund: &str, amount: &str, currency: &str) {
    app.transfer(fund, "2018-01-02", "1000", "3100", amount, currency)
        .expect(201);
}

fn entry(app: &TestApp, fund: &str, id: &str) -> Value {
    app.get(
        &format!("/v1/funds/{fund}/journal-entries/{id}"),
        &app.admin(),
    )
    .expect(200)
    .clone()
}

/// (account, side, amount) of an entry's postings.
fn postings(entry: &Value) -> Vec<(String, String, String)> {
    entry["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["account"].as_str().unwrap().to_string(),
                p["side"].as_str().unwrap().to_string(),
                p["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn field(p: &Value, pointer: &str) -> Value {
    p["payees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.pointer(pointer).cloned().unwrap_or(Value::Null))
        .collect()
}

fn events_of(app: &TestApp, claim: &str, kind: &str) -> usize {
    app.get(
        &format!("/v1/events?claim={claim}&type={kind}&limit=100"),
        &app.admin(),
    )
    .expect(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn an_owwa_death_shared_by_three_heirs_pays_each_its_exact_part_and_the_minor_through_a_guardian() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let f = owwa_family(&app, "PH-H1");
    // The spouse files and names nobody: the class that takes (spouse and the
    // living children) shares equally, the spouse receiving for the minor.
    let filed = file(
        &app,
        &f.worker,
        &owwa_death(("spouse", &f.id("Maria Cruz")), None),
    );
    let c = filed.expect(201).clone();
    assert_eq!(c["assessment"]["outcome"], "eligible", "{}", filed.text);
    assert_eq!(
        field(&c, "/name"),
        json!(["Maria Cruz", "Jose Cruz", "Ana Cruz"])
    );
    assert_eq!(field(&c, "/share_fraction"), json!(["1/3", "1/3", "1/3"]));
    assert_eq!(
        field(&c, "/share"),
        json!(["0.3333333333", "0.3333333333", "0.3333333333"])
    );
    assert_eq!(field(&c, "/minor"), json!([false, false, true]));
    assert_eq!(c["payees"][2]["guardian"]["name"], "Maria Cruz");
    assert_eq!(
        c["payees"][2]["guardian"]["dependant_id"],
        json!(f.id("Maria Cruz"))
    );
    assert_eq!(c["payees"][2]["receiver"], "Maria Cruz");
    assert_eq!(field(&c, "/amount"), json!([null, null, null]));

    let claim = id(&c);
    let decided = app.post(
        &format!("/v1/claims/{claim}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    );
    let approved = decided.expect(200).clone();
    assert_eq!(approved["status"], "approved");
    assert_eq!(
        field(&approved, "/amount"),
        json!(["33333.34", "33333.33", "33333.33"])
    );
    // The award is booked as one payable per payee.
    let award = entry(
        &app,
        "PH-OWWA",
        approved["approval_entry_id"].as_str().unwrap(),
    );
    let mut booked = postings(&award);
    booked.sort();
    assert_eq!(
        booked,
        vec![
            ("2000".into(), "credit".into(), "33333.33".into()),
            ("2000".into(), "credit".into(), "33333.33".into()),
            ("2000".into(), "credit".into(), "33333.34".into()),
            ("5100".into(), "debit".into(), "100000.00".into()),
        ]
    );

    fund_cash(&app, "PH-OWWA", "150000.00", "PHP");
    let paid = app.post(
        &format!("/v1/claims/{claim}/payment"),
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    let paid = paid.expect(200).clone();
    assert_eq!(paid["status"], "paid");
    let entries: Vec<String> = field(&paid, "/payment_entry_id")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().expect("each payee paid by an entry").to_string())
        .collect();
    assert_eq!(entries.iter().collect::<BTreeSet<_>>().len(), 3);
    assert_eq!(paid["payment"]["journal_entry_id"], json!(entries[2]));
    let mut total = Decimal::ZERO;
    for (i, entry_id) in entries.iter().enumerate() {
        let e = entry(&app, "PH-OWWA", entry_id);
        let amount = paid["payees"][i]["amount"].as_str().unwrap();
        assert_eq!(
            postings(&e),
            vec![
                ("2000".into(), "debit".into(), amount.to_string()),
                ("1000".into(), "credit".into(), amount.to_string()),
            ]
        );
        assert_eq!(e["kind"], "claim_payment");
        total += amount.parse::<Decimal>().unwrap();
    }
    assert_eq!(total, "100000.00".parse::<Decimal>().unwrap());
    let minor = entry(&app, "PH-OWWA", &entries[2]);
    assert!(
        minor["memo"]
            .as_str()
            .unwrap()
            .contains("Maria Cruz, guardian of Ana Cruz"),
        "{}",
        minor["memo"]
    );
    let grown = entry(&app, "PH-OWWA", &entries[1]);
    assert!(grown["memo"].as_str().unwrap().contains("to Jose Cruz"));
    assert_eq!(events_of(&app, &claim, "claim.payee_paid"), 3);
    assert_eq!(events_of(&app, &claim, "claim.paid"), 1);
    assert_eq!(app.balance("PH-OWWA", "1000"), "50000.00");
    assert_eq!(app.balance("PH-OWWA", "2000"), "0.00");
    app.assert_books_balance("PH-OWWA");

    // The statistics count the three payees of the death (and the burial
    // rider's claimant), and what was paid.
    let stats = app.get(
        "/v1/funds/PH-OWWA/reports/claims?from=2018-01-01&to=2018-12-31&by=benefit",
        &app.admin(),
    );
    let stats = stats.expect(200);
    assert_eq!(stats["count"], 2);
    assert_eq!(stats["payees"], 4);
    let death = stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["benefit"] == "DEATH_NATURAL")
        .unwrap();
    assert_eq!(death["payees"], 3);
    assert_eq!(death["amounts"][0]["paid"], "100000.00");
}

#[test]
fn a_later_heir_joins_the_claim_and_a_second_filing_is_refused_naming_it() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let f = owwa_family(&app, "PH-H2");
    let spouse = f.id("Maria Cruz");
    let first = file(
        &app,
        &f.worker,
        &owwa_death(("spouse", &spouse), Some(json!([{"dependant_id": spouse}]))),
    );
    let claim = id(first.expect(201));
    assert_eq!(field(&first.body, "/share"), json!(["1"]));

    // The grown child files for the same death: refused, naming the claim to join.
    let again = file(
        &app,
        &f.worker,
        &owwa_death(("child", &f.id("Jose Cruz")), None),
    );
    assert_eq!(
        again.assert_problem(409, "CLAIM_ALREADY_FILED")["claim_id"],
        json!(claim)
    );
    let join = |body: Value| {
        app.post(
            &format!("/v1/claims/{claim}/beneficiaries"),
            &app.admin(),
            &body,
        )
    };
    let joined = join(json!({"dependant_id": f.id("Jose Cruz")}));
    let joined = joined.expect(200).clone();
    assert_eq!(field(&joined, "/share_fraction"), json!(["1/2", "1/2"]));
    let triggers: Vec<&str> = joined["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, vec!["submitted", "beneficiary"]);
    join(json!({"dependant_id": f.id("Jose Cruz")}))
        .assert_problem(409, "BENEFICIARY_ALREADY_ON_CLAIM");
    // A minor joins only with a guardian; a parent does not take while a spouse lives.
    let refused = join(json!({"dependant_id": f.id("Ana Cruz")}));
    refused.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(refused.error_fields(), vec!["/guardian"]);
    let refused = join(json!({"dependant_id": f.id("Pedro Cruz")}));
    refused.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(refused.error_fields(), vec!["/dependant_id"]);
    assert_eq!(refused.body["errors"][0]["code"], "not_entitled");
    let joined = join(json!({"dependant_id": f.id("Ana Cruz"),
        "guardian": {"name": "Rosa Cruz", "id_number": "PH-UMID-0011", "relationship": "aunt"}}));
    let joined = joined.expect(200).clone();
    assert_eq!(
        field(&joined, "/share_fraction"),
        json!(["1/3", "1/3", "1/3"])
    );
    assert_eq!(joined["payees"][2]["receiver"], "Rosa Cruz");
    assert_eq!(joined["payees"][2]["guardian"]["id_number"], "PH-UMID-0011");
    assert_eq!(events_of(&app, &claim, "claim.beneficiary_joined"), 2);

    // Once decided, nobody joins.
    app.post(
        &format!("/v1/claims/{claim}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    )
    .expect(200);
    join(json!({"dependant_id": f.id("Jose Cruz")})).assert_problem(409, "CLAIM_STATUS_CONFLICT");
    // The claims of the worker: the death and its burial rider, no other.
    let list = app.get(&format!("/v1/workers/{}/claims", f.worker), &app.admin());
    assert_eq!(list.expect(200)["items"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_shares_a_missing_guardian_and_a_deceased_heir_are_refused_with_their_fields() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let f = owwa_family(&app, "PH-H3");
    let (spouse, grown, minor) = (f.id("Maria Cruz"), f.id("Jose Cruz"), f.id("Ana Cruz"));
    let refused = |beneficiaries: Value| -> Vec<(String, String)> {
        let res = file(
            &app,
            &f.worker,
            &owwa_death(("spouse", &spouse), Some(beneficiaries)),
        );
        res.assert_problem(422, "VALIDATION_FAILED");
        res.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_string(),
                    e["code"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        refused(
            json!([{"dependant_id": spouse, "share": "0.5"}, {"dependant_id": grown, "share": "0.3"}])
        ),
        vec![pair("/beneficiaries", "shares_not_one")]
    );
    assert_eq!(
        refused(
            json!([{"dependant_id": spouse, "share": "0.5"}, {"dependant_id": grown, "share": "1.5"}])
        ),
        vec![pair("/beneficiaries/1/share", "out_of_range")]
    );
    assert_eq!(
        refused(json!([{"dependant_id": spouse, "share": "0.5"}, {"dependant_id": grown}])),
        vec![pair("/beneficiaries/1/share", "required")]
    );
    assert_eq!(
        refused(json!([{"dependant_id": spouse}, {"dependant_id": minor}])),
        vec![pair("/beneficiaries/1/guardian", "required")]
    );
    assert_eq!(
        refused(json!([{"dependant_id": spouse}, {"dependant_id": f.id("Luis Cruz")}])),
        vec![pair("/beneficiaries/1/dependant_id", "deceased")]
    );
    assert_eq!(
        refused(json!([{"dependant_id": f.id("Pedro Cruz")}])),
        vec![pair("/beneficiaries/0/dependant_id", "not_entitled")]
    );
    assert_eq!(
        refused(
            json!([{"dependant_id": spouse}, {"dependant_id": minor, "guardian_dependant_id": minor}])
        ),
        vec![pair("/beneficiaries/1/guardian_dependant_id", "self")]
    );
    assert_eq!(
        refused(json!([{"estate": true}])),
        vec![pair("/beneficiaries/0/estate", "not_entitled")]
    );
    assert_eq!(
        refused(json!([{"dependant_id": spouse}, {"dependant_id": spouse}])),
        vec![pair("/beneficiaries/1/dependant_id", "duplicate")]
    );
    // A benefit whose claimant alone is paid names no beneficiaries.
    let disability = json!({"benefit": "DISABILITY_TOTAL", "incident_date": "2018-05-10", "incident_phase": "abroad",
        "claimant": {"relationship": "worker"}, "beneficiaries": [{"dependant_id": spouse}]});
    let res = file(&app, &f.worker, &disability);
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/beneficiaries"]);
    // Nothing was written.
    let list = app.get(&format!("/v1/workers/{}/claims", f.worker), &app.admin());
    assert_eq!(list.expect(200)["items"], json!([]));
    // Named shares that add up are taken as named, and split exactly.
    let named = file(
        &app,
        &f.worker,
        &owwa_death(
            ("spouse", &spouse),
            Some(
                json!([{"dependant_id": spouse, "share": "0.5"}, {"dependant_id": grown, "share": "0.25"},
                        {"dependant_id": minor, "share": "0.25", "guardian_dependant_id": spouse}]),
            ),
        ),
    );
    let claim = id(named.expect(201));
    assert_eq!(field(&named.body, "/share"), json!(["0.5", "0.25", "0.25"]));
    let approved = app.post(
        &format!("/v1/claims/{claim}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    );
    assert_eq!(
        field(approved.expect(200), "/amount"),
        json!(["50000.00", "25000.00", "25000.00"])
    );
}

/// A Nepali worker who dies abroad in May 2018 leaving three grown children
/// (no spouse, no nominee): they share the death compensation in thirds.
fn nepal_children(app: &TestApp, document: &str) -> Household {
    household(
        app,
        "NP-FEWF",
        document,
        json!([
            {"name": "Sita Thapa", "relationship": "child", "date_of_birth": "1995-01-01"},
            {"name": "Ram Thapa", "relationship": "child", "date_of_birth": "1997-01-01"},
            {"name": "Gita Thapa", "relationship": "child", "date_of_birth": "1999-01-01"}
        ]),
        ("2017-09-01", "2019-08-31"),
        ("2017-08-15", "1500.00", "NPR"),
    )
}

fn nepal_death(claimant: (&str, &str)) -> Value {
    json!({"benefit": "DEATH", "incident_date": "2018-05-10", "incident_phase": "abroad", "filed_on": "2018-06-01",
           "claimant": {"relationship": claimant.0, "dependant_id": claimant.1}, "documents": docs(&NP_DEATH_DOCS)})
}

/// Decides and (700,000 being above the second-approval threshold) approves
/// a Nepali death claim: the approved claim.
fn approve_nepal_death(app: &TestApp, claim: &str) -> Value {
    app.post(
        &format!("/v1/claims/{claim}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    )
    .expect(200);
    let second = app.token_for("second-approver", Role::Approver, &["NP-FEWF"]);
    let approved = app.post(
        &format!("/v1/claims/{claim}/approvals"),
        &second,
        &json!({}),
    );
    assert_eq!(approved.expect(200)["status"], "approved");
    approved.body
}

#[test]
fn cash_for_some_payees_pays_those_and_a_payment_run_pays_the_rest_once_a_contribution_tops_it_up()
{
    let app = spawn();
    app.load_fund("NP-FEWF");
    let f = nepal_children(&app, "NP-H1");
    let filed = file(
        &app,
        &f.worker,
        &nepal_death(("child", &f.id("Sita Thapa"))),
    );
    let claim = id(filed.expect(201));
    assert_eq!(filed.body["assessment"]["payable"], "700000.00");
    let approved = approve_nepal_death(&app, &claim);
    assert_eq!(
        field(&approved, "/amount"),
        json!(["233333.34", "233333.33", "233333.33"])
    );
    // Cash: the contribution (1,500) and a grant of 697,500: 1,000 short of the award.
    fund_cash(&app, "NP-FEWF", "697500.00", "NPR");
    assert_eq!(app.balance("NP-FEWF", "1000"), "699000.00");
    let partly = app.post(
        &format!("/v1/claims/{claim}/payment"),
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    let partly = partly.expect(200).clone();
    assert_eq!(partly["status"], "awaiting_funds");
    assert_eq!(partly["payment"], Value::Null);
    assert!(partly["queued_at"].is_string());
    assert_eq!(field(&partly, "/paid_on"), json!([today(), today(), null]));
    assert_eq!(app.balance("NP-FEWF", "1000"), "232333.33");
    assert_eq!(app.balance("NP-FEWF", "2000"), "233333.33");
    app.assert_books_balance("NP-FEWF");
    // The run pays nobody while cash falls short, and says the claim still waits.
    let run = app.post(
        "/v1/funds/NP-FEWF/payment-runs",
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(run.expect(200)["waiting"], json!([claim]));
    assert_eq!(events_of(&app, &claim, "claim.payee_paid"), 2);
    // Another worker's contribution tops cash up; the run pays the last payee.
    nepal_children(&app, "NP-H2");
    let run = app.post(
        "/v1/funds/NP-FEWF/payment-runs",
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(run.expect(200)["paid"], json!([claim]));
    let now = app.get(&format!("/v1/claims/{claim}"), &app.admin());
    let now = now.expect(200);
    assert_eq!(now["status"], "paid");
    assert_eq!(field(now, "/paid_on"), json!([today(), today(), today()]));
    assert_eq!(
        now["payment"]["journal_entry_id"],
        now["payees"][2]["payment_entry_id"]
    );
    assert_eq!(events_of(&app, &claim, "claim.payee_paid"), 3);
    assert_eq!(app.balance("NP-FEWF", "1000"), "500.00");
    assert_eq!(app.balance("NP-FEWF", "2000"), "0.00");
    let trial = app.get(
        &format!("/v1/funds/NP-FEWF/reports/trial-balance?as_of={}", today()),
        &app.admin(),
    );
    for totals in trial.expect(200)["totals"].as_array().unwrap() {
        assert_eq!(totals["balanced"], true, "{}", trial.text);
    }
    app.assert_books_balance("NP-FEWF");
}

#[test]
fn in_nepal_the_nominee_takes_before_the_next_of_kin() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    // Two nominees in one enrollment are refused naming the second.
    let two = app.post(
        "/v1/funds/NP-FEWF/workers",
        &app.admin(),
        &json!({"document_type": "passport", "document_number": "NP-N0", "given_name": "Hari", "family_name": "Rai",
                "date_of_birth": "1985-01-01", "sex": "male",
                "dependants": [{"name": "A", "relationship": "sibling", "nominee": true},
                               {"name": "B", "relationship": "parent", "nominee": true}]}),
    );
    two.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(two.error_fields(), vec!["/dependants/1/nominee"]);
    let f = household(
        &app,
        "NP-FEWF",
        "NP-N1",
        json!([
            {"name": "Kamala Rai", "relationship": "spouse", "date_of_birth": "1986-01-01"},
            {"name": "Bikash Rai", "relationship": "child", "date_of_birth": "2005-01-01"},
            {"name": "Mohan Rai", "relationship": "other", "date_of_birth": "1983-01-01", "nominee": true}
        ]),
        ("2017-09-01", "2019-08-31"),
        ("2017-08-15", "1500.00", "NPR"),
    );
    let nominee = f.id("Mohan Rai");
    // A second nominee for the worker is refused naming the first.
    let second = app.post(
        &format!("/v1/workers/{}/dependants", f.worker),
        &app.admin(),
        &json!({"name": "Sunita Rai", "relationship": "sibling", "nominee": true}),
    );
    assert_eq!(
        second.assert_problem(409, "NOMINEE_ALREADY_REGISTERED")["dependant_id"],
        json!(nominee)
    );
    // Naming the spouse is refused: the nominee takes.
    let mut body = nepal_death(("spouse", &f.id("Kamala Rai")));
    body["beneficiaries"] = json!([{"dependant_id": f.id("Kamala Rai")}]);
    let res = file(&app, &f.worker, &body);
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/beneficiaries/0/dependant_id"]);
    // The spouse's claim pays the nominee, and the spouse is outranked as claimant.
    let by_spouse = file(
        &app,
        &f.worker,
        &nepal_death(("spouse", &f.id("Kamala Rai"))),
    );
    let by_spouse = by_spouse.expect(201).clone();
    assert_eq!(field(&by_spouse, "/dependant_id"), json!([nominee]));
    assert_eq!(
        by_spouse["assessment"]["reasons"],
        json!(["HIGHER_PRIORITY_CLAIMANT"])
    );
    app.post(
        &format!("/v1/claims/{}/withdrawal", id(&by_spouse)),
        &app.admin(),
        &json!({}),
    )
    .expect(200);
    // The nominee claims it (a friend: not among the benefit's claimants, but
    // the rules name the nominee first).
    let by_nominee = file(&app, &f.worker, &nepal_death(("other", &nominee)));
    let by_nominee = by_nominee.expect(201);
    assert_eq!(by_nominee["assessment"]["outcome"], "eligible");
    assert_eq!(field(by_nominee, "/dependant_id"), json!([nominee]));
    assert_eq!(field(by_nominee, "/share_fraction"), json!(["1/1"]));
    let worker = app.get(&format!("/v1/workers/{}", f.worker), &app.admin());
    let nominees: Vec<&Value> = worker.expect(200)["dependants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["nominee"] == true)
        .collect();
    assert_eq!(nominees.len(), 1);
}

#[test]
fn an_award_some_payees_were_paid_from_is_never_reversed_and_a_rejection_stops_only_the_rest() {
    let app = spawn();
    app.load_fund("NP-FEWF");
    let f = nepal_children(&app, "NP-H3");
    let claim = id(file(
        &app,
        &f.worker,
        &nepal_death(("child", &f.id("Sita Thapa"))),
    )
    .expect(201));
    approve_nepal_death(&app, &claim);
    fund_cash(&app, "NP-FEWF", "300000.00", "NPR");
    let partly = app.post(
        &format!("/v1/claims/{claim}/payment"),
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(partly.expect(200)["status"], "awaiting_funds");
    assert_eq!(
        field(&partly.body, "/paid_on"),
        json!([today(), null, null])
    );
    // The worker's only contribution bounces: the award no longer stands, and
    // the run sends the claim back to an officer instead of paying on.
    app.post(
        &format!("/v1/contributions/{}/reversal", f.contribution),
        &app.admin(),
        &json!({"reason": "bounced"}),
    )
    .expect(200);
    fund_cash(&app, "NP-FEWF", "500000.00", "NPR");
    app.post(
        "/v1/funds/NP-FEWF/payment-runs",
        &app.admin(),
        &json!({"paid_on": today()}),
    )
    .expect(200);
    let now = app.get(&format!("/v1/claims/{claim}"), &app.admin());
    assert_eq!(now.expect(200)["status"], "under_review");
    // The first heir was paid: the award is never below what was paid, never
    // raised, and (the worker no longer being covered) not confirmed either.
    let decide =
        |body: Value| app.post(&format!("/v1/claims/{claim}/decision"), &app.admin(), &body);
    let below = decide(
        json!({"outcome": "partially_approve", "amount": "100000.00", "reasons": ["PARTIAL_AWARD"]}),
    );
    below.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(below.error_fields(), vec!["/amount"]);
    assert!(below.text.contains("below_paid"), "{}", below.text);
    let raised = decide(json!({"outcome": "approve", "amount": "800000.00"}));
    raised.assert_problem(422, "VALIDATION_FAILED");
    assert!(raised.text.contains("exceeds_award"), "{}", raised.text);
    decide(json!({"outcome": "approve"})).assert_problem(422, "CLAIM_NOT_ELIGIBLE");
    decide(json!({"outcome": "partially_approve", "amount": "300000.00", "reasons": ["PARTIAL_AWARD"]}))
        .assert_problem(422, "CLAIM_NOT_ELIGIBLE");
    assert_eq!(app.balance("NP-FEWF", "2000"), "466666.66");
    // A rejection stops the two heirs not yet paid: the award becomes what the
    // first was paid, the rest is booked back, and the claim is closed as paid.
    let rejected = decide(json!({"outcome": "reject", "reasons": ["MEMBERSHIP_INACTIVE"]}));
    let rejected = rejected.expect(200).clone();
    assert_eq!(rejected["status"], "paid");
    assert_eq!(rejected["decision"]["outcome"], "reject");
    assert_eq!(rejected["decision"]["amount"], "233333.34");
    assert_eq!(
        field(&rejected, "/amount"),
        json!(["233333.34", "0.00", "0.00"])
    );
    assert_eq!(
        field(&rejected, "/paid_on"),
        json!([today(), today(), today()])
    );
    let entries = field(&rejected, "/payment_entry_id");
    assert!(entries[0].is_string(), "{entries}");
    assert_eq!(entries[1], Value::Null);
    assert_eq!(entries[2], Value::Null);
    assert_eq!(app.balance("NP-FEWF", "2000"), "0.00");
    assert_eq!(events_of(&app, &claim, "claim.payee_paid"), 3);
    assert_eq!(events_of(&app, &claim, "claim.paid"), 1);
    let journal = app.get(
        &format!(
            "/v1/funds/NP-FEWF/journal-entries?from={}&limit=500",
            today()
        ),
        &app.admin(),
    );
    let reductions: Vec<&Value> = journal.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "claim_award_reduction" && e["source"]["id"] == claim.as_str())
        .collect();
    assert_eq!(reductions.len(), 1, "{}", journal.text);
    let mut booked_back = postings(reductions[0]);
    booked_back.sort();
    assert_eq!(
        booked_back,
        vec![
            ("2000".into(), "debit".into(), "466666.66".into()),
            ("5100".into(), "credit".into(), "466666.66".into()),
        ]
    );
    // Decided and closed: nothing more to decide or pay.
    decide(json!({"outcome": "approve"})).assert_problem(409, "CLAIM_STATUS_CONFLICT");
    app.assert_books_balance("NP-FEWF");
}

/// Found by the model test (seed 15089057851817988082): a shared claim partly
/// paid and sent back to review was not counted as an award by the worker's
/// later claims, so a second death benefit of a benefit allowed once was
/// assessed payable and paid beside the money already paid on the first.
#[test]
fn a_partly_paid_claim_back_under_review_still_counts_against_the_benefits_limits() {
    let app = spawn();
    app.load_fund("PH-OWWA");
    let f = owwa_family(&app, "PH-H9");
    let spouse = ("spouse", f.id("Maria Cruz"));
    let claim = id(file(&app, &f.worker, &owwa_death((spouse.0, &spouse.1), None)).expect(201));
    let decided = app.post(
        &format!("/v1/claims/{claim}/decision"),
        &app.admin(),
        &json!({"outcome": "approve"}),
    );
    assert_eq!(decided.expect(200)["status"], "approved");
    // Cash for the first of the three heirs only.
    fund_cash(&app, "PH-OWWA", "34000.00", "PHP");
    let partly = app.post(
        &format!("/v1/claims/{claim}/payment"),
        &app.admin(),
        &json!({"paid_on": today()}),
    );
    assert_eq!(partly.expect(200)["status"], "awaiting_funds");
    assert_eq!(
        field(&partly.body, "/paid_on"),
        json!([today(), null, null])
    );
    app.post(
        &format!("/v1/contributions/{}/reversal", f.contribution),
        &app.admin(),
        &json!({"reason": "bounced"}),
    )
    .expect(200);
    fund_cash(&app, "PH-OWWA", "100000.00", "PHP");
    app.post(
        "/v1/funds/PH-OWWA/payment-runs",
        &app.admin(),
        &json!({"paid_on": today()}),
    )
    .expect(200);
    let now = app.get(&format!("/v1/claims/{claim}"), &app.admin());
    assert_eq!(now.expect(200)["status"], "under_review");
    // A second natural death of the worker (DEATH_NATURAL is allowed once): the
    // claim under review still counts, its first heir having been paid.
    let mut second = owwa_death((spouse.0, &spouse.1), None);
    second["incident_date"] = json!("2018-07-01");
    second["filed_on"] = json!("2018-07-15");
    let second = file(&app, &f.worker, &second);
    let reasons = second.expect(201)["assessment"]["reasons"].clone();
    assert!(
        reasons
            .as_array()
            .unwrap()
            .contains(&json!("MAX_CLAIMS_REACHED")),
        "{}",
        second.text
    );
    assert_eq!(second.body["assessment"]["payable"], "0.00");
}
