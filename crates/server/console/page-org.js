// The org tree: company down to call center. An assignment scoped to a unit covers its
// whole subtree, so this is also the map of administrators' reach.

import { api } from './api.js';
import { h, mount, field, select, errorBox, callout, loading, pageHead, toast, uid, plural, refuse, refusedNote } from './ui.js';

export async function render(root, ctx) {
  mount(root, pageHead('Org tree'), loading());
  // The units are the page; users, queues and the catalog add counts and names, and are
  // left out when this token may not read them.
  const optional = (p) => p.catch(() => null);
  const [units, users, queues, catalog] = await Promise.all([
    ctx.list('org-units'), optional(ctx.list('users')), optional(ctx.list('queues')), optional(ctx.catalog()),
  ]);
  const kindName = new Map(((catalog && catalog.org_kinds) || []).map((k) => [k.id, k.name]));
  const noWrite = ctx.denied('org_units.write');
  const children = new Map();
  const roots = [];
  const ids = new Set(units.map((u) => u.id));
  for (const u of units) {
    const p = (u.relations.parent || [])[0];
    if (p && ids.has(p)) {
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(u);
    } else {
      roots.push(u);
    }
  }
  const byName = (a, b) => (a.name || a.id).localeCompare(b.name || b.id);
  const usersIn = new Map();
  for (const u of users || []) for (const o of u.relations.org_unit || []) usersIn.set(o, (usersIn.get(o) || 0) + 1);
  const queuesIn = new Map();
  for (const q of queues || []) for (const o of q.relations.org_unit || []) queuesIn.set(o, (queuesIn.get(o) || 0) + 1);
  const subtreeUsers = (u) => (usersIn.get(u.id) || 0) + (children.get(u.id) || []).reduce((n, c) => n + subtreeUsers(c), 0);

  const nodeEl = (u) => {
    const kids = (children.get(u.id) || []).sort(byName);
    const k = u.attributes.kind;
    return h('li', { 'data-unit': u.id },
      h('div', { class: 'org-node' },
        h('span', { class: 'badge' }, kindName.get(k) || k || 'unit'),
        h('span', { class: 'name' }, u.name || u.id),
        h('span', { class: 'mono small muted' }, u.id),
        users ? h('span', { class: 'small' },
          h('a', { href: ctx.link('users', { org: u.id }) }, plural(usersIn.get(u.id) || 0, 'user')),
          kids.length ? ` (${subtreeUsers(u)} with sub-units)` : '',
          queuesIn.get(u.id) ? ` · ${plural(queuesIn.get(u.id), 'queue')}` : '') : null),
      kids.length ? h('ul', { class: 'org' }, kids.map(nodeEl)) : null);
  };

  // A new unit.
  const idIn = h('input', { type: 'text', id: uid('id'), class: 'mono', autocomplete: 'off' });
  const nameIn = h('input', { type: 'text', id: uid('name') });
  const kinds = (catalog && catalog.org_kinds) || [];
  const kindSel = select({ id: uid('kind') }, kinds.map((k) => [k.id, k.name]));
  const parentSel = select({ id: uid('parent') }, [['', '— top level —'], ...units.slice().sort(byName).map((u) => [u.id, `${u.name || u.id} (${kindName.get(u.attributes.kind) || u.attributes.kind})`])]);
  const msg = h('div', { 'aria-live': 'assertive' });
  const allowed = h('p', { class: 'small muted' });
  const explain = () => {
    const k = kinds.find((x) => x.id === kindSel.value);
    allowed.textContent = k ? (k.parents.length ? `A ${k.name} sits under: ${k.parents.map((p) => kindName.get(p) || p).join(', ')}.` : `A ${k.name} is a top-level unit.`) : '';
  };
  kindSel.addEventListener('change', explain);
  explain();
  const create = async () => {
    mount(msg);
    const b = { id: idIn.value.trim(), kind: kindSel.value };
    if (nameIn.value.trim()) b.name = nameIn.value.trim();
    if (parentSel.value) b.parent = parentSel.value;
    try {
      const w = await api('POST', ctx.path('/org-units'), b);
      toast(`Org unit ${b.id} created (revision ${w.revision}).`);
      ctx.invalidate();
      await render(root, ctx);
    } catch (e) {
      mount(msg, errorBox(e, 'Not created:'));
    }
  };

  mount(root,
    pageHead('Org tree', 'The organization from the company down to its call centers. An assignment scoped to a unit reaches everything beneath it.'),
    roots.length
      ? h('div', { class: 'card' }, h('ul', { class: 'org root', 'aria-label': 'Org units' }, roots.sort(byName).map(nodeEl)))
      : callout('info', 'This tenant has no org units yet.'),
    h('details', { class: 'card' },
      h('summary', {}, h('strong', {}, 'Add an org unit')),
      h('div', { class: 'row' },
        h('div', {}, field('Id', idIn)), h('div', { class: 'grow' }, field('Name', nameIn)),
        h('div', {}, field('Kind', kindSel)), h('div', {}, field('Parent', parentSel))),
      allowed, msg,
      h('div', { class: 'actions' }, refuse(h('button', { type: 'button', onclick: create }, 'Add unit'), noWrite)),
      refusedNote(noWrite)));
}
