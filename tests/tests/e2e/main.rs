//! The end-to-end tests that can share a process: one test binary (one link against
//! dsm-core, arrow, parquet, reqwest and the fake exchange) instead of one per file, which
//! made most of CI's build time. A module per former test file, so a test's name is
//! `FILE::TEST` (`cargo test --test e2e -- cli_plugins::`).
//!
//! Tests that need a process of their own stay separate files in tests/tests/: those that
//! read what the process has mapped or loaded (/proc/self/maps, `loaded_plugins`, load
//! order), count its descriptors or threads, or set environment variables process-wide.

#[path = "../common/mod.rs"]
mod common;

mod cli_env;
mod outside;
mod sync_env;

mod async_runtime;
mod binance_failover;
mod binance_kinds;
mod binance_trades;
mod binance_trades_rest;
mod broken_plugins;
mod bybit_rest;
mod cache_s3;
mod cache_trust;
mod chunks_ahead;
mod cli_errors;
mod cli_help;
mod cli_output;
mod cli_plugins;
mod cli_progress;
mod cli_providers_three;
mod cli_signals;
mod close_time;
mod concurrent_cache;
mod crash_safety;
mod crash_safety_binance;
mod derivs_kinds;
mod embed_outside;
mod endpoints_on_loopback;
mod exchange_trades;
mod export_crash_strace;
mod failover_cache;
mod faults_archive;
mod faults_rest;
mod fleet_s3;
mod hostile_input;
mod insecure_plugins;
mod install;
mod kinds_pipeline;
mod okx_rest;
mod old_sdk_plugin;
mod plugin_outside;
mod rest_page_size;
mod symbols;
mod sync_budget;
mod sync_outcomes;
mod sync_resume;
mod trades_rest_budget;
mod unusable_archive_files;
mod warm_fast_path;
