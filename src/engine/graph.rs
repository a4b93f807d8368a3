//! The caller -> callee graph of the org, built once with petgraph and queried by the audit.
//!
//! Nodes are projects (and targets outside the snapshot); edges are job-token accesses aggregated per
//! (caller, callee), plus the non-token relations `trigger:` (multi-project pipelines) and
//! `include: project:`, which GitLab runs with the user's rights rather than the job token.

use crate::ci::Pipeline;
use crate::detect::{Access, Target};
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub(crate) enum Relation {
    /// The caller's jobs use the job token against the callee.
    Token,
    /// `trigger: project:` (not a job-token access).
    Trigger,
    /// `include: project:` / a component (not a job-token access).
    Include,
}

impl Relation {
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct EdgeData {
    pub(crate) relation: Relation,
    /// For token edges: indexes into the audit's access list. For relations: their spans.
    pub(crate) accesses: Vec<usize>,
    pub(crate) spans: Vec<crate::source::Span>,
}

#[derive(Default)]
pub(crate) struct OrgGraph {
    pub(crate) graph: DiGraph<String, EdgeData>,
    nodes: HashMap<String, NodeIndex>,
    edges: HashMap<(NodeIndex, NodeIndex, Relation), petgraph::graph::EdgeIndex>,
}

/// The node name of a target: the project path, the foreign host and path, or the raw expression.
pub(crate) fn target_name(t: &Target) -> String {
    match t {
        Target::Project(p) => p.clone(),
        Target::Foreign(h) => h.clone(),
        Target::Unresolved(u) => u.name(),
    }
}

impl OrgGraph {
    fn node(&mut self, name: &str) -> NodeIndex {
        if let Some(&i) = self.nodes.get(name) {
            return i;
        }
        let i = self.graph.add_node(name.to_string());
        self.nodes.insert(name.to_string(), i);
        i
    }

    fn edge(&mut self, from: &str, to: &str, relation: Relation) -> &mut EdgeData {
        let (a, b) = (self.node(from), self.node(to));
        let idx = match self.edges.get(&(a, b, relation)) {
            Some(&e) => e,
            None => {
                let e = self.graph.add_edge(a, b, EdgeData { relation, accesses: Vec::new(), spans: Vec::new() });
                self.edges.insert((a, b, relation), e);
                e
            }
        };
        &mut self.graph[idx]
    }

    /// Build the graph from every project's accesses and relations.
    pub(crate) fn build<'p>(
        projects: impl Iterator<Item = &'p str>,
        pipelines: &[Pipeline],
        accesses: &[Access],
    ) -> OrgGraph {
        let mut g = OrgGraph::default();
        for p in projects {
            g.node(p);
        }
        for (i, a) in accesses.iter().enumerate() {
            g.edge(&a.caller, &target_name(&a.target), Relation::Token).accesses.push(i);
        }
        for p in pipelines {
            for job in &p.jobs {
                if let Some(t) = &job.trigger
                    && let Some(proj) = &t.project
                {
                    let target = job.vars.expand(proj);
                    g.edge(&p.project, &target, Relation::Trigger).spans.push(t.span);
                }
            }
            for inc in &p.includes {
                if inc.project != p.project && inc.kind != crate::ci::include::IncludeKind::Local {
                    g.edge(&p.project, &inc.project, Relation::Include).spans.push(inc.from);
                }
            }
        }
        g
    }

    /// Every edge: (caller, callee, data).
    pub(crate) fn edges(&self) -> impl Iterator<Item = (&str, &str, &EdgeData)> {
        self.graph.edge_indices().map(|e| {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge");
            (self.graph[a].as_str(), self.graph[b].as_str(), &self.graph[e])
        })
    }

    /// Projects that reach `callee` with the job token.
    pub(crate) fn token_callers(&self, callee: &str) -> Vec<&str> {
        let Some(&i) = self.nodes.get(callee) else { return vec![] };
        let mut out: Vec<&str> = self
            .graph
            .edges_directed(i, Direction::Incoming)
            .filter(|e| e.weight().relation == Relation::Token)
            .map(|e| self.graph[petgraph::visit::EdgeRef::source(&e)].as_str())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}
