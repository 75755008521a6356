// nsgsim classroom: renders what the server says (the same JSON as the CLI's --format json) and
// sends what the class does as actions of the scenario format. No framework, no build step.
// It never writes to the console: the end-to-end test treats any console output as a fault.
"use strict";

const $ = (id) => document.getElementById(id);
const LIMIT = 200; // rows drawn per list; the filter finds the rest
const NSGS = 10; // NSG tables drawn; the filter finds the rest

const ui = {
  session: null, info: null, state: null, jit: null, tab: "NotConfigured",
  rules: new Map(), requestCount: 0, playing: null, busy: false,
  editing: null, requesting: null,
};

// ---------------------------------------------------------------- the API

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const type = response.headers.get("Content-Type") || "";
  const data = type.startsWith("application/json") ? await response.json() : await response.text();
  if (!response.ok) {
    throw data && data.error ? data : { error: String(data), field: null };
  }
  return data;
}

const sessionPath = (rest) => `/api/sessions/${ui.session}${rest}`;

// ---------------------------------------------------------------- small DOM helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k in node && k !== "list") node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

function option(value, label, selected) {
  return el("option", { value, selected: !!selected }, label === undefined ? value : label);
}

// ---------------------------------------------------------------- outcomes

function showOutcome(kind, summary, lines) {
  const box = $("outcome");
  box.className = `panel ${kind}`;
  fill(box, el("p", { class: "summary", id: "outcome-summary" }, summary), (lines || []).map((l) => el("p", {}, l)));
}

function showError(e) {
  const field = e && e.field ? `${e.field}: ` : "";
  showOutcome("error", `Not done: ${field}${e && e.error ? e.error : e}`);
}

function showStep(result) {
  const step = result.step || result;
  const action = step.action;
  if (!action) return;
  const lines = [...(action.changes || []), ...(action.warnings || []).map((w) => `warning: ${w}`)];
  const marker = action.accepted ? "" : "REFUSED: ";
  showOutcome(action.accepted ? "accepted" : "refused", `${marker}${action.summary}`, lines);
}

// Runs one user operation: shows what went wrong, refreshes what changed.
// The user's actions run one after another: a click while an earlier action or the refresh after
// it is still in flight waits for it instead of being dropped (a "Try" right after a request used
// to vanish without a word on a loaded machine). The clock's play tick still skips while busy.
let pending = Promise.resolve();

function act(operation) {
  const run = pending.then(async () => {
    ui.busy = true;
    try {
      const result = await operation();
      await refresh();
      return result;
    } catch (e) {
      showError(e);
      await refresh().catch(() => {});
      return null;
    } finally {
      ui.busy = false;
    }
  });
  pending = run.catch(() => {});
  return run;
}

const sendAction = (action) => api("POST", sessionPath("/actions"), action);

// ---------------------------------------------------------------- rendering

function renderState() {
  const s = ui.state;
  $("title").textContent = `nsgsim classroom: ${s.scenario}`;
  document.title = `${s.scenario} · nsgsim classroom`;
  $("mode").textContent = s.mode;
  $("now").textContent = s.now.replace("T", " ");
  $("offset").textContent = `+${s.offset}`;
  $("next-expiry").textContent = s.next_expiry ? `next expiry at +${s.next_expiry.offset}` : "no grant to expire";
  $("description").textContent = s.description;
  const presenting = s.mode === "presenter";
  $("presenter").hidden = !presenting;
  $("present-next").hidden = !presenting;
  $("present-next").disabled = !s.presenter.next;
  $("to-sandbox").hidden = !presenting;
  $("jump-expiry").disabled = !s.next_expiry;
  for (const b of document.querySelectorAll("[data-sandbox]")) b.disabled = presenting;
  $("save").href = sessionPath("/scenario.ron");
  $("save").setAttribute("download", `${s.scenario}-lesson.ron`);
  if (presenting) {
    $("presenter-progress").textContent = `Step ${s.presenter.played} of ${s.presenter.total}`;
    const next = s.presenter.next;
    $("presenter-next").textContent = next
      ? `Next at +${next.offset}${next.note ? `: ${next.note}` : ""}`
      : "The timeline is over.";
  }
  if (s.caveats && s.caveats.length) {
    fill($("caveats"), el("strong", {}, `${s.caveats.length} caveat(s): `),
      s.caveats.map((c) => el("div", {}, `${c.kind} ${c.resource}: ${c.reason}`)));
    $("caveats").hidden = false;
  }
  renderFlow(s.last_flow);
  renderHistory();
}

function renderHistory() {
  const s = ui.state;
  const items = s.history.slice().reverse().map((step) => {
    const parts = [el("strong", {}, `+${step.offset} `)];
    if (step.kind === "event") parts.push(el("span", { class: "meta" }, "event: "));
    if (step.note) parts.push(el("span", { class: "note" }, `${step.note} `));
    if (step.action) {
      parts.push(el("span", { class: step.action.accepted ? "" : "refused" },
        `${step.action.accepted ? "" : "REFUSED "}${step.action.summary} `));
    }
    if (step.expect) {
      parts.push(el("span", { class: step.expect.passed ? "pass" : "fail" }, step.expect.passed ? "PASS " : "FAIL "),
        `${step.expect.description} (${step.expect.actual})`);
    }
    return el("li", {}, parts);
  });
  fill($("history-list"), items);
  $("history-more").textContent = s.history_total > s.history.length
    ? `${s.history_total} steps and events in all; the first and newest are shown.` : "";
}

function renderJit() {
  const page = ui.jit;
  for (const tab of ["Configured", "NotConfigured", "Unsupported"]) {
    const name = tab === "NotConfigured" ? "Not configured" : tab;
    $(`tab-${tab}`).textContent = `${name} (${page.counts[tab]})`;
    $(`tab-${tab}`).setAttribute("aria-selected", String(ui.tab === tab));
  }
  const shown = page.vms;
  const head = {
    Configured: ["VM", "Ports (protocol, sources, max)", "Approval", "Active access", "Warnings", ""],
    NotConfigured: ["VM", "", ""],
    Unsupported: ["VM", "Reason"],
  }[ui.tab];
  fill($("jit-table").tHead, el("tr", {}, head.map((h) => el("th", {}, h))));
  const body = shown.map((r) => {
    if (ui.tab === "Unsupported") return el("tr", {}, el("td", {}, r.vm), el("td", {}, r.reason));
    if (ui.tab === "NotConfigured") {
      return el("tr", {}, el("td", {}, r.vm), el("td", {},
        el("button", { type: "button", "data-sandbox": true, "data-act": "enable", "data-vm": r.vm,
          onclick: () => openEnable(r.vm, null) }, "Enable JIT")), el("td", {}));
    }
    const ports = r.ports.map((p) => `${p.number} ${p.protocol} from ${p.allowed_sources}, max ${p.max_duration}`);
    const grants = r.active_grants.map((g) => `${g.port} for ${g.requester} from ${g.source} until ${g.until.replace("T", " ")}`);
    return el("tr", {},
      el("td", {}, r.vm),
      el("td", {}, ports.map((p) => el("div", {}, p))),
      el("td", {}, r.approvers.length ? `by ${r.approvers.join(" or ")}` : "none"),
      el("td", {}, grants.length ? grants.map((g) => el("div", { class: "ok" }, g)) : "—"),
      el("td", {}, r.open_ports.map((o) => el("div", { class: "refused" }, o.warning))),
      el("td", {},
        el("button", { type: "button", "data-sandbox": true, "data-act": "request", "data-vm": r.vm, onclick: () => openRequest(r) }, "Request access"), " ",
        el("button", { type: "button", "data-sandbox": true, "data-act": "edit", "data-vm": r.vm, onclick: () => openEnable(r.vm, r) }, "Edit"), " ",
        el("button", { type: "button", "data-sandbox": true, "data-act": "disable", "data-vm": r.vm,
          onclick: () => act(async () => showStep(await sendAction({ DisableJit: { vm: r.vm, by: actor() } }))) }, "Disable")));
  });
  fill($("jit-table").tBodies[0], body);
  $("jit-more").textContent = page.matched > shown.length ? `showing ${shown.length} of ${page.matched}: filter to find the others` : "";
}

function renderRequests(requests) {
  const rows = requests.slice().reverse().slice(0, LIMIT).map((r) => {
    const buttons = [];
    if (r.status === "Pending") {
      buttons.push(el("button", { type: "button", "data-sandbox": true, "data-act": "approve", "data-request": r.id,
        onclick: () => act(async () => showStep(await sendAction({ ApproveJit: { request: r.id, by: actor() } }))) }, "Approve"), " ");
      buttons.push(el("button", { type: "button", "data-sandbox": true, "data-act": "deny", "data-request": r.id,
        onclick: () => act(async () => showStep(await sendAction({ DenyJit: { request: r.id, by: actor(), reason: "denied in class" } }))) }, "Deny"));
    }
    if (r.status === "Active") {
      buttons.push(el("button", { type: "button", "data-sandbox": true, "data-act": "revoke", "data-request": r.id,
        onclick: () => act(async () => showStep(await sendAction({ RevokeJit: { request: r.id, by: actor() } }))) }, "Revoke"));
    }
    return el("tr", { "data-request": r.id },
      el("td", {}, r.id), el("td", {}, r.requester),
      el("td", {}, r.ports.map((p) => `${p.vm}:${p.port}`).join(", ")),
      el("td", {}, r.source), el("td", {}, r.duration),
      el("td", { class: r.reason ? "refused" : "" }, r.status, r.reason ? `: ${r.reason}` : ""),
      el("td", {}, buttons));
  });
  fill($("requests-table").tBodies[0], rows.length ? rows : [el("tr", {}, el("td", { colSpan: 7, class: "meta" }, "No request yet."))]);
  ui.requestCount = Math.max(ui.requestCount, requests.length);
}

function ruleKey(r) { return `${r.direction} ${r.priority} ${r.name} ${r.access} ${r.source} ${r.destination} ${r.destination_ports}`; }

function renderNsgs(page) {
  const nsgs = page.nsgs;
  const list = $("nsg-list");
  const open = new Set([...list.querySelectorAll("details[open]")].map((d) => d.dataset.nsg));
  const first = ui.rules.size === 0;
  const blocks = nsgs.map((nsg) => {
    const before = ui.rules.get(nsg.name);
    const keys = new Set(nsg.rules.map(ruleKey));
    const added = before ? nsg.rules.filter((r) => !before.has(ruleKey(r))) : [];
    const removed = before ? [...before.values()].filter((r) => !keys.has(ruleKey(r))) : [];
    ui.rules.set(nsg.name, new Map(nsg.rules.map((r) => [ruleKey(r), r])));
    const changed = added.length + removed.length > 0;
    const row = (r, cls) => el("tr", { class: [cls, r.jit ? "jit-rule" : ""].join(" ").trim(), "data-rule": r.name },
      el("td", {}, r.direction), el("td", {}, r.priority),
      el("td", {}, r.name, " ", r.jit ? el("span", { class: "jit-tag" }, `JIT ${r.jit}`) : null),
      el("td", {}, r.access), el("td", {}, r.protocol), el("td", {}, r.source), el("td", {}, r.destination),
      el("td", {}, r.destination_ports));
    const addedKeys = new Set(added.map(ruleKey));
    const table = el("table", { "data-nsg": nsg.name },
      el("thead", {}, el("tr", {}, ["Direction", "Priority", "Name", "Access", "Protocol", "Source", "Destination", "Ports"].map((h) => el("th", {}, h)))),
      el("tbody", {}, nsg.rules.map((r) => row(r, addedKeys.has(ruleKey(r)) ? "added" : "")), removed.map((r) => row(r, "removed"))));
    const jitCount = nsg.rules.filter((r) => r.jit).length;
    const summary = `NSG ${nsg.name} · ${nsg.attached.join(", ") || "not associated"} · ${nsg.rules.length} rules${jitCount ? ` (${jitCount} JIT)` : ""}${changed ? ` · changed: +${added.length} −${removed.length}` : ""}`;
    return el("details", { "data-nsg": nsg.name, class: changed ? "changed" : "", open: changed || open.has(nsg.name) || (first && nsgs.length <= 4) },
      el("summary", {}, summary), table, el("p", { class: "meta" }, "Default rules (65000–65500) follow and cannot be changed."));
  });
  fill(list, blocks, page.matched > nsgs.length ? el("p", { class: "meta" }, `showing ${nsgs.length} of ${page.matched} NSGs: filter to find the others`) : null);
}

function renderLog(page) {
  const log = page.activity_log;
  const rows = log.slice().reverse().map((e) => el("tr", {},
    el("td", {}, e.time.replace("T", " ")), el("td", {}, e.caller), el("td", {}, e.operation),
    el("td", {}, e.resource), el("td", {}, e.status), el("td", {}, e.detail, e.extension ? " (nsgsim extension)" : "")));
  fill($("log-table").tBodies[0], rows);
  $("log-more").textContent = page.total > log.length ? `the newest ${log.length} of ${page.total} entries` : "";
}

function renderFlow(flow) {
  const verdict = $("verdict");
  if (!flow) {
    verdict.textContent = "—";
    verdict.className = "verdict";
    return;
  }
  verdict.textContent = flow.verdict;
  verdict.className = `verdict ${flow.verdict}`;
  $("verdict-detail").textContent = `${flow.from} → ${flow.to} ${flow.protocol} ${flow.port} at ${flow.at.replace("T", " ")}${flow.rule ? `, decided by ${flow.nsg ? `${flow.nsg} ` : ""}${flow.rule}` : ""}`;
  fill($("hops").tBodies[0], flow.hops.map((h) => el("tr", { class: h.access === "Deny" ? "refused" : "" },
    el("td", {}, h.kind, h.level ? ` (${h.level})` : "", h.direction ? ` ${h.direction}` : ""),
    el("td", {}, h.resource), el("td", {}, h.rule ? `${h.rule}${h.priority ? ` (${h.priority})` : ""}` : ""),
    el("td", {}, h.access), el("td", {}, h.detail))));
  markPath(flow);
}

// Marks the last flow's path on the topology drawing: its ends, the NSGs, appliances and public IPs
// it met; the hop that stopped it in red.
function markPath(flow) {
  const svg = $("topology-svg");
  for (const n of svg.querySelectorAll(".on-path, .stopped")) n.classList.remove("on-path", "stopped");
  if (!flow) return;
  const mark = (selector, cls) => { for (const n of svg.querySelectorAll(selector)) n.classList.add(cls); };
  const named = (name) => `[data-name="${CSS.escape(name)}"]`;
  const endpoint = (name) => {
    const vm = ui.info.users.find((u) => u.name === name) ? null : name;
    if (vm) mark(named(vm), "on-path");
  };
  endpoint(flow.from);
  endpoint(flow.to);
  for (const h of flow.hops) {
    const cls = h.access === "Deny" ? "stopped" : "on-path";
    if (h.kind === "nsg") mark(`[data-nsg="${CSS.escape(h.resource)}"]`, cls);
    // A matching admin rule's hop names its configuration.
    if (h.kind === "admin-rule") mark(`[data-admin="${CSS.escape(h.resource)}"]`, cls);
    if (h.kind === "firewall" || h.kind === "bastion" || h.kind === "public-ip") mark(named(h.resource), cls);
  }
}

const query = (params) => new URLSearchParams(params).toString();

async function fetchJit() {
  ui.jit = await api("GET", sessionPath(`/jit?${query({ status: ui.tab, filter: $("vm-filter").value.trim(), limit: LIMIT })}`));
  renderJit();
}

async function fetchNsgs() {
  renderNsgs(await api("GET", sessionPath(`/nsgs?${query({ filter: $("nsg-filter").value.trim(), limit: NSGS })}`)));
}

async function refresh() {
  const [state, requests, log, timeline] = await Promise.all([
    api("GET", sessionPath("")), api("GET", sessionPath(`/requests?limit=${LIMIT}`)),
    api("GET", sessionPath(`/log?limit=${LIMIT}`)), api("GET", sessionPath("/timeline.svg")), fetchJit(), fetchNsgs(),
  ]);
  ui.state = state;
  renderState();
  renderRequests(requests.requests);
  renderLog(log);
  $("timeline-svg").innerHTML = timeline;
  for (const b of document.querySelectorAll("[data-sandbox]")) b.disabled = state.mode === "presenter";
}

async function loadTopology() {
  $("topology-svg").innerHTML = await api("GET", sessionPath("/topology.svg"));
  markPath(ui.state && ui.state.last_flow);
}

// ---------------------------------------------------------------- forms

function users() { return ui.info.users.map((u) => u.name); }
function actor() { return $("actor").value || undefined; }

function portRow(p) {
  const any = !p.allowed_sources || p.allowed_sources === "*" || p.allowed_sources[0] === "*";
  const sources = el("select", { class: "p-sources" }, option("any", "Per request (any)", any), option("range", "IP addresses or ranges", !any));
  const range = el("input", { class: "p-range", value: any ? "" : (p.allowed_sources || []).join(", "), placeholder: "203.0.113.0/24, 198.51.100.7" });
  const hours = el("select", { class: "p-max" },
    [1, 2, 3, 4, 6, 8, 12, 24].map((h) => option(`PT${h}H`, `${h} hour${h > 1 ? "s" : ""}`, (p.max_duration || "PT3H") === `PT${h}H`)));
  const row = el("tr", {},
    el("td", {}, el("input", { class: "p-number", type: "number", min: 0, max: 65535, value: p.number, required: true, "aria-label": "Port" })),
    el("td", {}, el("select", { class: "p-protocol", "aria-label": "Protocol" }, ["Any", "Tcp", "Udp"].map((x) => option(x, x === "Any" ? "Any" : x.toUpperCase(), (p.protocol || "Any").toLowerCase() === x.toLowerCase() || (p.protocol === "*" && x === "Any"))))),
    el("td", {}, sources), el("td", {}, range), el("td", {}, hours),
    el("td", {}, el("button", { type: "button", onclick: () => row.remove() }, "Remove")));
  return row;
}

function setPortRows(ports) {
  fill($("port-rows").tBodies[0], ports.map(portRow));
}

function openEnable(vm, configured) {
  const info = ui.info.vms.find((v) => v.name === vm);
  ui.editing = { vm, edit: !!configured };
  $("enable-title").textContent = configured ? `Edit JIT on ${vm}` : `Enable JIT on 1 VM: ${vm}`;
  $("enable-help").textContent = configured
    ? "Change the ports, then Save; what you leave out stays as it is (the portal's Edit)."
    : `The VM's own page pre-lists ${info.default_port} for ${info.os}; Defender's page lists 22, 3389, 5985, 5986.`;
  $("os-defaults").textContent = `${info.os} default (${info.default_port})`;
  $("os-defaults").onclick = () => setPortRows([{ number: info.default_port }]);
  const ports = configured
    ? configured.ports.map((p) => ({ number: p.number, protocol: p.protocol, allowed_sources: p.allowed_sources === "*" ? "*" : p.allowed_sources.split(", "), max_duration: p.max_duration }))
    : [{ number: info.default_port }];
  setPortRows(ports);
  $("enable-approvers").value = configured ? configured.approvers.join(", ") : "";
  $("request-form").hidden = true;
  $("enable-form").hidden = false;
  $("enable-form").querySelector(".p-number").focus();
}

function readPorts() {
  return [...$("port-rows").tBodies[0].rows].map((row) => {
    const port = { number: Number(row.querySelector(".p-number").value), protocol: row.querySelector(".p-protocol").value, max_duration: row.querySelector(".p-max").value };
    if (row.querySelector(".p-sources").value === "range") {
      port.allowed_sources = row.querySelector(".p-range").value.split(",").map((s) => s.trim()).filter(Boolean);
    }
    return port;
  });
}

function openRequest(row) {
  ui.requesting = row;
  $("request-title").textContent = `Request access to ${row.vm}`;
  fill($("request-ports"), el("legend", {}, "Ports"), row.ports.map((p, i) => el("label", {},
    el("input", { type: "checkbox", class: "r-port", value: p.number, checked: i === 0 }), ` ${p.number} (max ${p.max_duration})`)));
  updateMyIp();
  $("enable-form").hidden = true;
  $("request-form").hidden = false;
  $("request-user").focus();
}

function updateMyIp() {
  const u = ui.info.users.find((x) => x.name === $("request-user").value);
  $("request-myip").textContent = u ? `(${u.source_ip})` : "";
}

async function submitEnable(event) {
  event.preventDefault();
  const { vm, edit } = ui.editing;
  const body = { vm, ports: readPorts() };
  const by = $("enable-by").value;
  if (by) body.by = by;
  const approvers = $("enable-approvers").value.split(",").map((s) => s.trim()).filter(Boolean);
  if (approvers.length || edit) body.approvers = approvers;
  const done = await act(async () => {
    const result = await sendAction(edit ? { EditJit: body } : { EnableJit: body });
    showStep(result);
    return result;
  });
  if (done) $("enable-form").hidden = true;
}

async function submitRequest(event) {
  event.preventDefault();
  const row = ui.requesting;
  const ports = [...document.querySelectorAll(".r-port:checked")].map((c) => Number(c.value));
  const body = { id: "", user: $("request-user").value, vm: row.vm, ports, duration: $("request-duration").value };
  if (document.querySelector("input[name=request-source]:checked").value === "range") body.source = $("request-range").value.trim();
  const justification = $("request-justification").value.trim();
  if (justification) body.justification = justification;
  const done = await act(async () => {
    // Ids are unique per session: the server refuses one already used, so count on from the total.
    const listed = await api("GET", sessionPath(`/requests?limit=${LIMIT}`));
    const taken = new Set(listed.requests.map((r) => r.id));
    let n = listed.total + 1;
    while (taken.has(`req-${n}`)) n += 1;
    body.id = `req-${n}`;
    const result = await sendAction({ RequestJit: body });
    showStep(result);
    return result;
  });
  if (done) $("request-form").hidden = true;
}

async function submitFlow(event) {
  event.preventDefault();
  const body = { from: $("flow-from").value.trim(), to: $("flow-to").value.trim(), port: Number($("flow-port").value), protocol: $("flow-protocol").value };
  if ($("flow-via").value) body.via = $("flow-via").value;
  await act(async () => {
    const flow = await api("POST", sessionPath("/eval"), body);
    showOutcome(flow.verdict === "Allow" ? "accepted" : "refused", `${flow.from} → ${flow.to} port ${flow.port}: ${flow.verdict}`, flow.rule ? [`decided by ${flow.nsg ? `${flow.nsg} ` : ""}${flow.rule}`] : []);
    return flow;
  });
}

// ---------------------------------------------------------------- the clock

function moveClock(body) {
  return act(async () => {
    const result = await api("POST", sessionPath("/clock"), body);
    if (result.events.length) showStep(result.events[result.events.length - 1]);
    return result;
  });
}

async function presentNext() {
  return act(async () => {
    const result = await api("POST", sessionPath("/presenter/next"), {});
    const step = result.step;
    const parts = [];
    if (step.note) parts.push(el("p", { class: "note" }, step.note));
    if (step.action) parts.push(el("p", { class: step.action.accepted ? "ok" : "refused" }, `${step.action.accepted ? "" : "REFUSED "}${step.action.summary}`));
    if (step.expect) parts.push(el("p", {}, el("span", { class: step.expect.passed ? "pass" : "fail" }, step.expect.passed ? "PASS " : "FAIL "), step.expect.description));
    fill($("presenter-step"), el("p", {}, el("strong", {}, `+${step.offset}`)), parts);
    if (step.action) showStep(result);
    if (step.expect && step.expect.flow) renderFlow(Object.assign({ from: "", to: "", protocol: "", port: "", at: step.at }, step.expect.flow));
    return result;
  });
}

function togglePlay() {
  if (ui.playing) {
    clearInterval(ui.playing);
    ui.playing = null;
  } else {
    ui.playing = setInterval(tick, 1000);
  }
  $("play").setAttribute("aria-pressed", String(!!ui.playing));
  $("play").textContent = ui.playing ? "⏸ Pause" : "▶ Play";
}

async function tick() {
  if (ui.busy || !ui.state) return;
  if (ui.state.mode === "presenter") {
    if (!ui.state.presenter.next) return togglePlay();
    return presentNext();
  }
  await moveClock({ advance: `${$("speed").value}s` });
}

// ---------------------------------------------------------------- start

async function start() {
  ui.info = await api("GET", "/api/scenario");
  const wanted = new URLSearchParams(location.search).get("mode");
  const saved = sessionStorage.getItem("nsgsim-session");
  if (saved && !wanted) {
    ui.session = saved;
    try { ui.state = await api("GET", sessionPath("")); } catch (e) { ui.session = null; }
  }
  if (!ui.session) {
    const created = await api("POST", "/api/sessions", { mode: wanted === "presenter" ? "presenter" : "sandbox" });
    ui.session = created.session;
    sessionStorage.setItem("nsgsim-session", ui.session);
  }
  const names = users();
  fill($("request-user"), names.map((n) => option(n)));
  fill($("actor"), names.map((n) => option(n)));
  fill($("enable-by"), option("", "scenario setup (Owner)"), names.map((n) => option(n)));
  fill($("endpoints-from"), [...names, ...ui.info.vms.map((v) => v.name)].slice(0, 1000).map((n) => option(n)));
  fill($("endpoints-to"), [...ui.info.vms.map((v) => v.name), ...ui.info.public_ips].slice(0, 1000).map((n) => option(n)));
  fill($("flow-via"), option("", "(direct)"), ui.info.bastions.map((b) => option(b)));
  if (names.length) $("flow-from").value = names[0];
  if (ui.info.vms.length) $("flow-to").value = ui.info.vms[0].name;
  $("reset-mode").value = wanted === "presenter" ? "presenter" : "sandbox";

  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.addEventListener("click", () => { ui.tab = tab.dataset.tab; fetchJit().catch(showError); });
  }
  $("vm-filter").addEventListener("input", () => fetchJit().catch(showError));
  $("nsg-filter").addEventListener("input", () => fetchNsgs().catch(showError));
  $("enable-form").addEventListener("submit", submitEnable);
  $("enable-cancel").addEventListener("click", () => { $("enable-form").hidden = true; });
  $("add-port").addEventListener("click", () => $("port-rows").tBodies[0].append(portRow({ number: "" })));
  $("defender-defaults").addEventListener("click", () => setPortRows(ui.info.jit_defaults.ports.map((n) => ({ number: n }))));
  $("request-form").addEventListener("submit", submitRequest);
  $("request-cancel").addEventListener("click", () => { $("request-form").hidden = true; });
  $("request-user").addEventListener("change", updateMyIp);
  $("flow-form").addEventListener("submit", submitFlow);
  $("play").addEventListener("click", togglePlay);
  $("advance").addEventListener("click", () => moveClock({ advance: "10m" }));
  $("jump-expiry").addEventListener("click", () => moveClock({ until: "next-expiry" }));
  $("present-next").addEventListener("click", presentNext);
  $("to-sandbox").addEventListener("click", () => act(() => api("POST", sessionPath("/mode"), { mode: "sandbox" })));
  $("reset").addEventListener("click", () => act(async () => {
    const state = await api("POST", sessionPath("/reset"), { mode: $("reset-mode").value });
    ui.rules.clear();
    fill($("presenter-step"));
    showOutcome("", "Back to the start.");
    await loadTopology();
    return state;
  }));
  for (const id of ["advance"]) $(id).setAttribute("data-sandbox", "");

  await refresh();
  await loadTopology();
  // When the page became usable, in milliseconds since navigation started (the first-load figure).
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = "yes";
}

start().catch((e) => {
  showError(e);
  document.body.dataset.ready = "failed";
});
