"""A partner's whole flow through the Python client generated from openapi.json.

Uses only the generated package (`mwf_client`) and the standard library, the way an
integration engineer who never read our source would: create a fund, publish and
read its rule versions, enroll a worker with a contract and dependants, quote,
contribute with an Idempotency-Key and replay it, submit a claim with a rider, add
documents, decide, approve, pay, run a payment run, read reports, export the ledger
as CSV and JSON Lines, read the events, subscribe a webhook.

Robust to schema renames on purpose: operations are found by operationId (the
handler names, which are stable), request bodies are built with the body model
that the operation itself declares (`Model.from_dict` of a plain dict), query
values are converted to the types the operation declares, and responses are read
back with `.to_dict()`. So the script names no model class.

Usage: flow.py FUND_FILE (a fund document of demo/funds/, the PH-OWWA one: its
death benefits carry a burial rider). The server and the tokens come from the
environment: MWF_BASE_URL, MWF_ADMIN_TOKEN, MWF_OFFICER_TOKEN, MWF_APPROVER_TOKEN
(the officer and the approver are different people: a second approval must be).
"""

import csv
import datetime
import enum
import importlib
import importlib.util
import io
import json
import os
import pkgutil
import sys
import traceback
import typing
import uuid
from decimal import Decimal

import mwf_client
import mwf_client.api
from mwf_client import AuthenticatedClient, Client


class FlowFailed(Exception):
    """A step whose outcome is not what the contract promises."""


CHECKS = {"passed": 0}


def check(condition, what):
    """Counts a passed check, or stops the flow naming what was wrong."""
    if not condition:
        raise FlowFailed(what)
    CHECKS["passed"] += 1


def operation_modules():
    """The generated operation modules by operationId, not imported yet.

    Their package (the tag) may change; their module name is the operationId.
    """
    found = {}
    for info in pkgutil.walk_packages(mwf_client.api.__path__, mwf_client.api.__name__ + "."):
        if not info.ispkg:
            found[info.name.rsplit(".", 1)[1]] = info.name
    return found


OPERATIONS = operation_modules()


def operation(operation_id):
    """The generated module of one operation."""
    if operation_id not in OPERATIONS:
        raise FlowFailed(f"the generated client has no operation {operation_id}")
    return importlib.import_module(OPERATIONS[operation_id])


def operation_for(method, path):
    """The operationId of `method path` in the generated client, or None.

    For operations whose name is not settled yet (webhooks, built elsewhere).
    """
    needle_url = f'"url": "{path}"'
    needle_method = f'"method": "{method.lower()}"'
    for operation_id, name in OPERATIONS.items():
        spec = importlib.util.find_spec(name)
        with open(spec.origin, encoding="utf-8") as source:
            text = source.read()
        if needle_url in text and needle_method in text:
            return operation_id
    return None


def declared_types(annotation):
    """The concrete types a parameter annotation allows (`X | Unset` gives X, Unset)."""
    args = typing.get_args(annotation)
    return args if args else (annotation,)


def convert(value, annotation):
    """A plain value (str) as the type the operation declares for it."""
    for kind in declared_types(annotation):
        if typing.get_origin(kind) is list and isinstance(value, list):
            return [convert(item, typing.get_args(kind)[0]) for item in value]
    if not isinstance(value, str):
        return value
    for kind in declared_types(annotation):
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return kind(value)
        if kind is datetime.date:
            return datetime.date.fromisoformat(value)
        if kind is datetime.datetime:
            return datetime.datetime.fromisoformat(value)
        if kind is uuid.UUID:
            return uuid.UUID(value)
    return value


def call(operation_id, client, *args, body=None, **params):
    """Calls an operation with plain values; returns the client's detailed response.

    `body` is a plain dict made into the body model the operation declares.
    """
    module = operation(operation_id)
    hints = typing.get_type_hints(module.sync_detailed)
    kwargs = {name: convert(value, hints.get(name)) for name, value in params.items()}
    if body is not None:
        model = next(k for k in declared_types(hints["body"]) if hasattr(k, "from_dict"))
        kwargs["body"] = model.from_dict(body)
    return module.sync_detailed(*args, client=client, **kwargs)


def expect(response, status, what):
    """Asserts the status and returns the parsed body as plain data."""
    check(
        response.status_code == status,
        f"{what}: expected {status}, got {int(response.status_code)}: {response.content[:800]!r}",
    )
    parsed = response.parsed
    return parsed.to_dict() if hasattr(parsed, "to_dict") else parsed


def benefit_amounts(rule_document):
    """Each benefit's amount rule, whichever variant (a schedule keeps its grades)."""
    return {b["code"]: b["amount"] for b in rule_document["benefits"]}


def balanced(postings):
    """Per currency, debits equal credits (amounts as exact decimals)."""
    net = {}
    for posting in postings:
        sign = 1 if posting["side"] == "debit" else -1
        net[posting["currency"]] = net.get(posting["currency"], Decimal(0)) + sign * Decimal(posting["amount"])
    return all(total == 0 for total in net.values())


def today():
    """Payments are dated no earlier than their approval, which is today (UTC)."""
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def step(text):
    print(f"--- {text}", flush=True)


class Flow:
    """The partner's calls, in order; each stores what the next ones need."""

    def __init__(self, fund_file):
        base = os.environ["MWF_BASE_URL"]
        timeout = mwf_client.client.httpx.Timeout(60.0)
        self.anonymous = Client(base_url=base, timeout=timeout)
        self.admin = AuthenticatedClient(base_url=base, token=os.environ["MWF_ADMIN_TOKEN"], timeout=timeout)
        self.officer = AuthenticatedClient(base_url=base, token=os.environ["MWF_OFFICER_TOKEN"], timeout=timeout)
        self.approver = AuthenticatedClient(base_url=base, token=os.environ["MWF_APPROVER_TOKEN"], timeout=timeout)
        with open(fund_file, encoding="utf-8") as f:
            self.document = json.load(f)
        self.fund = self.document["fund"]["code"]
        self.currency = self.document["fund"]["currency"]

    def run(self):
        self.health()
        self.create_fund()
        self.publish_rules()
        self.enroll()
        self.contribute()
        self.claim()
        self.decide_approve_pay()
        self.reports()
        self.exports()
        self.events()
        self.subscribe_webhook()

    def health(self):
        step("health: no token needed")
        expect(call("healthz", self.anonymous), 200, "healthz")
        expect(call("readyz", self.anonymous), 200, "readyz")

    def create_fund(self):
        step(f"create the fund {self.fund}")
        fund = expect(call("create_fund", self.admin, body=self.document["fund"]), 201, "create_fund")
        check(fund["code"] == self.fund, f"created fund is {fund}")
        read = expect(call("get_fund", self.admin, self.fund), 200, "get_fund")
        check(read["currency"] == self.currency, f"fund currency {read}")

    def publish_rules(self):
        versions = self.document["versions"]
        step(f"publish {len(versions)} rule versions, list them, read one")
        for version in versions:
            published = expect(call("publish_rules", self.admin, self.fund, body=version), 201, "publish_rules")
            check(published["version"] == version["version"], f"published {published.get('version')}")
        listed = expect(call("list_rules", self.admin, self.fund), 200, "list_rules")
        names = [item["version"] for item in listed["items"]]
        check(sorted(names) == sorted(v["version"] for v in versions), f"listed versions {names}")
        latest = versions[-1]
        read = expect(call("get_rules", self.admin, self.fund, latest["version"]), 200, "get_rules")
        check(read["effective_from"] == latest["effective_from"], f"effective_from {read.get('effective_from')}")
        check(
            benefit_amounts(read["document"]) == benefit_amounts(latest),
            f"benefits read back {benefit_amounts(read['document'])}",
        )

    def enroll(self):
        step("enroll a worker with a contract, a spouse and a child")
        worker = expect(
            call(
                "enroll_worker",
                self.admin,
                self.fund,
                body={
                    "document_type": "passport",
                    "document_number": "P-CI-0001",
                    "given_name": "Maria",
                    "family_name": "Santos",
                    "date_of_birth": "1990-04-02",
                    "sex": "female",
                    "occupation_sector": "domestic_work",
                    "dependants": [
                        {"name": "Jose Santos", "relationship": "spouse"},
                        {"name": "Lia Santos", "relationship": "child", "date_of_birth": "2015-09-01"},
                    ],
                    "contracts": [
                        {
                            "employer": "Al Noor Household",
                            "destination_country": "SA",
                            "start_date": "2017-03-15",
                            "end_date": "2019-03-14",
                        }
                    ],
                },
            ),
            201,
            "enroll_worker",
        )
        self.worker = worker["id"]
        self.contract = worker["contracts"][0]["id"]
        by_relationship = {d["relationship"]: d["id"] for d in worker["dependants"]}
        check(set(by_relationship) == {"spouse", "child"}, f"dependants {worker['dependants']}")
        self.spouse = by_relationship["spouse"]
        read = expect(call("get_worker", self.admin, self.worker), 200, "get_worker")
        check(len(read["contracts"]) == 1 and len(read["dependants"]) == 2, "the worker reads back whole")

    def contribute(self):
        step("quote, contribute with an Idempotency-Key, replay it")
        paid_on = "2017-03-01"
        quote = expect(
            call(
                "quote_contribution",
                self.admin,
                self.fund,
                worker_id=self.worker,
                contract_id=self.contract,
                paid_on=paid_on,
            ),
            200,
            "quote_contribution",
        )
        check(Decimal(quote["amount"]) > 0, f"quote {quote}")
        body = {
            "worker_id": self.worker,
            "contract_id": self.contract,
            "paid_on": paid_on,
            "amount": quote["amount"],
            "currency": quote["currency"],
            "payers": [{"type": "worker", "amount": quote["total"]}],
        }
        key = f"ci-contribution-{uuid.uuid4()}"
        first = call("record_contribution", self.admin, self.fund, body=body, idempotency_key=key)
        recorded = expect(first, 201, "record_contribution")
        check(first.headers.get("Idempotent-Replayed") is None, "a first request is not a replay")
        check(recorded["amount"] == quote["amount"], f"recorded {recorded['amount']}, quoted {quote['amount']}")
        again = call("record_contribution", self.admin, self.fund, body=body, idempotency_key=key)
        replayed = expect(again, 201, "record_contribution replayed")
        check(again.headers.get("Idempotent-Replayed") == "true", f"replay headers {dict(again.headers)}")
        check(replayed["id"] == recorded["id"], "the replay answers the same contribution")
        self.contribution = recorded["id"]
        listed = expect(call("list_contributions", self.admin, self.fund, worker_id=self.worker), 200, "list")
        check([c["id"] for c in listed["items"]] == [recorded["id"]], "the replay booked nothing more")
        expect(call("get_contribution", self.admin, self.contribution), 200, "get_contribution")

    def claim(self):
        step("submit a death claim with its burial rider, then add the missing document")
        documents = [
            {"type": "DEATH_CERTIFICATE", "reference": "DC-1"},
            {"type": "PROOF_OF_RELATIONSHIP", "reference": "MC-1"},
            {"type": "CLAIMANT_ID", "reference": "ID-1"},
            {"type": "BURIAL_PERMIT_AND_FUNERAL_RECEIPT", "reference": "BP-1"},
        ]
        claim = expect(
            call(
                "submit_claim",
                self.admin,
                self.worker,
                body={
                    "benefit": "DEATH_ACCIDENT",
                    "incident_date": "2018-05-10",
                    "incident_phase": "abroad",
                    "filed_on": "2018-06-01",
                    "claimant": {"relationship": "spouse", "dependant_id": self.spouse},
                    "documents": documents,
                },
            ),
            201,
            "submit_claim",
        )
        check(claim["status"] == "pending_documents", f"claim status {claim['status']}")
        check(
            claim["assessment"].get("missing_documents") == ["POLICE_OR_ACCIDENT_REPORT"],
            f"assessment {claim['assessment']}",
        )
        check(len(claim["riders"]) == 1 and claim["riders"][0]["benefit"] == "BURIAL", f"riders {claim['riders']}")
        self.claim_id = claim["id"]
        self.rider_id = claim["riders"][0]["id"]
        added = expect(
            call(
                "add_claim_documents",
                self.admin,
                self.claim_id,
                body={"documents": [{"type": "POLICE_OR_ACCIDENT_REPORT", "reference": "PR-9"}]},
            ),
            200,
            "add_claim_documents",
        )
        check(added["status"] == "submitted", f"status after documents {added['status']}")
        check(added["assessment"]["outcome"] == "eligible", f"assessment {added['assessment']}")
        self.award = added["assessment"]["payable"]
        check(Decimal(self.award) > 0, f"payable {self.award}")
        rider = expect(call("get_claim", self.admin, self.rider_id), 200, "get_claim rider")
        check(rider["rider_of"] == self.claim_id, "the rider names its main claim")
        check(rider["assessment"]["outcome"] == "eligible", f"rider assessment {rider['assessment']}")
        self.rider_award = rider["assessment"]["payable"]

    def decide_approve_pay(self):
        step("decide, second approval, pay without cash, add cash, payment run, decide and pay the rider")
        decided = expect(
            call("decide_claim", self.officer, self.claim_id, body={"outcome": "approve"}), 200, "decide_claim"
        )
        check(decided["status"] == "awaiting_second_approval", f"after the decision {decided['status']}")
        check(decided["decision"]["amount"] == self.award, f"decision {decided['decision']}")
        approved = expect(
            call("approve_claim", self.approver, self.claim_id, body={"note": "checked by CI"}),
            200,
            "approve_claim",
        )
        check(approved["status"] == "approved", f"after the approval {approved['status']}")
        waiting = expect(call("pay_claim", self.officer, self.claim_id, body={"paid_on": today()}), 200, "pay_claim")
        check(waiting["status"] == "awaiting_funds", f"paid with no cash: {waiting['status']}")
        self.add_cash(Decimal(self.award) * 2)
        run = expect(call("payment_run", self.admin, self.fund, body={"paid_on": today()}), 200, "payment_run")
        check(run["paid"] == [self.claim_id], f"payment run {run}")
        final = expect(call("get_claim", self.admin, self.claim_id), 200, "get_claim")
        check(final["status"] == "paid", f"claim after the run {final['status']}")
        rider = expect(
            call("decide_claim", self.officer, self.rider_id, body={"outcome": "approve"}), 200, "decide rider"
        )
        check(rider["status"] == "approved", f"rider after the decision {rider['status']}")
        paid = expect(
            call("pay_claim", self.officer, self.rider_id, body={"paid_on": today(), "payee_reference": "BANK-1"}),
            200,
            "pay_claim rider",
        )
        check(paid["status"] == "paid", f"rider payment {paid['status']}")

    def add_cash(self, amount):
        """A grant into the fund's cash (1000) from its equity (3100), as an operator books it."""
        entry = expect(
            call(
                "post_journal_entry",
                self.admin,
                self.fund,
                body={
                    "effective_date": "2018-01-02",
                    "memo": "government grant",
                    "postings": [
                        {"account": "1000", "side": "debit", "amount": f"{amount:.2f}", "currency": self.currency},
                        {"account": "3100", "side": "credit", "amount": f"{amount:.2f}", "currency": self.currency},
                    ],
                },
            ),
            201,
            "post_journal_entry",
        )
        check(len(entry["postings"]) == 2, f"entry {entry}")

    def reports(self):
        step("trial balance, membership and claims reports, ledger verification")
        balance = expect(call("get_trial_balance", self.admin, self.fund), 200, "get_trial_balance")
        totals = {}
        for line in balance["lines"]:
            debits, credits = totals.get(line["currency"], (Decimal(0), Decimal(0)))
            totals[line["currency"]] = (debits + Decimal(line["debits"]), credits + Decimal(line["credits"]))
        check(totals and all(d == c for d, c in totals.values()), f"trial balance totals {totals}")
        membership = expect(
            call("get_membership_statistics", self.admin, self.fund, as_of="2018-01-01"), 200, "membership report"
        )
        check(membership["active"] == 1, f"membership report {membership}")
        claims = expect(
            call("get_claim_statistics", self.admin, self.fund, from_="2018-01-01", to="2018-12-31"),
            200,
            "claims report",
        )
        check(claims["count"] == 2, f"claims (the rider is one) {claims}")
        paid = sum(Decimal(a["paid"]) for a in claims["amounts"] if a["currency"] == self.currency)
        check(paid == Decimal(self.award) + Decimal(self.rider_award), f"paid {paid} in {claims['amounts']}")
        verified = expect(call("verify_ledger", self.admin, self.fund), 200, "verify_ledger")
        check(verified["ok"] is True and verified["entries_checked"] > 0, f"verification {verified}")

    def exports(self):
        step("export the ledger as CSV and as JSON Lines")
        csv_export = call("export_ledger", self.admin, self.fund, format_="csv")
        expect(csv_export, 200, "export_ledger csv")
        check(csv_export.headers["content-type"].startswith("text/csv"), "CSV content type")
        rows = list(csv.DictReader(io.StringIO(csv_export.content.decode("utf-8"))))
        postings = [r for r in rows if r.get("record") == "posting"]
        check(len(postings) >= 2, f"CSV postings {rows[:2]}")
        check(balanced(postings), "the CSV postings balance per currency")
        jsonl_export = call("export_ledger", self.admin, self.fund, format_="jsonl")
        expect(jsonl_export, 200, "export_ledger jsonl")
        records = [json.loads(line) for line in jsonl_export.content.decode("utf-8").splitlines() if line]
        check(len(records) >= 2, f"JSON Lines records {records[:2]}")

    def events(self):
        step("read the events the flow caused")
        page = expect(call("list_events", self.admin, fund=self.fund, limit=500), 200, "list_events")
        kinds = [event["type"] for event in page["items"]]
        for kind in [
            "worker.enrolled",
            "contribution.recorded",
            "claim.submitted",
            "claim.decided",
            "claim.approved",
            "claim.awaiting_funds",
            "claim.paid",
        ]:
            check(kind in kinds, f"no {kind} among the events {kinds}")
        check(kinds.count("contribution.recorded") == 1, "the replayed contribution made no second event")
        paid = [e["subject_id"] for e in page["items"] if e["type"] == "claim.paid"]
        check(sorted(paid) == sorted([self.claim_id, self.rider_id]), f"paid events for {paid}")
        # What a partner polling for one claim's payment asks.
        one = expect(
            call("list_events", self.admin, fund=self.fund, claim=self.claim_id, type_=["claim.paid"]),
            200,
            "list_events for one claim",
        )
        check([e["subject_id"] for e in one["items"]] == [self.claim_id], f"filtered events {one['items']}")

    def subscribe_webhook(self):
        path = "/v1/funds/{fund}/webhooks"
        operation_id = operation_for("post", path)
        if operation_id is None:
            print(f"--- NOTICE: the document has no POST {path} yet; the webhook step is skipped")
            return
        step(f"subscribe a webhook ({operation_id})")
        subscription = expect(
            call(
                operation_id,
                self.admin,
                self.fund,
                body={"url": "http://127.0.0.1:9/mwf-ci-hook", "event_types": ["claim.paid"]},
            ),
            201,
            operation_id,
        )
        check(isinstance(subscription.get("secret"), str) and subscription["secret"], "the secret is shown once")
        listing = operation_for("get", path)
        if listing is not None:
            page = expect(call(listing, self.admin, self.fund), 200, listing)
            listed = [s for s in page["items"] if s["id"] == subscription["id"]]
            check(len(listed) == 1 and "secret" not in listed[0], f"the subscription as listed: {listed}")


def main():
    flow = Flow(sys.argv[1])
    try:
        flow.run()
    except FlowFailed as failure:
        print(f"FAILED: {failure}")
        print(f"flow: {CHECKS['passed']} passed, 1 failed")
        return 1
    except Exception:  # noqa: BLE001 -- the generated client itself broke (a missing model, a parse error)
        traceback.print_exc()
        print(f"flow: {CHECKS['passed']} passed, 1 failed")
        return 1
    print(f"flow: {CHECKS['passed']} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
