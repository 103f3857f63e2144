//! The `mwf` binary's sub-commands and its refusal of bad settings.

use std::process::{Command, Output};

use diesel::connection::SimpleConnection;

use crate::helpers::{spawn, SECRET};

fn mwf(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mwf"));
    command.args(args);
    for var in [
        "DATABASE_URL",
        "MWF_BIND",
        "MWF_ENV",
        "MWF_JWT_SECRET",
        "MWF_JWT_PUBLIC_KEYS",
        "MWF_JWT_ISSUER",
        "MWF_JWT_AUDIENCE",
        "MWF_DB_POOL_SIZE",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command.output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn bad_settings_are_refused_at_start_naming_the_variable() {
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("MWF_BIND", "localhost")], "MWF_BIND"),
        (&[("MWF_ENV", "staging")], "MWF_ENV"),
        (&[("MWF_JWT_SECRET", "short")], "MWF_JWT_SECRET"),
        (&[("MWF_ENV", "production")], "MWF_JWT_SECRET"),
        (&[("MWF_DB_POOL_SIZE", "0")], "MWF_DB_POOL_SIZE"),
        (
            &[("MWF_JWT_PUBLIC_KEYS", "/no/such/key.pem")],
            "MWF_JWT_PUBLIC_KEYS",
        ),
    ];
    for (env, variable) in cases {
        let out = mwf(&["migrate"], env);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(variable), "{env:?}: {}", stderr(&out));
    }
    let out = mwf(&["migrate"], &[("DATABASE_URL", "mysql://db/mwf")]);
    assert!(stderr(&out).contains("DATABASE_URL"), "{}", stderr(&out));
}

#[test]
fn the_token_command_mints_a_token_the_server_accepts() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    let out = mwf(
        &[
            "token",
            "--role",
            "auditor",
            "--funds",
            "KE-MWF",
            "--subject",
            "amina",
            "--lifetime",
            "1h",
        ],
        &[("MWF_JWT_SECRET", SECRET)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    app.get("/v1/funds/KE-MWF", &token).expect(200);
    app.get("/v1/audit-log", &token).expect(200);
    let refused = mwf(&["token", "--role", "king"], &[("MWF_JWT_SECRET", SECRET)]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--role"));
}

#[test]
fn the_openapi_command_prints_the_generated_document() {
    let out = mwf(&["openapi"], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        mwf::http::openapi_json()
    );
}

#[test]
fn the_verify_command_exits_non_zero_and_names_the_altered_entry() {
    let app = spawn();
    app.create_fund("KE-MWF", "KE", "KES");
    app.create_fund("UG-MWF", "UG", "UGX");
    app.transfer("KE-MWF", "2026-01-05", "1000", "3100", "10.00", "KES")
        .expect(201);
    let id = app
        .transfer("KE-MWF", "2026-01-06", "1000", "3100", "20.00", "KES")
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let env = [
        ("DATABASE_URL", app.database_url.as_str()),
        ("MWF_JWT_SECRET", SECRET),
    ];
    let good = mwf(&["verify"], &env);
    assert!(good.status.success(), "{}", stderr(&good));
    let report = String::from_utf8_lossy(&good.stdout).to_string();
    assert!(
        report.contains("KE-MWF: 2 entries checked")
            && report.contains("UG-MWF: 0 entries checked"),
        "{report}"
    );

    let mut conn = app.connection();
    let tamper = if app.is_postgres() {
        "ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_immutable; UPDATE journal_entries SET memo = 'changed'"
    } else {
        "DROP TRIGGER journal_entries_immutable_update; UPDATE journal_entries SET memo = 'changed'"
    };
    conn.batch_execute(&format!("{tamper} WHERE id = '{id}'"))
        .unwrap();
    let bad = mwf(&["verify", "--fund", "KE-MWF"], &env);
    assert_eq!(bad.status.code(), Some(1));
    let report = String::from_utf8_lossy(&bad.stdout).to_string();
    assert!(report.contains("HASH_MISMATCH entry #2"), "{report}");
    let missing = mwf(&["verify", "--fund", "XX-NONE"], &env);
    assert!(stderr(&missing).contains("no fund XX-NONE"));
}

#[test]
fn the_demo_command_loads_the_six_example_funds_once() {
    let app = spawn();
    let env = [
        ("DATABASE_URL", app.database_url.as_str()),
        ("MWF_JWT_SECRET", SECRET),
    ];
    let first = mwf(&["demo", "--workers", "3"], &env);
    assert!(first.status.success(), "{}", stderr(&first));
    let funds = app.get("/v1/funds", &app.admin());
    let codes: Vec<&str> = funds.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec![
            "PH-OWWA",
            "NP-FEWF",
            "LK-SLBFE",
            "BD-WEWB",
            "ID-BPJS-PMI",
            "KE-MWF"
        ]
    );
    let nepal = app.get("/v1/funds/NP-FEWF/rules", &app.admin());
    assert_eq!(nepal.expect(200)["items"].as_array().unwrap().len(), 3);
    assert!(String::from_utf8_lossy(&first.stdout).contains("NP-FEWF: 3 workers"));
    let again = mwf(&["demo", "--workers", "3"], &env);
    assert!(again.status.success(), "{}", stderr(&again));
    let report = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(
        report.contains(
            "NP-FEWF: Foreign Employment Welfare Fund (Nepal) (0 rule version(s) published)"
        ) && report.contains("NP-FEWF: already held 3 workers"),
        "{report}"
    );
    assert_eq!(
        app.get("/v1/funds/NP-FEWF/rules", &app.admin()).body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The Philippine fund charges USD, so it has USD cash and income accounts.
    assert_eq!(app.account("PH-OWWA", "1000-USD", None)["currency"], "USD");
    let too_many = mwf(&["demo", "--workers", "100001"], &env);
    assert!(!too_many.status.success());
    assert!(
        stderr(&too_many).contains("--workers 100001"),
        "{}",
        stderr(&too_many)
    );
}
