//! The integration suite, one test binary: each module is one capability driven through the
//! real server, over real HTTP on loopback, with real outside clients where one exists.
//! One binary, not one per file: each binary linked the whole dependency tree again, and
//! thirty of them were most of the test build's time (BENCHMARKS.md, "The test build").
//! Run a part with `cargo test --test suite tiles::` (a module's tests) or by test name.
//! `tests/fuzz.rs` stays a binary of its own: it installs a watching global allocator and a
//! panic hook, which must not see the other tests.

#[path = "../common/mod.rs"]
mod common;

mod applications;
mod archives;
mod backup;
mod body;
mod cases;
mod complaints;
mod documents;
mod durability;
mod edits;
mod export;
mod hardening;
mod history;
mod hot_path;
mod http;
mod idempotency;
mod import;
mod index_snapshot;
mod migrate;
mod moderation;
mod notify_smtp;
mod notify_webhook;
mod ogc;
mod oracle;
mod postgres;
mod replicas;
mod schema;
mod screening;
mod search_index;
mod stats;
mod tiles;
