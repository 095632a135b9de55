//! One conformance suite for every `Store` backend. Each suite function (listed below,
//! written in the modules by topic) runs twice: against SQLite (a fresh file in a fresh
//! temporary directory, removed afterwards) and against PostgreSQL (a fresh schema
//! `rc_test_<unique>` on `postgres://postgres@127.0.0.1:5432/test`, or
//! `ROLECALL_TEST_DATABASE_URL`, dropped afterwards even when the test fails).
//! PostgreSQL tests fail, loudly, when the server cannot be reached: they are never
//! skipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod audit;
mod data;
mod durability;
mod harness;
mod history;
mod tamper;
mod tenants;
mod tokens;
mod writes;

use audit::*;
use durability::*;
use history::*;
use tamper::*;
use tenants::*;
use tokens::*;
use writes::*;

harness::suite!(
    store: [
        tenants_create_list_get,
        duplicate_tenant_is_exists,
        apply_returns_increasing_revisions,
        conflict_writes_nothing,
        every_change_kind_round_trips,
        delete_entity_cascades_to_tuples,
        relation_writes_are_idempotent,
        relation_runs_keep_batch_order,
        relations_without_entity_are_loaded,
        changes_since_orders_and_limits,
        changes_after_pages_inside_a_revision,
        unknown_tenant_is_not_found,
        tenants_are_isolated,
        tokens_put_find_revoke_list,
        deleting_a_user_revokes_its_tokens,
        thousand_tuple_batch_is_one_revision,
        memory_matches_store,
        sod_rules_round_trip,
        audit_is_written_with_its_revision,
        append_audit_keeps_the_revision,
        audit_filters_and_paging,
        audit_limit_defaults_and_caps,
        audit_conflict_writes_nothing,
        audit_chains_are_per_tenant,
        audit_unknown_tenant_is_not_found,
        create_tenant_audited_starts_the_chain,
        audit_batches_and_tallies,
        checkpoints_newest_at_or_before,
        revision_at_time_follows_the_log,
    ],
    ctx: [
        durable_across_reopen,
        concurrent_writers_one_wins,
        concurrent_audit_writers_keep_one_chain,
        tampered_audit_field_is_detected,
        deleted_audit_entry_is_detected,
        rehashed_audit_entry_is_detected,
        verification_resumes_from_a_checkpoint,
        pruning_keeps_the_chain_verifiable,
        failed_creation_audit_leaves_no_tenant,
        put_token_audited_is_one_write,
        revoke_token_audited_only_when_revoked,
        checkpoints_go_with_their_tenant,
    ]
);
