//! The OpenAPI document is the contract: for every operation with a JSON body,
//! the body's example (taken from the served document) is accepted; leaving
//! out a property the document requires is refused naming that property;
//! leaving out a property it does not require is accepted; and `null` is
//! accepted where the document says a property is nullable, refused by name
//! where it does not. Properties are checked at the top level and two levels
//! down (nested objects and the last item of arrays: a rule document's last
//! tier is the open-ended one). Each accepted request gets a fresh scene (its
//! own fund, worker, claim …), so that no earlier success turns it into a
//! duplicate; every answer is checked against the document too.

use std::collections::BTreeMap;

use mwf::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn, Response, TestApp};

mod conform;

/// One operation with a JSON body, as the document describes it.
struct Operation {
    id: String,
    method: String,
    example: Value,
    schema: Value,
    responses: Value,
}

/// The operations of `doc` that take a JSON body, with the body's example and
/// its schema (references resolved at the top).
fn operations(doc: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for (method, op) in item.as_object().unwrap() {
            let Some(content) = op["requestBody"]["content"].get("application/json") else {
                continue;
            };
            let schema = resolve(doc, &content["schema"]).clone();
            let example = content
                .get("example")
                .or_else(|| schema.get("example"))
                .cloned();
            let id = op["operationId"].as_str().unwrap().to_string();
            let example =
                example.unwrap_or_else(|| panic!("{id}: the request body has no example"));
            found.push(Operation {
                id,
                method: method.clone(),
                example,
                schema,
                responses: op["responses"].clone(),
            });
        }
    }
    found
}

/// `schema` with a top-level `$ref` followed (once per level).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(doc, doc.pointer(r.trim_start_matches('#')).unwrap()),
        None => schema,
    }
}

/// The object schema a property holds, if it holds one (directly, nullable,
/// or as array items), with whether the property holds an array.
fn object_schema<'a>(doc: &'a Value, property: &'a Value) -> Option<(&'a Value, bool)> {
    let property = resolve(doc, property);
    if let Some(variants) = property["oneOf"].as_array() {
        let not_null: Vec<&Value> = variants.iter().filter(|v| v["type"] != "null").collect();
        return match not_null[..] {
            [one] => object_schema(doc, one),
            _ => None,
        };
    }
    if property["type"] == "array" {
        let items = resolve(doc, &property["items"]);
        return items["properties"].is_object().then_some((items, true));
    }
    property["properties"]
        .is_object()
        .then_some((property, false))
}

fn is_nullable(doc: &Value, property: &Value) -> bool {
    let nullable_type = |s: &Value| {
        s["type"] == "null"
            || s["type"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("null")))
    };
    nullable_type(property)
        || property["oneOf"]
            .as_array()
            .is_some_and(|vs| vs.iter().any(|v| nullable_type(resolve(doc, v))))
}

/// A property of the example to leave out or set to null: where it is (a
/// JSON pointer into the body), whether the document requires it, and
/// whether it may be null.
struct Property {
    pointer: String,
    required: bool,
    nullable: bool,
}

/// How deep properties are checked: the top level and two levels down (a
/// rule document's `contribution/tiers/0/max_contract_months`, a batch item's
/// contract).
const DEPTH: usize = 3;

/// The example's properties down to [`DEPTH`], as the document describes them.
fn properties(doc: &Value, schema: &Value, example: &Value) -> Vec<Property> {
    let mut found = Vec::new();
    collect_properties(doc, schema, example, "", DEPTH, &mut found);
    found
}

fn collect_properties(
    doc: &Value,
    schema: &Value,
    example: &Value,
    at: &str,
    depth: usize,
    found: &mut Vec<Property>,
) {
    let Some(present) = example.as_object() else {
        return;
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let documented = schema["properties"].as_object().unwrap();
    for name in &required {
        assert!(
            present.contains_key(*name),
            "{at}/{name}: the example lacks a required property"
        );
    }
    for (name, value) in present {
        let property = documented
            .get(name)
            .unwrap_or_else(|| panic!("{at}/{name}: the example has an undocumented property"));
        let pointer = format!("{at}/{name}");
        found.push(Property {
            pointer: pointer.clone(),
            required: required.contains(&name.as_str()),
            nullable: is_nullable(doc, property),
        });
        if depth > 1 {
            match object_schema(doc, property) {
                Some((nested, true)) => {
                    let items = value.as_array().unwrap();
                    if let Some(last) = items.last() {
                        let at = format!("{pointer}/{}", items.len() - 1);
                        collect_properties(doc, nested, last, &at, depth - 1, found);
                    }
                }
                Some((nested, false)) => {
                    collect_properties(doc, nested, value, &pointer, depth - 1, found)
                }
                None => {}
            }
        }
    }
}

/// The example with the property at `pointer` removed.
fn without(example: &Value, pointer: &str) -> Value {
    let mut body = example.clone();
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap()
        .remove(name);
    body
}

/// The example with the property at `pointer` set to null.
fn nulled(example: &Value, pointer: &str) -> Value {
    let mut body = example.clone();
    *body.pointer_mut(pointer).unwrap() = Value::Null;
    body
}

/// What a scene made for one request: the path with its parameters, and the
/// values (by property name) that the example's placeholders stand for.
struct Scene {
    path: String,
    values: BTreeMap<&'static str, String>,
}

/// Builds scenes on one server: every scene has a fund of its own.
struct Stage<'a> {
    app: &'a TestApp,
    doc: &'a Value,
    admin: String,
    /// A second person, for the four-eyes approval.
    second: String,
    funds: usize,
}

impl<'a> Stage<'a> {
    fn new(app: &'a TestApp, doc: &'a Value) -> Self {
        Stage {
            app,
            doc,
            admin: app.admin(),
            second: app.token_for("second-approver", Role::Admin, &["*"]),
            funds: 0,
        }
    }

    fn example(&self, schema: &str) -> Value {
        self.doc["components"]["schemas"][schema]["example"].clone()
    }

    fn post(&self, path: &str, body: &Value, status: u16) -> Value {
        let res = self.app.post(path, &self.admin, body);
        assert_eq!(res.status, status, "POST {path}: {}", res.text);
        res.body
    }

    /// A new fund in the example's currency, with the example rules when `rules`.
    fn fund(&mut self, rules: bool) -> String {
        self.funds += 1;
        let code = format!("KE-C{}", self.funds);
        let mut fund = self.example("CreateFund");
        fund["code"] = json!(code);
        self.post("/v1/funds", &fund, 201);
        if rules {
            self.post(
                &format!("/v1/funds/{code}/rules"),
                &self.example("RuleDocument"),
                201,
            );
        }
        code
    }

    /// The example worker enrolled in `fund` (with its contract when
    /// `contract`): (worker, contract, spouse) ids.
    fn worker(&self, fund: &str, contract: bool) -> (String, Option<String>, String) {
        let mut worker = self.example("EnrollWorker");
        if !contract {
            worker["contracts"] = json!([]);
        }
        let body = self.post(&format!("/v1/funds/{fund}/workers"), &worker, 201);
        let id = |v: &Value| v.as_str().unwrap().to_string();
        (
            id(&body["id"]),
            body["contracts"][0].get("id").map(id),
            id(&body["dependants"][0]["id"]),
        )
    }

    /// The example contribution for the worker's contract; its id.
    fn contribution(&self, fund: &str, worker: &str, contract: &str) -> String {
        let mut body = self.example("ContributionRequest");
        body["worker_id"] = json!(worker);
        body["contract_id"] = json!(contract);
        let recorded = self.post(&format!("/v1/funds/{fund}/contributions"), &body, 201);
        recorded["id"].as_str().unwrap().to_string()
    }

    /// The example claim of a covered worker; its id.
    fn claim(&mut self) -> String {
        let fund = self.fund(true);
        let (worker, contract, spouse) = self.worker(&fund, true);
        self.contribution(&fund, &worker, &contract.unwrap());
        let mut claim = self.example("ClaimRequest");
        claim["claimant"]["dependant_id"] = json!(spouse);
        let submitted = self.post(&format!("/v1/workers/{worker}/claims"), &claim, 201);
        submitted["id"].as_str().unwrap().to_string()
    }

    /// A claim of a benefit whose heirs share it, naming the spouse alone, of a
    /// worker with a grown child who may join it: (claim, child) ids.
    fn shared_claim(&mut self) -> (String, String) {
        self.funds += 1;
        let code = format!("KE-C{}", self.funds);
        let mut fund = self.example("CreateFund");
        fund["code"] = json!(code);
        self.post("/v1/funds", &fund, 201);
        let mut rules = self.example("RuleDocument");
        rules["benefits"][0]["beneficiaries"] =
            json!({"classes": [["spouse", "child"]], "shares": "equal"});
        self.post(&format!("/v1/funds/{code}/rules"), &rules, 201);
        let mut worker = self.example("EnrollWorker");
        worker["dependants"].as_array_mut().unwrap().push(
            json!({"name": "Amina Wanjiru", "relationship": "child", "date_of_birth": "2001-04-02"}),
        );
        let body = self.post(&format!("/v1/funds/{code}/workers"), &worker, 201);
        let id = |v: &Value| v.as_str().unwrap().to_string();
        let (worker, spouse, child) = (
            id(&body["id"]),
            id(&body["dependants"][0]["id"]),
            id(&body["dependants"][1]["id"]),
        );
        self.contribution(&code, &worker, &id(&body["contracts"][0]["id"]));
        let mut claim = self.example("ClaimRequest");
        claim["claimant"]["dependant_id"] = json!(spouse);
        claim["beneficiaries"] = json!([{"dependant_id": spouse}]);
        let submitted = self.post(&format!("/v1/workers/{worker}/claims"), &claim, 201);
        (id(&submitted["id"]), child)
    }

    /// A claim decided as `decision` says.
    fn decided_claim(&mut self, decision: Value) -> String {
        let claim = self.claim();
        self.post(&format!("/v1/claims/{claim}/decision"), &decision, 200);
        claim
    }

    /// A contribution for a contract that starts next month (its departure
    /// may still be cancelled): (fund, contribution id).
    fn refundable(&mut self) -> (String, String) {
        let fund = self.fund(true);
        let mut worker = self.example("EnrollWorker");
        let start = chrono::Utc::now().date_naive() + chrono::Days::new(30);
        worker["contracts"][0]["start_date"] = json!(start.to_string());
        worker["contracts"][0]["end_date"] = json!((start + chrono::Days::new(364)).to_string());
        let body = self.post(&format!("/v1/funds/{fund}/workers"), &worker, 201);
        let id = |v: &Value| v.as_str().unwrap().to_string();
        let contribution =
            self.contribution(&fund, &id(&body["id"]), &id(&body["contracts"][0]["id"]));
        (fund, contribution)
    }

    /// A refund requested for a [`Stage::refundable`] contribution: (fund, refund id).
    fn refund(&mut self) -> (String, String) {
        let (fund, contribution) = self.refundable();
        let refunds = format!("/v1/contributions/{contribution}/refunds");
        let refund = self.post(&refunds, &self.example("RefundRequest"), 201);
        (fund, refund["id"].as_str().unwrap().to_string())
    }

    /// A worker with two years of contributions in a fund whose rules (the
    /// example's, in force since 2020) grant a rebate after one: the worker's id.
    fn rebate_member(&mut self) -> String {
        self.funds += 1;
        let fund = format!("KE-C{}", self.funds);
        let mut create = self.example("CreateFund");
        create["code"] = json!(fund);
        self.post("/v1/funds", &create, 201);
        let mut rules = self.example("RuleDocument");
        rules["effective_from"] = json!("2020-01-01");
        rules["rebate"] = json!({"code": "LONG_MEMBERSHIP", "min_years": 1, "amount": "5000.00"});
        self.post(&format!("/v1/funds/{fund}/rules"), &rules, 201);
        let (worker, contract, _) = self.worker(&fund, true);
        let mut body = self.example("ContributionRequest");
        body["worker_id"] = json!(worker);
        body["contract_id"] = json!(contract);
        body["paid_on"] = json!("2024-01-01");
        self.post(&format!("/v1/funds/{fund}/contributions"), &body, 201);
        worker
    }

    /// The example party (an agency) registered in `fund`; its id.
    fn party(&self, fund: &str) -> String {
        let body = self.post(
            &format!("/v1/funds/{fund}/parties"),
            &self.example("PartyRequest"),
            201,
        );
        body["id"].as_str().unwrap().to_string()
    }

    /// The example claim, approved by a second person: (fund, claim id).
    fn approved_claim(&mut self) -> (String, String) {
        let claim = self.decided_claim(self.example("DecisionRequest"));
        let approved = self.app.post(
            &format!("/v1/claims/{claim}/approvals"),
            &self.second,
            &json!({}),
        );
        assert_eq!(approved.body["status"], "approved", "{}", approved.text);
        (approved.body["fund"].as_str().unwrap().to_string(), claim)
    }

    /// The example recovery of an approved claim from the example party; its id.
    fn recovery(&mut self) -> String {
        let (fund, claim) = self.approved_claim();
        let mut body = self.example("RecoveryRequest");
        body["party_id"] = json!(self.party(&fund));
        let opened = self.post(&format!("/v1/claims/{claim}/recovery"), &body, 201);
        opened["id"].as_str().unwrap().to_string()
    }

    /// The example party's transfer, received on the day the example
    /// contribution is paid; the receipt's id.
    fn receipt(&self, fund: &str) -> String {
        let mut body = self.example("ReceiptRequest");
        body["payer"]["party_id"] = json!(self.party(fund));
        body["received_on"] = self.example("ContributionRequest")["paid_on"].clone();
        let recorded = self.post(&format!("/v1/funds/{fund}/receipts"), &body, 201);
        recorded["id"].as_str().unwrap().to_string()
    }

    /// A fresh scene for operation `id`.
    fn scene(&mut self, id: &str) -> Scene {
        let mut values = BTreeMap::new();
        let today = chrono::Utc::now().date_naive().to_string();
        let path = match id {
            "create_fund" => "/v1/funds".to_string(),
            "create_webhook" => format!("/v1/funds/{}/webhooks", self.fund(false)),
            "create_account" => format!("/v1/funds/{}/accounts", self.fund(false)),
            "post_journal_entry" => format!("/v1/funds/{}/journal-entries", self.fund(false)),
            "reverse_journal_entry" => {
                let fund = self.fund(false);
                let entries = format!("/v1/funds/{fund}/journal-entries");
                let entry = self.post(&entries, &self.example("PostJournalEntry"), 201);
                format!("{entries}/{}/reversal", entry["id"].as_str().unwrap())
            }
            "close_period" => format!("/v1/funds/{}/periods/close", self.fund(false)),
            "publish_rules" => format!("/v1/funds/{}/rules", self.fund(false)),
            "enroll_worker" => format!("/v1/funds/{}/workers", self.fund(false)),
            "enroll_workers_batch" => format!("/v1/funds/{}/workers/batch", self.fund(false)),
            "add_dependant" | "add_contract" => {
                let fund = self.fund(false);
                let (worker, _, _) = self.worker(&fund, false);
                let what = if id == "add_dependant" {
                    "dependants"
                } else {
                    "contracts"
                };
                format!("/v1/workers/{worker}/{what}")
            }
            "update_contract" => {
                let fund = self.fund(false);
                let (worker, contract, _) = self.worker(&fund, true);
                format!("/v1/workers/{worker}/contracts/{}", contract.unwrap())
            }
            "record_contribution" | "record_contributions_batch" => {
                let fund = self.fund(true);
                let (worker, contract, _) = self.worker(&fund, true);
                values.insert("worker_id", worker);
                values.insert("contract_id", contract.unwrap());
                let batch = if id == "record_contributions_batch" {
                    "/batch"
                } else {
                    ""
                };
                format!("/v1/funds/{fund}/contributions{batch}")
            }
            "reverse_contribution" => {
                let fund = self.fund(true);
                let (worker, contract, _) = self.worker(&fund, true);
                let id = self.contribution(&fund, &worker, &contract.unwrap());
                format!("/v1/contributions/{id}/reversal")
            }
            "submit_claim" => {
                let fund = self.fund(true);
                let (worker, contract, spouse) = self.worker(&fund, true);
                self.contribution(&fund, &worker, &contract.unwrap());
                values.insert("dependant_id", spouse);
                format!("/v1/workers/{worker}/claims")
            }
            "add_claim_documents" => format!("/v1/claims/{}/documents", self.claim()),
            "decide_claim" => format!("/v1/claims/{}/decision", self.claim()),
            "withdraw_claim" => format!("/v1/claims/{}/withdrawal", self.claim()),
            "approve_claim" => {
                let claim = self.decided_claim(self.example("DecisionRequest"));
                format!("/v1/claims/{claim}/approvals")
            }
            "pay_claim" => {
                let claim = self.decided_claim(self.example("DecisionRequest"));
                let approvals = format!("/v1/claims/{claim}/approvals");
                let approved = self.app.post(&approvals, &self.second, &json!({}));
                assert_eq!(approved.body["status"], "approved", "{}", approved.text);
                values.insert("paid_on", today);
                format!("/v1/claims/{claim}/payment")
            }
            "appeal_claim" => {
                let rejection = json!({"outcome": "reject", "reasons": ["NOT_COVERED"]});
                format!("/v1/claims/{}/appeal", self.decided_claim(rejection))
            }
            "payment_run" => {
                values.insert("paid_on", today);
                format!("/v1/funds/{}/payment-runs", self.fund(true))
            }
            "join_claim" => {
                let (claim, child) = self.shared_claim();
                values.insert("dependant_id", child);
                format!("/v1/claims/{claim}/beneficiaries")
            }
            "request_refund" => format!("/v1/contributions/{}/refunds", self.refundable().1),
            "decide_refund" => format!("/v1/refunds/{}/decision", self.refund().1),
            "pay_refund" => {
                let (_, refund) = self.refund();
                let decision = json!({"outcome": "approve", "reason": "The visa was refused"});
                self.post(&format!("/v1/refunds/{refund}/decision"), &decision, 200);
                format!("/v1/refunds/{refund}/payment")
            }
            "request_rebate" => format!("/v1/workers/{}/rebates", self.rebate_member()),
            "register_party" => format!("/v1/funds/{}/parties", self.fund(false)),
            "update_party" => {
                let fund = self.fund(false);
                format!("/v1/funds/{fund}/parties/{}", self.party(&fund))
            }
            "open_recovery" => {
                let (fund, claim) = self.approved_claim();
                values.insert("party_id", self.party(&fund));
                format!("/v1/claims/{claim}/recovery")
            }
            "settle_recovery" => {
                values.insert("received_on", today);
                format!("/v1/recoveries/{}/settlements", self.recovery())
            }
            "write_off_recovery" => format!("/v1/recoveries/{}/write-off", self.recovery()),
            "record_receipt" => {
                let fund = self.fund(false);
                values.insert("party_id", self.party(&fund));
                format!("/v1/funds/{fund}/receipts")
            }
            "match_receipt" => {
                let fund = self.fund(true);
                let (worker, contract, _) = self.worker(&fund, true);
                values.insert("worker_id", worker);
                values.insert("contract_id", contract.unwrap());
                format!("/v1/receipts/{}/matches", self.receipt(&fund))
            }
            "stop_instalments" | "add_instalment_documents" => {
                let document = format!("BD{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
                let claim = crate::instalments::running_allowance(self.app, &document);
                match id {
                    "stop_instalments" => format!("/v1/claims/{claim}/instalments/stop"),
                    _ => format!("/v1/claims/{claim}/instalments/2/documents"),
                }
            }
            other => panic!("no scene for {other}: add one when adding an operation with a body"),
        };
        Scene { path, values }
    }

    /// Sends `body` (with the scene's values put in) for operation `op`.
    fn send(&self, op: &Operation, scene: &Scene, body: &Value) -> Response {
        let mut body = body.clone();
        fill(&mut body, &scene.values);
        // Approvals need a second person; every other request is the admin's.
        let token = if op.id == "approve_claim" {
            &self.second
        } else {
            &self.admin
        };
        match op.method.as_str() {
            "post" => self.app.post(&scene.path, token, &body),
            "patch" => self.app.patch(&scene.path, token, &body),
            other => panic!("{other} with a body"),
        }
    }
}

/// Puts `values` in place of the example's placeholders (ids and dates a
/// scene makes), at any depth.
fn fill(body: &mut Value, values: &BTreeMap<&'static str, String>) {
    match body {
        Value::Object(m) => {
            for (name, v) in m.iter_mut() {
                match values.get(name.as_str()) {
                    Some(value) if v.is_string() => *v = json!(value),
                    _ => fill(v, values),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| fill(v, values)),
        _ => {}
    }
}

/// Whether `res` refuses the property at `pointer`: a 400 or 422 problem, or a
/// batch answer whose item failed, naming it in `errors`.
fn refuses(res: &Response, pointer: &str) -> bool {
    let names = |problem: &Value| {
        problem["errors"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["field"] == pointer))
    };
    match res.status {
        400 | 422 => names(&res.body),
        200 => res.body["items"].as_array().is_some_and(|items| {
            items
                .iter()
                .any(|i| i["status"] == "failed" && names(&i["problem"]))
        }),
        _ => false,
    }
}

/// Whether a request without a value for the optional property at `pointer`
/// (`how`: left out or null) is accepted, or refused as the example's other
/// values require ([`required_by_the_example`]); if not, why.
fn may_be_absent(res: &Response, operation: &str, pointer: &str, how: &str) -> Result<(), String> {
    let (fine, expected) = match required_by_the_example(pointer) {
        Some(Needed::Named) => (refuses(res, pointer), "a refusal naming it"),
        Some(Needed::Code(code)) => (refusal_code(res) == Some(code), code),
        None => (accepts(res), "acceptance"),
    };
    match fine {
        true => Ok(()),
        false => Err(format!(
            "{operation}: {pointer} {how} (expected {expected}): {} {}",
            res.status, res.text
        )),
    }
}

/// How a request is refused without a property the example's other values need.
enum Needed {
    /// Refused naming the property.
    Named,
    /// Refused with this code.
    Code(&'static str),
}

/// Optional properties that other values of the example make necessary, as
/// their descriptions in the document say: a wage and its currency go
/// together; a dependant who claims is named; `fixed_months` membership
/// needs its months; and the example rules charge by the contract's length,
/// so a contribution names its contract.
fn required_by_the_example(pointer: &str) -> Option<Needed> {
    let name = pointer.rsplit('/').next()?;
    match name {
        "monthly_wage" | "wage_currency" => Some(Needed::Named),
        "dependant_id" if pointer.ends_with("/claimant/dependant_id") => Some(Needed::Named),
        "months" if pointer == "/membership/months" => Some(Needed::Named),
        "contract_id" => Some(Needed::Code("CONTRACT_REQUIRED")),
        _ => None,
    }
}

/// The code of a refusal: of the problem, or of a batch's failed item.
fn refusal_code(res: &Response) -> Option<&str> {
    let item = &res.body["items"][0];
    match res.status {
        200 if item["status"] == "failed" => item["problem"]["code"].as_str(),
        400..=499 => res.body["code"].as_str(),
        _ => None,
    }
}

/// Adds to `wrong` how the answer `res` to `operation` breaks the response
/// the document gives for its status.
fn check_answer(
    doc: &Value,
    operation: &str,
    responses: &Value,
    res: &Response,
    wrong: &mut Vec<String>,
) {
    let class = format!("{}XX", res.status / 100);
    let documented = match responses.get(res.status.to_string()) {
        Some(documented) => documented,
        None => &responses[class],
    };
    let media = res
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let Some(schema) = documented["content"][media].get("schema") else {
        wrong.push(format!(
            "{operation}: {} {} is not documented",
            res.status, res.content_type
        ));
        return;
    };
    conform::conforms(doc, schema, &res.body, operation, wrong);
}

/// Whether `res` accepts the request: a 2xx, and for a batch every item done.
fn accepts(res: &Response) -> bool {
    (200..300).contains(&res.status) && res.body["failed"].as_u64().unwrap_or(0) == 0
}

#[test]
fn every_request_body_example_is_accepted_and_required_means_what_the_server_requires() {
    let app = spawn();
    let doc = app.get("/openapi.json", "").body;
    let operations = operations(&doc);
    assert!(
        operations.len() >= 20,
        "{} operations with a body",
        operations.len()
    );
    let mut stage = Stage::new(&app, &doc);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for op in &operations {
        let scene = stage.scene(&op.id);
        let res = stage.send(op, &scene, &op.example);
        assert!(
            accepts(&res),
            "{}: the example is refused: {} {}",
            op.id,
            res.status,
            res.text
        );
        for property in properties(&doc, &op.schema, &op.example) {
            let pointer = &property.pointer;
            if property.required {
                // A refusal writes nothing: the same scene serves every one.
                let res = stage.send(op, &scene, &without(&op.example, pointer));
                if !refuses(&res, pointer) {
                    wrong.push(format!(
                        "{}: without required {pointer}: {} {}",
                        op.id, res.status, res.text
                    ));
                }
            } else {
                let scene = stage.scene(&op.id);
                let res = stage.send(op, &scene, &without(&op.example, pointer));
                wrong.extend(may_be_absent(&res, &op.id, pointer, "left out").err());
                check_answer(&doc, &op.id, &op.responses, &res, &mut wrong);
            }
            if property.nullable && !op.example.pointer(pointer).unwrap().is_null() {
                let scene = stage.scene(&op.id);
                let res = stage.send(op, &scene, &nulled(&op.example, pointer));
                wrong.extend(may_be_absent(&res, &op.id, pointer, "null").err());
                check_answer(&doc, &op.id, &op.responses, &res, &mut wrong);
            } else if !property.nullable {
                // A refusal writes nothing: the example's scene serves again.
                let res = stage.send(op, &scene, &nulled(&op.example, pointer));
                if !refuses(&res, pointer) {
                    wrong.push(format!(
                        "{}: {pointer} null: {} {}",
                        op.id, res.status, res.text
                    ));
                }
            }
            checked += 1;
        }
    }
    for op in &operations {
        let wages: Vec<String> = properties(&doc, &op.schema, &op.example)
            .into_iter()
            .filter(|p| p.pointer.ends_with("/monthly_wage"))
            .map(|p| p.pointer)
            .collect();
        for wage in wages {
            let currency = wage.replace("/monthly_wage", "/wage_currency");
            let body = without(&without(&op.example, &wage), &currency);
            let scene = stage.scene(&op.id);
            let res = stage.send(op, &scene, &body);
            if !accepts(&res) {
                wrong.push(format!(
                    "{}: without {wage} and {currency}: {}",
                    op.id, res.text
                ));
            }
        }
    }
    reads_conform(&mut stage, &mut wrong);
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked > 100, "only {checked} properties checked");
}

/// The document's path template that `path` (without its query) matches.
fn template_of<'a>(doc: &'a Value, path: &str) -> &'a str {
    let path = path.split('?').next().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    let matches = |template: &str| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || t.starts_with('{'))
    };
    let templates = doc["paths"].as_object().unwrap().keys();
    let mut found: Vec<&str> = templates
        .map(String::as_str)
        .filter(|t| matches(t))
        .collect();
    // A literal segment beats a parameter (`/contributions/quote`, not `/contributions/{id}`).
    found.sort_by_key(|t| t.matches('{').count());
    found
        .first()
        .unwrap_or_else(|| panic!("no operation for {path}"))
}

/// Reads of every kind of record a claim's life leaves, each answer checked
/// against the document, and the event feed with every event the scenes
/// caused, each typed by its `type`.
fn reads_conform(stage: &mut Stage, wrong: &mut Vec<String>) {
    let fund = stage.fund(true);
    let (worker, contract, spouse) = stage.worker(&fund, true);
    let contract = contract.unwrap();
    let contribution = stage.contribution(&fund, &worker, &contract);
    let mut claim = stage.example("ClaimRequest");
    claim["claimant"]["dependant_id"] = json!(spouse);
    let claim = stage.post(&format!("/v1/workers/{worker}/claims"), &claim, 201)["id"].clone();
    let claim = claim.as_str().unwrap();
    stage.post(
        &format!("/v1/claims/{claim}/decision"),
        &stage.example("DecisionRequest"),
        200,
    );
    let entries = stage
        .app
        .get(&format!("/v1/funds/{fund}/journal-entries"), &stage.admin);
    let entry = entries.body["items"][0]["id"].as_str().unwrap().to_string();
    let year = "from=2026-01-01&to=2026-12-31";
    let (refund_fund, refund) = stage.refund();
    let reads = [
        "/healthz".to_string(),
        "/readyz".to_string(),
        "/v1/funds".to_string(),
        format!("/v1/funds/{fund}"),
        format!("/v1/funds/{fund}/accounts"),
        format!("/v1/funds/{fund}/accounts?as_of=2026-06-30"),
        format!("/v1/funds/{fund}/accounts/1000"),
        format!("/v1/funds/{fund}/accounts/1000/statement?{year}"),
        format!("/v1/funds/{fund}/journal-entries"),
        format!("/v1/funds/{fund}/journal-entries/{entry}"),
        format!("/v1/funds/{fund}/ledger/verify"),
        format!("/v1/funds/{fund}/rules"),
        format!("/v1/funds/{fund}/rules/KE-MWF-2026"),
        format!("/v1/funds/{fund}/workers"),
        format!("/v1/workers/{worker}"),
        format!("/v1/workers/{worker}/membership?on=2026-06-30"),
        format!("/v1/workers/{worker}/contributions"),
        format!("/v1/workers/{worker}/claims"),
        format!("/v1/funds/{fund}/contributions"),
        format!("/v1/contributions/{contribution}"),
        format!("/v1/funds/{fund}/contributions/quote?worker_id={worker}&contract_id={contract}&paid_on=2026-02-01"),
        format!("/v1/funds/{fund}/claims"),
        format!("/v1/claims/{claim}"),
        format!("/v1/funds/{fund}/reports/trial-balance?as_of=2026-12-31"),
        format!("/v1/funds/{fund}/reports/membership?as_of=2026-06-30&by=sex,destination,sector"),
        format!("/v1/funds/{fund}/reports/claims?{year}&by=benefit,status,sex"),
        "/v1/audit-log".to_string(),
        format!("/v1/refunds/{refund}"),
        format!("/v1/funds/{refund_fund}/refunds"),
    ];
    for path in &reads {
        let res = stage.app.get(path, &stage.admin);
        let template = template_of(stage.doc, path);
        let responses = &stage.doc["paths"][template]["get"]["responses"];
        if res.status != 200 {
            wrong.push(format!("GET {path}: {} {}", res.status, res.text));
            continue;
        }
        check_answer(stage.doc, path, responses, &res, wrong);
    }
    let feed = &stage.doc["paths"]["/v1/events"]["get"]["responses"];
    let mut types = std::collections::BTreeSet::new();
    let mut after = String::new();
    loop {
        let res = stage
            .app
            .get(&format!("/v1/events?limit=500{after}"), &stage.admin);
        check_answer(stage.doc, "list_events", feed, &res, wrong);
        for event in res.body["items"].as_array().unwrap() {
            types.insert(event["type"].as_str().unwrap().to_string());
        }
        match res.body["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert!(types.len() >= 10, "the scenes caused only {types:?}");
}

/// The examples a partner reads are true to the schemas they illustrate:
/// every named schema's example, and every request body's.
#[test]
fn every_example_in_the_document_conforms_to_its_schema() {
    let doc: Value = serde_json::from_str(&mwf::http::openapi_json()).unwrap();
    let mut wrong = Vec::new();
    let mut examples = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            conform::conforms(&doc, schema, example, name, &mut wrong);
            examples += 1;
        }
    }
    for operation in operations(&doc) {
        conform::conforms(
            &doc,
            &operation.schema,
            &operation.example,
            &operation.id,
            &mut wrong,
        );
        examples += 1;
    }
    assert!(examples > 30, "only {examples} examples");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
