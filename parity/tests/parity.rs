//! One test per case of every fixture file (`tests/fixtures/*.json`, or `$STATICNN_FIXTURES`),
//! written by `build.rs`: regenerate a fixture and its tests follow, with no code edit.

include!(concat!(env!("OUT_DIR"), "/cases.rs"));
