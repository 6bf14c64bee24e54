// The org admin's settings: every config key with the version this replica serves, an editor
// that sends If-Match (a change based on an older version is refused with 412, and the editor
// then shows what changed and keeps the admin's text), and the key's history as an audit table.

import { problem as show } from "/ui/forms.js";

const $ = (id) => document.getElementById(id);

/** What the view needs from the page: `call` (method, path, body, headers) → { ok, status, data }. */
let page = null;
/** The key being edited and the version the editor's text is based on. */
let editing = null;

export async function showSettings(context) {
  page = context;
  page.show("settings");
  $("config-editor").hidden = true;
  await listConfigs();
}

function configs() { return `/api/v1/orgs/${page.org}/configs`; }

async function listConfigs() {
  const r = await page.call("GET", configs());
  if (!r.ok) { page.status(r.detail); return; }
  const rows = $("config-rows");
  rows.replaceChildren();
  for (const config of r.data) {
    const key = document.createElement("th");
    key.scope = "row"; key.textContent = config.key;
    const version = document.createElement("td");
    version.textContent = String(config.version); version.dataset.version = config.key;
    const value = document.createElement("td");
    const code = document.createElement("code");
    code.textContent = JSON.stringify(config.value); value.append(code);
    const edit = document.createElement("td");
    if (config.set_by === "platform_admin") {
      // The server refuses an org admin's change to it: offer none.
      edit.textContent = "set by the platform admin"; edit.dataset.setBy = config.key;
    } else {
      const button = document.createElement("button");
      button.type = "button"; button.textContent = "Edit"; button.dataset.edit = config.key;
      button.setAttribute("aria-label", `Edit ${config.key}`);
      button.addEventListener("click", () => openEditor(config));
      edit.append(button);
    }
    const row = document.createElement("tr");
    row.append(key, version, value, edit);
    rows.append(row);
  }
}

function title() { $("config-editor-title").textContent = `Edit ${editing.key} (based on version ${editing.version})`; }

function openEditor(config) {
  editing = { key: config.key, version: config.version };
  $("config-editor").hidden = false;
  title();
  $("config-value").value = JSON.stringify(config.value, null, 2);
  $("config-reason").value = "";
  problem("");
  $("replica-versions").textContent = "";
  $("config-value").focus();
  history();
}

function problem(text, field) { show("config-error", ["config-value", "config-reason"], text, field); }

/** Counts saves: a replica check from an earlier save stops once another save begins. */
let saves = 0;

async function save(event) {
  event.preventDefault();
  saves += 1;
  $("replica-versions").textContent = "";
  let value;
  try { value = JSON.parse($("config-value").value); }
  catch (e) { problem(`The value is not JSON: ${e.message}`, "config-value"); return; }
  const reason = $("config-reason").value.trim();
  if (!reason) { problem("Say why: the reason goes into the history.", "config-reason"); return; }
  const r = await page.call("PUT", `${configs()}/${editing.key}`, { value, reason }, { "If-Match": `"${editing.version}"` });
  if (r.status === 412) {
    const now = await page.call("GET", `${configs()}/${editing.key}`);
    if (now.ok) {
      editing.version = now.data.version; title();
      problem(`Changed meanwhile by ${now.data.updated_by}, now version ${now.data.version}: ${JSON.stringify(now.data.value)}. ` +
        "Your text is kept: save again to replace it.", "config-value");
    } else problem(r.detail, "config-value");
    await listConfigs(); await history();
    return;
  }
  if (!r.ok) { problem(r.detail, "config-value"); return; }
  editing.version = r.data.version; title();
  problem("");
  page.status(`${editing.key} is now version ${r.data.version}.`);
  await listConfigs(); await history();
  await servedBy(editing.key, r.data.version);
}

/** Hot reload made visible: asks for the key a dozen times over 3 s (a balancer spreads the
 * requests over the replicas) and shows the version each replica that answered serves. */
async function servedBy(key, saved) {
  const save = saves;
  const seen = new Map();
  for (let i = 0; i < 12; i++) {
    const r = await page.call("GET", `${configs()}/${key}`);
    if (save !== saves) return;
    if (r.ok && r.replica) seen.set(r.replica, r.data.version);
    const note = (version) => version === saved ? "" : version < saved ? " (not yet)" : " (changed again since)";
    const all = [...seen].map(([replica, version]) => `${replica}: version ${version}${note(version)}`);
    $("replica-versions").textContent = `${key} as served, by replica: ${all.join(", ")}`;
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

async function history() {
  const r = await page.call("GET", `${configs()}/${editing.key}/history?limit=20`);
  const rows = $("history-rows");
  rows.replaceChildren();
  $("history-caption").textContent = `Changes of ${editing.key}, newest first`;
  if (!r.ok) { page.status(r.detail); return; }
  for (const change of r.data) {
    const row = document.createElement("tr");
    const cells = [String(change.version), change.actor, change.reason, new Date(change.at).toLocaleString(), JSON.stringify(change.new_value)];
    for (const text of cells) { const td = document.createElement("td"); td.textContent = text; row.append(td); }
    rows.append(row);
  }
}

export function initSettings() {
  $("config-form").addEventListener("submit", (event) => save(event).catch((e) => problem(e.message, "config-value")));
}
