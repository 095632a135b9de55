// Users: the list with org unit, groups, queues, roles and attributes (seat level with
// its upgrade-only rule), an editor, and a form for a new user.

import { api } from './api.js';
import {
  h, mount, field, select, errorBox, callout, loading, pageHead, table, toast, uid, plural,
  refuse, confirmDialog, refusedNote,
} from './ui.js';

const PAGE = 40;

/** `seat_level` → "Seat level". */
const pretty = (name) => name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, ' ');

export async function render(root, ctx) {
  mount(root, pageHead('Users'), loading());
  // The users are the page; groups, org units, the catalog, roles and assignments only
  // add names and columns, and are left out when this token may not read them.
  const optional = (p) => p.catch(() => null);
  const [users, groups, units, catalog, roles] = await Promise.all([
    ctx.list('users'), optional(ctx.list('groups')), optional(ctx.list('org-units')), optional(ctx.catalog()), optional(ctx.roles()),
  ]);
  let assignments = null;
  if (ctx.may('assignments.read')) {
    try {
      assignments = (await api('GET', ctx.path('/assignments'))).assignments;
    } catch {
      assignments = null;
    }
  }
  const noWrite = ctx.denied('users.write');
  const noDelete = ctx.denied('users.delete');
  const noGroups = ctx.denied('groups.write');
  const unitName = new Map((units || []).map((u) => [u.id, u.name || u.id]));
  const groupName = new Map((groups || []).map((g) => [g.id, g.name || g.id]));
  const roleName = new Map((roles || []).map((r) => [r.id, r.name]));
  const userType = catalog ? catalog.types.find((t) => t.id === 'user') : null;
  const attrs = userType ? userType.attributes : [];
  const rules = ((catalog && catalog.invariants) || []).filter((i) => i.type === 'user' && i.kind === 'monotonic');
  const monotonic = new Map(rules.map((r) => [r.attribute, r]));
  const rolesOf = new Map();
  for (const a of assignments || []) {
    if (!rolesOf.has(a.principal)) rolesOf.set(a.principal, []);
    rolesOf.get(a.principal).push(roleName.get(a.role) || a.role);
  }

  const filterIn = h('input', { type: 'search', id: uid('filter'), placeholder: 'name, id, org unit, group or role', value: ctx.params.get('q') || ctx.params.get('org') || '' });
  const listEl = h('div', {});
  const editEl = h('div', {});
  const status = h('div', { 'aria-live': 'polite' });
  let page = 0;

  const attrValue = (u, a) => (a.name in u.attributes ? u.attributes[a.name] : a.default);
  const hay = (u) => [u.id, u.name, ...(u.relations.org_unit || []).map((x) => `${x} ${unitName.get(x)}`),
    ...(u.relations.groups || []).map((x) => groupName.get(x)), ...(rolesOf.get(u.id) || [])].join(' ').toLowerCase();

  function drawList() {
    const q = filterIn.value.trim().toLowerCase();
    const shown = q ? users.filter((u) => hay(u).includes(q)) : users;
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    const slice = shown.slice(page * PAGE, page * PAGE + PAGE);
    const rows = slice.map((u) => h('tr', { 'data-user': u.id },
      h('td', {}, u.name || u.id),
      h('td', { class: 'mono small' }, u.id),
      h('td', {}, (u.relations.org_unit || []).map((x) => unitName.get(x) || x).join(', ') || h('span', { class: 'muted' }, 'none')),
      h('td', {}, (u.relations.groups || []).map((x) => groupName.get(x) || x).join(', ')),
      h('td', { class: 'small' },
        (u.relations.queues || []).length ? `member of ${plural(u.relations.queues.length, 'queue')}` : '',
        (u.relations.supervised_queues || []).length ? h('div', {}, `supervises ${plural(u.relations.supervised_queues.length, 'queue')}`) : null),
      attrs.map((a) => h('td', {}, String(attrValue(u, a) ?? ''))),
      assignments ? h('td', { class: 'small' }, (rolesOf.get(u.id) || []).join(', ')) : null,
      h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `${editLabel} ${u.name || u.id}`, onclick: () => edit(u) }, editLabel))));
    const pager = h('div', { class: 'pager' },
      h('button', { type: 'button', class: 'secondary', disabled: page === 0, onclick: () => { page -= 1; drawList(); } }, '← Previous'),
      h('span', {}, `Page ${page + 1} of ${pages} · ${plural(shown.length, 'user')}`),
      h('button', { type: 'button', class: 'secondary', disabled: page >= pages - 1, onclick: () => { page += 1; drawList(); } }, 'Next →'));
    mount(listEl, pager,
      table(['Name', 'Id', 'Org unit', 'Groups', 'Queues', ...attrs.map((a) => pretty(a.name)), ...(assignments ? ['Roles'] : []), ''], rows, { 'aria-label': 'Users' }));
  }
  const editLabel = noWrite && noGroups && noDelete ? 'View' : 'Edit';
  filterIn.addEventListener('input', () => { page = 0; drawList(); });

  function attrControl(u, a) {
    const current = u ? attrValue(u, a) : a.default;
    const rule = monotonic.get(a.name);
    if (a.values) {
      const idx = a.values.indexOf(current);
      const s = h('select', { id: uid('attr'), 'data-attr': a.name },
        a.values.map((v, i) => h('option', { value: v, selected: v === current, disabled: Boolean(rule && u && i < idx) },
          rule && u && i < idx ? `${v} (cannot go back)` : v)));
      const hint = rule ? `Only moves up: ${a.values.join(' → ')}.` : null;
      return { el: field(pretty(a.name), s, hint), get: () => s.value };
    }
    if (a.type === 'bool') {
      const c = h('input', { type: 'checkbox', id: uid('attr'), checked: current === true });
      return { el: h('div', { class: 'field' }, h('label', { class: 'inline', for: c.id }, c, pretty(a.name))), get: () => c.checked };
    }
    const i = h('input', { type: a.type === 'int' ? 'number' : 'text', id: uid('attr'), value: current ?? '' });
    return { el: field(pretty(a.name), i), get: () => (a.type === 'int' ? Number.parseInt(i.value, 10) : i.value) };
  }

  function unitSelect(current, allowNone) {
    const opts = (units || []).map((x) => [x.id, `${x.name || x.id} (${x.attributes.kind || 'unit'})`]);
    if (current && !opts.some(([v]) => v === current)) opts.unshift([current, current]);
    return select({ id: uid('unit') }, [...(allowNone ? [['', '— none —']] : []), ...opts], current || '');
  }

  function edit(u) {
    const nameIn = h('input', { type: 'text', value: u.name || '', id: uid('name'), disabled: Boolean(noWrite) });
    const current = (u.relations.org_unit || [])[0] || '';
    const unitSel = unitSelect(current, !current);
    unitSel.disabled = Boolean(noWrite);
    const attrCtls = attrs.map((a) => ({ a, ...attrControl(u, a) }));
    if (noWrite) for (const x of attrCtls) x.el.querySelectorAll('input, select').forEach((c) => { c.disabled = true; });
    const mine = new Set(u.relations.groups || []);
    const groupBoxes = (groups || []).map((g) => {
      const c = h('input', { type: 'checkbox', id: uid('grp'), checked: mine.has(g.id), value: g.id, disabled: Boolean(noGroups) });
      return { g, c, el: h('label', { for: c.id, class: 'inline' }, c, g.name || g.id) };
    });
    const msg = h('div', { 'aria-live': 'assertive' });
    const save = async () => {
      mount(msg);
      const attributes = { ...u.attributes };
      for (const x of attrCtls) attributes[x.a.name] = x.get();
      const b = { name: nameIn.value.trim() || null, attributes };
      if (!b.name) delete b.name;
      if (unitSel.value) b.org_unit = unitSel.value;
      try {
        let w = noWrite ? null : await api('PUT', ctx.path(`/users/${encodeURIComponent(u.id)}`), b);
        for (const { g, c } of groupBoxes) {
          const members = new Set(g.relations.members || []);
          if (c.checked === members.has(u.id)) continue;
          if (c.checked) members.add(u.id);
          else members.delete(u.id);
          const gb = { members: [...members].sort(), attributes: g.attributes };
          if (g.name) gb.name = g.name;
          w = await api('PUT', ctx.path(`/groups/${encodeURIComponent(g.id)}`), gb);
        }
        if (!w) {
          mount(msg, callout('info', 'Nothing changed.'));
          return;
        }
        toast(`User ${u.id} saved (revision ${w.revision}).`);
        ctx.go(ctx.link('users', { q: filterIn.value, saved: w.revision }));
      } catch (e) {
        mount(msg, errorBox(e, 'Not saved:'));
      }
    };
    const remove = async () => {
      mount(msg);
      const ok = await confirmDialog('Delete user', `Delete the user “${u.name || u.id}” (${u.id})? This cannot be undone.`, 'Delete user', true);
      if (!ok) return;
      try {
        const w = await api('DELETE', ctx.path(`/users/${encodeURIComponent(u.id)}`));
        toast(`User ${u.id} deleted (revision ${w.revision}).`);
        ctx.go(ctx.link('users', { q: filterIn.value, saved: w.revision }));
      } catch (e) {
        mount(msg, errorBox(e, 'Not deleted:'));
      }
    };
    mount(editEl, h('section', { class: 'card', 'aria-labelledby': 'edit-user-title' },
      h('h2', { id: 'edit-user-title' }, `Edit user: ${u.name || u.id}`),
      h('div', { class: 'row' },
        h('div', { class: 'grow' }, field('Display name', nameIn)),
        h('div', { class: 'grow' }, field('Org unit', unitSel, 'Scoped administrators see the users of their units')),
        attrCtls.map((x) => h('div', { class: 'grow' }, x.el))),
      groupBoxes.length ? h('fieldset', {}, h('legend', {}, 'Groups'), h('div', { class: 'radio-row' }, groupBoxes.map((x) => x.el))) : null,
      (u.relations.queues || []).length || (u.relations.supervised_queues || []).length
        ? h('p', { class: 'small' }, 'Queues: ',
          (u.relations.queues || []).join(', ') || 'none', (u.relations.supervised_queues || []).length ? `; supervises ${u.relations.supervised_queues.join(', ')}` : '',
          ' — change them on the ', h('a', { href: ctx.link('queues') }, 'Queues'), ' page.')
        : null,
      msg,
      h('div', { class: 'actions' },
        refuse(h('button', { type: 'button', onclick: save }, 'Save user'), noWrite && noGroups),
        h('button', { type: 'button', class: 'secondary', onclick: () => mount(editEl) }, 'Cancel'),
        refuse(h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete user'), noDelete),
        ctx.may('catalog.read') ? h('a', { href: ctx.link('view-as', { user: u.id }) }, 'View as this user') : null,
        ctx.may('assignments.read') || ctx.may('assignments.write') ? h('a', { href: ctx.link('assignments', { user: u.id }) }, 'Roles and assignments') : null),
      refusedNote(noWrite), noGroups && groupBoxes.length ? refusedNote(noGroups) : null, refusedNote(noDelete)));
    nameIn.focus();
    editEl.scrollIntoView({ block: 'nearest' });
  }

  function newUser() {
    const idIn = h('input', { type: 'text', id: uid('id'), class: 'mono', autocomplete: 'off' });
    const nameIn = h('input', { type: 'text', id: uid('name') });
    const unitSel = unitSelect('', true);
    const attrCtls = attrs.map((a) => ({ a, ...attrControl(null, a) }));
    const msg = h('div', { 'aria-live': 'assertive' });
    const create = async () => {
      mount(msg);
      const b = { id: idIn.value.trim(), attributes: {} };
      if (nameIn.value.trim()) b.name = nameIn.value.trim();
      if (unitSel.value) b.org_unit = unitSel.value;
      for (const x of attrCtls) b.attributes[x.a.name] = x.get();
      try {
        const w = await api('POST', ctx.path('/users'), b);
        toast(`User ${b.id} created (revision ${w.revision}).`);
        ctx.go(ctx.link('users', { q: b.id, saved: w.revision }));
      } catch (e) {
        mount(msg, errorBox(e, 'Not created:'));
      }
    };
    mount(editEl, h('section', { class: 'card', 'aria-labelledby': 'new-user-title' },
      h('h2', { id: 'new-user-title' }, 'New user'),
      h('div', { class: 'row' },
        h('div', {}, field('Id', idIn)), h('div', { class: 'grow' }, field('Display name', nameIn)),
        h('div', {}, field('Org unit', unitSel)), attrCtls.map((x) => h('div', {}, x.el))),
      msg,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: create }, 'Create user'),
        h('button', { type: 'button', class: 'secondary', onclick: () => mount(editEl) }, 'Cancel'))));
    idIn.focus();
  }

  const saved = ctx.params.get('saved');
  mount(root,
    pageHead('Users',
      'Every user of the tenant with their org unit, groups, queues and roles. Seats and other attributes follow the profile’s rules.',
      refuse(h('button', { type: 'button', onclick: newUser }, 'New user'), noWrite)),
    saved ? callout('ok', `Saved at revision ${saved}.`) : null,
    rules.map((r) => callout('info', h('strong', {}, `${pretty(r.attribute)} only moves up.`), ' ',
      `${(attrs.find((a) => a.name === r.attribute)?.values || []).join(' → ')}: ${r.reason || 'the profile forbids going back'}. The server refuses a downgrade and writes nothing.`)),
    status,
    editEl,
    h('div', { class: 'tree-tools' }, h('label', { for: filterIn.id, class: 'inline' }, 'Filter users'), filterIn),
    listEl);
  drawList();
}
