// The app's browser UI: no build step, no framework, an ES module per view. Talks to the same
// API as any client.
import { initAdmin, showAdmin } from "/ui/admin.js";
import { initInvites, showInvites } from "/ui/invites.js";
import { initMembers } from "/ui/members.js";
import { closeSocket, initProject, showProject } from "/ui/project.js";
import { initSettings, showSettings } from "/ui/settings.js";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("token"), me: null };

function status(text) { $("status").textContent = text; }

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

/** Each view's section id and the page heading (and tab title) it shows under. */
const VIEWS = {
  "sign-in": "Sign in",
  admin: "Platform administration",
  org: "Projects",
  project: "Project",
  invites: "Invites",
  settings: "Org settings",
};

function show(id) {
  for (const view of Object.keys(VIEWS)) $(view).hidden = view !== id;
  $("page-heading").textContent = VIEWS[id];
  document.title = `${VIEWS[id]} · Projects and chat`;
}

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
  initProject({ call, api, status, show, showOrg, sessionEnded, me: () => state.me, token: () => state.token });
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
