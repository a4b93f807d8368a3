//! The manifest reader on arbitrary YAML: no panic.
#![no_main]
use gitlab_ci::source::{SourceFile, SourceMap};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sm = SourceMap::new();
    let id = sm.add(SourceFile::new("tokenscope.yaml".into(), None, None, Arc::from(text)));
    if let Ok(parsed) = gitlab_ci::yaml::parse(&sm, id) {
        for doc in &parsed.docs {
            let _ = tokenscope::snapshot::manifest::read(doc, &mut Vec::new());
        }
    }
});
