//! The script scanner on arbitrary script text: no panic.
#![no_main]
use gitlab_ci::source::{SourceFile, SourceMap};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else { return };
    let sm = SourceMap::new();
    let yaml = format!("job:\n  variables:\n    T: $CI_JOB_TOKEN\n  script:\n    - {script:?}\n");
    let id = sm.add(SourceFile::new("t.yml".into(), None, None, Arc::from(yaml.as_str())));
    if let Ok(parsed) = gitlab_ci::yaml::parse(&sm, id)
        && let Some(gitlab_ci::yaml::Value::Map(m)) = parsed.docs.into_iter().next().map(|d| d.value)
    {
        let (jobs, _) = gitlab_ci::jobs::build(m, &Default::default(), false, false, &mut Vec::new());
        for job in &jobs {
            let _ = tokenscope::detect::script::Script::parse(job, &sm);
        }
    }
});
