//! The demo's recoveries and bulk receipts, for the funds whose law makes the
//! agency liable first (Kenya and the Philippines): a registry of agencies
//! (one with a bond) and an employer, awards recovered from them in
//! every state (open, partly settled, settled, written off, settled from the
//! bond), and in Kenya an agency's bulk transfer matched to some of its
//! workers' contributions, part of it left unmatched. Each step goes through
//! the domain services in its own transaction, audited as the API would.

use chrono::NaiveDate;

use super::record::Enrolled;
use super::{seal, Actors};
use crate::auth::Act;
use crate::claims::{self, ClaimFilter, ClaimStatus};
use crate::contributions::{self, FundRules, NewContribution, NewPayer};
use crate::db::{write_transaction, DbConnection};
use crate::envelope::Done;
use crate::error::{AppError, AppResult};
use crate::funds::Fund;
use crate::money::Currency;
use crate::parties::{self, Bond, NewParty, PartyKind};
use crate::receipts::{self, NewReceipt};
use crate::recoveries::{self, NewRecovery, NewSettlement, SettlementSource};
use crate::rules::document::PayerType;

/// A party of the demo: kind, name, licence, country, bond (in whole units of the fund's currency).
type PartySpec = (
    PartyKind,
    &'static str,
    &'static str,
    &'static str,
    Option<i64>,
);

/// The registries, by fund. Philippine agencies keep a PHP 1,000,000 escrow
/// deposit (RA 10022); Kenyan agencies lodge a security bond with the NEA.
fn registry(code: &str) -> &'static [PartySpec] {
    match code {
        "KE-MWF" => &[
            (
                PartyKind::Agency,
                "Nairobi Placement Agency Ltd",
                "NEA/RA/2019/0117",
                "KE",
                Some(500_000),
            ),
            (
                PartyKind::Agency,
                "Coast Manpower Services",
                "NEA/RA/2020/0342",
                "KE",
                None,
            ),
            (
                PartyKind::Employer,
                "Al Noor Household Services",
                "SA-MHRSD-7001234",
                "SA",
                None,
            ),
        ],
        "PH-OWWA" => &[
            (
                PartyKind::Agency,
                "Manila Overseas Manpower Inc.",
                "DMW-123-LB-031519-R",
                "PH",
                Some(1_000_000),
            ),
            (
                PartyKind::Agency,
                "Visayas Global Placement Corp.",
                "DMW-045-LB-112220-R",
                "PH",
                None,
            ),
            (
                PartyKind::Employer,
                "Gulf Domestic Staffing LLC",
                "AE-MOHRE-5512034",
                "AE",
                None,
            ),
        ],
        _ => &[],
    }
}

/// What becomes of each recovery, in order: the states an administrator meets.
#[derive(Clone, Copy)]
enum Fate {
    Open,
    PartlySettled,
    Settled,
    WrittenOff,
    SettledFromBond,
}

const FATES: [Fate; 5] = [
    Fate::Open,
    Fate::PartlySettled,
    Fate::Settled,
    Fate::WrittenOff,
    Fate::SettledFromBond,
];

/// Workers whose contributions the Kenyan bulk receipt pays.
const RECEIPT_WORKERS: usize = 5;

/// Registers the fund's parties, recovers some awards, and in Kenya
/// records and matches a bulk receipt. Funds without a registry are left alone.
pub fn recover(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    enrolled: &[Enrolled],
) -> AppResult<()> {
    let specs = registry(&fund.code);
    if specs.is_empty() {
        return Ok(());
    }
    let parties = specs
        .iter()
        .map(|spec| register(conn, fund, actors, spec))
        .collect::<AppResult<Vec<_>>>()?;
    let (bonded, plain, employer) = (&parties[0], &parties[1], &parties[2]);
    // Paid awards first, then awards approved and not yet paid: a recovery
    // may begin as soon as the fund owes the benefit.
    let mut awards = Vec::new();
    for status in [
        ClaimStatus::Paid,
        ClaimStatus::Approved,
        ClaimStatus::PartiallyApproved,
        ClaimStatus::AwaitingFunds,
    ] {
        let filter = ClaimFilter {
            status: Some(status.as_str().to_string()),
            limit: FATES.len() as i64,
            ..ClaimFilter::default()
        };
        awards.extend(claims::list(conn, fund, &filter)?);
    }
    for (claim, fate) in awards.iter().zip(FATES) {
        let party = match fate {
            Fate::SettledFromBond => bonded,
            Fate::WrittenOff => employer,
            _ => plain,
        };
        let award = claim.decided_amount_minor.unwrap_or(0);
        recover_one(conn, fund, actors, &claim.id, party, award, fate)?;
    }
    if fund.code == "KE-MWF" {
        bulk_receipt(conn, fund, actors, bonded, enrolled)?;
    }
    Ok(())
}

fn register(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    spec: &PartySpec,
) -> AppResult<String> {
    let (kind, name, licence, country, bond) = *spec;
    let new = NewParty {
        kind,
        name: name.to_string(),
        licence_number: licence.to_string(),
        country: country.to_string(),
        contact: Some(format!(
            "compliance@{}.example",
            licence.replace('/', "-").to_lowercase()
        )),
        bond: bond.map(|units| Bond {
            amount_minor: units * 10_i64.pow(fund.currency.exponent()),
            currency: fund.currency,
            reference: Some(format!("BOND-{licence}")),
            expires_on: NaiveDate::from_ymd_opt(2030, 12, 31),
        }),
    };
    write_transaction(conn, |conn| -> AppResult<String> {
        let (party, event) = parties::register(conn, fund, &new, &actors.officer.subject)?;
        let done = Done::created(format!("party {}", party.id), ()).with_events(vec![event]);
        seal(conn, &actors.officer, Act::RegisterParty, &fund.code, done)?;
        Ok(party.id)
    })
}

/// Opens a recovery of the whole award and takes it to its `fate`, each step
/// as its own request.
fn recover_one(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    claim_id: &str,
    party_id: &str,
    award_minor: i64,
    fate: Fate,
) -> AppResult<()> {
    let officer = &actors.officer;
    let new = NewRecovery {
        party_id: party_id.to_string(),
        amount_minor: award_minor,
        reason: "The fund repatriated the worker; the agency (or employer) is liable first"
            .to_string(),
        legal_basis: Some(match fund.code.as_str() {
            "PH-OWWA" => "RA 8042 s. 15 as amended by RA 10022".to_string(),
            _ => "Labour Migration and Management Act; NEA agency security bond".to_string(),
        }),
    };
    let recovery_id = write_transaction(conn, |conn| -> AppResult<String> {
        let (recovery, event) = recoveries::open(conn, fund, claim_id, &new, &officer.subject)?;
        let done = Done::created(format!("recovery {}", recovery.id), ()).with_events(vec![event]);
        seal(conn, officer, Act::OpenRecovery, &fund.code, done)?;
        Ok(recovery.id)
    })?;
    let half = award_minor / 2;
    let settlements: Vec<(i64, SettlementSource)> = match fate {
        Fate::Open => vec![],
        Fate::PartlySettled | Fate::WrittenOff => vec![(half, SettlementSource::Cash)],
        Fate::Settled => vec![
            (half, SettlementSource::Cash),
            (award_minor - half, SettlementSource::Cash),
        ],
        Fate::SettledFromBond => {
            let remaining = parties::in_fund(conn, fund, party_id)?
                .bond_remaining_minor()
                .unwrap_or(0);
            let drawn = remaining.min(award_minor);
            vec![
                (drawn, SettlementSource::Bond),
                (award_minor - drawn, SettlementSource::Cash),
            ]
        }
    };
    for (amount_minor, source) in settlements.into_iter().filter(|(a, _)| *a > 0) {
        let new = NewSettlement {
            source,
            amount_minor,
            received_on: crate::time::today(),
            reference: Some(format!("DEMO-{}", &recovery_id[24..])),
        };
        write_transaction(conn, |conn| {
            let (_, settlement, event) =
                recoveries::settle(conn, fund, &recovery_id, &new, &officer.subject)?;
            let done =
                Done::created(format!("settlement {}", settlement.id), ()).with_events(vec![event]);
            seal(conn, officer, Act::SettleRecovery, &fund.code, done)
        })?;
    }
    if matches!(fate, Fate::WrittenOff) {
        write_transaction(conn, |conn| {
            let reason =
                "The employer closed and left no assets: written off by the fund's committee";
            let (_, event) =
                recoveries::write_off(conn, fund, &recovery_id, reason, &officer.subject)?;
            let done = Done::ok(format!("recovery {recovery_id} written_off"), ())
                .with_events(vec![event]);
            seal(conn, officer, Act::WriteOffRecovery, &fund.code, done)
        })?;
    }
    Ok(())
}

/// The agency's transfer for [`RECEIPT_WORKERS`] of the fund's workers whose
/// contract runs today, and one more contribution's worth left unmatched.
fn bulk_receipt(
    conn: &mut DbConnection,
    fund: &Fund,
    actors: &Actors,
    agency_id: &str,
    enrolled: &[Enrolled],
) -> AppResult<()> {
    let today = crate::time::today();
    let rules = FundRules::load(conn, fund)?;
    let ids: Vec<&str> = enrolled.iter().map(|e| e.worker_id.as_str()).collect();
    let contracts = crate::workers::workers_with_contracts(conn, fund.id, &ids)?;
    let first_paid = contributions::first_paid_on(conn, fund.id, &ids)?;
    let mut items: Vec<NewContribution> = Vec::new();
    for e in enrolled {
        if items.len() == RECEIPT_WORKERS {
            break;
        }
        let Some(contract) = (contracts.get(&e.worker_id).into_iter().flatten())
            .find(|c| c.end_date > today && c.terminated_on.is_none())
        else {
            continue;
        };
        let Ok(quote) = rules.quote(Some(contract), today, first_paid.get(&e.worker_id).copied())
        else {
            continue;
        };
        if !quote.payers.contains(&PayerType::Agency) {
            continue;
        }
        let q = &quote.quote;
        items.push(NewContribution {
            worker_id: e.worker_id.clone(),
            contract_id: Some(contract.id.clone()),
            paid_on: today,
            amount_minor: q.amount_minor,
            currency: q.currency,
            payers: vec![NewPayer {
                payer_type: PayerType::Agency,
                amount_minor: q.total_minor,
                reference: Some("NEA/RA/2019/0117".to_string()),
            }],
            external_ref: Some(format!("KCB-BULK-DEMO/{}", items.len() + 1)),
            received: None,
        });
    }
    let Some(last) = items.last() else {
        return Ok(());
    };
    let currency: Currency = last.currency;
    let matched: i64 = items
        .iter()
        .flat_map(|i| &i.payers)
        .map(|p| p.amount_minor)
        .sum();
    let one_more = last.payers[0].amount_minor;
    let new = NewReceipt {
        payer: receipts::NewPayer::Party(agency_id.to_string()),
        amount_minor: matched + one_more,
        currency,
        received_on: today,
        reference: "KCB-BULK-DEMO".to_string(),
    };
    let officer = &actors.officer;
    let receipt_id = write_transaction(conn, |conn| -> AppResult<String> {
        let (receipt, event) = receipts::record(conn, fund, &new, &officer.subject)?;
        let done = Done::created(format!("receipt {}", receipt.id), ()).with_events(vec![event]);
        seal(conn, officer, Act::RecordReceipt, &fund.code, done)?;
        Ok(receipt.id)
    })?;
    write_transaction(conn, |conn| {
        let (receipt, _, events) =
            receipts::match_items(conn, fund, &receipt_id, &items, &officer.subject)?;
        if receipt.unmatched_minor() != one_more {
            return Err(AppError::internal(
                "the demo receipt matched what it meant to",
            ));
        }
        let done = Done::created(format!("receipt {receipt_id} matched"), ()).with_events(events);
        seal(conn, officer, Act::MatchReceipt, &fund.code, done)
    })
}
