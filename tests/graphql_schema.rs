//! The fake GitLab validates against tests/graphql/gitlab-job-token.graphql, a copy of the reference
//! schema subset (../shared/reference/gitlab-graphql-job-token.graphql) kept in the repository so that the
//! live tests run everywhere. When the reference is present, the copy must be it.

mod common;

#[test]
fn the_vendored_schema_is_the_reference() {
    let reference = common::root().join("../shared/reference/gitlab-graphql-job-token.graphql");
    let Ok(expected) = std::fs::read_to_string(&reference) else {
        common::say(
            "skipped: ../shared/reference/gitlab-graphql-job-token.graphql is absent; the vendored copy is not compared",
        );
        return;
    };
    let copy = std::fs::read_to_string(common::root().join("tests/graphql/gitlab-job-token.graphql")).unwrap();
    // The copy is the reference with a four-line header saying what it is.
    let body: String = copy.lines().skip(4).map(|l| format!("{l}\n")).collect();
    assert_eq!(body, expected, "tests/graphql/gitlab-job-token.graphql differs from the reference: copy it again");
}
