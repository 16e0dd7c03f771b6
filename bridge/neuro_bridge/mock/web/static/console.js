// The stand-in Neuro's web console: plain JavaScript, no library, no network but the page's own server.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const FEED_ROWS = 400;        // rows kept in the feed (older ones are dropped: the feed is windowed)
const KEPT_EVENTS = 3000;     // events kept per game
const PAIR_ROWS = 100;
const FINDING_ROWS = 200;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
};

const model = {
  state: { sessions: [], chaos_kinds: [], source: "mock" },
  current: null,             // number of the game shown
  events: new Map(),         // game number -> events (bounded)
  pairs: new Map(),          // game number -> Map(action id -> pair)
  findings: new Map(),       // game number -> findings (bounded)
  actionsKey: null,
  countdown: null,
  rate: { count: 0, since: performance.now(), shown: 0 },
  lastSeq: 0,                // the last event received (read by bench/web_console.py)
  pairsVersion: 0,
};
window.neuroConsole = model;
let socket = null;
let requestId = 0;
const pending = new Map();

// ---------------------------------------------------------------- connection

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(TOKEN)}`);
  socket.onopen = () => { $("link").textContent = "live"; $("link").className = "status live"; };
  socket.onclose = () => {
    $("link").textContent = "disconnected: reconnecting…"; $("link").className = "status";
    setTimeout(connect, 1000);
  };
  socket.onmessage = (message) => receive(JSON.parse(message.data));
}

function request(body) {
  return new Promise((resolve) => {
    const id = ++requestId;
    pending.set(id, resolve);
    socket.send(JSON.stringify({ id, ...body }));
  });
}

function receive(message) {
  if (message.type === "reply") {
    const resolve = pending.get(message.id);
    pending.delete(message.id);
    if (resolve) resolve(message);
    return;
  }
  if (message.type === "events") {
    if (message.lost) { model.events.clear(); model.pairs.clear(); }
    for (const event of message.events) take(event);
    if (message.events.length) model.lastSeq = message.events[message.events.length - 1].seq;
  }
  model.state = message.state;
  render(message.type === "events" ? message.events : []);
}

// ---------------------------------------------------------------- events

function bounded(list, limit) { if (list.length > limit) list.splice(0, list.length - limit); }

function take(event) {
  const number = event.session;
  if (!model.events.has(number)) model.events.set(number, []);
  const events = model.events.get(number);
  events.push(event);
  bounded(events, KEPT_EVENTS);
  model.rate.count += 1;
  if (!model.pairs.has(number)) model.pairs.set(number, new Map());
  const pairs = model.pairs.get(number);
  if (event.kind === "neuro" && event.action_id) {
    model.pairsVersion += 1;
    pairs.set(event.action_id, { id: event.action_id, name: event.name, data: event.data, cause: event.cause, result: null });
    if (pairs.size > PAIR_ROWS) pairs.delete(pairs.keys().next().value);
  } else if (event.kind === "game" && event.action_id && pairs.has(event.action_id)) {
    const pair = pairs.get(event.action_id);
    if (!pair.result) { pair.result = event; model.pairsVersion += 1; }
  } else if (event.kind === "finding") {
    if (!model.findings.has(number)) model.findings.set(number, []);
    const findings = model.findings.get(number);
    findings.push(event);
    bounded(findings, FINDING_ROWS);
  }
}

// ---------------------------------------------------------------- rendering

function currentSession() {
  const sessions = model.state.sessions;
  if (!sessions.length) return null;
  let session = sessions.find((s) => s.number === model.current);
  if (!session) {
    session = [...sessions].reverse().find((s) => s.connected) || sessions[sessions.length - 1];
    model.current = session.number;
    redrawFeed();
  }
  return session;
}

function render(newEvents) {
  const shown = model.current;
  const session = currentSession();  // redraws the feed when it picks another game
  renderGames();
  renderMode(session);
  renderForce(session);
  renderActions(session);
  renderChaos();
  $("download").href = session ? `/session/${session.number}.jsonl?token=${encodeURIComponent(TOKEN)}` : "#";
  if (session) {
    if (shown === model.current) appendFeed(newEvents.filter((e) => e.session === session.number));
    renderPairs(session);
    renderFindings(session);
  }
}

function renderGames() {
  const nav = $("games");
  const key = JSON.stringify([model.current, model.state.sessions.map((s) => [s.number, s.game, s.connected])]);
  if (nav.dataset.key === key) return;
  nav.dataset.key = key;
  nav.replaceChildren(...model.state.sessions.map((s) => el("button", {
    type: "button",
    class: (s.number === model.current ? "current " : "") + (s.connected ? "" : "gone"),
    title: s.peer,
    text: `#${s.number} ${s.game || "?"}`,
    onclick: () => { model.current = s.number; model.actionsKey = null; $("pairs").tBodies[0].dataset.key = ""; redrawFeed(); render([]); },
  })));
}

function renderMode(session) {
  const watching = model.state.source !== "mock";
  document.body.classList.toggle("watching", watching);
  $("mode").hidden = watching;
  document.querySelectorAll("[data-line], #chaos, #force-random, #force-hand").forEach((n) => { n.hidden = watching; });
  if (!session) return;
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.checked = radio.value === session.mode;
  if (session.mode === "random" && document.activeElement !== $("delay")) $("delay").value = session.delay;
}

function renderForce(session) {
  const force = session && session.force;
  $("force").hidden = !force;
  document.querySelectorAll(".action").forEach((card) => {
    card.classList.toggle("forced", !!force && force.action_names.includes(card.dataset.name));
  });
  if (!force) { model.countdown = null; $("force-countdown").textContent = ""; return; }
  $("force-meta").replaceChildren(
    el("span", { class: "tag", text: `#${force.number}` }), " ",
    el("span", { class: "tag", text: `priority ${force.priority}` }), " ",
    force.ephemeral_context ? el("span", { class: "tag", text: "ephemeral" }) : "",
    " ", el("span", { class: "tag", text: force.action_names.join(", ") }),
  );
  $("force-query").textContent = force.query;
  const state = force.state || "";
  const key = state;
  if ($("force-state").dataset.key !== key) {
    $("force-state").dataset.key = key;
    $("force-state").innerHTML = markdown(state);
  }
  model.countdown = force.due_in === null || force.due_in === undefined ? null : performance.now() + force.due_in * 1000;
  tick();
}

function tick() {
  if (model.countdown === null) { $("force-countdown").textContent = ""; return; }
  const left = Math.max(0, (model.countdown - performance.now()) / 1000);
  $("force-countdown").textContent = left > 0 ? `answering automatically in ${left.toFixed(1)} s` : "answering automatically…";
}

function renderChaos() {
  const box = $("chaos");
  const kinds = model.state.chaos_kinds || [];
  if (box.dataset.key === kinds.join()) return;
  box.dataset.key = kinds.join();
  box.replaceChildren(...kinds.map((kind) => el("button", { type: "button", "data-line": `chaos ${kind}`, text: kind, onclick: () => line(`chaos ${kind}`) })));
}

// -- actions and their forms

function renderActions(session) {
  const actions = session ? session.actions : [];
  const key = JSON.stringify([session && session.number, actions]);
  if (key === model.actionsKey) return;
  model.actionsKey = key;
  const box = $("actions");
  if (!session) { box.replaceChildren(el("p", { class: "empty", text: "no game is connected" })); return; }
  if (!actions.length) { box.replaceChildren(el("p", { class: "empty", text: "no actions registered" })); return; }
  box.replaceChildren(...actions.map((action) => actionCard(session.number, action)));
  renderForce(session);
}

function hasData(schema) { return schema && typeof schema === "object" && Object.keys(schema).length > 0; }

function actionCard(number, action) {
  const form = hasData(action.schema) ? buildField(action.schema, null, true) : null;
  const raw = el("textarea", { class: "raw", rows: 2, "aria-label": `data for ${action.name}`, spellcheck: "false" });
  let rawEdited = false;
  const refresh = () => {
    if (rawEdited || !form) return;
    const value = form.get();
    raw.value = value === undefined ? "" : JSON.stringify(value);
  };
  raw.addEventListener("input", () => { rawEdited = true; });
  const onPurpose = el("input", { type: "checkbox", class: "on-purpose" });
  const outcome = el("span", { class: "outcome", role: "status" });
  const send = el("button", { type: "button", class: "send", text: "send as Neuro" });
  send.addEventListener("click", async () => {
    const text = raw.value.trim();
    const reply = await request({ op: "action", session: number, name: action.name, data: text === "" ? null : text, on_purpose: onPurpose.checked });
    outcome.textContent = reply.text;
    outcome.className = "outcome " + (reply.ok ? (reply.breaks_schema ? "bad" : "ok") : "bad");
  });
  const card = el("div", { class: "action", "data-name": action.name },
    el("h3", { text: action.name }),
    el("p", { class: "desc", text: action.description }),
    form ? form.el : el("p", { class: "empty", text: "(no data)" }),
    el("details", {}, el("summary", { text: "data sent (JSON; edit to send anything)" }), raw,
      el("button", { type: "button", text: "from the form", onclick: () => { rawEdited = false; refresh(); } })),
    el("div", { class: "send-row" }, send,
      el("label", {}, onPurpose, " send even if it breaks the schema"), outcome),
  );
  card.addEventListener("input", (event) => { if (event.target !== raw) refresh(); });
  card.addEventListener("click", (event) => { if (event.target.closest(".choices, .array")) refresh(); });
  refresh();
  return card;
}

function mainType(schema) {
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== "null") || type[0];
  if (!type && schema.properties) type = "object";
  if (!type && schema.items) type = "array";
  return type;
}

// A field for *schema*: {el, get()} where get() returns the value (undefined: left out).
function buildField(schema, name, required) {
  if (!schema || typeof schema !== "object") schema = {};
  const label = name === null ? null : el("label", { text: name }, required ? el("span", { class: "req", text: " *" }) : null);
  const wrap = (control, extra) => ({ el: name === null ? control : el("div", { class: "field" }, label, control, extra || null), get: control.get });
  if ("const" in schema) {
    const node = el("code", { text: JSON.stringify(schema.const) });
    node.get = () => schema.const;
    return wrap(node);
  }
  if (Array.isArray(schema.enum)) return wrap(choices(schema.enum, required));
  const type = mainType(schema);
  if (type === "object") {
    const box = el("fieldset", { class: "obj" });
    const fields = [];
    const requiredNames = new Set(schema.required || []);
    for (const [key, sub] of Object.entries(schema.properties || {})) {
      const field = buildField(sub, key, requiredNames.has(key));
      fields.push([key, field]);
      box.append(field.el);
    }
    box.get = () => {
      const value = {};
      for (const [key, field] of fields) {
        const v = field.get();
        if (v !== undefined) value[key] = v;
      }
      return value;
    };
    return wrap(box);
  }
  if (type === "array") return wrap(arrayField(schema));
  if (type === "string") {
    const input = el("input", { type: "text", maxlength: schema.maxLength, minlength: schema.minLength,
      pattern: schema.pattern, title: schema.pattern ? `pattern: ${schema.pattern}` : null,
      placeholder: schema.format || (schema.pattern ? schema.pattern : "") });
    input.get = () => (input.value === "" && !required ? undefined : input.value);
    const hint = schema.maxLength !== undefined ? el("span", { class: "count", text: `≤ ${schema.maxLength} chars` }) : null;
    return wrap(input, hint);
  }
  if (type === "integer" || type === "number") {
    let min = schema.minimum, max = schema.maximum;
    if (schema.exclusiveMinimum !== undefined) min = schema.exclusiveMinimum + (type === "integer" ? 1 : 0);
    if (schema.exclusiveMaximum !== undefined) max = schema.exclusiveMaximum - (type === "integer" ? 1 : 0);
    const input = el("input", { type: "number", min, max, step: type === "integer" ? (schema.multipleOf || 1) : (schema.multipleOf || "any") });
    if (required) input.value = min !== undefined ? min : (max !== undefined && max < 0 ? max : 0);
    input.get = () => (input.value === "" ? undefined : Number(input.value));
    const bounds = (min !== undefined || max !== undefined) ? el("span", { class: "count", text: `${min ?? "…"} – ${max ?? "…"}` }) : null;
    return wrap(input, bounds);
  }
  if (type === "boolean") {
    const input = el("input", { type: "checkbox" });
    input.get = () => input.checked;
    return wrap(input);
  }
  const input = el("textarea", { class: "raw", rows: 1, placeholder: "any JSON value" });
  input.get = () => { try { return input.value.trim() === "" ? undefined : JSON.parse(input.value); } catch (e) { return input.value; } };
  return wrap(input);
}

function choices(values, required) {
  let chosen = required && values.length ? 0 : -1;
  if (values.length > 8) {
    const select = el("select", {}, required ? null : el("option", { value: "-1", text: "(leave out)" }),
      ...values.map((v, i) => el("option", { value: String(i), text: JSON.stringify(v) })));
    select.get = () => (select.value === "-1" ? undefined : values[Number(select.value)]);
    return select;
  }
  const box = el("span", { class: "choices" });
  const buttons = values.map((v, i) => el("button", { type: "button", "data-value": JSON.stringify(v), text: typeof v === "string" ? v : JSON.stringify(v),
    onclick: () => { chosen = chosen === i && !required ? -1 : i; mark(); } }));
  const mark = () => buttons.forEach((b, i) => b.classList.toggle("chosen", i === chosen));
  box.append(...buttons);
  mark();
  box.get = () => (chosen < 0 ? undefined : values[chosen]);
  return box;
}

function arrayField(schema) {
  const box = el("div", { class: "array" });
  const list = el("ol");
  const items = [];
  const itemSchema = Array.isArray(schema.items) ? (schema.items[0] || {}) : (schema.items || {});
  const add = () => {
    if (schema.maxItems !== undefined && items.length >= schema.maxItems) return;
    const field = buildField(itemSchema, null, true);
    const row = el("li", {}, field.el, el("button", { type: "button", text: "−", title: "remove", onclick: () => {
      items.splice(items.indexOf(field), 1); row.remove(); box.dispatchEvent(new Event("input", { bubbles: true }));
    } }));
    items.push(field);
    list.append(row);
  };
  for (let i = 0; i < (schema.minItems || 0); i++) add();
  box.append(list, el("button", { type: "button", text: "+ item", onclick: add }));
  box.get = () => items.map((f) => f.get());
  return box;
}

// -- feed, pairs, findings

function feedRow(event) {
  const who = event.kind === "game" ? "game " : event.kind === "neuro" ? "neuro" : event.kind;
  let cls = event.kind;
  if (event.kind === "game" && event.silent !== undefined) cls += event.silent ? " context-silent" : " context-spoken";
  const row = el("li", { class: cls, "data-seq": event.seq },
    el("span", { class: "t", text: event.t.toFixed(3) }),
    el("span", { class: "who", text: who }), " ",
    event.kind === "game" && event.silent !== undefined ? el("span", { class: "tag", text: event.silent ? "silent" : "may answer" }) : null,
    event.cause ? el("span", { class: "tag" + (event.cause.includes("breaks") ? " breaks" : ""), text: event.cause }) : null,
    " ", event.desc || "",
    event.frame ? el("span", { class: "raw", text: event.frame }) : null);
  row.addEventListener("click", () => row.classList.toggle("open"));
  return row;
}

function redrawFeed() {
  const events = (model.events.get(model.current) || []).slice(-FEED_ROWS);
  $("feed").replaceChildren(...events.map(feedRow));
  scrollFeed();
}

function appendFeed(events) {
  const feed = $("feed");
  const fresh = events.slice(-FEED_ROWS);
  const fragment = document.createDocumentFragment();
  for (const event of fresh) fragment.append(feedRow(event));
  feed.append(fragment);
  while (feed.childElementCount > FEED_ROWS) feed.firstElementChild.remove();
  scrollFeed();
}

function scrollFeed() { if ($("follow").checked) $("feed").scrollTop = $("feed").scrollHeight; }

function renderPairs(session) {
  const body = $("pairs").tBodies[0];
  const key = `${session.number}:${model.pairsVersion}`;
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  const pairs = [...(model.pairs.get(session.number) || new Map()).values()].slice(-PAIR_ROWS).reverse();
  body.replaceChildren(...pairs.map((p) => {
    const r = p.result;
    return el("tr", { class: (p.cause || "").includes("breaks") ? "breaks" : "", "data-id": p.id },
      el("td", { text: p.id }), el("td", { text: p.name }), el("td", { class: "data", title: p.data || "", text: p.data === null ? "—" : p.data }),
      el("td", { class: r ? (r.success ? "ok" : "bad") : "", text: r ? `${r.success ? "success" : "failure"}${r.message ? ": " + r.message : ""}` : "waiting…" }),
      el("td", { text: r && r.latency !== undefined ? `${(r.latency * 1000).toFixed(1)} ms` : "" }));
  }));
}

function renderFindings(session) {
  const findings = model.findings.get(session.number) || [];
  $("finding-count").textContent = String(findings.length);
  const list = $("findings");
  if (list.dataset.key === `${session.number}:${findings.length}:${findings.length && findings[findings.length - 1].seq}`) return;
  list.dataset.key = `${session.number}:${findings.length}:${findings.length && findings[findings.length - 1].seq}`;
  list.replaceChildren(...findings.slice().reverse().map((f) => el("li", { class: f.advice ? "advice" : "", "data-rule": f.rule },
    el("span", { class: "rule", text: f.rule }), " ", f.message,
    el("div", { class: "count", text: `hint: ${f.hint}` }),
    f.frame ? el("a", { href: "#", class: "frame-link", text: `frame #${f.frame_seq}`, onclick: (e) => { e.preventDefault(); showFrame(f.frame_seq); } }) : null,
    f.frame ? el("pre", { text: f.frame }) : null)));
}

function showFrame(seq) {
  const row = document.querySelector(`#feed li[data-seq="${seq}"]`);
  if (!row) return;
  $("follow").checked = false;
  document.querySelectorAll("#feed li.highlight").forEach((r) => r.classList.remove("highlight"));
  row.classList.add("highlight", "open");
  row.scrollIntoView({ block: "center" });
}

// ---------------------------------------------------------------- Markdown (a small, safe subset)

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function inline(text) {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>");
}

function markdown(source) {
  const out = [];
  let list = null, para = [], code = null;
  const flush = () => {
    if (para.length) { out.push(`<p>${para.map(inline).join("<br>")}</p>`); para = []; }
    if (list) { out.push(`</${list}>`); list = null; }
  };
  for (const line of source.split("\n")) {
    if (code !== null) {
      if (line.trim().startsWith("```")) { out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`); code = null; }
      else code.push(line);
      continue;
    }
    if (line.trim().startsWith("```")) { flush(); code = []; continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (heading) { flush(); const n = Math.min(6, heading[1].length + 2); out.push(`<h${n}>${inline(heading[2])}</h${n}>`); }
    else if (bullet || numbered) {
      const kind = bullet ? "ul" : "ol";
      if (para.length) { out.push(`<p>${para.map(inline).join("<br>")}</p>`); para = []; }
      if (list !== kind) { if (list) out.push(`</${list}>`); out.push(`<${kind}>`); list = kind; }
      out.push(`<li>${inline((bullet || numbered)[1])}</li>`);
    } else if (!line.trim()) flush();
    else { if (list) { out.push(`</${list}>`); list = null; } para.push(line); }
  }
  if (code !== null) out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
  flush();
  return out.join("");
}

// ---------------------------------------------------------------- controls

async function line(text) {
  const session = currentSession();
  if (!session) return;
  const reply = await request({ op: "line", line: `@${session.number} ${text}` });
  $("reply").textContent = reply.text;
  $("reply").className = reply.ok ? "ok" : "bad";
}

document.querySelectorAll("button[data-line]").forEach((b) => b.addEventListener("click", () => line(b.dataset.line)));
$("force-random").addEventListener("click", () => line("force"));
$("force-hand").addEventListener("click", async () => {
  const session = currentSession();
  if (session && session.mode !== "hand") await setMode("hand");
  const card = document.querySelector(".action.forced");
  if (card) { card.scrollIntoView({ block: "center" }); const first = card.querySelector("button, input, select, textarea"); if (first) first.focus(); }
});

async function setMode(mode) {
  const session = currentSession();
  if (!session) return;
  const reply = await request({ op: "mode", session: session.number, mode, delay: Number($("delay").value) });
  $("reply").textContent = reply.text;
  $("reply").className = reply.ok ? "ok" : "bad";
}
document.querySelectorAll("input[name=mode]").forEach((r) => r.addEventListener("change", () => setMode(r.value)));
$("delay").addEventListener("change", () => { if (document.querySelector("input[name=mode][value=random]").checked) setMode("random"); });
$("follow").addEventListener("change", scrollFeed);

setInterval(() => {
  tick();
  const now = performance.now();
  if (now - model.rate.since >= 1000) {
    model.rate.shown = model.rate.count * 1000 / (now - model.rate.since);
    model.rate.count = 0; model.rate.since = now;
    $("rate").textContent = `${model.rate.shown.toFixed(0)} events/s`;
  }
}, 100);

connect();
