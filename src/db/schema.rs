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
