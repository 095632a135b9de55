// What the signed-in token may use, as the API says it (GET /v1/whoami → capabilities:
// per management operation `all`, `some` or `none`), and refusals in the
// administrator's words. The console asks; it never guesses from role names. No DOM
// here.

/** Management operations in words ("You may not …"). */
const DOING = {
  'users.read': 'see users',
  'users.write': 'create or edit users',
  'users.delete': 'delete users',
  'groups.read': 'see groups',
  'groups.write': 'change groups and their members',
  'org_units.read': 'see org units',
  'org_units.write': 'create, edit or delete org units',
  'queues.read': 'see queues',
  'queues.write': 'change queues, their members and supervisors',
  'roles.read': 'see roles',
  'roles.write': 'create, edit, copy or delete custom roles',
  'assignments.read': 'see other users’ roles',
  'assignments.write': 'give roles to users or take them away',
  'audit.read': 'read the audit trail',
  'impact.read': 'preview the impact of a change',
  'check.others': 'check or explain other users’ permissions',
  'catalog.read': 'read the privilege catalog',
  'credentials.write': 'create, list or revoke service credentials',
  'tokens.write': 'manage other users’ API tokens',
  'settings.read': 'see the tenant’s settings',
  'settings.write': 'change the tenant’s settings',
};

/** How far `who` may perform `op`: 'all', 'some' or 'none' (the operator: 'all'). */
export function reach(who, op) {
  if (!who) return 'none';
  if (who.operator) return 'all';
  const caps = who.capabilities || {};
  return caps[op] || 'none';
}

/** Whether `who` may perform `op` anywhere at all. */
export function may(who, op) {
  return reach(who, op) !== 'none';
}

/** Why a control is off: "You may not give roles to users or take them away." (null when allowed). */
export function denied(who, op) {
  if (may(who, op)) return null;
  return `You may not ${DOING[op] || 'do this'} with this sign-in.`;
}

/** A page is listed when every operation it `needs` and one of those in `any` are allowed. */
export function pageAllowed(who, page) {
  if (page.needs && !page.needs.every((op) => may(who, op))) return false;
  if (page.any && !page.any.some((op) => may(who, op))) return false;
  return true;
}

/**
 * A refusal's message in the administrator's words: its first sentence (the "You need
 * … to …" part), without the technical details after it (operation and action ids,
 * requirements), with `code` quotes as typographic quotes.
 */
export function plain(message) {
  let s = String(message ?? '').trim();
  // The first sentence ends at a full stop followed by the technical part.
  const m = s.match(/^(.*?[.!?])\s+(?=[`A-Z(])/s);
  if (m) s = m[1];
  // Technical asides naming ids: "(profile `x` reserves `roles.write` …)", "(`users.read`)".
  s = s.replace(/\s*\([^()]*`[\w-]+(?:\.[\w-]+)+`[^()]*\)/g, '');
  // What is left of operation or action ids after a colon ("…: it needs `roles.view` …").
  s = s.replace(/:\s*it needs `[\w-]+(?:\.[\w-]+)+`.*$/s, '');
  s = s.replace(/`([^`]*)`/g, '“$1”').trim();
  if (!s) return 'The server refused.';
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : s + '.';
}
