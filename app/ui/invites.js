// The org admin's invites: mint one (role, uses, hours), see its code once, list the ones that
// can still be redeemed, and withdraw one.

import { guestKey, problem as show } from "/ui/forms.js";

const $ = (id) => document.getElementById(id);

let page = null;

export function initInvites(context) {
  page = context;
  $("mint-invite-form").addEventListener("submit", (event) => { event.preventDefault(); mint().catch((e) => page.status(e.message)); });
  $("revoke-guest-form").addEventListener("submit", (event) => { event.preventDefault(); revokeGuest().catch((e) => page.status(e.message)); });
}

export async function showInvites() {
  page.show("invites");
  $("new-invite").hidden = true;
  await list();
}

function invites() { return `/api/v1/orgs/${page.org()}/invites`; }

function problem(text, field) { show("invite-error", ["invite-uses", "invite-hours"], text, field); }

async function mint() {
  const uses = Number($("invite-uses").value);
  const hours = Number($("invite-hours").value);
  if (!Number.isInteger(uses) || uses < 1 || uses > 100) { problem("Uses must be a whole number from 1 to 100.", "invite-uses"); return; }
  if (!Number.isInteger(hours) || hours < 1 || hours > 168) { problem("Hours must be a whole number from 1 to 168.", "invite-hours"); return; }
  problem("");
  const r = await page.call("POST", invites(), { role: $("invite-role").value, uses, ttl_hours: hours });
  if (!r.ok) { problem(r.detail); return; }
  $("new-invite").hidden = false;
  $("new-invite-code").textContent = r.data.code;
  page.status(`Invite minted: ${r.data.uses} use(s) as ${r.data.role}. Its code is shown once.`);
  await list();
}

/** Ends every session a guest holds, on every replica (its chat sockets close at once). */
async function revokeGuest() {
  const key = guestKey("revoke-guest-key", "revoke-guest-error");
  if (!key) return;
  const r = await page.call("POST", `/api/v1/orgs/${page.org()}/users/${key}/revoke`);
  show("revoke-guest-error", ["revoke-guest-key"], r.ok ? "" : r.detail, r.ok ? null : "revoke-guest-key");
  if (r.ok) page.status(`Every session of ${key} has ended.`);
}

async function list() {
  const r = await page.call("GET", invites());
  if (!r.ok) { page.status(r.detail); return; }
  const rows = $("invite-rows");
  rows.replaceChildren();
  for (const invite of r.data) {
    const row = document.createElement("tr");
    row.dataset.invite = invite.id;
    for (const text of [invite.role, String(invite.uses_left), new Date(invite.expires_at).toLocaleString(), invite.created_by]) {
      const td = document.createElement("td"); td.textContent = text; row.append(td);
    }
    const cell = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button"; button.textContent = "Withdraw";
    button.setAttribute("aria-label", `Withdraw the ${invite.role} invite with ${invite.uses_left} use(s) left`);
    button.addEventListener("click", async () => {
      const done = await page.call("DELETE", `${invites()}/${invite.id}`);
      page.status(done.ok ? "Invite withdrawn." : done.detail);
      await list();
    });
    cell.append(button); row.append(cell);
    rows.append(row);
  }
  $("invite-count").textContent = `${r.data.length} can still be redeemed`;
}
