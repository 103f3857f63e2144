//! Claim submissions booked in groups (issue 16): many submissions sent at once
//! are answered exactly as the same submissions sent one at a time, each seeing
//! the claims submitted before it (a duplicate of an open claim, a death already
//! filed for its heirs), refusals refusing only themselves, and a key sent twice
//! booking once.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

const PH_DEATH_DOCS: [&str; 3] = ["DEATH_CERTIFICATE", "PROOF_OF_RELATIONSHIP", "CLAIMANT_ID"];

/// The households of one run: Philippine families (a death benefit shared by
/// heirs: a second filing for the death is refused) and Kenyan workers (a
/// second distress claim for the same incident is assessed a duplicate).
struct People {
    /// (worker, spouse) of each Philippine household.
    owwa: Vec<(String, String)>,
    kenya: Vec<String>,
}

const HOUSEHOLDS: usize = 4;

fn people(app: &TestApp) -> People {
    app.load_fund("PH-OWWA");
    app.load_fund("KE-MWF");
    let owwa = (0..HOUSEHOLDS)
        .map(|i| {
            let res = app.post(
                "/v1/funds/PH-OWWA/workers",
                &app.admin(),
                &json!({
                    "document_type": "passport", "document_number": format!("PH-G{i}"), "given_name": "Lorna",
                    "family_name": "Cruz", "date_of_birth": "1980-01-01", "sex": "female",
                    "dependants": [{"name": "Maria Cruz", "relationship": "spouse", "date_of_birth": "1982-02-02"},
                                   {"name": "Jose Cruz", "relationship": "child", "date_of_birth": "1999-06-01"}],
                    "contracts": [{"employer": "E", "destination_country": "SA", "start_date": "2017-03-15", "end_date": "2019-03-14"}]
                }),
            );
            let w = res.expect(201).clone();
            let worker = w["id"].as_str().unwrap().to_string();
            let contract = w["contracts"][0]["id"].as_str().unwrap();
            app.contribute(
                "PH-OWWA",
                &worker,
                Some(contract),
                "2017-03-01",
                ("25.00", "USD", "25.00"),
            )
            .expect(201);
            let spouse = (w["dependants"].as_array().unwrap().iter())
                .find(|d| d["relationship"] == "spouse")
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
            (worker, spouse)
        })
        .collect();
    let kenya = (0..HOUSEHOLDS)
        .map(|i| {
            let (worker, contract) =
                app.enroll("KE-MWF", &format!("KE-G{i}"), ("2026-02-01", "2028-07-31"));
            app.contribute(
                "KE-MWF",
                &worker,
                Some(&contract),
                "2026-01-05",
                ("3000.00", "KES", "3000.00"),
            )
            .expect(201);
            worker
        })
        .collect();
    People { owwa, kenya }
}

fn owwa_death(spouse: &str) -> Value {
    let documents: Vec<Value> = (PH_DEATH_DOCS.iter())
        .map(|t| json!({"type": t, "reference": format!("REF-{t}")}))
        .collect();
    json!({"benefit": "DEATH_NATURAL", "incident_date": "2018-05-10", "incident_phase": "abroad",
           "filed_on": "2018-06-01", "claimant": {"relationship": "spouse", "dependant_id": spouse},
           "documents": documents})
}

fn distress(incident: &str, filed: &str) -> Value {
    json!({"benefit": "REPATRIATION_DISTRESS", "incident_date": incident, "incident_phase": "abroad",
           "filed_on": filed, "claimant": {"relationship": "worker"}, "claimed_amount": "1000.00",
           "documents": [{"type": "TRAVEL_RECEIPTS", "reference": "T"}]})
}

/// One submission: its key, who it is for (a label the same in every run), the
/// worker, and the body.
struct Submission {
    key: String,
    label: String,
    worker: String,
    body: Value,
}

/// The same list of submissions for any run's people: for each household three
/// identical death filings and three identical distress claims (each sees the
/// ones before it), a distress claim dated after its filing (refused), a
/// distress claim of another incident sent twice under one key; and a claim
/// for a worker that does not exist.
fn submissions(p: &People) -> Vec<Submission> {
    let mut list = Vec::new();
    let mut add = |key: String, label: String, worker: &str, body: Value| {
        list.push(Submission {
            key,
            label,
            worker: worker.to_string(),
            body,
        })
    };
    for i in 0..HOUSEHOLDS {
        let (worker, spouse) = &p.owwa[i];
        for n in 0..3 {
            add(
                format!("death-{i}-{n}"),
                format!("death-{i}"),
                worker,
                owwa_death(spouse),
            );
        }
        for n in 0..3 {
            add(
                format!("distress-{i}-{n}"),
                format!("distress-{i}"),
                &p.kenya[i],
                distress("2026-03-01", "2026-03-05"),
            );
        }
        add(
            format!("late-{i}"),
            format!("late-{i}"),
            &p.kenya[i],
            distress("2026-03-09", "2026-03-05"),
        );
        for _ in 0..2 {
            add(
                format!("twice-{i}"),
                format!("twice-{i}"),
                &p.kenya[i],
                distress("2026-04-01", "2026-04-02"),
            );
        }
    }
    add(
        "stranger".into(),
        "stranger".into(),
        "0193b0c4-0000-7000-8000-000000000000",
        distress("2026-03-01", "2026-03-05"),
    );
    list
}

fn send(app: &TestApp, s: &Submission) -> Response {
    app.post_with_key(
        &format!("/v1/workers/{}/claims", s.worker),
        &app.admin(),
        &s.key,
        &s.body,
    )
}

/// What an answer says, without ids and times: a refusal's status and code, or
/// the claim's status, assessment and riders.
fn gist(r: &Response) -> Value {
    if r.status != 201 {
        return json!({"status": r.status, "code": r.body["code"]});
    }
    let assessment = |a: &Value| json!([a["outcome"], a["payable"], a["reasons"]]);
    let riders: Vec<Value> = (r.body["riders"].as_array().unwrap().iter())
        .map(|x| json!([x["benefit"], x["status"], assessment(&x["assessment"])]))
        .collect();
    json!({"status": 201, "claim": [r.body["benefit"], r.body["status"], assessment(&r.body["assessment"])],
           "riders": riders})
}

/// Each label's answers, sorted (identical submissions may be answered in any
/// order among themselves).
fn by_label(answers: &[(&Submission, Response)]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (s, r) in answers {
        (out.entry(s.label.clone()).or_default()).push(gist(r).to_string());
    }
    for answers in out.values_mut() {
        answers.sort();
    }
    out
}

/// The claims of a fund: (benefit, status, outcome), sorted.
fn claims_of(app: &TestApp, fund: &str) -> Vec<String> {
    let listed = app.get(&format!("/v1/funds/{fund}/claims?limit=500"), &app.admin());
    let mut out: Vec<String> = (listed.expect(200)["items"].as_array().unwrap().iter())
        .map(|c| json!([c["benefit"], c["status"], c["assessment"]["outcome"]]).to_string())
        .collect();
    out.sort();
    out
}

fn refusals_audited(app: &TestApp) -> usize {
    let audit = app.get("/v1/audit-log?limit=500", &app.admin());
    (audit.expect(200)["items"].as_array().unwrap().iter())
        .filter(|r| {
            r["action"] == "claim.submit" && r["outcome"].as_str().unwrap().starts_with("refused:")
        })
        .count()
}

#[test]
fn submissions_sent_at_once_are_answered_as_if_sent_one_at_a_time() {
    // One at a time, in order.
    let alone = spawn();
    let alone_people = people(&alone);
    let alone_list = submissions(&alone_people);
    let alone_answers: Vec<(&Submission, Response)> =
        (alone_list.iter()).map(|s| (s, send(&alone, s))).collect();

    // All at once.
    let app = spawn();
    let p = people(&app);
    let list = submissions(&p);
    let answers: Vec<(&Submission, Response)> = std::thread::scope(|s| {
        let handles: Vec<_> = (list.iter())
            .map(|submission| {
                let app = &app;
                s.spawn(move || (submission, send(app, submission)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    assert_eq!(by_label(&answers), by_label(&alone_answers));
    for fund in ["PH-OWWA", "KE-MWF"] {
        assert_eq!(claims_of(&app, fund), claims_of(&alone, fund), "{fund}");
    }
    assert_eq!(refusals_audited(&app), refusals_audited(&alone));

    // What the answers must be, whatever the order: per household one death
    // claim (the other two filings refused, naming it), one distress claim
    // assessed and two duplicates of it, one refusal of a late incident.
    for i in 0..HOUSEHOLDS {
        let of = |label: String| -> Vec<&Response> {
            (answers.iter())
                .filter(|(s, _)| s.label == label)
                .map(|(_, r)| r)
                .collect()
        };
        let deaths = of(format!("death-{i}"));
        let filed: Vec<&&Response> = deaths.iter().filter(|r| r.status == 201).collect();
        assert_eq!(filed.len(), 1, "one death claim per household");
        for refused in deaths.iter().filter(|r| r.status != 201) {
            let problem = refused.assert_problem(409, "CLAIM_ALREADY_FILED");
            assert_eq!(problem["claim_id"], filed[0].body["id"]);
        }
        let distress = of(format!("distress-{i}"));
        let duplicates = (distress.iter())
            .filter(|r| {
                assert_eq!(r.status, 201, "{}", r.text);
                (r.body["assessment"]["reasons"].as_array().unwrap().iter())
                    .any(|x| x == "DUPLICATE_EVENT")
            })
            .count();
        assert_eq!(duplicates, 2, "the second and third see the first");
        let late = of(format!("late-{i}"));
        assert_eq!(
            late[0].assert_problem(422, "VALIDATION_FAILED")["errors"][0]["field"],
            "/incident_date"
        );
        let twice = of(format!("twice-{i}"));
        assert_eq!(twice[0].status, 201, "{}", twice[0].text);
        assert_eq!(twice[0].text, twice[1].text, "the repeat replays the first");
        let replays = (twice.iter())
            .filter(|r| r.header("idempotent-replayed") == Some("true"))
            .count();
        assert_eq!(replays, 1);
    }
    let stranger = answers.iter().find(|(s, _)| s.label == "stranger").unwrap();
    stranger.1.assert_problem(404, "NOT_FOUND");
    // 4 deaths and their riders, 4 × (3 + 1) distress claims; nothing of the
    // refused ones; 4 × (2 + 1) + 1 refusals audited.
    assert_eq!(claims_of(&app, "KE-MWF").len(), 16);
    assert_eq!(refusals_audited(&app), 13);

    // A retry of a booked submission, later, replays it and books nothing.
    let (booked, original) = (answers.iter())
        .find(|(s, r)| s.label == "death-0" && r.status == 201)
        .unwrap();
    let retried = send(&app, booked);
    assert_eq!(retried.status, 201);
    assert_eq!(retried.text, original.text);
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    assert_eq!(claims_of(&app, "KE-MWF").len(), 16);
    assert_eq!(refusals_audited(&app), 13);
}
