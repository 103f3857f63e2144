//! Who pays a contribution: employers where the rules put it on them
//! (Indonesia from 15 July 2021), and the payer types a rule document may name.

use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

/// Enrolls an Indonesian worker of `sector` with a contract over the regulation's
/// start; returns (worker id, contract id).
fn enroll_in(app: &TestApp, document: &str, sector: &str) -> (String, String) {
    let res = app.post(
        "/v1/funds/ID-BPJS-PMI/workers",
        &app.admin(),
        &json!({
            "document_type": "passport", "document_number": document,
            "given_name": "Siti", "family_name": "Rahayu", "date_of_birth": "1991-05-20",
            "sex": "female", "occupation_sector": sector, "dependants": [],
            "contracts": [{"employer": "Lim Household", "destination_country": "SG",
                           "start_date": "2021-08-01", "end_date": "2023-07-31"}]
        }),
    );
    let body = res.expect(201);
    (
        body["id"].as_str().unwrap().to_string(),
        body["contracts"][0]["id"].as_str().unwrap().to_string(),
    )
}

/// Records the IDR 370,000 contribution paid on `paid_on` by `payers`.
fn pay(app: &TestApp, worker: &str, contract: &str, paid_on: &str, payers: Value) -> Response {
    app.post(
        "/v1/funds/ID-BPJS-PMI/contributions",
        &app.admin(),
        &json!({"worker_id": worker, "contract_id": contract, "paid_on": paid_on,
                "amount": "370000.00", "currency": "IDR", "payers": payers}),
    )
}

fn one(payer: &str) -> Value {
    json!([{"type": payer, "amount": "370000.00", "reference": "PAYROLL-0715"}])
}

#[test]
fn an_indonesian_domestic_worker_is_paid_for_by_the_employer_from_july_2021() {
    let app = spawn();
    app.load_fund("ID-BPJS-PMI");
    let (worker, contract) = enroll_in(&app, "ID-D1", "domestic_work");

    let refused = pay(&app, &worker, &contract, "2021-07-20", one("worker"));
    refused.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(refused.error_fields(), vec!["/payers"], "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["code"], "employer_must_pay");
    let shared = json!([{"type": "employer", "amount": "185000.00"},
                        {"type": "agency", "amount": "185000.00"}]);
    let refused = pay(&app, &worker, &contract, "2021-07-20", shared);
    assert_eq!(refused.error_fields(), vec!["/payers"], "{}", refused.text);
    assert_eq!(app.balance("ID-BPJS-PMI", "1000"), "0.00");

    let paid = pay(&app, &worker, &contract, "2021-07-20", one("employer"));
    let c = paid.expect(201);
    assert_eq!(c["rule_version"], "ID-PMI-2021");
    assert_eq!(
        c["payers"],
        json!([{"type": "employer", "amount": "370000.00", "reference": "PAYROLL-0715"}])
    );
    assert_eq!(app.balance("ID-BPJS-PMI", "1000"), "370000.00");
    assert_eq!(app.balance("ID-BPJS-PMI", "4000"), "370000.00");
    app.assert_books_balance("ID-BPJS-PMI");
}

#[test]
fn before_the_regulation_and_outside_its_sectors_the_worker_still_pays() {
    let app = spawn();
    app.load_fund("ID-BPJS-PMI");
    let (domestic, domestic_contract) = enroll_in(&app, "ID-D2", "domestic_work");
    let before = pay(
        &app,
        &domestic,
        &domestic_contract,
        "2021-07-14",
        one("worker"),
    );
    assert_eq!(before.expect(201)["rule_version"], "ID-PMI-2018");

    let (builder, builder_contract) = enroll_in(&app, "ID-C1", "construction");
    let after = pay(
        &app,
        &builder,
        &builder_contract,
        "2023-06-01",
        one("worker"),
    );
    assert_eq!(after.expect(201)["rule_version"], "ID-PMI-2023");
    // Under the 2023 rules too the domestic worker's employer pays.
    let refused = pay(
        &app,
        &domestic,
        &domestic_contract,
        "2023-06-01",
        one("worker"),
    );
    assert_eq!(refused.error_fields(), vec!["/payers"], "{}", refused.text);
    assert_eq!(app.balance("ID-BPJS-PMI", "1000"), "740000.00");
}

#[test]
fn a_batch_item_paid_by_the_wrong_payer_is_refused_alone() {
    let app = spawn();
    app.load_fund("ID-BPJS-PMI");
    let (domestic, contract) = enroll_in(&app, "ID-D3", "domestic_work");
    let item = |payer: &str, reference: &str| {
        json!({"worker_id": domestic, "contract_id": contract, "paid_on": "2022-01-10",
               "amount": "370000.00", "currency": "IDR", "external_ref": reference,
               "payers": one(payer)})
    };
    let res = app.post(
        "/v1/funds/ID-BPJS-PMI/contributions/batch",
        &app.admin(),
        &json!({"items": [item("worker", "B-1"), item("employer", "B-2")]}),
    );
    let body = res.expect(200);
    assert_eq!(body["created"], 1, "{}", res.text);
    let error = &body["items"][0]["problem"]["errors"][0];
    assert_eq!(error["field"], "/items/0/payers", "{}", res.text);
    assert_eq!(error["code"], "employer_must_pay");
    assert!(body["items"][1]["problem"].is_null(), "{}", res.text);
    assert_eq!(app.balance("ID-BPJS-PMI", "1000"), "370000.00");
}

fn kenya_2026() -> Value {
    mwf::demo::fund_file("KE-MWF").unwrap().versions[0].clone()
}

#[test]
fn a_rule_document_names_only_known_payers_and_sectors_the_employer_can_pay() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let mut doc = kenya_2026();
    doc["contribution"]["payers"] = json!(["worker", "landlord"]);
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc);
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(res.error_fields(), vec!["/contribution/payers/1"]);

    let mut doc = kenya_2026();
    doc["contribution"]["payers"] = json!(["worker"]);
    doc["contribution"]["employer_pays_for_sectors"] =
        json!(["domestic_work", "", "domestic_work"]);
    let res = app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc);
    res.assert_problem(422, "VALIDATION_FAILED");
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "/contribution/employer_pays_for_sectors",
            "/contribution/employer_pays_for_sectors/1",
            "/contribution/employer_pays_for_sectors/2",
        ],
        "{}",
        res.text
    );
    assert_eq!(
        app.get("/v1/funds/KE-MWF/rules", &app.admin()).body["items"],
        json!([])
    );

    // Absent or null, the field changes nothing; listed, it is kept.
    let mut doc = kenya_2026();
    doc["contribution"]["employer_pays_for_sectors"] = json!(null);
    app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc)
        .expect(201);
    let mut doc = kenya_2026();
    doc["version"] = json!("KE-MWF-2027");
    doc["effective_from"] = json!("2027-01-01");
    doc["contribution"]["employer_pays_for_sectors"] = json!(["domestic_work"]);
    app.post("/v1/funds/KE-MWF/rules", &app.admin(), &doc)
        .expect(201);
    let read = app.get("/v1/funds/KE-MWF/rules/KE-MWF-2027", &app.admin());
    assert_eq!(
        read.expect(200)["document"]["contribution"]["employer_pays_for_sectors"],
        json!(["domestic_work"])
    );
}

#[test]
fn sri_lanka_charges_no_nbt_after_december_2019_and_vat_by_its_date() {
    let app = spawn();
    app.load_fund("LK-SLBFE");
    let (worker, _) = app.enroll("LK-SLBFE", "L9", ("2021-06-01", "2026-05-31"));
    for (paid_on, version, vat, total) in [
        ("2021-05-20", "LK-SLBFE-2021", "0.08", "16416.00"),
        ("2022-06-01", "LK-SLBFE-2022-06", "0.12", "17024.00"),
        ("2022-09-01", "LK-SLBFE-2022-09", "0.15", "17480.00"),
        ("2024-01-01", "LK-SLBFE-2024", "0.18", "17936.00"),
    ] {
        let quote = app.get(
            &format!("/v1/funds/LK-SLBFE/contributions/quote?worker_id={worker}&paid_on={paid_on}"),
            &app.admin(),
        );
        let q = quote.expect(200);
        assert_eq!(q["rule_version"], version);
        let codes: Vec<&str> = (q["taxes"].as_array().unwrap().iter())
            .map(|t| t["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, vec!["VAT"], "{paid_on}");
        assert_eq!(q["taxes"][0]["rate"], vat);
        assert_eq!(q["total"], total);
    }
}

/// The quote says who may pay this worker: only the employer where the rules
/// put the worker's sector on it, every payer of the version otherwise.
#[test]
fn the_quote_names_the_employer_alone_where_recording_will_accept_no_one_else() {
    let app = spawn();
    app.load_fund("ID-BPJS-PMI");
    let (domestic, _) = enroll_in(&app, "ID-Q1", "domestic_work");
    let (builder, _) = enroll_in(&app, "ID-Q2", "construction");
    let payers = |worker: &str, paid_on: &str| {
        let quote = app.get(
            &format!(
                "/v1/funds/ID-BPJS-PMI/contributions/quote?worker_id={worker}&paid_on={paid_on}"
            ),
            &app.admin(),
        );
        quote.expect(200)["payers"].clone()
    };
    assert_eq!(payers(&domestic, "2021-07-20"), json!(["employer"]));
    assert_eq!(
        payers(&builder, "2021-07-20"),
        json!(["worker", "employer", "agency"])
    );
    // Before the regulation the version names no employer at all.
    assert_eq!(payers(&domestic, "2021-07-14"), json!(["worker", "agency"]));
}
