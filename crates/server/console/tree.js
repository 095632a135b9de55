// The role editor's model: the catalog's privilege tree and the checked state of each
// privilege, with the rules of the engine (a parent held at its top includes its whole
// subtree), locked grants, role-type caps and defaults. No DOM here, so it is tested
// on its own (console-tests/tree.test.mjs).

/** The catalog as a tree model: nodes by id, sections with their roots. */
export function buildModel(catalog) {
  const nodes = new Map();
  const details = new Map((catalog.privilege_details || []).map((d) => [d.id, d]));
  const sections = [];
  const visit = (n, parent, section) => {
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
  return { nodes, sections, roleTypes };
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
    if (n) applyValue(n, st.nodes.get(id), v);
  }
  // A parent held at its top holds its subtree (as the engine decides).
  for (const id of model.nodes.keys()) {
    if (atTop(model, st, id) && model.nodes.get(id).children.length) {
      for (const d of descendants(model, id)) {
        setTop(model.nodes.get(d), st.nodes.get(d));
        if (st.locked.has(id) && !st.locked.has(d)) {
          st.locked.set(d, `included in the locked “${model.nodes.get(id).name}”`);
        }
      }
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

/**
 * Keeps the engine's rule true after a change under `id`: an ancestor at its top
 * includes everything beneath it, so when something beneath is no longer at its top,
 * the ancestor steps down (a flag turns off, levels drop one). When every child of a
 * flag parent is fully held, the parent is checked too (tri-state behaviour).
 */
function settle(model, st, id) {
  for (const a of ancestors(model, id)) {
    const node = model.nodes.get(a);
    const s = st.nodes.get(a);
    if (!editable(st, a)) continue;
    const kidsFull = node.children.every((c) => full(model, st, c));
    if (atTop(model, st, a) && !kidsFull) {
      if (node.kind === 'levels' && node.options.length > 1) {
        s.level = node.options[node.options.length - 2];
      } else {
        s.on = false;
      }
    } else if (!s.on && kidsFull && node.kind === 'flag') {
      s.on = true;
    }
  }
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

/** Picks a level (and turns the privilege on). */
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
 * The role's `grants` as the API takes them: a fully held parent stands for its
 * subtree; role-type defaults are left out when kept and written `false` when turned
 * off; locked grants are the server's to keep.
 */
export function grants(model, st) {
  const out = {};
  const defaults = (st.roleType && st.roleType.defaults) || {};
  const emit = (id) => {
    const node = model.nodes.get(id);
    const s = st.nodes.get(id);
    if (node.children.length && full(model, st, id) && !st.locked.has(id)) {
      out[id] = valueOf(node, s);
      return;
    }
    if (!st.locked.has(id)) {
      if (s.on) {
        const v = valueOf(node, s);
        if (!(id in defaults && same(defaults[id], v))) out[id] = v;
      } else if (id in defaults) {
        out[id] = false;
      }
    }
    node.children.forEach(emit);
  };
  for (const sec of model.sections) sec.roots.forEach(emit);
  return out;
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
