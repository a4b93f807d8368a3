"use strict";
// tokenscope's HTML report. Everything is built with textContent: no text from the data is parsed as HTML.
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const P = D.paths;
  const ROWS = 1000; // table rows drawn at most; the count says how many match
  const FINDINGS = 300;
  const SIDE = 40; // callers or callees drawn at most on each side of the graph
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const SVG = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };

  // The view lives in the URL fragment: #status=missing&callee=acme/api&select=acme/web
  const KEYS = ["caller", "callee", "status", "kind", "severity", "rule", "sort", "dir", "select"];
  const state = {};
  function readHash() {
    const q = new URLSearchParams(location.hash.slice(1));
    for (const k of KEYS) state[k] = q.get(k) || "";
  }
  function writeHash() {
    const q = new URLSearchParams();
    for (const k of KEYS) if (state[k]) q.set(k, state[k]);
    const h = q.toString();
    history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
  }
  const inputs = { caller: "f-caller", callee: "f-callee", status: "f-status", kind: "f-kind", severity: "f-severity", rule: "f-rule", select: "f-select" };

  function summary() {
    const s = D.summary;
    const box = $("summary");
    box.replaceChildren(
      el("div", { text: `${s.projects} project${s.projects === 1 ? "" : "s"}${s.failed ? ` (${s.failed} failed to load)` : ""}, ${s.edges} job-token edge${s.edges === 1 ? "" : "s"} (${s.statuses}).` }),
      el("div", { class: "counts" },
        el("span", { class: "sev-error", text: `${s.errors} error(s)` }),
        el("span", { class: "sev-warning", text: `${s.warnings} warning(s)` }),
        el("span", { class: "sev-note", text: `${s.notes} note(s)` }),
        el("span", { text: `${s.suppressed} suppressed` }),
        el("span", { class: "muted", text: `tokenscope ${D.version}` })));
  }

  function findings() {
    const box = $("findings");
    const rule = state.rule.toLowerCase();
    const shown = D.findings.filter((f) => (!state.severity || f.severity === state.severity) && (!rule || f.rule.includes(rule)));
    const out = shown.slice(0, FINDINGS).map((f) => {
      const head = el("div", {},
        el("span", { class: "sev-" + f.severity, text: f.severity }), " ",
        el("a", { href: f.docs, text: f.rule }), " ",
        el("span", { class: "mono", text: P[f.project] }), " ",
        el("span", { class: "muted mono", text: f.location }));
      const card = el("div", { class: "finding", "data-rule": f.rule }, head, el("div", { text: f.message }));
      if (f.help) card.append(el("div", { class: "help", text: "Fix: " + f.help }));
      if (f.snippet.length) {
        const pre = el("pre", { class: "mono" });
        for (const [n, text] of f.snippet) {
          pre.append(el("span", n === f.line ? { class: "hit" } : {}, String(n).padStart(5) + " │ " + text), n === f.line ? "" : "\n");
        }
        card.append(pre);
      }
      return card;
    });
    if (!shown.length) out.push(el("p", { class: "muted", text: "None." }));
    if (shown.length > FINDINGS) out.push(el("p", { class: "muted", text: `${shown.length - FINDINGS} more: filter by severity or rule to see them.` }));
    box.replaceChildren(...out);
  }

  function edgeMatches(e) {
    const has = (s, q) => !q || s.toLowerCase().includes(q.toLowerCase());
    return has(P[e[0]], state.caller) && has(P[e[1]], state.callee) && (!state.status || D.statuses[e[2]] === state.status) && has(e[3], state.kind);
  }

  function projectButton(i) {
    const b = el("button", { class: "project", type: "button", "data-path": P[i], text: P[i] });
    b.addEventListener("click", () => { state.select = P[i]; $("f-select").value = P[i]; update(); $("graph-section").scrollIntoView(); });
    return b;
  }

  function edges() {
    let rows = D.edges.filter(edgeMatches);
    const col = state.sort === "" ? -1 : Number(state.sort);
    if (col >= 0) {
      const key = (e) => (col <= 1 ? P[e[col]] : col === 2 ? D.statuses[e[2]] : e[col]);
      const dir = state.dir === "desc" ? -1 : 1;
      rows = rows.slice().sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : 0));
    }
    for (const th of document.querySelectorAll("#edges th[data-col]")) {
      th.setAttribute("aria-sort", th.dataset.col === state.sort ? (state.dir === "desc" ? "descending" : "ascending") : "none");
    }
    const body = document.querySelector("#edges tbody");
    body.replaceChildren(...rows.slice(0, ROWS).map((e) => {
      const status = D.statuses[e[2]];
      const ev = e[5].join(", ") + (e[6] ? ` (+${e[6]} more)` : "");
      return el("tr", { "data-status": status },
        el("td", {}, projectButton(e[0])), el("td", {}, projectButton(e[1])),
        el("td", { text: e[3] }), el("td", { text: e[4] }),
        el("td", { class: "status-" + status, text: status }), el("td", { class: "mono", text: ev }));
    }));
    $("edge-count").textContent = `${rows.length} of ${D.edges.length} edges`;
    $("more").textContent = rows.length > ROWS ? `Showing the first ${ROWS}: filter to see the others.` : "";
  }

  const COLOUR = { missing: "#c62828", unenforced: "#b26a00", allowed: "#2e7d32", self: "#2e7d32" };

  function graph() {
    const box = $("graph");
    const sel = P.indexOf(state.select);
    if (sel < 0) {
      box.replaceChildren(el("p", { class: "muted", text: state.select ? `No project ${state.select} in this report.` : "No project selected." }));
      return;
    }
    const callers = D.edges.filter((e) => e[1] === sel && e[0] !== sel);
    const callees = D.edges.filter((e) => e[0] === sel && e[1] !== sel);
    const rowH = 26, width = 1100, colW = 330;
    const rows = Math.max(1, Math.min(SIDE, callers.length) + (callers.length > SIDE), Math.min(SIDE, callees.length) + (callees.length > SIDE));
    const height = rows * rowH + 40;
    const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `callers and callees of ${P[sel]}` });
    const mid = { x: width / 2, y: height / 2 };
    const node = (x, y, path, cls) => {
      const g = svg("g", { class: "node " + cls, "data-path": path, transform: `translate(${x},${y})` });
      const t = svg("text", { x: 0, y: 4, "text-anchor": "middle" });
      t.textContent = path.length > 44 ? "…" + path.slice(-43) : path;
      const r = svg("rect", { x: -colW / 2, y: -10, width: colW, height: 20, rx: 4, fill: cls === "selected" ? "#e3ecfd" : "#fff", stroke: "#999" });
      g.append(r, t);
      g.addEventListener("click", () => { if (path !== P[sel] && P.includes(path)) { state.select = path; $("f-select").value = path; update(); } });
      return g;
    };
    const side = (list, x, incoming) => {
      const shown = list.slice(0, SIDE);
      const top = mid.y - ((shown.length + (list.length > SIDE)) * rowH) / 2 + rowH / 2;
      shown.forEach((e, i) => {
        const y = top + i * rowH;
        const status = D.statuses[e[2]];
        const x1 = incoming ? x + colW / 2 : mid.x + colW / 2, x2 = incoming ? mid.x - colW / 2 : x - colW / 2;
        const y1 = incoming ? y : mid.y, y2 = incoming ? mid.y : y;
        const line = svg("line", { x1, y1, x2, y2, stroke: COLOUR[status] || "#777", "stroke-width": 1.5, class: "edge", "data-status": status });
        const title = svg("title");
        title.textContent = `${P[e[0]]} → ${P[e[1]]}: ${status} (${e[3]})`;
        line.append(title);
        root.append(line, node(x, y, P[incoming ? e[0] : e[1]], incoming ? "caller" : "callee"));
      });
      if (list.length > SIDE) {
        const t = svg("text", { x, y: top + SIDE * rowH + 4, "text-anchor": "middle", class: "more" });
        t.textContent = `+${list.length - SIDE} more`;
        root.append(t);
      }
    };
    side(callers, colW / 2 + 10, true);
    side(callees, width - colW / 2 - 10, false);
    root.append(node(mid.x, mid.y, P[sel], "selected"));
    box.replaceChildren(el("p", { text: `${P[sel]}: ${callers.length} caller(s), ${callees.length} callee(s). Red: missing, orange: unenforced, green: allowed.` }), root);
  }

  function allowlists() {
    const box = $("allowlists");
    const q = state.callee.toLowerCase();
    const list = D.allowlists.filter((a) => !q || P[a[0]].toLowerCase().includes(q));
    const out = list.slice(0, 300).map(([callee, enforced, entries]) => {
      const d = el("details", { class: "callee", "data-path": P[callee] },
        el("summary", {}, el("span", { class: "mono", text: P[callee] }), " ",
          el("span", { class: "muted", text: `${enforced ? "enforced" : "NOT enforced"}, ${entries.length} entr${entries.length === 1 ? "y" : "ies"}` })));
      d.addEventListener("toggle", () => {
        if (!d.open || d.querySelector("table")) return;
        const t = el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "entry" }), el("th", { text: "kind" }), el("th", { text: "permissions" }), el("th", { text: "used by" }))));
        const tb = el("tbody");
        for (const [path, group, perms, users] of entries) {
          tb.append(el("tr", {}, el("td", { class: "mono", text: P[path] }), el("td", { text: group ? "group" : "project" }),
            el("td", { text: perms === null ? "default (everything the role allows)" : perms }),
            el("td", { class: "mono", text: users.length ? users.map((u) => P[u]).join(", ") : "no job in the snapshot" })));
        }
        t.append(tb);
        d.append(t);
      });
      return d;
    });
    if (list.length > 300) out.push(el("p", { class: "muted", text: `${list.length - 300} more callees: filter by callee.` }));
    box.replaceChildren(...out);
  }

  function update() {
    writeHash();
    edges();
    findings();
    graph();
    allowlists();
  }

  readHash();
  const status = $("f-status");
  for (const s of D.statuses) status.append(el("option", { text: s }));
  const dl = $("project-list");
  dl.replaceChildren(...P.map((p) => el("option", { value: p })));
  for (const [k, id] of Object.entries(inputs)) {
    const input = $(id);
    input.value = state[k];
    input.addEventListener(input.tagName === "SELECT" ? "change" : "input", () => { state[k] = input.value; update(); });
  }
  for (const th of document.querySelectorAll("#edges th[data-col]")) {
    th.addEventListener("click", () => {
      state.dir = state.sort === th.dataset.col && state.dir !== "desc" ? "desc" : "";
      state.sort = th.dataset.col;
      update();
    });
  }
  window.addEventListener("hashchange", () => { readHash(); for (const [k, id] of Object.entries(inputs)) $(id).value = state[k]; update(); });
  // Section links scroll without touching the fragment, which holds the view.
  for (const a of document.querySelectorAll("nav a[data-go]")) {
    a.addEventListener("click", (ev) => { ev.preventDefault(); $(a.dataset.go).scrollIntoView(); });
  }
  summary();
  update();
  document.body.dataset.ready = "1";
})();
