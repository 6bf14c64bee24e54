// A project's members: everyone in it sees who is in and in which role; its owners and the org's
// admins add a guest of the org, change a role, or remove someone.

import { guestKey, problem } from "/ui/forms.js";

const $ = (id) => document.getElementById(id);

let view = null;
/** Whether the viewer may manage the project shown (its owner, or an org admin). */
let manages = false;

export function managesProject() { return manages; }

/** Shows the members of `context.project`; `context.me` says whether the viewer manages them. */
export async function showMembers(context) {
  view = context;
  await list();
}

function members() { return `/api/v1/orgs/${view.org}/projects/${view.project.id}/members`; }

async function list() {
  const r = await view.call("GET", members());
  if (!r.ok) { view.status(r.detail); return; }
  const mine = r.data.find((m) => m.user_key === view.me.user_key);
  manages = view.me.role === "admin" || Boolean(mine && mine.role === "owner");
  $("add-member-form").hidden = !manages;
  const rows = $("member-rows");
  rows.replaceChildren();
  for (const member of r.data) {
    const row = document.createElement("tr");
    row.dataset.member = member.user_key;
    const who = document.createElement("th"); who.scope = "row"; who.textContent = member.user_key;
    const role = document.createElement("td");
    const remove = document.createElement("td");
    if (manages) {
      const select = document.createElement("select");
      select.setAttribute("aria-label", `Role of ${member.user_key}`);
      for (const value of ["member", "owner"]) {
        const option = document.createElement("option");
        option.value = value; option.textContent = value; option.selected = value === member.role;
        select.append(option);
      }
      select.addEventListener("change", () => put(member.user_key, select.value));
      role.append(select);
      const button = document.createElement("button");
      button.type = "button"; button.textContent = "Remove";
      button.setAttribute("aria-label", `Remove ${member.user_key} from the project`);
      button.addEventListener("click", async () => {
        const done = await view.call("DELETE", `${members()}/${member.user_key}`);
        view.status(done.ok ? `${member.user_key} is no longer in the project.` : done.detail);
        await list();
      });
      remove.append(button);
    } else {
      role.textContent = member.role;
    }
    row.append(who, role, remove);
    rows.append(row);
  }
}

async function put(key, role) {
  const r = await view.call("PUT", `${members()}/${key}`, { role });
  problem("member-error", ["member-key"], r.ok ? "" : r.detail, r.ok ? null : "member-key");
  if (r.ok) view.status(`${key} is now ${role === "owner" ? "an" : "a"} ${role} of the project.`);
  await list();
}

export function initMembers() {
  $("add-member-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = guestKey("member-key", "member-error");
    if (!key) return;
    put(key, $("member-role").value).then(() => { $("member-key").value = ""; });
  });
}
