//! The command line, as clap reads it: every command, its arguments and their documentation. Nothing here
//! runs anything; `commands/` does.

use crate::policy::FailOn;
use crate::report::Format;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "tokenscope", version, about = "Audit GitLab CI/CD job-token allowlists")]
pub(crate) struct Cli {
    /// When to colour output: `auto` colours a stream that is a terminal, unless NO_COLOR is set;
    /// CLICOLOR_FORCE or FORCE_COLOR colour it anyway (GitLab job logs show colour).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
    /// Print less on standard error: no progress or information lines (warnings and errors still are).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Print more on standard error: each stage's time and peak memory, the policy file used.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

// Exit codes, per command: shown by `--help` and in the man pages (`tokenscope man COMMAND`).
const EXIT_AUDIT: &str = "Exit codes:\n  0  no finding at or above --fail-on (default: error, or the policy's fail_on)\n  1  a finding at or above it\n  2  a usage, manifest or policy error: nothing was audited\n  3  some project or data could not be read; the rest was audited and reported (never with --fail-on never)";
const EXIT_SNAPSHOT: &str = "Exit codes:\n  0  the snapshot was written (what could not be read is recorded under `skipped:`)\n  2  a usage error, or the instance could not be read at all";
const EXIT_PLAN: &str = "Exit codes:\n  0  the plan was computed from complete input\n  2  a usage or input error\n  3  some input could not be read: every entry it could concern is kept";
const EXIT_APPLY: &str = "Exit codes:\n  0  every change was applied, or was already in effect\n  1  some project was refused (its settings drifted) or a change failed; the journal says which\n  2  a usage error, or nothing could be applied";
const EXIT_ROLLBACK: &str = "Exit codes:\n  0  every recorded project was restored\n  1  some restore failed; the journal of the rollback says which\n  2  a usage error";
const EXIT_EXPLAIN: &str = "Exit codes:\n  0  the log was read (the verdicts say what was found, `unknown` included)\n  2  a usage error, or the log could not be read";
const EXIT_GRAPH: &str = "Exit codes:\n  0  the graph was drawn\n  2  a usage or input error\n  3  some project could not be read: edges from it may be missing";
const EXIT_ROLLOUT: &str = "Exit codes:\n  0  the rollout was computed (`rollout status`: no regression and no new caller)\n  1  `rollout status` found a regression or a new caller no entry covers\n  2  a usage or input error\n  3  some input could not be read";
const EXIT_OTHER: &str = "Exit codes:\n  0  success\n  2  a usage error";

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Audit a snapshot: find every job-token access, diff it against the allowlists, report what is
    /// missing, unused or too broad.
    #[command(after_long_help = EXIT_AUDIT)]
    Audit(AuditArgs),
    /// Read a group or projects from a live GitLab and write a snapshot directory, for offline audits.
    #[command(after_long_help = EXIT_SNAPSHOT)]
    Snapshot(SnapshotArgs),
    /// Lint one project in its own merge-request pipeline: its job-token accesses and token mistakes.
    #[command(after_long_help = EXIT_AUDIT)]
    Lint(LintArgs),
    /// Compute each callee's least-privilege allowlist and the changes that reach it, with reasons and
    /// evidence; optionally written as a manifest, GraphQL, Terraform or gitlabform (`--emit`).
    #[command(after_long_help = EXIT_PLAN)]
    Plan(PlanArgs),
    /// Apply a plan (`plan --format json`) to a live GitLab, journalled so that `rollback` can undo it.
    #[command(after_long_help = EXIT_APPLY)]
    Apply(ApplyArgs),
    /// Restore the settings an `apply` changed, from its journal.
    #[command(after_long_help = EXIT_ROLLBACK)]
    Rollback(RollbackArgs),
    /// Read a failed job's log: each job-token failure in it, which access failed, why, and the fix.
    #[command(after_long_help = EXIT_EXPLAIN)]
    Explain(ExplainArgs),
    /// Who reaches whom: the callers of a project (and the allowlist entries that let each in), the projects
    /// it reaches (and whose allowlists name it), or a path between two projects.
    #[command(after_long_help = EXIT_GRAPH)]
    Graph(GraphArgs),
    /// A staged enforcement plan: which projects can enforce their allowlist now, which after the plan's
    /// additions, which a human must look at first; what to watch, and what an instance-wide switch breaks.
    #[command(after_long_help = EXIT_ROLLOUT)]
    Rollout(RolloutArgs),
    /// Print every project's resolved CI jobs (includes, extends, references, variables and matrices applied).
    #[command(after_long_help = EXIT_GRAPH)]
    Jobs(JobsArgs),
    /// List every rule with its id, default severity, summary and documentation anchor.
    #[command(after_long_help = EXIT_OTHER)]
    Rules,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print a man page (roff), made from these command-line definitions: tokenscope's, or one command's
    /// (`tokenscope man audit`); `--dir DIR` writes every page (tokenscope.1, tokenscope-audit.1, ...).
    #[command(after_long_help = EXIT_OTHER)]
    Man {
        /// The command whose page to print.
        command: Option<String>,
        /// Write every page into this directory instead.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<PathBuf>,
    },
}

/// `--format`: the report's own formats, named as `report::Format` names them.
impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        <Format as strum::VariantArray>::VARIANTS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// `--fail-on`: the policy's own values.
impl ValueEnum for FailOn {
    fn value_variants<'a>() -> &'a [Self] {
        use crate::diag::Severity;
        &[FailOn::At(Severity::Error), FailOn::At(Severity::Warning), FailOn::At(Severity::Note), FailOn::Never]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            FailOn::At(s) => s.as_str(),
            FailOn::Never => "never",
        }))
    }
}

/// `--report FORMAT=FILE`.
fn parse_report(s: &str) -> Result<(Format, PathBuf), String> {
    let (f, file) = s.split_once('=').ok_or_else(|| format!("expected FORMAT=FILE, found `{s}`"))?;
    let format = <Format as ValueEnum>::from_str(f, true).map_err(|_| {
        let names: Vec<&str> = <Format as strum::VariantArray>::VARIANTS.iter().map(|v| v.name()).collect();
        format!("unknown format `{f}`; the formats are {}", names.join(", "))
    })?;
    if file.is_empty() {
        return Err(format!("`{s}` names no file"));
    }
    Ok((format, PathBuf::from(file)))
}

/// Options shared by `audit` and `lint`: what to print and write, the policy, what fails the run.
#[derive(clap::Args, Debug)]
pub(crate) struct OutputArgs {
    /// The report's format: `human` for a terminal; `json` (the stable contract); `markdown` (the edge-table
    /// report); `html` (one self-contained page); `csv`; `sarif`; `codequality`, `junit`, `secret-detection`
    /// and `sast` (GitLab's report artifacts); `dot` and `mermaid` (the graph). See docs/output-formats.md.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,
    /// Write the `--format` output to this file instead of standard output (`-`: standard output).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Also write FORMAT to FILE (repeatable), e.g. `--report codequality=gl-code-quality.json --report junit=junit.xml`.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report)]
    pub(crate) reports: Vec<(Format, PathBuf)>,
    /// Audit policy (rules, severities, thresholds, fail_on, ignores); default: `.tokenscope.yml` (or
    /// `.tokenscope.yaml`) in the snapshot (or DIR).
    #[arg(long, conflicts_with = "no_config")]
    pub(crate) config: Option<PathBuf>,
    /// Use no policy file: every rule at its default severity.
    #[arg(long)]
    pub(crate) no_config: bool,
    /// Exit with 1 when a finding is at or above this severity [default: error, or the policy's `fail_on`].
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOn>,
    /// Report every finding: ignore neither the policy's `ignores` nor `# tokenscope: ignore[...]` comments.
    #[arg(long)]
    pub(crate) no_ignores: bool,
    /// Report only findings that are not in this baseline (written by `--write-baseline`): the ones it holds
    /// are counted as suppressed. For adopting tokenscope on an org with many existing findings.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Write every finding of this run (after ignores) to FILE as a baseline, by fingerprint.
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Where the rules' documentation is published: links in SARIF (`helpUri`), Code Quality, Markdown and HTML.
    #[arg(long, value_name = "URL", env = "TOKENSCOPE_DOCS_URL", default_value = crate::rules::meta::DOCS_URL, value_parser = parse_docs_url)]
    pub(crate) docs_url: String,
}

impl OutputArgs {
    /// What the report needs to know beyond the audit.
    pub(crate) fn context(&self, lint: bool, commit: Option<String>) -> crate::report::Context {
        crate::report::Context { docs_url: self.docs_url.clone(), lint, commit }
    }
}

/// An absolute http(s) URL: a relative one leads nowhere for anyone holding only the report.
fn parse_docs_url(s: &str) -> Result<String, String> {
    if (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && !s.contains(char::is_whitespace)
    {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not an absolute http(s) URL"))
    }
}

/// Where and how to read a live GitLab (`snapshot`, and `audit` without a snapshot directory).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct LiveArgs {
    /// The GitLab instance [default: $CI_SERVER_URL].
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// A group to read, with all its subgroups (repeatable).
    #[arg(long = "group", value_name = "PATH")]
    pub(crate) groups: Vec<String>,
    /// A single project to read (repeatable).
    #[arg(long = "project", value_name = "PATH")]
    pub(crate) projects: Vec<String>,
    /// The API that reads projects and their settings: GraphQL reads a page of projects per request
    /// (`auto`: GraphQL unless the token is a job token, REST if GraphQL cannot list a group).
    #[arg(long, value_enum, default_value_t = crate::gitlab::fetch::Api::Auto)]
    pub(crate) api: crate::gitlab::fetch::Api,
    /// Read the API token from this file [default: $GITLAB_TOKEN, else $CI_JOB_TOKEN]. There is no option that
    /// takes a token itself: command lines end up in shell histories and process lists.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

/// How to talk to the instance (every command that reads the API).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ConnectionArgs {
    /// Requests in flight at most.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,
    /// Requests per second at most (default: no limit beyond the server's own).
    #[arg(long, value_name = "N", conflicts_with = "max_rpm")]
    pub(crate) max_rps: Option<f64>,
    /// Requests per minute at most [default: 1000 on gitlab.com, half its authenticated limit; no limit
    /// elsewhere]. A server's `RateLimit-Remaining: 0` also pauses until its `RateLimit-Reset`.
    #[arg(long, value_name = "N")]
    pub(crate) max_rpm: Option<f64>,
    /// Requests the run may send at most: past it, tokenscope stops with an error (nothing half-written is
    /// kept).
    #[arg(long, value_name = "N")]
    pub(crate) max_requests: Option<usize>,
    /// Seconds before one request times out.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub(crate) timeout: u64,
    /// Retries of a request that failed with 429, 500, 502, 503, 504, a timeout or a dropped connection.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub(crate) retries: usize,
    /// Extra root certificates (PEM) for a self-managed instance; the system's roots are used as well.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// First retry delay in milliseconds (doubled on each retry, with jitter).
    #[arg(long, default_value_t = 500, hide = true)]
    pub(crate) retry_delay_ms: u64,
    /// Rows one paginated listing (a group's projects, an allowlist) may hold before tokenscope stops with an
    /// error: a server that never stops paginating cannot fill memory.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub(crate) max_list_rows: usize,
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct SnapshotArgs {
    #[command(subcommand)]
    pub(crate) command: Option<SnapshotCommand>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    /// Only this shard of the listed projects (`I/N`, 1-based): split a large instance across parallel
    /// jobs, then `snapshot merge` their snapshots.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub(crate) shard: Option<(usize, usize)>,
    /// The directory to write (it must not exist, or be empty).
    #[arg(short, long, value_name = "DIR", default_value = "tokenscope-snapshot")]
    pub(crate) output: PathBuf,
    /// An earlier snapshot: the repository files of a project whose `last_activity_at` has not moved since
    /// are copied from it instead of fetched (settings are always read again).
    #[arg(long, value_name = "OLD_DIR")]
    pub(crate) since: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum SnapshotCommand {
    /// Merge snapshots of one instance (shards, or groups read apart) into one.
    Merge(MergeArgs),
}

#[derive(clap::Args, Debug)]
pub(crate) struct MergeArgs {
    /// The snapshots to merge.
    #[arg(required = true, num_args = 2..)]
    pub(crate) snapshots: Vec<PathBuf>,
    /// The directory to write (it must not exist, or be empty).
    #[arg(short, long, value_name = "DIR")]
    pub(crate) output: PathBuf,
}

/// `--shard I/N`.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("expected I/N, found `{s}`"))?;
    let (i, n): (usize, usize) = (
        i.parse().map_err(|_| format!("`{i}` is not a number"))?,
        n.parse().map_err(|_| format!("`{n}` is not a number"))?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(format!("`{s}`: I must be from 1 to N"));
    }
    Ok((i, n))
}

#[derive(clap::Args, Debug)]
pub(crate) struct AuditArgs {
    /// Snapshot directory (holding tokenscope.yaml); or read a live GitLab with --group/--project.
    #[arg(required_unless_present_any = ["groups", "projects"], conflicts_with_all = ["groups", "projects", "url"])]
    pub(crate) snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    #[command(flatten)]
    pub(crate) out: OutputArgs,
    /// `overbroad-group-entry`: only group entries covering at least this many snapshot projects [default: 3].
    #[arg(long)]
    pub(crate) overbroad_min_projects: Option<usize>,
    /// `overbroad-group-entry`: fires when fewer than this percentage of the covered projects are callers [default: 50].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub(crate) overbroad_max_used_percent: Option<u8>,
    /// Print how long each stage took (load, resolve, audit, render) to stderr.
    #[arg(long)]
    pub(crate) timings: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct LintArgs {
    /// The project's checkout.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
    /// The project's full path [default: $CI_PROJECT_PATH].
    #[arg(long)]
    pub(crate) project: Option<String>,
    /// A snapshot manifest holding the allowlists (allowlists as code); without it, each access is a note.
    #[arg(long)]
    pub(crate) manifest: Option<PathBuf>,
    /// The instance, when there is no manifest [default: $CI_SERVER_URL].
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Report only what the change introduces against this git revision [default: $CI_MERGE_REQUEST_DIFF_BASE_SHA].
    #[arg(long)]
    pub(crate) base: Option<String>,
    /// The project's CI configuration file, as in its CI/CD settings (`.gitlab/ci.yml`,
    /// `ci.yml@group/project`) [default: $CI_CONFIG_PATH, else `.gitlab-ci.yml`].
    #[arg(long, value_name = "PATH")]
    pub(crate) ci_config: Option<String>,
    /// Read the API token from this file [default: $GITLAB_TOKEN, else $CI_JOB_TOKEN]. With a token and no
    /// --manifest, `include: project:` files and the allowlists of the projects the jobs reach are read from
    /// the instance.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// Do not read anything from the instance's API.
    #[arg(long)]
    pub(crate) offline: bool,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    #[command(flatten)]
    pub(crate) out: OutputArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum JobsFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub(crate) struct JobsArgs {
    /// Snapshot directory (holding tokenscope.yaml).
    pub(crate) snapshot: PathBuf,
    /// Only this project (full path); may be repeated.
    #[arg(long = "project")]
    pub(crate) projects: Vec<String>,
    #[arg(long, value_enum, default_value_t = JobsFormat::Text)]
    pub(crate) format: JobsFormat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    Human,
    Json,
    Markdown,
}

#[derive(clap::Args, Debug)]
pub(crate) struct PlanArgs {
    /// Snapshot directory (holding tokenscope.yaml); or read a live GitLab with --group/--project.
    #[arg(required_unless_present_any = ["groups", "projects"], conflicts_with_all = ["groups", "projects"])]
    pub(crate) snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
    /// Write the plan (or, with --emit, what --emit makes) to this file instead of standard output.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Write the target state as KIND to --output: the snapshot manifest (allowlists as code), GraphQL
    /// mutations, Terraform, or gitlabform configuration. The plan itself then goes to standard output.
    #[arg(long, value_enum, value_name = "KIND", requires = "output")]
    pub(crate) emit: Option<crate::remediate::emit::Emit>,
    #[command(flatten)]
    pub(crate) inputs: PlanInputs,
    /// `owner:` of the entries `--emit manifest` adds [default: the caller they admit].
    #[arg(long)]
    pub(crate) owner: Option<String>,
    /// `expires:` (YYYY-MM-DD) of the entries `--emit manifest` adds.
    #[arg(long, value_name = "DATE")]
    pub(crate) expires: Option<String>,
}

/// What a plan is computed with (`plan` and `rollout`).
#[derive(clap::Args, Debug)]
pub(crate) struct PlanInputs {
    /// Audit policy (`never_group`, the overbroad-group-entry thresholds); default: `.tokenscope.yml` in the snapshot.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Authentication-log records at most this many days old count as needed accesses.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub(crate) observed_within: u32,
    /// The date the plan is computed for (YYYY-MM-DD) [default: today]: a plan of a snapshot is reproducible.
    #[arg(long, value_name = "DATE")]
    pub(crate) now: Option<String>,
    /// A group never to add as a whole when compacting (repeatable; added to the policy's `never_group`).
    #[arg(long = "never-group", value_name = "PATH")]
    pub(crate) never_group: Vec<String>,
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct RolloutArgs {
    #[command(subcommand)]
    pub(crate) command: Option<RolloutCommand>,
    /// Snapshot directory (holding tokenscope.yaml); or read a live GitLab with --group/--project.
    pub(crate) snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Write only this wave's changes, as a plan `tokenscope apply` reads (JSON), to --output.
    #[arg(long, value_name = "N", requires = "output")]
    pub(crate) wave: Option<usize>,
    #[command(flatten)]
    pub(crate) inputs: PlanInputs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum RolloutCommand {
    /// How a newer snapshot stands against the rollout of an older one: waves done, callers the
    /// authentication log shows that no allowlist covers yet, and what regressed.
    Status(RolloutStatusArgs),
}

#[derive(clap::Args, Debug)]
pub(crate) struct RolloutStatusArgs {
    /// The newer snapshot.
    pub(crate) snapshot: PathBuf,
    /// The snapshot the rollout was made from.
    #[arg(long, value_name = "OLD_SNAPSHOT")]
    pub(crate) since: PathBuf,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
    #[command(flatten)]
    pub(crate) inputs: PlanInputs,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ApplyArgs {
    /// The plan, as `tokenscope plan --format json` wrote it.
    #[arg(required_unless_present = "resume")]
    pub(crate) plan: Option<PathBuf>,
    /// The GitLab instance [default: the plan's instance, else $CI_SERVER_URL].
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Read the API token from this file [default: $GITLAB_TOKEN]. Changing allowlists needs Maintainer.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// Append to this journal (JSON lines) [default: a new tokenscope-journal-TIMESTAMP.jsonl here].
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub(crate) journal: Option<PathBuf>,
    /// Continue an interrupted apply: append to JOURNAL, keeping the prior states it recorded.
    #[arg(long, value_name = "JOURNAL")]
    pub(crate) resume: Option<PathBuf>,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    pub(crate) yes: bool,
    /// Send nothing: print the exact requests apply would send.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Apply to projects whose settings changed since the plan too, against their live settings: entries
    /// someone added since are kept, and a change to an entry someone removed is skipped.
    #[arg(long)]
    pub(crate) refresh: bool,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

#[derive(clap::Args, Debug)]
pub(crate) struct RollbackArgs {
    /// The journal `tokenscope apply` wrote.
    pub(crate) journal: PathBuf,
    /// The GitLab instance [default: the journal's instance].
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Read the API token from this file [default: $GITLAB_TOKEN].
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub(crate) yes: bool,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    Human,
    Json,
    Dot,
    Mermaid,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("query").required(true).args(["callers_of", "callees_of", "path"])))]
pub(crate) struct GraphArgs {
    /// Snapshot directory (holding tokenscope.yaml).
    pub(crate) snapshot: PathBuf,
    /// The projects that use the job token against PATH, and every allowlist entry of PATH with the
    /// projects it admits (group entries included).
    #[arg(long, value_name = "PATH")]
    pub(crate) callers_of: Option<String>,
    /// The projects PATH uses the job token against, and every allowlist (in the snapshot) that admits PATH.
    #[arg(long, value_name = "PATH")]
    pub(crate) callees_of: Option<String>,
    /// A shortest chain of job-token edges from FROM to TO.
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
    pub(crate) path: Option<Vec<String>>,
    #[arg(long, value_enum, default_value_t = GraphFormat::Human)]
    pub(crate) format: GraphFormat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExplainFormat {
    Human,
    Json,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ExplainArgs {
    /// The job log (a file, or `-` for standard input); or fetch it with --url, --project and --job-id.
    #[arg(required_unless_present = "job_id")]
    pub(crate) log: Option<PathBuf>,
    /// A snapshot: full paths for the short names GitLab prints, the CI line that made the access, and the
    /// allowlists to judge it against.
    #[arg(long, value_name = "DIR")]
    pub(crate) snapshot: Option<PathBuf>,
    /// The project whose job failed (its full path) [default: $CI_PROJECT_PATH].
    #[arg(long)]
    pub(crate) project: Option<String>,
    /// The failed job's name.
    #[arg(long)]
    pub(crate) job: Option<String>,
    /// Fetch the trace of this job of --project from --url.
    #[arg(long, value_name = "N", requires_all = ["project"], conflicts_with = "log")]
    pub(crate) job_id: Option<u64>,
    /// The GitLab instance to fetch the trace from [default: $CI_SERVER_URL].
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Read the API token from this file [default: $GITLAB_TOKEN].
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    pub(crate) format: ExplainFormat,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}
