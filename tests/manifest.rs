//! The manifest is read strictly: every problem is reported at its line, and nothing is audited (exit 2).

mod common;

macro_rules! manifest_case {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let out = common::run(&["jobs", concat!("fixtures/manifest/", $name)]);
            assert!(out.starts_with("exit: 2\n"), "{out}");
            insta::assert_snapshot!($name, out);
        }
    };
}

manifest_case!(unknown_key, "unknown-key");
manifest_case!(wrong_types, "wrong-types");
manifest_case!(not_a_map, "not-a-map");
manifest_case!(duplicates, "duplicates");
manifest_case!(bad_paths, "bad-paths");
manifest_case!(missing_instance, "missing-instance");
manifest_case!(invalid_yaml, "invalid-yaml");
manifest_case!(no_manifest, "no-manifest");

#[test]
fn a_missing_directory_is_a_usage_error() {
    let out = common::run(&["jobs", "fixtures/manifest/does-not-exist"]);
    assert!(out.starts_with("exit: 2\n"), "{out}");
    assert!(out.contains("is not a snapshot directory (no such directory)"), "{out}");
}
