//! Workers: enrollment, duplicates, search, scope, dependants, contracts, batches.

use mwf::auth::Role;
use serde_json::json;

use crate::helpers::spawn;

fn worker(document: &str) -> serde_json::Value {
    json!({"document_type": "passport", "document_number": document, "given_name": "Amina", "family_name": "Otieno",
           "date_of_birth": "1995-06-01", "sex": "female", "occupation_sector": "domestic_work",
           "contracts": [{"employer": "Gulf Homes", "destination_country": "QA", "start_date": "2026-02-01", "end_date": "2028-01-31",
                          "monthly_wage": "1200.00", "wage_currency": "QAR"}]})
}

#[test]
fn the_same_document_enrolled_twice_is_a_409_naming_the_worker() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let first = app.post(
        "/v1/funds/KE-MWF/workers",
        &app.admin(),
        &worker("A1234567"),
    );
    let id = first.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(first.body["contracts"][0]["monthly_wage"], "1200.00");
    // Same document written differently: spaces and case do not make it new.
    let second = app.post(
        "/v1/funds/KE-MWF/workers",
        &app.admin(),
        &worker("a123 4567"),
    );
    let problem = second.assert_problem(409, "WORKER_ALREADY_ENROLLED");
    assert_eq!(problem["worker_id"], id.as_str());
    // Another fund may enroll the same person.
    app.load_fund("NP-FEWF");
    app.post(
        "/v1/funds/NP-FEWF/workers",
        &app.admin(),
        &worker("A1234567"),
    )
    .expect(201);
    let found = app.get(
        "/v1/funds/KE-MWF/workers?document_number=A1234567",
        &app.admin(),
    );
    let items = found.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
}

#[test]
fn racing_enrollments_of_one_document_enroll_it_once() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let statuses: Vec<(u16, serde_json::Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let app = &app;
                s.spawn(move || {
                    let r = app.post("/v1/funds/KE-MWF/workers", &app.admin(), &worker("RACE1"));
                    (r.status, r.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created: Vec<_> = statuses.iter().filter(|(s, _)| *s == 201).collect();
    assert_eq!(created.len(), 1, "{statuses:?}");
    let id = created[0].1["id"].clone();
    for (status, body) in statuses.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409);
        assert_eq!(body["worker_id"], id);
    }
}

#[test]
fn enrollment_input_is_validated_field_by_field() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let res = app.post("/v1/funds/KE-MWF/workers", &app.admin(), &json!({
        "document_type": "Passport!", "document_number": "", "given_name": "A", "family_name": "B",
        "date_of_birth": "2099-01-01", "sex": "female", "email": "nope",
        "dependants": [{"name": "C", "relationship": "worker"}],
        "contracts": [{"employer": "E", "destination_country": "ZZ", "start_date": "2026-02-01", "end_date": "2025-01-01", "monthly_wage": "10.001", "wage_currency": "KES"}]
    }));
    res.assert_problem(422, "VALIDATION_FAILED");
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "/contracts/0/destination_country",
            "/contracts/0/end_date",
            "/contracts/0/monthly_wage",
            "/date_of_birth",
            "/dependants/0/relationship",
            "/document_number",
            "/document_type",
            "/email",
        ]
    );
    let res = app.post("/v1/funds/KE-MWF/workers", &app.admin(), &json!({"document_type": "passport", "document_number": "X1", "given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01", "sex": "robot"}));
    assert_eq!(res.error_fields(), vec!["/sex"]);
}

#[test]
fn workers_are_visible_only_within_the_token_funds() {
    let app = spawn();
    app.load_fund("KE-MWF");
    app.load_fund("NP-FEWF");
    let kenya = app.token(Role::Ministry, &["KE-MWF"]);
    let created = app.post("/v1/funds/KE-MWF/workers", &kenya, &worker("K77"));
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    app.post("/v1/funds/NP-FEWF/workers", &kenya, &worker("K77"))
        .assert_problem(404, "NOT_FOUND");
    let nepal = app.token(Role::Ministry, &["NP-FEWF"]);
    app.get(&format!("/v1/workers/{id}"), &nepal)
        .assert_problem(404, "NOT_FOUND");
    app.get(&format!("/v1/workers/{id}/membership"), &nepal)
        .assert_problem(404, "NOT_FOUND");
    app.post(
        &format!("/v1/workers/{id}/dependants"),
        &nepal,
        &json!({"name": "X", "relationship": "child"}),
    )
    .assert_problem(404, "NOT_FOUND");
    app.get(&format!("/v1/workers/{id}"), &kenya).expect(200);
    let auditor = app.token(Role::Auditor, &["*"]);
    app.post("/v1/funds/KE-MWF/workers", &auditor, &worker("K78"))
        .assert_problem(403, "ROLE_NOT_PERMITTED");
    let approver = app.token(Role::Approver, &["*"]);
    app.post("/v1/funds/KE-MWF/workers", &approver, &worker("K78"))
        .assert_problem(403, "ROLE_NOT_PERMITTED");
}

#[test]
fn dependants_and_contracts_are_added_and_contract_events_recorded() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let (id, contract) = app.enroll("KE-MWF", "D1", ("2026-02-01", "2028-01-31"));
    let child = app.post(
        &format!("/v1/workers/{id}/dependants"),
        &app.admin(),
        &json!({"name": "Baraka", "relationship": "child", "date_of_birth": "2015-03-03"}),
    );
    assert_eq!(child.expect(201)["relationship"], "child");
    let second = app.post(&format!("/v1/workers/{id}/contracts"), &app.admin(), &json!({"employer": "B", "destination_country": "AE", "start_date": "2028-03-01", "end_date": "2029-02-28"}));
    second.expect(201);
    let path = format!("/v1/workers/{id}/contracts/{contract}");
    app.patch(&path, &app.admin(), &json!({"departed_on": "2026-02-02"}))
        .expect(200);
    let bad = app.patch(&path, &app.admin(), &json!({"terminated_on": "2026-01-15"}));
    assert_eq!(bad.error_fields(), vec!["/terminated_on"]);
    let bad = app.patch(&path, &app.admin(), &json!({"returned_on": "2026-01-01"}));
    assert_eq!(bad.error_fields(), vec!["/returned_on"]);
    app.patch(&path, &app.admin(), &json!({}))
        .assert_problem(422, "VALIDATION_FAILED");
    app.patch(
        &format!("/v1/workers/{id}/contracts/nope"),
        &app.admin(),
        &json!({"departed_on": "2026-02-02"}),
    )
    .assert_problem(404, "NOT_FOUND");
    let worker = app.get(&format!("/v1/workers/{id}"), &app.admin());
    let w = worker.expect(200);
    assert_eq!(w["dependants"].as_array().unwrap().len(), 2);
    assert_eq!(w["contracts"].as_array().unwrap().len(), 2);
    assert_eq!(w["contracts"][0]["departed_on"], "2026-02-02");
}

#[test]
fn a_batch_enrolls_the_good_items_and_reports_each_bad_one() {
    let app = spawn();
    app.load_fund("KE-MWF");
    app.post("/v1/funds/KE-MWF/workers", &app.admin(), &worker("EXISTS"))
        .expect(201);
    let mut wrong_type = worker("B3");
    wrong_type["date_of_birth"] = json!(19950601);
    let items = json!([
        worker("B1"),
        worker("EXISTS"),
        worker("B2"),
        wrong_type,
        json!({"document_type": "passport"}),
        worker("B1")
    ]);
    let res = app.post(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &json!({"items": items}),
    );
    let body = res.expect(200);
    assert_eq!(
        (
            body["received"].as_u64(),
            body["created"].as_u64(),
            body["failed"].as_u64()
        ),
        (Some(6), Some(2), Some(4))
    );
    let statuses: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec!["created", "failed", "created", "failed", "failed", "failed"]
    );
    assert_eq!(
        body["items"][1]["problem"]["code"],
        "WORKER_ALREADY_ENROLLED"
    );
    assert_eq!(
        body["items"][3]["problem"]["errors"][0]["field"],
        "/items/3/date_of_birth"
    );
    assert_eq!(body["items"][4]["problem"]["code"], "VALIDATION_FAILED");
    assert_eq!(
        body["items"][5]["problem"]["worker_id"],
        body["items"][0]["worker_id"]
    );
    let all = app.get("/v1/funds/KE-MWF/workers", &app.admin());
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    let events = app.get("/v1/events", &app.admin());
    let enrolled = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "worker.enrolled")
        .count();
    assert_eq!(enrolled, 3);
    let too_many = json!({"items": vec![worker("X"); 10_001]});
    app.post("/v1/funds/KE-MWF/workers/batch", &app.admin(), &too_many)
        .assert_problem(400, "LIMIT_EXCEEDED");
    app.post(
        "/v1/funds/KE-MWF/workers/batch",
        &app.admin(),
        &json!({"items": []}),
    )
    .assert_problem(400, "LIMIT_EXCEEDED");
}

#[test]
fn paying_again_inside_the_grace_never_shortens_membership() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let kenya = mwf::demo::fund_file("KE-MWF").unwrap().versions[0].clone();
    // 12 months and 90 days of grace, then from December 2020 two months and none.
    let mut generous = kenya.clone();
    generous["version"] = json!("KE-2020");
    generous["effective_from"] = json!("2020-01-01");
    generous["membership"] = json!({"validity": "fixed_months", "months": 12, "grace_days": 90});
    let mut strict = kenya;
    strict["version"] = json!("KE-2020B");
    strict["effective_from"] = json!("2020-12-01");
    strict["membership"] = json!({"validity": "fixed_months", "months": 2, "grace_days": 0});
    app.post("/v1/funds/KE-MWF/rules", &app.admin(), &generous)
        .expect(201);
    let (worker, contract) = app.enroll("KE-MWF", "K1", ("2019-12-01", "2021-11-30"));
    let pay = |paid_on: &str| {
        app.contribute(
            "KE-MWF",
            &worker,
            Some(&contract),
            paid_on,
            ("2000.00", "KES", "2000.00"),
        )
        .expect(201)
        .clone()
    };
    // Covered 2020-01-01..2020-12-31, active through 2021-03-31.
    pay("2020-01-01");
    app.post("/v1/funds/KE-MWF/rules", &app.admin(), &strict)
        .expect(201);
    // Covered 2020-12-01..2021-01-31 under rules without grace.
    let second = pay("2020-12-01");
    assert_eq!(
        second["coverage"],
        json!({"start": "2020-12-01", "end": "2021-01-31"})
    );
    let membership = |on: &str| {
        app.get(
            &format!("/v1/workers/{worker}/membership?on={on}"),
            &app.admin(),
        )
        .expect(200)
        .clone()
    };
    let m = membership("2021-01-20");
    assert_eq!(m["active"], true);
    assert_eq!(m["active_until"], "2021-03-31", "{m}");
    assert_eq!(
        m["merged"],
        json!([{"start": "2020-01-01", "end": "2021-01-31", "grace_days": 59, "active_until": "2021-03-31"}])
    );
    assert_eq!(membership("2021-02-15")["active_until"], "2021-03-31");
    assert_eq!(membership("2021-04-01")["active"], false);
    // A payment inside the first period's grace joins its active span.
    pay("2021-03-15");
    let m = membership("2021-01-20");
    assert_eq!(m["active_until"], "2021-05-14", "{m}");
    assert_eq!(m["merged"].as_array().unwrap().len(), 1, "{m}");
    assert_eq!(membership("2021-04-01")["active_until"], "2021-05-14");
    assert_eq!(membership("2021-05-15")["active"], false);
}

/// A worker to enroll with these names (and one contract and one dependant,
/// so that a page's details are checked too).
fn named(document: &str, given: &str, family: &str) -> serde_json::Value {
    let mut w = worker(document);
    w["given_name"] = json!(given);
    w["family_name"] = json!(family);
    w["dependants"] = json!([{"name": format!("Child of {given}"), "relationship": "child"}]);
    w
}

/// The (given, family) names of a page of workers, in order.
fn names(page: &serde_json::Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["given_name"].as_str().unwrap().to_string(),
                w["family_name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(given: &str, family: &str) -> (String, String) {
    (given.to_string(), family.to_string())
}

#[test]
fn workers_are_found_by_a_prefix_of_either_name_page_by_page_within_their_fund() {
    let app = spawn();
    app.load_fund("KE-MWF");
    app.load_fund("NP-FEWF");
    let admin = app.admin();
    // Enrolled one at a time and in a batch: both keep the search keys.
    for (document, given, family) in [
        ("N1", "Grace", "Wanjiru"),
        ("N2", "José", "Álvarez"),
        ("N3", "Mary", "Martínez"),
    ] {
        app.post(
            "/v1/funds/KE-MWF/workers",
            &admin,
            &named(document, given, family),
        )
        .expect(201);
    }
    let batch = json!({"items": [
        named("N4", "Peter", "Wanjala"),
        named("N5", "Wanjiku", "Kamau"),
        named("N6", "Maria", "Mwangi"),
        named("N7", "Amina", "Otieno"),
        named("N8", "Brian", "Otieno"),
        named("N9", "Cynthia", "Otieno"),
        named("N10", "Dela  Rosa", "Dela Cruz"),
    ]});
    let res = app.post("/v1/funds/KE-MWF/workers/batch", &admin, &batch);
    assert_eq!(res.expect(200)["created"], 7, "{}", res.text);
    app.post(
        "/v1/funds/NP-FEWF/workers",
        &admin,
        &named("N1", "Wanda", "Wang"),
    )
    .expect(201);
    let search = |fund: &str, query: &str| {
        let res = app.get(&format!("/v1/funds/{fund}/workers?{query}"), &admin);
        res.expect(200);
        res
    };

    // Family or given name; ordered by the name that matched, then enrollment.
    let wan = search("KE-MWF", "name=wan");
    assert_eq!(
        names(&wan.body),
        vec![
            pair("Peter", "Wanjala"),
            pair("Wanjiku", "Kamau"),
            pair("Grace", "Wanjiru")
        ]
    );
    assert_eq!(
        wan.body["items"][0]["dependants"][0]["name"],
        "Child of Peter"
    );
    assert_eq!(
        wan.body["items"][0]["contracts"][0]["destination_country"],
        "QA"
    );
    // Case does not matter, surrounding and repeated spaces neither.
    for query in ["name=WAN", "name=%20wAn%20", "name=WaNj"] {
        assert_eq!(
            names(&search("KE-MWF", query).body),
            names(&wan.body),
            "{query}"
        );
    }
    assert_eq!(
        names(&search("KE-MWF", "name=dela%20%20cr").body),
        vec![pair("Dela  Rosa", "Dela Cruz")]
    );
    assert_eq!(
        names(&search("KE-MWF", "name=dela%20r").body),
        vec![pair("Dela  Rosa", "Dela Cruz")]
    );
    // A worker both of whose names match is listed once, under the family name.
    assert_eq!(
        names(&search("KE-MWF", "name=ma").body),
        vec![pair("Maria", "Mwangi"), pair("Mary", "Martínez")]
    );
    // Accents are compared as written; their case folds like any letter's.
    let alvarez = vec![pair("José", "Álvarez")];
    assert_eq!(names(&search("KE-MWF", "name=%C3%A1lv").body), alvarez);
    assert_eq!(names(&search("KE-MWF", "name=%C3%81LV").body), alvarez);
    assert_eq!(names(&search("KE-MWF", "name=jos%C3%A9").body), alvarez);
    assert!(names(&search("KE-MWF", "name=alv").body).is_empty());
    assert!(names(&search("KE-MWF", "name=zz").body).is_empty());

    // Page by page, one worker a page: every match once, in order, then no `next`.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(next) => format!("name=ot&limit=1&after={next}"),
            None => "name=ot&limit=1".to_string(),
        };
        let page = search("KE-MWF", &query);
        seen.extend(names(&page.body));
        match page.body["next"].as_str() {
            Some(next) => {
                assert!(page.header("link").is_some_and(|l| l.contains("name=ot")));
                after = Some(next.to_string());
            }
            None => break,
        }
        assert!(seen.len() <= 3, "{seen:?}");
    }
    assert_eq!(
        seen,
        vec![
            pair("Amina", "Otieno"),
            pair("Brian", "Otieno"),
            pair("Cynthia", "Otieno")
        ]
    );
    let first = search("KE-MWF", "name=wan&limit=2");
    assert_eq!(names(&first.body).len(), 2);
    let next = first.body["next"].as_str().unwrap().to_string();
    assert_eq!(
        names(&search("KE-MWF", &format!("name=wan&limit=2&after={next}")).body),
        vec![pair("Grace", "Wanjiru")]
    );

    // Another fund's workers are not found, nor its cursors taken.
    assert_eq!(
        names(&search("NP-FEWF", "name=wan").body),
        vec![pair("Wanda", "Wang")]
    );
    let res = app.get(
        &format!("/v1/funds/NP-FEWF/workers?name=wan&after={next}"),
        &admin,
    );
    res.assert_problem(400, "INVALID_QUERY");
    assert_eq!(res.body["errors"][0]["field"], "after");
    assert_eq!(res.body["errors"][0]["code"], "invalid_cursor");
    let kenya = app.token(Role::Ministry, &["KE-MWF"]);
    app.get("/v1/funds/NP-FEWF/workers?name=wan", &kenya)
        .assert_problem(404, "NOT_FOUND");
}

#[test]
fn a_name_search_refuses_bad_input_naming_the_field() {
    let app = spawn();
    app.load_fund("KE-MWF");
    let admin = app.admin();
    let (id, _) = app.enroll("KE-MWF", "S1", ("2026-02-01", "2027-01-31"));
    let long = "a".repeat(201);
    for (query, field, code) in [
        ("name=a".to_string(), "name", "invalid_length"),
        ("name=%20a%20%20".to_string(), "name", "invalid_length"),
        ("name=".to_string(), "name", "invalid_length"),
        (format!("name={long}"), "name", "invalid_length"),
        ("name=sa&document_number=S1".to_string(), "name", "conflict"),
        (
            "name=sa&after=nobody".to_string(),
            "after",
            "invalid_cursor",
        ),
        // A worker of the fund whom this prefix does not find is no cursor of it.
        (format!("name=zz&after={id}"), "after", "invalid_cursor"),
    ] {
        let res = app.get(&format!("/v1/funds/KE-MWF/workers?{query}"), &admin);
        res.assert_problem(400, "INVALID_QUERY");
        assert_eq!(
            res.body["errors"][0]["field"], field,
            "{query}: {}",
            res.text
        );
        assert_eq!(res.body["errors"][0]["code"], code, "{query}: {}", res.text);
    }
    let res = app.get(&format!("/v1/funds/KE-MWF/workers?name={long}"), &admin);
    assert_eq!(res.body["errors"][0]["limit"], 200);
    // 200 characters is a prefix still (nothing found), and the cursor of the
    // worker found is one.
    let res = app.get(
        &format!("/v1/funds/KE-MWF/workers?name={}", "a".repeat(200)),
        &admin,
    );
    assert_eq!(res.expect(200)["items"], json!([]));
    let res = app.get(
        &format!("/v1/funds/KE-MWF/workers?name=sa&after={id}"),
        &admin,
    );
    assert_eq!(res.expect(200)["items"], json!([]));
    let res = app.get("/v1/funds/KE-MWF/workers?name=SANT", &admin);
    assert_eq!(res.expect(200)["items"][0]["id"], id.as_str());
}

#[test]
fn name_keys_left_by_an_older_version_are_recomputed_after_migrating() {
    use diesel::connection::SimpleConnection;
    let app = spawn();
    app.load_fund("KE-MWF");
    let admin = app.admin();
    app.post(
        "/v1/funds/KE-MWF/workers",
        &admin,
        &named("U1", "Émile", "Öztürk"),
    )
    .expect(201);
    // What the migration's SQL lower() may leave outside ASCII, and its marker.
    let mut conn = app.connection();
    conn.batch_execute(
        "UPDATE workers SET family_key = 'Öztürk', given_key = 'Émile';
         INSERT INTO summary_backfills (name) VALUES ('worker_name_keys');",
    )
    .unwrap();
    let found = |query: &str| {
        names(
            app.get(&format!("/v1/funds/KE-MWF/workers?{query}"), &admin)
                .expect(200),
        )
    };
    assert!(found("name=%C3%B6zt").is_empty());
    mwf::workers::backfill_name_keys(&mut conn).unwrap();
    assert_eq!(found("name=%C3%96ZT"), vec![pair("Émile", "Öztürk")]);
    assert_eq!(found("name=%C3%A9mi"), vec![pair("Émile", "Öztürk")]);
    // Once: the marker is gone.
    conn.batch_execute("UPDATE workers SET given_key = 'x'")
        .unwrap();
    mwf::workers::backfill_name_keys(&mut conn).unwrap();
    assert!(found("name=%C3%A9mi").is_empty());
}
