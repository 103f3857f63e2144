//! Demo data: the six example funds of `demo/funds/` (Philippines, Nepal, Sri
//! Lanka, Bangladesh, Indonesia, Kenya) with their rule versions, compiled into
//! the binary so that `mwf demo` works anywhere.

use serde::Deserialize;
use serde_json::Value;

use crate::audit::{self, AuditRecord};
use crate::auth::{Caller, Role};
use crate::db::{write_transaction, DbConnection};
use crate::error::AppError;
use crate::funds::{self, NewFund};
use crate::money::Currency;
use crate::rules::{self, RuleDocument};

/// The example fund files, by fund code.
pub const FUND_FILES: &[(&str, &str)] = &[
    ("PH-OWWA", include_str!("../demo/funds/PH-OWWA.json")),
    ("NP-FEWF", include_str!("../demo/funds/NP-FEWF.json")),
    ("LK-SLBFE", include_str!("../demo/funds/LK-SLBFE.json")),
    ("BD-WEWB", include_str!("../demo/funds/BD-WEWB.json")),
    (
        "ID-BPJS-PMI",
        include_str!("../demo/funds/ID-BPJS-PMI.json"),
    ),
    ("KE-MWF", include_str!("../demo/funds/KE-MWF.json")),
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
    let caller = Caller::new("mwf-demo", Role::Admin, vec!["*".to_string()]);
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
                    audit::record(
                        conn,
                        &caller,
                        &demo_audit("fund.create", code, format!("fund {code}")),
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
                audit::record(
                    conn,
                    &caller,
                    &demo_audit("rules.publish", code, format!("rules {label}")),
                )?;
                published += 1;
            }
            Ok(format!(
                "{code}: {} ({published} rule version(s) published)",
                file.fund.name
            ))
        })
        .map_err(|e| format!("{code}: {}", e.detail))?;
        report.push(line);
    }
    Ok(report)
}

fn demo_audit(action: &str, fund: &str, target: String) -> AuditRecord {
    AuditRecord {
        action: action.to_string(),
        fund_code: Some(fund.to_string()),
        target: Some(target),
        request_id: "mwf-demo".to_string(),
        outcome: "succeeded".to_string(),
        status: 201,
    }
}
