// The role editor's model: the catalog's privilege tree and the checked state of each
// privilege, with the rules of the engine ("a parent includes its children", exactly as
// `Profile::included` in crates/core decides it), locked grants, role-type caps and
// defaults. No DOM here, so it is tested on its own (console-tests/tree.test.mjs).

/** The catalog as a tree model: nodes by id, sections with their roots. */
export function buildModel(catalog) {
  const nodes = new Map();
  const details = new Map((catalog.privilege_details || []).map((d) => [d.id, d]));
  const sections = [];
  const order = []; // every id after its parent (depth first)
  const visit = (n, parent, section) => {
    order.push(n.id);
    nodes.set(n.id, {
      id: n.id,
      name: n.name,
      kind: n.kind,
      options: n.options || [],
      description: n.description || null,
      parent,
      section,
      children: n.children.map((c) => c.id),
      detail: details.get(n.id) || null,
    });
    n.children.forEach((c) => visit(c, n.id, section));
  };
  for (const s of catalog.sections) {
    s.privileges.forEach((p) => visit(p, null, s.id));
    sections.push({ id: s.id, name: s.name, roots: s.privileges.map((p) => p.id) });
  }
  const roleTypes = new Map((catalog.role_types || []).map((t) => [t.id, t]));
  return { nodes, sections, roleTypes, order };
}

/** Every id under `id` (not itself), depth first. */
export function descendants(model, id) {
  const out = [];
  const walk = (x) => {
    for (const c of model.nodes.get(x).children) {
      out.push(c);
      walk(c);
    }
  };
  walk(id);
  return out;
}

/** The ancestors of `id`, nearest first. */
export function ancestors(model, id) {
  const out = [];
  let p = model.nodes.get(id).parent;
  while (p) {
    out.push(p);
    p = model.nodes.get(p).parent;
  }
  return out;
}

function numberDefault(node) {
  const d = node.detail;
  if (d && typeof d.default === 'number') return d.default;
  if (d && typeof d.min === 'number') return d.min;
  return 0;
}

function blank(node) {
  return {
    on: false,
    level: node.kind === 'levels' ? node.options[0] : null,
    choices: [],
    number: node.kind === 'number' ? numberDefault(node) : null,
  };
}

function setTop(node, st) {
  st.on = true;
  if (node.kind === 'levels') st.level = node.options[node.options.length - 1];
  if (node.kind === 'choice') st.choices = [...node.options];
  if (node.kind === 'number' && st.number === null) st.number = numberDefault(node);
}

/** The value that holds a privilege at its top, as the API writes grants. */
export function topValue(node) {
  if (node.kind === 'levels') return node.options[node.options.length - 1];
  if (node.kind === 'choice') return [...node.options];
  if (node.kind === 'number') return numberDefault(node);
  return true;
}

/** Applies a grant value as the API shows it (true/false, level, choices, number). */
function applyValue(node, st, v) {
  if (v === false || v === null || v === undefined) {
    st.on = false;
    return;
  }
  st.on = true;
  if (node.kind === 'levels' && typeof v === 'string') st.level = v;
  if (node.kind === 'choice') st.choices = Array.isArray(v) ? [...v] : [String(v)];
  if (node.kind === 'number' && typeof v === 'number') st.number = v;
}

/** Adds a grant value to what a privilege already holds (the higher level, more choices, the larger number). */
function raise(node, s, v) {
  if (v === null || v === undefined || v === false) return;
  if (!s.on) {
    applyValue(node, s, v);
    return;
  }
  if (node.kind === 'levels') {
    if (node.options.indexOf(v) > node.options.indexOf(s.level)) s.level = v;
  } else if (node.kind === 'choice') {
    const add = Array.isArray(v) ? v : [v];
    s.choices = [...s.choices, ...add.filter((c) => !s.choices.includes(c))];
  } else if (node.kind === 'number') {
    if (typeof v === 'number' && (s.number === null || v > s.number)) s.number = v;
  }
}

/** The choices a set of chosen options implies (itself included). */
function impliedChoices(node, chosen) {
  const imp = node.detail && node.detail.implies;
  const out = new Set();
  for (const c of chosen) {
    out.add(c);
    if (imp && imp[c]) imp[c].forEach((x) => out.add(x));
  }
  return out;
}

/**
 * What holding privilege `parentId` as `held` ({on, level, …}) gives of its child
 * `childId`, as a grant value, or null: the engine's rule (`Profile::included`).
 * - A flag parent, held, gives every child at its top.
 * - A `levels` parent held at level L gives a `levels` child the highest of the child's
 *   levels whose name is one of the parent's levels up to L (so `Report: Read` never
 *   gives `Report export: Edit` when the child's only level is Edit), and gives a child
 *   of another kind (its top) only when held at its own highest level.
 * - Choice and number parents give nothing.
 */
export function included(model, parentId, held, childId) {
  const p = model.nodes.get(parentId);
  const c = model.nodes.get(childId);
  if (!p || !c || !held || !held.on) return null;
  if (p.kind === 'flag') return topValue(c);
  if (p.kind !== 'levels') return null;
  const k = p.options.indexOf(held.level);
  if (k < 0) return null;
  if (c.kind === 'levels') {
    const names = p.options.slice(0, k + 1);
    for (let i = c.options.length - 1; i >= 0; i -= 1) {
      if (names.includes(c.options[i])) return c.options[i];
    }
    return null;
  }
  return k === p.options.length - 1 ? topValue(c) : null;
}

/** Whether state `s` of privilege `node` holds at least grant value `v`. */
function holds(node, s, v) {
  if (v === null || v === undefined || v === false) return true;
  if (!s.on) return false;
  if (node.kind === 'levels') return node.options.indexOf(s.level) >= node.options.indexOf(v);
  if (node.kind === 'choice') {
    const got = impliedChoices(node, s.choices);
    return (Array.isArray(v) ? v : [v]).every((x) => got.has(x));
  }
  if (node.kind === 'number') return typeof v !== 'number' || (s.number !== null && s.number >= v);
  return true;
}

/** Whether a privilege's state holds at least grant value `v`. */
export function covers(model, st, id, v) {
  return holds(model.nodes.get(id), st.nodes.get(id), v);
}

/** What privilege `id` gets from its parent as the parent is held now (null: nothing). */
export function givenByParent(model, st, id) {
  const parent = model.nodes.get(id).parent;
  return parent ? included(model, parent, st.nodes.get(parent), id) : null;
}

/**
 * Applies "a parent includes its children" over the whole tree, parents first (as the
 * engine closes a role): each child holds at least what its parent gives it.
 */
function close(model, st) {
  for (const id of model.order) {
    const v = givenByParent(model, st, id);
    if (v !== null) raise(model.nodes.get(id), st.nodes.get(id), v);
  }
}

/**
 * The editor state for a role: `role` as GET /roles/{id} answers (grants, locked,
 * type), or a new role's starting values. Returns {nodes: Map id → {on, level,
 * choices, number}, locked: Map id → reason, allowed: Set|null, roleType}.
 */
export function createState(model, role) {
  const st = { nodes: new Map(), locked: new Map(), allowed: null, roleType: null };
  for (const node of model.nodes.values()) st.nodes.set(node.id, blank(node));
  setRoleType(model, st, role.type || null, role);
  return st;
}

/**
 * Sets the role type: its cap decides what may be granted, its locked grants are on and
 * cannot be removed, its defaults start on. `role` (optional) re-reads the role's own
 * grants on top of the defaults. Returns the ids cleared because the cap excludes them.
 */
export function setRoleType(model, st, typeId, role) {
  const rt = typeId ? model.roleTypes.get(typeId) || null : null;
  st.roleType = rt;
  // Caps: the listed privileges with their subtrees.
  if (rt && Array.isArray(rt.cap)) {
    const allowed = new Set();
    for (const id of rt.cap) {
      if (!model.nodes.has(id)) continue;
      allowed.add(id);
      descendants(model, id).forEach((d) => allowed.add(d));
    }
    st.allowed = allowed;
  } else {
    st.allowed = null;
  }
  // Locked grants: the role's own (copied templates) and the type's.
  st.locked = new Map();
  const lockedValues = new Map();
  for (const [id, v] of Object.entries((role && role.locked) || {})) {
    lockedValues.set(id, v);
    st.locked.set(id, 'locked on this role: it cannot be removed');
  }
  for (const [id, v] of Object.entries((rt && rt.locked) || {})) {
    lockedValues.set(id, v);
    st.locked.set(id, `locked for every ${rt.name} role: it cannot be removed`);
  }
  if (role) {
    for (const [id, s] of st.nodes) Object.assign(s, blank(model.nodes.get(id)));
    for (const [id, v] of Object.entries((rt && rt.defaults) || {})) {
      const n = model.nodes.get(id);
      if (n && !(id in (role.grants || {}))) applyValue(n, st.nodes.get(id), v);
    }
    for (const [id, v] of Object.entries(role.grants || {})) {
      const n = model.nodes.get(id);
      if (n) applyValue(n, st.nodes.get(id), v);
    }
  }
  for (const [id, v] of lockedValues) {
    const n = model.nodes.get(id);
    if (n) raise(n, st.nodes.get(id), v);
  }
  // A parent includes its children (as the engine decides); what a locked parent gives
  // a child at the child's top locks the child too.
  close(model, st);
  for (const id of model.order) {
    const parent = model.nodes.get(id).parent;
    if (!parent || !st.locked.has(parent) || st.locked.has(id)) continue;
    const v = givenByParent(model, st, id);
    if (v !== null && JSON.stringify(v) === JSON.stringify(topValue(model.nodes.get(id)))) {
      st.locked.set(id, `included in the locked “${model.nodes.get(parent).name}”`);
    }
  }
  // What the cap excludes cannot be held.
  const cleared = [];
  if (st.allowed) {
    for (const [id, s] of st.nodes) {
      if (s.on && !st.allowed.has(id) && !st.locked.has(id)) {
        s.on = false;
        cleared.push(id);
      }
    }
  }
  return cleared;
}

/** Whether a privilege may be changed (not locked, inside the cap). */
export function editable(st, id) {
  return !st.locked.has(id) && (!st.allowed || st.allowed.has(id));
}

/** Why a privilege cannot be changed, in words (null when it can). */
export function whyDisabled(st, id) {
  if (st.locked.has(id)) return st.locked.get(id);
  if (st.allowed && !st.allowed.has(id)) {
    return `not available to ${st.roleType ? st.roleType.name : 'this type of'} roles`;
  }
  return null;
}

/** Held at its top: on, at the highest level, with every choice. */
export function atTop(model, st, id) {
  const node = model.nodes.get(id);
  const s = st.nodes.get(id);
  if (!s.on) return false;
  if (node.kind === 'levels') return s.level === node.options[node.options.length - 1];
  if (node.kind === 'choice') {
    const got = impliedChoices(node, s.choices);
    return node.options.every((o) => got.has(o));
  }
  return true;
}

/** The whole subtree is held at its top. */
export function full(model, st, id) {
  return atTop(model, st, id) && model.nodes.get(id).children.every((c) => full(model, st, c));
}

/** Something in the subtree is held. */
export function some(model, st, id) {
  return st.nodes.get(id).on || model.nodes.get(id).children.some((c) => some(model, st, c));
}

/** The checkbox of a privilege: checked, or indeterminate for a partly held parent. */
export function checkbox(model, st, id) {
  const node = model.nodes.get(id);
  if (!node.children.length) return { checked: st.nodes.get(id).on, indeterminate: false };
  const f = full(model, st, id);
  return { checked: f, indeterminate: !f && some(model, st, id) };
}

/** Whether every child holds what parent `id` would give it if held as `held`. */
function kidsHold(model, st, id, held) {
  return model.nodes.get(id).children.every((c) => covers(model, st, c, included(model, id, held, c)));
}

/**
 * Keeps the engine's rule true after a change under `id`: an ancestor includes its
 * children, so when a child no longer holds what its parent gives it, the parent steps
 * down to the highest level that gives no more than the children hold (a flag, or a
 * `levels` parent with no such level, turns off). A flag parent whose children are all
 * held at their top is checked too (tri-state behaviour). Locked ancestors stay, and
 * what they give comes back (the server would add it anyway).
 */
function settle(model, st, id) {
  for (const a of ancestors(model, id)) {
    const node = model.nodes.get(a);
    const s = st.nodes.get(a);
    if (!editable(st, a)) continue;
    if (s.on && !kidsHold(model, st, a, s)) {
      if (node.kind === 'levels') {
        let k = node.options.indexOf(s.level) - 1;
        while (k >= 0 && !kidsHold(model, st, a, { on: true, level: node.options[k] })) k -= 1;
        if (k >= 0) s.level = node.options[k];
        else s.on = false;
      } else {
        s.on = false;
      }
    } else if (!s.on && node.kind === 'flag' && node.children.every((c) => atTop(model, st, c))) {
      s.on = true;
    }
  }
  close(model, st);
}

/**
 * Checks or unchecks a privilege. A parent takes its whole subtree with it (each
 * descendant at its top when checking); locked and capped privileges stay as they are.
 */
export function toggle(model, st, id, on) {
  if (!editable(st, id)) return;
  const node = model.nodes.get(id);
  const s = st.nodes.get(id);
  if (node.children.length) {
    for (const x of [id, ...descendants(model, id)]) {
      if (!editable(st, x)) continue;
      const xs = st.nodes.get(x);
      if (on) setTop(model.nodes.get(x), xs);
      else xs.on = false;
    }
  } else if (on) {
    s.on = true;
    if (node.kind === 'choice' && s.choices.length === 0) s.choices = [node.options[0]];
    if (node.kind === 'number' && s.number === null) s.number = numberDefault(node);
  } else {
    s.on = false;
  }
  settle(model, st, id);
}

/** Picks a level (and turns the privilege on); a parent gives its children what that level includes. */
export function setLevel(model, st, id, level) {
  if (!editable(st, id)) return;
  const s = st.nodes.get(id);
  s.on = true;
  s.level = level;
  settle(model, st, id);
}

/** Picks choices: one for a single choice, any number for a multiple one. */
export function setChoices(model, st, id, choices) {
  if (!editable(st, id)) return;
  const s = st.nodes.get(id);
  s.choices = [...choices];
  s.on = s.choices.length > 0;
  settle(model, st, id);
}

/** Sets a number privilege's value (and turns it on). */
export function setNumber(model, st, id, n) {
  if (!editable(st, id)) return;
  const s = st.nodes.get(id);
  s.on = true;
  s.number = n;
  settle(model, st, id);
}

function valueOf(node, s) {
  if (node.kind === 'levels') return s.level;
  if (node.kind === 'choice') return [...s.choices];
  if (node.kind === 'number') return s.number;
  return true;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The role's `grants` as the API takes them: what a privilege's parent already gives
 * it is left out (the parent stands for it); role-type defaults are left out when kept
 * and written `false` when turned off; locked grants are the server's to keep.
 */
export function grants(model, st) {
  const out = {};
  const defaults = (st.roleType && st.roleType.defaults) || {};
  for (const id of model.order) {
    if (st.locked.has(id)) continue;
    const node = model.nodes.get(id);
    const s = st.nodes.get(id);
    if (!s.on) {
      if (id in defaults) out[id] = false;
      continue;
    }
    const v = valueOf(node, s);
    const given = givenByParent(model, st, id);
    if (given !== null && holds(node, applied(node, given), v)) continue;
    if (id in defaults && same(defaults[id], v)) continue;
    out[id] = v;
  }
  return out;
}

/** The state that holds exactly grant value `v`. */
function applied(node, v) {
  const s = blank(node);
  applyValue(node, s, v);
  return s;
}

/** How many privileges are held (locked ones included). */
export function countOn(st) {
  let n = 0;
  for (const s of st.nodes.values()) if (s.on) n += 1;
  return n;
}

/** Ids of nodes matching a filter text, with their ancestors (to keep the tree). */
export function matching(model, text) {
  const q = text.trim().toLowerCase();
  if (!q) return null;
  const keep = new Set();
  for (const n of model.nodes.values()) {
    const hay = `${n.name} ${n.id} ${n.description || ''}`.toLowerCase();
    if (hay.includes(q)) {
      keep.add(n.id);
      ancestors(model, n.id).forEach((a) => keep.add(a));
    }
  }
  return keep;
}
