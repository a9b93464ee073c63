// The chat page's script (a module: strict, its own scope, run once the page is parsed): talks to
// POST /chat/stream and renders each turn as its events arrive. Served as its own file (/page.js) so
// the page's CSP can forbid inline script. Everything that comes from the user, the model or a tool
// is set with textContent: it is never parsed as HTML.
const $ = (id) => document.getElementById(id);
const main = document.querySelector("main");
const log = $("log");
const empty = $("empty");
const form = $("composer");
const input = $("input");
const send = $("send");
const stop = $("stop");
const status = $("status");

// The agent keeps the conversation by session_id; the browser keeps what it showed, so a reload
// can show it again. Bounded in turns and in characters: localStorage is small and shared.
const KEY = "agent-chat";
const MAX_TURNS = 50;
const MAX_CHARS = 200000;
const MAX_RESULT_CHARS = 4000;

function load() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY));
    const session_id = typeof s?.session_id === "string" ? s.session_id : null;
    if (Array.isArray(s?.turns)) return { session_id, turns: s.turns };
  } catch {
    // unreadable: start afresh
  }
  return { session_id: null, turns: [] };
}
let state = load();

function save() {
  const cut = (r) => (r?.length > MAX_RESULT_CHARS ? `${r.slice(0, MAX_RESULT_CHARS)}…` : r);
  const turns = state.turns
    .slice(-MAX_TURNS)
    .map((t) => ({ ...t, tools: t.tools.map((c) => ({ ...c, result: cut(c.result) })) }));
  let json = JSON.stringify({ session_id: state.session_id, turns });
  while (json.length > MAX_CHARS && turns.length > 1) {
    turns.shift();
    json = JSON.stringify({ session_id: state.session_id, turns });
  }
  try {
    localStorage.setItem(KEY, json);
  } catch {
    // storage full or disabled: the page still works, a reload just forgets
  }
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function announce(text) {
  // Cleared first so that the same words twice are announced twice.
  status.textContent = "";
  setTimeout(() => (status.textContent = text), 50);
}

function scrollDown() {
  main.scrollTop = main.scrollHeight;
}

function compact(args) {
  if (!args || typeof args !== "object") return String(args ?? "");
  return Object.entries(args)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
}

function pretty(text) {
  if (typeof text !== "string") return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// One tool call: the summary line (name, arguments, state) and, expanded, its arguments and result.
function toolView(call) {
  const d = el("details", "tool");
  const state = el("span", "state");
  const summary = el("summary");
  summary.append(el("span", "name", call.name), el("span", "args", compact(call.args)), state);
  const result = el("pre", "result");
  const resultHead = el("h3", null, "Result");
  d.append(
    summary,
    el("h3", null, "Arguments"),
    el("pre", null, pretty(call.args ?? {})),
    resultHead,
    result,
  );
  const update = () => {
    const has = typeof call.result === "string";
    d.classList.toggle("ok", has && !call.is_error);
    d.classList.toggle("failed", has && !!call.is_error);
    if (has) state.textContent = call.is_error ? "error" : "done";
    else state.textContent = call.pending ? "running…" : "no result";
    resultHead.hidden = result.hidden = !has;
    result.textContent = has ? pretty(call.result) : "";
  };
  update();
  return { root: d, update };
}

function turnView(turn) {
  const root = el("article", "turn");
  const tools = el("div", "tools");
  const answer = el("p", "msg answer", turn.answer || "");
  if (turn.note) root.append(el("p", "note", turn.note));
  root.append(el("p", "msg user", turn.user), tools, answer);
  const view = { root, tools, answer, calls: [] };
  for (const call of turn.tools) addCall(view, call);
  finishView(view, turn);
  return view;
}

function addCall(view, call) {
  const v = toolView(call);
  view.calls.push({ call, v });
  view.tools.append(v.root);
}

// The outcome goes last; a turn has one only once it has ended, so it is appended once.
function finishView(view, turn) {
  if (turn.error) view.root.append(el("p", "error", turn.error));
  if (typeof turn.ms === "number") {
    const stopped = turn.stopped ? " · stopped" : "";
    view.root.append(el("p", "meta", `${(turn.ms / 1000).toFixed(2)} s${stopped}`));
  }
}

function render() {
  log.replaceChildren(empty);
  empty.hidden = state.turns.length > 0;
  for (const turn of state.turns) {
    for (const c of turn.tools) c.pending = false;
    log.append(turnView(turn).root);
  }
  scrollDown();
}

class PageError extends Error {}

async function httpError(res) {
  let message = "";
  try {
    const body = await res.json();
    message = body?.error && typeof body.error.message === "string" ? body.error.message : "";
  } catch {
    // not the API's JSON: a proxy or a crash in between
  }
  return new PageError(
    `Error ${res.status}: ${message || res.statusText || "the agent did not answer"}`,
  );
}

// Server-sent events from a fetch body: blocks separated by a blank line, `event:` and `data:` lines.
async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const blocks = (buf + value).replace(/\r\n?/g, "\n").split("\n\n");
    buf = blocks.pop();
    for (const block of blocks) {
      const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
      const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]);
      if (!data.length) continue;
      try {
        yield { event, data: JSON.parse(data.join("\n")) };
      } catch {
        throw new PageError("The agent sent an event this page cannot read.");
      }
    }
  }
}

let running = null;

function setBusy(busy) {
  input.disabled = busy;
  send.disabled = busy;
  stop.hidden = !busy;
  log.setAttribute("aria-busy", String(busy));
  if (busy) stop.focus();
}

// The result for a call: by id when the agent gives one, else the first unanswered call of that name.
function matchCall(view, data) {
  const open = view.calls.filter((c) => c.call.pending);
  const same = (c) => (data.id === undefined ? c.call.name === data.name : c.call.id === data.id);
  return open.find(same) ?? open[0];
}

/** Sends the message; a network failure is worded for the person, an abort passes through. */
async function post(text, sent, signal) {
  let res;
  try {
    res = await fetch("/chat/stream", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(sent ? { message: text, session_id: sent } : { message: text }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new PageError("Could not reach the agent. Check that it is running, then send again.");
  }
  if (!res.ok || !/^text\/event-stream/.test(res.headers.get("content-type") || ""))
    throw await httpError(res);
  return res;
}

/** Applies one event of the turn to its record and its view; true once the turn is over. */
function apply(turn, view, sent, event, data) {
  if ((event === "session" || event === "done") && typeof data.session_id === "string") {
    if (event === "session" && sent && data.session_id && data.session_id !== sent) {
      turn.note = "The agent did not know the earlier conversation and started a new one.";
      view.root.prepend(el("p", "note", turn.note));
    }
    if (data.session_id) state.session_id = data.session_id;
  }
  if (event === "tool_call") {
    const call = { name: String(data.name ?? "tool"), args: data.arguments ?? {}, pending: true };
    if (data.id !== undefined) call.id = data.id;
    turn.tools.push(call);
    addCall(view, call);
    announce(`Calling ${call.name}.`);
  } else if (event === "tool_result") {
    const match = matchCall(view, data);
    if (match) {
      match.call.pending = false;
      match.call.result =
        typeof data.result === "string" ? data.result : JSON.stringify(data.result);
      match.call.is_error = !!data.is_error;
      match.v.update();
    }
  } else if (event === "text") {
    turn.answer += typeof data.text === "string" ? data.text : "";
    view.answer.textContent = turn.answer;
  } else if (event === "done") {
    if (typeof data.response === "string") turn.answer = data.response;
    view.answer.textContent = turn.answer;
    announce(`Agent: ${turn.answer}`);
    return true;
  } else if (event === "error") {
    const code = typeof data.status === "number" ? `Error ${data.status}` : "Error";
    const message = typeof data.message === "string" ? data.message : "the turn failed";
    throw new PageError(`${code}: ${message}`);
  }
  return false;
}

async function runTurn(text) {
  const turn = { user: text, tools: [], answer: "" };
  state.turns.push(turn);
  empty.hidden = true;
  const view = turnView(turn);
  log.append(view.root);
  scrollDown();
  const ctrl = new AbortController();
  running = ctrl;
  setBusy(true);
  announce("Sent. Waiting for the agent.");
  const sent = state.session_id;
  const started = performance.now();
  try {
    const res = await post(text, sent, ctrl.signal);
    let finished = false;
    for await (const { event, data } of events(res.body)) {
      finished = apply(turn, view, sent, event, data) || finished;
      scrollDown();
    }
    if (!finished)
      throw new PageError(
        "The connection closed before the answer was complete. Send the message again.",
      );
  } catch (err) {
    if (ctrl.signal.aborted) {
      turn.stopped = true;
      announce("Stopped.");
    } else {
      turn.error =
        err instanceof PageError
          ? err.message
          : `Something went wrong in this page: ${err?.message ? err.message : err}`;
      announce(turn.error);
    }
  } finally {
    // A call still running when the turn ended never gets its result.
    for (const c of view.calls) {
      c.call.pending = false;
      c.v.update();
    }
    turn.ms = Math.round(performance.now() - started);
    finishView(view, turn);
    save();
    running = null;
    setBusy(false);
    input.focus();
    scrollDown();
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || running) return;
  input.value = "";
  void runTurn(text);
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});
stop.addEventListener("click", () => running?.abort());
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && running) running.abort();
});
$("new").addEventListener("click", () => {
  if (running) running.abort();
  state = { session_id: null, turns: [] };
  save();
  render();
  announce("New conversation.");
  input.focus();
});

async function showInfo() {
  try {
    const res = await fetch("/", { headers: { accept: "application/json" } });
    const info = await res.json();
    $("model").textContent = info.model || "unknown";
    // GET / names the MCP server by its origin: the host is what a person recognises.
    const where = URL.parse(info.mcp_server_url)?.host || "unknown";
    $("mcp").textContent = info.transport ? `${where} (${info.transport})` : where;
    if (info.app_name) $("app").textContent = document.title = info.app_name;
    // Which instruction runs, as GET / and the listening line say it: source, fingerprint, length
    // (no-break spaces keep each figure with its label when the line wraps).
    const i = info.instruction;
    $("instruction").textContent = i
      ? `${i.source} · sha256\u00a0${i.fingerprint} · ${i.chars}\u00a0chars`
      : "unknown";
  } catch {
    $("model").textContent = $("mcp").textContent = $("instruction").textContent = "unavailable";
  }
}

render();
input.disabled = send.disabled = false;
input.focus();
document.documentElement.dataset.ready = "true";
performance.mark("page-usable");
void showInfo();
