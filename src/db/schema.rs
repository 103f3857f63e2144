// @generated-style table definitions matching migrations/{sqlite,postgres}.
// Written by hand (the diesel CLI is not part of the build); keep in step with
// the migrations. SQLite's INTEGER PRIMARY KEY is declared BigInt here.

diesel::table! {
    funds (id) {
        id -> BigInt,
        code -> Text,
        country -> Text,
        name -> Text,
        currency -> Text,
        closed_through -> Nullable<Date>,
        last_sequence -> BigInt,
        chain_head -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        fund_id -> BigInt,
        code -> Text,
        name -> Text,
        account_type -> Text,
        currency -> Text,
        allow_negative -> Bool,
        debits_minor -> BigInt,
        credits_minor -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    journal_entries (id) {
        id -> Text,
        fund_id -> BigInt,
        sequence -> BigInt,
        effective_date -> Date,
        recorded_at -> Timestamp,
        kind -> Text,
        memo -> Text,
        source_type -> Nullable<Text>,
        source_id -> Nullable<Text>,
        created_by -> Text,
        reverses -> Nullable<Text>,
        previous_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    postings (id) {
        id -> BigInt,
        entry_id -> Text,
        line -> Integer,
        account_id -> BigInt,
        side -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        effective_date -> Date,
    }
}

diesel::table! {
    idempotency_keys (actor, idempotency_key) {
        actor -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
        fund_code -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor -> Text,
        role -> Text,
        action -> Text,
        fund_code -> Nullable<Text>,
        target -> Nullable<Text>,
        request_id -> Text,
        outcome -> Text,
        status -> Integer,
    }
}

diesel::joinable!(accounts -> funds (fund_id));
diesel::joinable!(journal_entries -> funds (fund_id));
diesel::joinable!(postings -> journal_entries (entry_id));
diesel::joinable!(postings -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    funds,
    accounts,
    journal_entries,
    postings,
    idempotency_keys,
    audit_log
);

diesel::table! {
    rule_versions (id) {
        id -> BigInt,
        fund_id -> BigInt,
        version -> Text,
        effective_from -> Date,
        contribution_currency -> Text,
        document -> Text,
        published_at -> Timestamp,
        published_by -> Text,
    }
}

diesel::table! {
    workers (id) {
        id -> Text,
        fund_id -> BigInt,
        document_type -> Text,
        document_number -> Text,
        given_name -> Text,
        family_name -> Text,
        date_of_birth -> Date,
        sex -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        occupation_sector -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        family_key -> Text,
        given_key -> Text,
    }
}

diesel::table! {
    dependants (id) {
        id -> Text,
        worker_id -> Text,
        name -> Text,
        relationship -> Text,
        date_of_birth -> Nullable<Date>,
        deceased -> Bool,
        created_at -> Timestamp,
        nominee -> Bool,
    }
}

diesel::table! {
    contracts (id) {
        id -> Text,
        worker_id -> Text,
        employer -> Text,
        destination_country -> Text,
        occupation -> Nullable<Text>,
        start_date -> Date,
        end_date -> Date,
        monthly_wage_minor -> Nullable<BigInt>,
        wage_currency -> Nullable<Text>,
        recruitment_agency -> Nullable<Text>,
        departed_on -> Nullable<Date>,
        terminated_on -> Nullable<Date>,
        returned_on -> Nullable<Date>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contributions (id) {
        id -> Text,
        fund_id -> BigInt,
        worker_id -> Text,
        contract_id -> Nullable<Text>,
        rule_version -> Text,
        paid_on -> Date,
        currency -> Text,
        amount_minor -> BigInt,
        taxes -> Text,
        total_minor -> BigInt,
        benefit_reserve_minor -> BigInt,
        administration_minor -> BigInt,
        external_ref -> Nullable<Text>,
        received_amount_minor -> Nullable<BigInt>,
        received_currency -> Nullable<Text>,
        exchange_rate -> Nullable<Text>,
        coverage_start -> Date,
        coverage_end -> Date,
        coverage_basis -> Text,
        grace_days -> Integer,
        journal_entry_id -> Text,
        status -> Text,
        reversal_entry_id -> Nullable<Text>,
        reversal_reason -> Nullable<Text>,
        reversed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    contribution_payers (contribution_id, line) {
        contribution_id -> Text,
        line -> Integer,
        payer_type -> Text,
        amount_minor -> BigInt,
        reference -> Nullable<Text>,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        fund_code -> Text,
        event_type -> Text,
        subject_id -> Text,
        payload -> Text,
        worker_id -> Nullable<Text>,
    }
}

diesel::table! {
    event_counter (id) {
        id -> Integer,
        last_id -> BigInt,
    }
}

diesel::joinable!(rule_versions -> funds (fund_id));
diesel::joinable!(workers -> funds (fund_id));
diesel::joinable!(dependants -> workers (worker_id));
diesel::joinable!(contracts -> workers (worker_id));
diesel::joinable!(contributions -> workers (worker_id));
diesel::joinable!(contribution_payers -> contributions (contribution_id));

diesel::allow_tables_to_appear_in_same_query!(
    funds,
    rule_versions,
    workers,
    dependants,
    contracts,
    contributions,
    contribution_payers,
    events,
);

diesel::table! {
    claims (id) {
        id -> Text,
        fund_id -> BigInt,
        worker_id -> Text,
        benefit -> Text,
        rider_of -> Nullable<Text>,
        incident_date -> Date,
        incident_phase -> Text,
        filed_on -> Date,
        claimant_relationship -> Text,
        dependant_id -> Nullable<Text>,
        claimed_amount_minor -> Nullable<BigInt>,
        grade -> Nullable<Text>,
        description -> Nullable<Text>,
        currency -> Text,
        status -> Text,
        assessment -> Text,
        payable_minor -> BigInt,
        decision_outcome -> Nullable<Text>,
        decided_amount_minor -> Nullable<BigInt>,
        decision_reasons -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        approved_at -> Nullable<Timestamp>,
        approval_entry_id -> Nullable<Text>,
        payment_entry_id -> Nullable<Text>,
        paid_on -> Nullable<Date>,
        payee_reference -> Nullable<Text>,
        appealed -> Bool,
        created_at -> Timestamp,
        created_by -> Text,
        queued_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    claim_assessments (claim_id, line) {
        claim_id -> Text,
        line -> Integer,
        assessed_at -> Timestamp,
        cause -> Text,
        assessed_by -> Text,
        rule_version -> Nullable<Text>,
        outcome -> Text,
        amount_minor -> BigInt,
        payable_minor -> BigInt,
        assessment -> Text,
    }
}

diesel::table! {
    claim_documents (claim_id, line) {
        claim_id -> Text,
        line -> Integer,
        document_type -> Text,
        reference -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    claim_approvals (claim_id, approver) {
        claim_id -> Text,
        approver -> Text,
        note -> Nullable<Text>,
        approved_at -> Timestamp,
    }
}

diesel::joinable!(claim_documents -> claims (claim_id));
diesel::joinable!(claim_approvals -> claims (claim_id));
diesel::joinable!(claim_assessments -> claims (claim_id));
diesel::allow_tables_to_appear_in_same_query!(
    claims,
    claim_documents,
    claim_approvals,
    claim_assessments
);

diesel::table! {
    claim_payees (claim_id, line) {
        claim_id -> Text,
        line -> Integer,
        dependant_id -> Nullable<Text>,
        estate -> Bool,
        name -> Text,
        relationship -> Nullable<Text>,
        minor -> Bool,
        guardian_name -> Nullable<Text>,
        guardian_id_number -> Nullable<Text>,
        guardian_relationship -> Nullable<Text>,
        guardian_dependant_id -> Nullable<Text>,
        share_numerator -> BigInt,
        share_denominator -> BigInt,
        amount_minor -> Nullable<BigInt>,
        payment_entry_id -> Nullable<Text>,
        paid_on -> Nullable<Date>,
    }
}

diesel::joinable!(claim_payees -> claims (claim_id));
diesel::allow_tables_to_appear_in_same_query!(claims, claim_payees);

diesel::joinable!(claims -> workers (worker_id));
diesel::allow_tables_to_appear_in_same_query!(claims, workers);
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    claims::benefit,
    claims::status,
    claims::currency,
    workers::sex,
);

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        fund_code -> Text,
        url -> Text,
        event_types -> Text,
        secret -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        event_id -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_deliveries -> events (event_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(
    webhook_subscriptions,
    webhook_deliveries,
    webhook_attempts,
    events,
);

diesel::table! {
    refunds (id) {
        id -> Text,
        fund_id -> BigInt,
        contribution_id -> Nullable<Text>,
        worker_id -> Text,
        contract_id -> Nullable<Text>,
        reason -> Text,
        status -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        taxes_minor -> BigInt,
        total_minor -> BigInt,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        approval_entry_id -> Nullable<Text>,
        payment_reference -> Nullable<Text>,
        paid_by -> Nullable<Text>,
        paid_at -> Nullable<Timestamp>,
        payment_entry_id -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        kind -> Text,
        rebate_code -> Nullable<Text>,
    }
}

diesel::table! {
    parties (id) {
        id -> Text,
        fund_id -> BigInt,
        kind -> Text,
        name -> Text,
        licence_number -> Text,
        country -> Text,
        contact -> Nullable<Text>,
        bond_amount_minor -> Nullable<BigInt>,
        bond_currency -> Nullable<Text>,
        bond_reference -> Nullable<Text>,
        bond_expires_on -> Nullable<Date>,
        status -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    recoveries (id) {
        id -> Text,
        fund_id -> BigInt,
        claim_id -> Text,
        party_id -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        settled_minor -> BigInt,
        written_off_minor -> BigInt,
        status -> Text,
        reason -> Text,
        legal_basis -> Nullable<Text>,
        opening_entry_id -> Text,
        write_off_reason -> Nullable<Text>,
        write_off_entry_id -> Nullable<Text>,
        written_off_by -> Nullable<Text>,
        written_off_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    recovery_settlements (id) {
        id -> Text,
        recovery_id -> Text,
        party_id -> Text,
        source -> Text,
        amount_minor -> BigInt,
        received_on -> Date,
        reference -> Nullable<Text>,
        journal_entry_id -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    receipts (id) {
        id -> Text,
        fund_id -> BigInt,
        payer_type -> Text,
        party_id -> Nullable<Text>,
        currency -> Text,
        amount_minor -> BigInt,
        received_on -> Date,
        reference -> Text,
        journal_entry_id -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    receipt_matches (contribution_id) {
        contribution_id -> Text,
        receipt_id -> Text,
        amount_minor -> BigInt,
        matched_at -> Timestamp,
        matched_by -> Text,
    }
}

diesel::table! {
    instalment_schedules (claim_id) {
        claim_id -> Text,
        fund_id -> BigInt,
        every -> Text,
        created_at -> Timestamp,
        stopped_at -> Nullable<Timestamp>,
        stopped_by -> Nullable<Text>,
        stop_reasons -> Nullable<Text>,
        stop_note -> Nullable<Text>,
    }
}

diesel::table! {
    claim_instalments (claim_id, number) {
        claim_id -> Text,
        number -> Integer,
        fund_id -> BigInt,
        due_on -> Date,
        currency -> Text,
        amount_minor -> BigInt,
        status -> Text,
        assessed_at -> Nullable<Timestamp>,
        assessment -> Nullable<Text>,
        hold_reasons -> Nullable<Text>,
        expense_entry_id -> Nullable<Text>,
        payment_entry_id -> Nullable<Text>,
        paid_on -> Nullable<Date>,
    }
}

diesel::table! {
    claim_instalment_documents (claim_id, number, line) {
        claim_id -> Text,
        number -> Integer,
        line -> Integer,
        document_type -> Text,
        reference -> Text,
        added_at -> Timestamp,
        added_by -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    claims,
    instalment_schedules,
    claim_instalments,
    claim_instalment_documents
);
diesel::joinable!(claim_instalments -> claims (claim_id));

diesel::table! {
    account_daily_totals (account_id, day) {
        account_id -> BigInt,
        day -> Date,
        debits_minor -> BigInt,
        credits_minor -> BigInt,
    }
}

diesel::joinable!(account_daily_totals -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(account_daily_totals, accounts);

diesel::table! {
    verification_checkpoints (id) {
        id -> BigInt,
        fund_id -> BigInt,
        sequence -> BigInt,
        hash -> Text,
        entries_checked -> BigInt,
        full -> Bool,
        verified_at -> Timestamp,
        verified_by -> Text,
    }
}

diesel::table! {
    verification_checkpoint_totals (checkpoint_id, account_id) {
        checkpoint_id -> BigInt,
        account_id -> BigInt,
        debits_minor -> BigInt,
        credits_minor -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    verification_checkpoints,
    verification_checkpoint_totals
);

diesel::table! {
    coverage_segments (worker_id, start) {
        worker_id -> Text,
        fund_id -> BigInt,
        start -> Date,
        until -> Date,
        sex -> Text,
        destination -> Nullable<Text>,
        sector -> Nullable<Text>,
    }
}

diesel::table! {
    membership_counts (fund_id, counter, granularity, day, sex, destination, sector) {
        fund_id -> BigInt,
        counter -> Text,
        granularity -> Text,
        day -> Date,
        sex -> Text,
        destination -> Text,
        sector -> Text,
        delta -> BigInt,
    }
}

diesel::table! {
    summary_backfills (name) {
        name -> Text,
    }
}

diesel::table! {
    contribution_months (fund_id, month, currency, payer_type) {
        fund_id -> BigInt,
        month -> Date,
        currency -> Text,
        payer_type -> Text,
        contributions -> BigInt,
        amount_minor -> BigInt,
    }
}
