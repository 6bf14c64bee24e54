// What every form does with a problem: says it in the form's alert (which its fields name with
// aria-describedby), marks the field it is about invalid, and puts the focus there.

const $ = (id) => document.getElementById(id);

/** Shows `text` in the alert `alert`; of `fields`, marks `field` invalid (and focuses it) and the
 * others valid. An empty text clears the alert. */
export function problem(alert, fields, text, field) {
  $(alert).textContent = text;
  for (const id of fields) $(id).setAttribute("aria-invalid", String(id === field));
  if (field) $(field).focus();
}

/** The guest key (guest-NNNN) typed into `field`, or null with the problem shown in `alert`. */
export function guestKey(field, alert) {
  const key = $(field).value.trim();
  if (/^guest-[0-9]+$/.test(key)) return key;
  problem(alert, [field], "A guest key looks like guest-0002.", field);
  return null;
}
