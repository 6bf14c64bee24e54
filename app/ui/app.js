// The app's browser UI: no build step, no framework, an ES module per view. Talks to the same
// API as any client.
import { initAdmin, showAdmin } from "/ui/admin.js";
import { initInvites, showInvites } from "/ui/invites.js";
import { initMembers, managesProject, showMembers } from "/ui/members.js";
import { initSettings, showSettings } from "/ui/settings.js";

const ACTIONS = [
  ["thumbs_up", "👍", "Thumbs up"], ["thumbs_down", "👎", "Thumbs down"],
  ["ready", "✅", "Ready"], ["blocked", "⛔", "Blocked"], ["review", "👀", "Review"],
  ["deployed", "🚀", "Deployed"], ["tests_green", "🟢", "Tests green"],
];
const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("token"), me: null, project: null, session: null, socket: null, seq: 0, counters: {}, polls: [] };

function status(text) { $("status").textContent = text; }

/** What the chat is doing now, said where a screen reader hears it: closed, rate limited, the
 * assistant away. */
function chatState(text) { $("chat-state").textContent = text; }

/** The session is over (revoked, expired, or its token refused): back to signing in, saying why. */
function sessionEnded(why) {
  closeSocket();
  sessionStorage.removeItem("token"); state.token = null; state.me = null;
  $("sign-out").hidden = true; $("whoami").textContent = "";
  show("sign-in");
  $("notice").textContent = `Your session ended (${why}). Sign in again with a new invite code.`;
}

/** One API call: { ok, status, data, detail } (the problem document's detail when refused). */
async function call(method, path, body, extra) {
  const headers = { "Accept": "application/json", ...extra };
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  const detail = (data && data.detail) || response.statusText;
  if (response.status === 401 && state.me) sessionEnded(detail);
  return { ok: response.ok, status: response.status, data, detail, replica: response.headers.get("X-Replica") };
}

async function api(method, path, body) {
  const r = await call(method, path, body);
  if (!r.ok) throw new Error(r.detail);
  return r.data;
}

function show(id) { for (const s of ["sign-in", "admin", "org", "project", "invites", "settings"]) $(s).hidden = s !== id; }

async function signedIn() {
  try {
    state.me = await api("GET", "/api/v1/me");
  } catch (e) {
    sessionStorage.removeItem("token"); state.token = null; show("sign-in"); return;
  }
  $("notice").textContent = "";
  $("whoami").textContent = "Signed in as " + (state.me.user_key || "platform admin");
  $("sign-out").hidden = false;
  if (state.me.kind === "platform_admin") { showAdmin(); return; }
  $("new-project-form").hidden = state.me.role !== "admin";
  $("open-settings").hidden = state.me.role !== "admin";
  $("open-invites").hidden = state.me.role !== "admin";
  await showOrg();
}

async function showOrg() {
  closeSocket();
  show("org");
  const projects = await api("GET", `/api/v1/orgs/${state.me.org}/projects`);
  const list = $("projects");
  list.replaceChildren();
  for (const p of projects) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button"; b.textContent = p.name; b.dataset.project = p.id;
    b.addEventListener("click", () => showProject(p));
    li.append(b); list.append(li);
  }
  if (!projects.length) {
    const li = document.createElement("li");
    li.textContent = "No projects yet."; list.append(li);
  }
}

async function showProject(project) {
  state.project = project;
  show("project");
  $("project-title").textContent = project.name;
  const templates = await api("GET", `/api/v1/orgs/${state.me.org}/configs/chat.poll_templates`).catch(() => ({ value: [] }));
  const box = $("poll-templates");
  box.replaceChildren();
  for (const t of templates.value) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = "Start poll: " + t.question;
    b.addEventListener("click", () => api("POST", base() + "/polls", { template: t.id }).catch((e) => status(e.message)));
    box.append(b);
  }
  await showMembers({ call, status, org: state.me.org, project, me: state.me });
  await refreshSessions();
}

function base() { return `/api/v1/orgs/${state.me.org}/projects/${state.project.id}`; }

async function refreshSessions() {
  const sessions = await api("GET", base() + "/chats");
  $("session-count").textContent = `(${sessions.length} of 3 active)`;
  const list = $("sessions");
  list.replaceChildren();
  sessions.forEach((s, i) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button"; b.textContent = `Chat ${i + 1}, opened ${new Date(s.opened_at).toLocaleTimeString()}`;
    b.dataset.session = s.id;
    if (state.session === s.id) b.classList.add("active");
    b.addEventListener("click", () => connect(s.id));
    const close = document.createElement("button");
    close.type = "button"; close.textContent = "Close"; close.dataset.close = s.id;
    close.setAttribute("aria-label", `Close chat ${i + 1}`);
    close.addEventListener("click", async () => {
      const r = await call("DELETE", `${base()}/chats/${s.id}`);
      status(r.ok ? `Chat ${i + 1} closed.` : r.detail);
      await refreshSessions();
    });
    li.append(b, close); list.append(li);
  });
  if (state.session && !sessions.some((s) => s.id === state.session)) closeSocket();
  if (!state.session && sessions.length) connect(sessions[sessions.length - 1].id);
}

function closeSocket() {
  if (state.socket) { state.socket.onclose = null; state.socket.close(); }
  state.socket = null; state.session = null; $("chat").hidden = true;
}

function connect(session) {
  closeSocket();
  state.session = session;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // The token travels as a subprotocol, never in the URL (which access logs record).
  const socket = new WebSocket(`${scheme}://${location.host}${base()}/chats/${session}/ws`, ["chat.v1", `access_token.${state.token}`]);
  state.socket = socket;
  $("chat").hidden = false;
  $("log").replaceChildren();
  chatState("");
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
  socket.onclose = (event) => {
    state.socket = null; state.session = null;
    // The close codes of docs/chat-protocol.md.
    switch (event.code) {
      case 4001: sessionEnded(event.reason || "token revoked"); return;
      case 4003: status("You were removed from this project."); showOrg().catch(() => {}); return;
      case 4002: case 1001:
        chatState(event.code === 4002 ? "This chat fell behind; reconnecting…" : "The server is restarting; reconnecting…");
        setTimeout(() => connect(session), 1000); return;
      case 4000: chatState("This chat was closed: a newer one replaced it, or it was closed."); break;
      default: chatState(event.reason ? "Chat closed: " + event.reason : "Chat disconnected.");
    }
    $("chat").hidden = true;
    refreshSessions().catch(() => {});
  };
  for (const b of $("sessions").querySelectorAll("button")) b.classList.toggle("active", b.dataset.session === session);
}

function onFrame(frame) {
  switch (frame.type) {
    case "snapshot":
      state.seq = frame.seq; state.counters = frame.counters; state.polls = frame.polls; render(); break;
    case "counter":
      if (frame.seq !== state.seq + 1) { state.socket.send(JSON.stringify({ type: "snapshot" })); return; }
      state.seq = frame.seq; state.counters[frame.metric] = frame.value; render(); break;
    case "poll":
      // As in a snapshot: the newest 20 (SNAPSHOT_POLLS in app/src/chat/store.rs).
      state.polls = [...state.polls, frame.poll].slice(-20); render(); break;
    case "poll_deleted":
      state.polls = state.polls.filter((p) => p.id !== frame.poll); render(); break;
    case "echo": {
      const li = document.createElement("li");
      li.textContent = `You: ${label(frame.action)} — Assistant: ${frame.reply}`;
      $("log").append(li);
      chatState(frame.assistant === "unavailable" ? "The assistant is unavailable right now; your actions still count." : "");
      break;
    }
    case "error":
      chatState(frame.reason === "rate_limited" ? "Slow down: " + frame.detail : "Refused: " + frame.detail); break;
    case "unavailable": chatState("Not recorded, try again: " + frame.detail); break;
  }
}

function label(action) {
  const found = ACTIONS.find(([id]) => id === action);
  return found ? `${found[1]} ${found[2]}` : action.replace("vote:", "vote ");
}

function render() {
  const dl = $("counters");
  dl.replaceChildren();
  for (const [id, emoji, name] of ACTIONS) {
    const dt = document.createElement("dt"); dt.textContent = `${emoji} ${name}`;
    const dd = document.createElement("dd"); dd.textContent = String(state.counters[id] || 0); dd.dataset.metric = id;
    dl.append(dt, dd);
  }
  const polls = $("polls");
  polls.replaceChildren();
  for (const poll of state.polls) {
    const li = document.createElement("li");
    const q = document.createElement("p"); q.textContent = poll.question; li.append(q);
    for (const choice of poll.choices) {
      const b = document.createElement("button");
      const tally = state.counters[`poll:${poll.id}:${choice}`] || 0;
      b.type = "button"; b.textContent = `${choice} (${tally})`;
      b.setAttribute("aria-label", `Vote ${choice} on “${poll.question}”, ${tally} votes so far`);
      b.disabled = !state.socket;
      b.addEventListener("click", () => send({ type: "vote", poll: poll.id, choice }));
      li.append(b);
    }
    if (managesProject()) {
      const remove = document.createElement("button");
      remove.type = "button"; remove.textContent = "Delete poll"; remove.dataset.deletePoll = poll.id;
      remove.setAttribute("aria-label", `Delete the poll “${poll.question}” and its votes`);
      remove.addEventListener("click", async () => {
        const r = await call("DELETE", `${base()}/polls/${poll.id}`);
        status(r.ok ? "Poll deleted." : r.detail);
      });
      li.append(remove);
    }
    polls.append(li);
  }
}

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

/** The dark theme when chosen on the page (kept in localStorage), else the system's choice. */
function theme(dark) {
  if (dark === undefined) dark = localStorage.getItem("theme") === "dark" ||
    (localStorage.getItem("theme") === null && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  $("theme").setAttribute("aria-pressed", String(dark));
}

function init() {
  theme();
  $("theme").addEventListener("click", () => {
    const dark = $("theme").getAttribute("aria-pressed") !== "true";
    localStorage.setItem("theme", dark ? "dark" : "light");
    theme(dark);
  });
  const actions = $("actions");
  for (const [id, emoji, name] of ACTIONS) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = `${emoji} ${name}`; b.dataset.action = id;
    b.setAttribute("aria-label", name);
    b.addEventListener("click", () => send({ type: "action", action: id }));
    actions.append(b);
  }
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const result = await api("POST", "/api/v1/auth/guest", { invite_code: $("invite-code").value.trim() });
      state.token = result.token; sessionStorage.setItem("token", result.token);
      await signedIn();
    } catch (e) { status(e.message); }
  });
  $("admin-sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const result = await api("POST", "/api/v1/auth/admin", { credential: $("admin-credential").value });
      $("admin-credential").value = "";
      state.token = result.token; sessionStorage.setItem("token", result.token);
      await signedIn();
    } catch (e) { status(e.message); }
  });
  $("new-project-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api("POST", `/api/v1/orgs/${state.me.org}/projects`, { name: $("project-name").value }); await showOrg(); }
    catch (e) { status(e.message); }
  });
  $("open-chat").addEventListener("click", async () => {
    try { const s = await api("POST", base() + "/chats"); await refreshSessions(); connect(s.id); await refreshSessions(); }
    catch (e) { status(e.message); }
  });
  $("back").addEventListener("click", () => showOrg());
  $("settings-back").addEventListener("click", () => showOrg());
  $("open-settings").addEventListener("click", () =>
    showSettings({ call, org: state.me.org, status, show }).catch((e) => status(e.message)));
  initSettings();
  initMembers();
  initAdmin({ call, status, show });
  initInvites({ call, status, show, org: () => state.me.org });
  $("open-invites").addEventListener("click", () => showInvites().catch((e) => status(e.message)));
  $("invites-back").addEventListener("click", () => showOrg());
  $("sign-out").addEventListener("click", async () => {
    await api("POST", "/api/v1/auth/sign-out").catch(() => {});
    sessionStorage.removeItem("token"); location.reload();
  });
  if (state.token) signedIn(); else show("sign-in");
}

init();
