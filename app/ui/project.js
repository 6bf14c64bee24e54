// The project view: its polls' templates, its members (members.js), its chats (at most 3) and
// the open chat's socket, counters and polls, live. Frames are docs/chat-protocol.md's.
import { managesProject, showMembers } from "/ui/members.js";

const ACTIONS = [
  ["thumbs_up", "👍", "Thumbs up"], ["thumbs_down", "👎", "Thumbs down"],
  ["ready", "✅", "Ready"], ["blocked", "⛔", "Blocked"], ["review", "👀", "Review"],
  ["deployed", "🚀", "Deployed"], ["tests_green", "🟢", "Tests green"],
];
const $ = (id) => document.getElementById(id);
const state = { project: null, session: null, socket: null, seq: 0, counters: {}, polls: [] };

/** What the view needs from the page: `call`, `api`, `status`, `show`, `showOrg`,
 * `sessionEnded`, `me()` and `token()`. */
let page = null;

/** What became of the socket or of the user's latest attempt, said where a screen reader hears
 * it: closed, reconnecting, rate limited, refused. Cleared when the user tries again. */
function chatState(text) { $("chat-state").textContent = text; }

/** Whether the assistant answered the latest action. Apart from `chatState`: an answer can
 * arrive after a later action was refused, and must not hide that refusal. */
function assistantState(text) { $("assistant-state").textContent = text; }

export async function showProject(project) {
  state.project = project;
  page.show("project");
  $("project-title").textContent = project.name;
  const templates = await page.api("GET", `/api/v1/orgs/${page.me().org}/configs/chat.poll_templates`).catch(() => ({ value: [] }));
  const box = $("poll-templates");
  box.replaceChildren();
  for (const t of templates.value) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = "Start poll: " + t.question;
    b.addEventListener("click", () => page.api("POST", base() + "/polls", { template: t.id }).catch((e) => page.status(e.message)));
    box.append(b);
  }
  await showMembers({ call: page.call, status: page.status, org: page.me().org, project, me: page.me() });
  await refreshSessions();
}

function base() { return `/api/v1/orgs/${page.me().org}/projects/${state.project.id}`; }

async function refreshSessions() {
  const sessions = await page.api("GET", base() + "/chats");
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
      const r = await page.call("DELETE", `${base()}/chats/${s.id}`);
      page.status(r.ok ? `Chat ${i + 1} closed.` : r.detail);
      await refreshSessions();
    });
    li.append(b, close); list.append(li);
  });
  if (state.session && !sessions.some((s) => s.id === state.session)) closeSocket();
  if (!state.session && sessions.length) connect(sessions[sessions.length - 1].id);
}

export function closeSocket() {
  if (state.socket) { state.socket.onclose = null; state.socket.close(); }
  state.socket = null; state.session = null; $("chat").hidden = true;
}

function connect(session) {
  closeSocket();
  state.session = session;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // The token travels as a subprotocol, never in the URL (which access logs record).
  const socket = new WebSocket(`${scheme}://${location.host}${base()}/chats/${session}/ws`, ["chat.v1", `access_token.${page.token()}`]);
  state.socket = socket;
  $("chat").hidden = false;
  $("log").replaceChildren();
  chatState(""); assistantState("");
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
  socket.onclose = (event) => {
    state.socket = null; state.session = null;
    // The close codes of docs/chat-protocol.md.
    switch (event.code) {
      case 4001: page.sessionEnded(event.reason || "token revoked"); return;
      case 4003: page.status("You were removed from this project."); page.showOrg().catch(() => {}); return;
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
      // The server sends a chat's echo to that chat's sockets only; a stray one is not this chat's.
      if (frame.session !== state.session) break;
      const li = document.createElement("li");
      li.textContent = `You: ${label(frame.action)} — Assistant: ${frame.reply}`;
      $("log").append(li);
      assistantState(frame.assistant === "unavailable" ? "The assistant is unavailable right now; your actions still count." : "");
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
      b.type = "button"; b.textContent = `${choice} (${tally})`; b.dataset.choice = choice;
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
        const r = await page.call("DELETE", `${base()}/polls/${poll.id}`);
        page.status(r.ok ? "Poll deleted." : r.detail);
      });
      li.append(remove);
    }
    polls.append(li);
  }
}

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    chatState("");
    state.socket.send(JSON.stringify(frame));
  }
}

export function initProject(context) {
  page = context;
  const actions = $("actions");
  for (const [id, emoji, name] of ACTIONS) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = `${emoji} ${name}`; b.dataset.action = id;
    b.setAttribute("aria-label", name);
    b.addEventListener("click", () => send({ type: "action", action: id }));
    actions.append(b);
  }
  $("open-chat").addEventListener("click", async () => {
    try { const s = await page.api("POST", base() + "/chats"); await refreshSessions(); connect(s.id); await refreshSessions(); }
    catch (e) { page.status(e.message); }
  });
}
