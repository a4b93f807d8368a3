//! `tokenscope apply PLAN` and `tokenscope rollback JOURNAL`: a plan sent to a live GitLab with GraphQL,
//! each change journalled before it is made, and the journal's prior states restored.

use crate::cli::args::{ApplyArgs, RollbackArgs};
use crate::cli::error::Error;
use crate::cli::live;
use crate::cli::terminal::Terminal;
use crate::gitlab::client::{Client, Credential};
use crate::policy::Exit;
use crate::remediate::apply::{self, Journal, Record};
use crate::remediate::{Plan, VERSION, render};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

/// `STEM.jsonl`, or `STEM-2.jsonl`, … : a journal name no file has yet (two runs in one second).
fn fresh(stem: &str) -> PathBuf {
    (1..)
        .map(|n| PathBuf::from(if n == 1 { format!("{stem}.jsonl") } else { format!("{stem}-{n}.jsonl") }))
        .find(|p| !p.exists())
        .expect("a free name")
}

/// Read a plan's JSON; an error names the file, line and column.
fn read_plan(path: &Path) -> Result<Plan, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Io { what: format!("read {}", path.display()), source: e })?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        Error::usage(format!("{}:{}:{}: not a tokenscope plan: {e}", path.display(), e.line(), e.column()))
    })?;
    if plan.version != VERSION {
        return Err(Error::usage(format!("{}: plan version {} is not {VERSION}", path.display(), plan.version)));
    }
    Ok(plan)
}

/// The token for changing settings: a personal, project or group access token (GraphQL refuses job tokens).
fn token(term: &Terminal, token_file: Option<&Path>) -> Result<Credential, Error> {
    match live::credential(term, token_file)? {
        Some(c @ Credential::Private(_)) => Ok(c),
        Some(_) => Err(Error::usage(
            "a CI job token cannot change allowlists (GraphQL refuses it): pass --token-file or GITLAB_TOKEN with a Maintainer's token",
        )),
        None => Err(Error::usage("changing allowlists needs a token: pass --token-file, or set GITLAB_TOKEN")),
    }
}

/// Ask on the terminal; without one, `--yes` is required.
fn confirm(term: &Terminal, yes: bool, question: &str) -> Result<bool, Error> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage("standard input is not a terminal: pass --yes to proceed without confirmation"));
    }
    term.say(&format!("{question} Type `yes` to proceed:"));
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Io { what: "read the answer".into(), source: e })?;
    Ok(answer.trim() == "yes")
}

fn client(url: &str, credential: Credential, args: &crate::cli::args::ConnectionArgs) -> Result<Client, Error> {
    live::client(url, credential, args)
}

/// What happened, on standard error, and the exit code: 0 when everything was applied.
fn report(term: &Terminal, what: &str, o: &apply::Outcome) -> Exit {
    term.say(&format!(
        "{what}: {} project(s) changed, {} already as planned, {} refused, {} failed",
        o.applied,
        o.unchanged,
        o.refused.len(),
        o.failed.len()
    ));
    for (p, why) in &o.refused {
        term.say(&format!("refused: {}: {}", crate::text::clean(p), crate::text::clean(why)));
    }
    for (p, why) in &o.failed {
        term.say(&format!("failed: {}: {}", crate::text::clean(p), crate::text::clean(why)));
    }
    if o.refused.is_empty() && o.failed.is_empty() { Exit::Ok } else { Exit::Findings }
}

pub(crate) fn run(args: ApplyArgs, term: &Terminal) -> Result<Exit, Error> {
    let plan_path = args.plan.clone().ok_or_else(|| Error::usage("which plan? pass the plan's JSON file"))?;
    let plan = read_plan(&plan_path)?;
    if args.dry_run {
        let mut out = String::new();
        for c in &plan.changes {
            if let Some(r) = apply::request(c) {
                out.push_str(&serde_json::to_string(&r.json()).expect("json"));
                out.push('\n');
            }
        }
        term.stdout(&crate::text::redact(&out))?;
        term.say(&format!("dry run: {} request(s), nothing sent", plan.changes.len()));
        return Ok(Exit::Ok);
    }
    let url = args
        .url
        .clone()
        .or_else(|| (!plan.instance.is_empty()).then(|| plan.instance.clone()))
        .or_else(|| live::env_value("CI_SERVER_URL"))
        .ok_or_else(|| Error::usage("which GitLab? pass --url"))?;
    if plan.changes.is_empty() {
        term.say("the plan has no changes: nothing to apply");
        return Ok(Exit::Ok);
    }
    let credential = token(term, args.token_file.as_deref())?;
    if !args.yes && std::io::stdin().is_terminal() {
        term.say(&crate::text::clean(&render::human(&plan)));
    }
    let projects = plan.changes.iter().map(|c| c.project.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    if !confirm(term, args.yes, &format!("Apply {} change(s) to {projects} project(s) of {url}?", plan.changes.len()))?
    {
        term.say("nothing applied");
        return Ok(Exit::Usage);
    }
    let (mut journal, priors) = match &args.resume {
        Some(path) => {
            let records = apply::read_journal(path).map_err(Error::usage)?;
            let priors: BTreeMap<String, crate::remediate::Basis> =
                apply::priors(&records).into_iter().map(|b| (b.project.clone(), b)).collect();
            let j = Journal::append(path, &records)
                .map_err(|e| Error::Io { what: format!("open {}", path.display()), source: e })?;
            (j, priors)
        }
        None => {
            let path = args
                .journal
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("tokenscope-journal-{}.jsonl", crate::date::timestamp())));
            let j = Journal::create(&path).map_err(|e| Error::Io {
                what: format!("create the journal {} (it must not exist)", path.display()),
                source: e,
            })?;
            (j, BTreeMap::new())
        }
    };
    term.say(&format!("journal: {}", journal.path.display()));
    let io = |e: std::io::Error| Error::Io { what: "write the journal".into(), source: e };
    journal.write(&Record::Start { instance: url.clone(), version: VERSION }).map_err(io)?;
    let client = client(&url, credential, &args.connection)?;
    let say = |p: &str| term.info(&format!("applying {}", crate::text::clean(p)));
    let outcome = live::runtime()?
        .block_on(apply::apply(&client, &plan, &mut journal, &priors, args.refresh, &say))
        .map_err(Error::live)?;
    let exit = report(term, "apply", &outcome);
    if exit != Exit::Ok {
        term.say(&format!("to undo what was applied: tokenscope rollback {}", journal.path.display()));
    }
    Ok(exit)
}

pub(crate) fn rollback(args: RollbackArgs, term: &Terminal) -> Result<Exit, Error> {
    let records = apply::read_journal(&args.journal).map_err(Error::usage)?;
    let instance =
        records.iter().find_map(|r| if let Record::Start { instance, .. } = r { Some(instance.clone()) } else { None });
    let url = args.url.clone().or(instance).ok_or_else(|| Error::usage("which GitLab? pass --url"))?;
    let priors = apply::priors(&records);
    if priors.is_empty() {
        term.say("the journal records no change: nothing to roll back");
        return Ok(Exit::Ok);
    }
    let credential = token(term, args.token_file.as_deref())?;
    if !confirm(
        term,
        args.yes,
        &format!("Restore the settings of {} project(s) of {url} as the journal recorded them?", priors.len()),
    )? {
        term.say("nothing rolled back");
        return Ok(Exit::Usage);
    }
    let path = fresh(&format!("{}.rollback-{}", args.journal.display(), crate::date::timestamp()));
    let mut journal =
        Journal::create(&path).map_err(|e| Error::Io { what: format!("create {}", path.display()), source: e })?;
    term.say(&format!("rollback journal: {}", path.display()));
    journal
        .write(&Record::Start { instance: url.clone(), version: VERSION })
        .map_err(|e| Error::Io { what: "write the journal".into(), source: e })?;
    let client = client(&url, credential, &args.connection)?;
    let outcome = live::runtime()?.block_on(apply::rollback(&client, &records, &mut journal)).map_err(Error::live)?;
    Ok(report(term, "rollback", &outcome))
}
