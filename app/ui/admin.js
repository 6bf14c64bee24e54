// The platform admin's view: create an org and follow its creation saga to COMMITTED or FAILED
// (with the reason), then mint the invite its first admin signs in with; revoke any token by id.

import { problem } from "/ui/forms.js";

const $ = (id) => document.getElementById(id);

let page = null;
/** The Idempotency-Key of the org being created: the same for every submit of the same form, so
 * a double click or a retry makes one org. A changed form is another org, with a new key. */
let key = null;
let created = null;

export function initAdmin(context) {
  page = context;
  for (const id of ["org-slug", "org-name"]) $(id).addEventListener("input", () => { key = null; });
  $("create-org-form").addEventListener("submit", (event) => { event.preventDefault(); createOrg().catch((e) => page.status(e.message)); });
  $("mint-admin-invite").addEventListener("click", () => mintAdminInvite().catch((e) => page.status(e.message)));
  $("revoke-token-form").addEventListener("submit", (event) => { event.preventDefault(); revokeToken().catch((e) => page.status(e.message)); });
}

export function showAdmin() {
  page.show("admin");
}

function outcome(text) { $("org-outcome").textContent = text; }

async function createOrg() {
  const slug = $("org-slug").value.trim();
  const name = $("org-name").value.trim();
  if (!key) key = crypto.randomUUID();
  // This submit's key, whatever another submit of the form does to `key` meanwhile.
  const sent = key;
  $("create-org").disabled = true;
  $("admin-invite").hidden = true;
  outcome(`Creating ${slug}: PENDING (defaults, then isolation)…`);
  try {
    // A second request with the key while the first runs is told to retry: it then gets the
    // first one's answer.
    for (let attempt = 0; attempt < 60; attempt++) {
      const r = await page.call("POST", "/api/v1/orgs", { slug, name }, { "Idempotency-Key": sent });
      if (r.status === 409 && r.detail.includes("Idempotency-Key")) { await new Promise((ok) => setTimeout(ok, 500)); continue; }
      if (r.status === 201) {
        created = r.data;
        outcome(`${r.data.slug}: ${r.data.status}`);
        $("admin-invite").hidden = false;
        key = null;
      } else if (r.status === 502) {
        outcome(`${slug}: FAILED (${r.detail}); everything it did was undone, so the slug is free again.`);
        key = null;
      } else {
        outcome(`${slug}: not created: ${r.detail}`);
      }
      return;
    }
    outcome(`${slug}: still PENDING; its creation goes on, and a retry of this form gets its result.`);
  } finally {
    $("create-org").disabled = false;
  }
}

async function mintAdminInvite() {
  const r = await page.call("POST", `/api/v1/orgs/${created.id}/invites`, { role: "admin", uses: 1, ttl_hours: 24 });
  if (!r.ok) { page.status(r.detail); return; }
  $("admin-invite-code").textContent = r.data.code;
  $("admin-invite-expiry").textContent = `single use, until ${new Date(r.data.expires_at).toLocaleString()}`;
}

async function revokeToken() {
  const refused = (text) => problem("revoke-token-error", ["revoke-token-id"], text, text ? "revoke-token-id" : undefined);
  const jti = $("revoke-token-id").value.trim();
  if (!jti) { refused("Paste the token's id (its jti)."); return; }
  const r = await page.call("POST", "/api/v1/auth/revoke", { jti });
  if (!r.ok) { refused(r.detail); return; }
  refused("");
  $("revoke-token-id").value = "";
  page.status(`Token ${jti} revoked on every replica.`);
}
