//! Self-service: a `worker` token (`sub` the worker's id, or a registered
//! dependant's) reads that worker's records and files its holder's own claims;
//! another worker's records are 404 like a record outside the token's funds,
//! and everything else is 403.

use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, TestApp};

const FUND: &str = "KE-MWF";

/// A covered worker of [`FUND`] with a spouse, and a claim an officer filed.
struct Family {
    worker: String,
    contract: String,
    spouse: String,
    contribution: String,
    claim: String,
}

fn family(app: &TestApp, document: &str) -> Family {
    let (worker, contract) = app.enroll(FUND, document, ("2026-02-01", "2028-07-31"));
    let contribution = app
        .contribute(
            FUND,
            &worker,
            Some(&contract),
            "2026-01-05",
            ("3000.00", "KES", "3000.00"),
        )
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let spouse = app.get(&format!("/v1/workers/{worker}"), &app.admin());
    let spouse = spouse.expect(200)["dependants"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let claim = app.post(
        &format!("/v1/workers/{worker}/claims"),
        &app.admin(),
        &distress("worker", None),
    );
    let claim = claim.expect(201)["id"].as_str().unwrap().to_string();
    Family {
        worker,
        contract,
        spouse,
        contribution,
        claim,
    }
}

/// A distress repatriation claimed by `relationship` (a dependant with `dependant_id`).
fn distress(relationship: &str, dependant_id: Option<&str>) -> Value {
    json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": "2026-03-01", "incident_phase": "abroad",
           "filed_on": "2026-03-05", "claimant": {"relationship": relationship, "dependant_id": dependant_id},
           "claimed_amount": "1000.00", "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]})
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Everything the token may read of `own`, answered 200.
fn reads_its_own_records(app: &TestApp, token: &str, own: &Family) {
    let worker = app.get(&format!("/v1/workers/{}", own.worker), token);
    assert_eq!(worker.expect(200)["id"], own.worker.as_str());
    let membership = app.get(
        &format!("/v1/workers/{}/membership?on=2026-06-30", own.worker),
        token,
    );
    assert_eq!(membership.expect(200)["active"], true);
    let contributions = app.get(&format!("/v1/workers/{}/contributions", own.worker), token);
    assert_eq!(ids(contributions.expect(200)), [own.contribution.as_str()]);
    app.get(&format!("/v1/contributions/{}", own.contribution), token)
        .expect(200);
    let claims = app.get(&format!("/v1/workers/{}/claims", own.worker), token);
    assert!(ids(claims.expect(200)).contains(&own.claim));
    let claim = app.get(&format!("/v1/claims/{}", own.claim), token);
    assert_eq!(claim.expect(200)["worker_id"], own.worker.as_str());
}

/// Every record of `other` is 404, as if it did not exist, and so is filing for them.
fn finds_nothing_of(app: &TestApp, token: &str, other: &Family) {
    for path in [
        format!("/v1/workers/{}", other.worker),
        format!("/v1/workers/{}/membership", other.worker),
        format!("/v1/workers/{}/contributions", other.worker),
        format!("/v1/workers/{}/claims", other.worker),
        format!("/v1/contributions/{}", other.contribution),
        format!("/v1/claims/{}", other.claim),
    ] {
        let res = app.get(&path, token);
        res.assert_problem(404, "NOT_FOUND");
        assert!(!res.text.contains(&other.spouse), "{path}: {}", res.text);
    }
    app.post(
        &format!("/v1/workers/{}/claims", other.worker),
        token,
        &distress("worker", None),
    )
    .assert_problem(404, "NOT_FOUND");
}

/// `path` with its parameters filled by `own`'s records.
fn filled(path: &str, own: &Family) -> String {
    let id = if path.starts_with("/v1/claims/") {
        own.claim.as_str()
    } else if path.starts_with("/v1/contributions/") {
        own.contribution.as_str()
    } else if path.starts_with("/v1/workers/") {
        own.worker.as_str()
    } else {
        "01a24cf6-ef49-7603-96a4-c8763bd474f9"
    };
    path.replace("{fund}", FUND)
        .replace("{id}", id)
        .replace("{contract_id}", &own.contract)
        .replace("{code}", "1000")
        .replace("{version}", "KE-MWF-2026")
        .replace("{delivery}", "1")
}

/// The query parameters `operation` requires, so that the request reaches
/// the role check (`?from=2026-01-01&to=2026-12-31`).
fn required_query(operation: &Value, own: &Family) -> String {
    let mut pairs = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] != "query" || parameter["required"] != true {
            continue;
        }
        let name = parameter["name"].as_str().unwrap();
        let value = match name {
            "from" => "2026-01-01".to_string(),
            "to" => "2026-12-31".to_string(),
            "worker_id" => own.worker.clone(),
            _ => parameter["schema"]["enum"][0]
                .as_str()
                .unwrap_or_else(|| panic!("no value for the query parameter {name}"))
                .to_string(),
        };
        pairs.push(format!("{name}={value}"));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// The operations a `worker` token may call.
const OWN_OPERATIONS: [(&str, &str); 8] = [
    ("get", "/v1/workers/{id}"),
    ("get", "/v1/workers/{id}/membership"),
    ("get", "/v1/workers/{id}/contributions"),
    ("get", "/v1/workers/{id}/claims"),
    ("post", "/v1/workers/{id}/claims"),
    ("get", "/v1/contributions/{id}"),
    ("get", "/v1/claims/{id}"),
    // Its own claim's schedule of instalments (404 when it has none, as for others' claims).
    ("get", "/v1/claims/{id}/instalments"),
];

/// Every other operation of the API document is 403 `ROLE_NOT_PERMITTED`,
/// even on the token's own records: lists and reports of the fund, the
/// ledger, exports, the audit log, the event feed, webhooks, and every write.
fn is_refused_everything_else(app: &TestApp, token: &str, own: &Family) -> usize {
    let doc = app.get("/openapi.json", "").body;
    let mut refused = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            if OWN_OPERATIONS.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            let url = filled(path, own) + &required_query(&operations[method], own);
            let res = match method.as_str() {
                "get" => app.get(&url, token),
                "post" => app.post(&url, token, &json!({})),
                "patch" => app.patch(&url, token, &json!({})),
                "delete" => app.delete(&url, token),
                _ => continue,
            };
            assert_eq!(res.status, 403, "{method} {url}: {}", res.text);
            res.assert_problem(403, "ROLE_NOT_PERMITTED");
            refused += 1;
        }
    }
    refused
}

#[test]
fn a_worker_token_reads_its_own_records_files_its_own_claim_and_nothing_else() {
    let app = spawn();
    app.load_fund(FUND);
    let own = family(&app, "KE-SELF-1");
    let other = family(&app, "KE-SELF-2");
    let token = app.token_for(&own.worker, Role::Worker, &[FUND]);

    reads_its_own_records(&app, &token, &own);
    let filed = app.post(
        &format!("/v1/workers/{}/claims", own.worker),
        &token,
        &distress("worker", None),
    );
    let filed = filed.expect(201).clone();
    assert_eq!(filed["worker_id"], own.worker.as_str());
    assert_eq!(filed["claimant_relationship"], "worker");
    assert_eq!(filed["created_by"], own.worker.as_str());
    let claims = app.get(&format!("/v1/workers/{}/claims", own.worker), &token);
    let claims = ids(claims.expect(200));
    assert!(claims.contains(&filed["id"].as_str().unwrap().to_string()));
    assert!(claims.contains(&own.claim));
    // The worker files only as the worker, naming the field that says otherwise.
    let as_spouse = app.post(
        &format!("/v1/workers/{}/claims", own.worker),
        &token,
        &distress("spouse", Some(&own.spouse)),
    );
    as_spouse.assert_problem(403, "ROLE_NOT_PERMITTED");
    assert_eq!(
        as_spouse.error_fields(),
        ["/claimant/relationship", "/claimant/dependant_id"]
    );

    finds_nothing_of(&app, &token, &other);
    // The token's funds still scope the fund: its own worker is not in PH-OWWA.
    let elsewhere = app.token_for(&own.worker, Role::Worker, &["PH-OWWA"]);
    app.get(&format!("/v1/workers/{}", own.worker), &elsewhere)
        .assert_problem(404, "NOT_FOUND");
    app.get(&format!("/v1/claims/{}", own.claim), &elsewhere)
        .assert_problem(404, "NOT_FOUND");

    let refused = is_refused_everything_else(&app, &token, &own);
    assert!(refused > 40, "only {refused} operations were tried");
    // Nothing the refusals tried was written.
    let after = app.get(&format!("/v1/workers/{}/claims", own.worker), &app.admin());
    assert_eq!(ids(after.expect(200)), claims);
    let contributions = app.get(
        &format!("/v1/workers/{}/contributions", own.worker),
        &app.admin(),
    );
    assert_eq!(ids(contributions.expect(200)), [own.contribution.as_str()]);
}

#[test]
fn a_dependant_token_reads_the_family_records_and_files_as_the_dependant() {
    let app = spawn();
    app.load_fund(FUND);
    let own = family(&app, "KE-SELF-1");
    let other = family(&app, "KE-SELF-2");
    let token = app.token_for(&own.spouse, Role::Worker, &[FUND]);

    reads_its_own_records(&app, &token, &own);
    let path = format!("/v1/workers/{}/claims", own.worker);
    // As the worker, or as the spouse without naming herself: refused, naming the field.
    let as_worker = app.post(&path, &token, &distress("worker", None));
    as_worker.assert_problem(403, "ROLE_NOT_PERMITTED");
    assert_eq!(
        as_worker.error_fields(),
        ["/claimant/relationship", "/claimant/dependant_id"]
    );
    let as_someone = app.post(&path, &token, &distress("spouse", Some(&other.spouse)));
    as_someone.assert_problem(403, "ROLE_NOT_PERMITTED");
    assert_eq!(as_someone.error_fields(), ["/claimant/dependant_id"]);
    let as_child = app.post(&path, &token, &distress("child", Some(&own.spouse)));
    assert_eq!(as_child.error_fields(), ["/claimant/relationship"]);
    // As herself.
    let filed = app.post(&path, &token, &distress("spouse", Some(&own.spouse)));
    let filed = filed.expect(201);
    assert_eq!(filed["dependant_id"], own.spouse.as_str());
    assert_eq!(filed["claimant_relationship"], "spouse");

    finds_nothing_of(&app, &token, &other);
    let refused = is_refused_everything_else(&app, &token, &own);
    assert!(refused > 40, "only {refused} operations were tried");
}

#[test]
fn a_worker_token_of_nobody_registered_finds_no_worker() {
    let app = spawn();
    app.load_fund(FUND);
    let own = family(&app, "KE-SELF-1");
    let stranger = app.token_for(
        "01a24cf6-ef49-7603-96a4-c8763bd474f9",
        Role::Worker,
        &[FUND],
    );
    finds_nothing_of(&app, &stranger, &own);
    // The institutional roles still read any worker's records in their funds.
    let auditor = app.token(Role::Auditor, &[FUND]);
    reads_its_own_records(&app, &auditor, &own);
}
