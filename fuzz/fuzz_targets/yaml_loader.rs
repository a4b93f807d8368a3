//! The YAML loader on arbitrary bytes: no panic, and no more nodes than its limit.
#![no_main]
use gitlab_ci::source::{SourceFile, SourceMap};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sm = SourceMap::new();
    let id = sm.add(SourceFile::new("f.yml".into(), None, None, Arc::from(text)));
    if let Ok(parsed) = gitlab_ci::yaml::parse(&sm, id) {
        let weight: u64 = parsed.docs.iter().map(|d| d.weight()).sum();
        // Nodes are capped (aliases included); a document's weight is bounded by the cap and the text.
        let cap = gitlab_ci::yaml::MAX_NODES.max(text.len() / 2) as u64;
        assert!(weight <= cap * (gitlab_ci::budget::NODE_UNITS + 16) + text.len() as u64 * 17);
    }
});
