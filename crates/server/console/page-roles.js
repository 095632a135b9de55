// Roles: the list, and the editor in the style of a vendor's admin hub (the privilege
// tree with tri-state checkboxes, levels, choices, numbers, locked grants and role-type
// caps), with the impact preview before saving and optimistic concurrency. What the
// token may not do (edit roles, preview impact) is shown disabled, saying why.

import { api } from './api.js';
import { plain } from './access.js';
import {
  h, mount, field, select, errorBox, callout, loading, pageHead, table, toast, uid,
  confirmDialog, plural, refuse, linkButton, refusedNote,
} from './ui.js';
import * as T from './tree.js';

export async function render(root, ctx) {
  const [mode, id] = ctx.more;
  if (mode === 'edit' && id) return editor(root, ctx, id);
  if (mode === 'new') return editor(root, ctx, null);
  return list(root, ctx);
}

// ---- the list -----------------------------------------------------------------------

async function list(root, ctx) {
  const noWrite = ctx.denied('roles.write');
  const head = pageHead('Roles',
    'Templates come with the tenant’s profile and are read-only: copy one to make a custom role. '
    + 'Custom roles are edited in the privilege tree; every save is previewed first.',
    linkButton(ctx.link('roles', null, ['new']), 'New role', {}, noWrite));
  mount(root, head, loading());
  const roles = await ctx.roles();
  const catalog = await ctx.catalog().catch(() => null);
  // How many assignments each role has, when this token may read assignments (a scoped
  // reader counts those of its scope); otherwise the column is left out.
  let counts = null;
  if (ctx.may('assignments.read')) {
    try {
      const a = await api('GET', ctx.path('/assignments'));
      counts = new Map();
      for (const x of a.assignments) counts.set(x.role, (counts.get(x.role) || 0) + 1);
    } catch {
      counts = null;
    }
  }
  const typeName = new Map(((catalog && catalog.role_types) || []).map((t) => [t.id, t.name]));
  const status = h('div', { 'aria-live': 'polite' });
  const rows = roles.map((r) => {
    const open = ctx.link('roles', null, ['edit', r.id]);
    return h('tr', { 'data-role': r.id },
      h('td', {}, h('a', { href: open }, r.name)),
      h('td', { class: 'mono small' }, r.id),
      h('td', {}, r.template
        ? h('span', { class: 'badge template' }, 'Template')
        : h('span', { class: 'badge custom' }, `Custom · v${r.version}`)),
      h('td', {}, r.type ? typeName.get(r.type) || r.type : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'num' }, String(Object.keys(r.grants).length + Object.keys(r.locked).length)),
      counts ? h('td', { class: 'num' }, String(counts.get(r.id) || 0)) : null,
      h('td', { class: 'nowrap' },
        h('a', { class: 'button secondary', href: open, 'aria-label': `${r.template || noWrite ? 'View' : 'Edit'} ${r.name}` }, r.template || noWrite ? 'View' : 'Edit'), ' ',
        linkButton(ctx.link('roles', { copy_of: r.id }, ['new']), 'Copy', { class: 'secondary', 'aria-label': `Copy ${r.name}` }, noWrite), ' ',
        r.template ? null : refuse(h('button', {
          type: 'button', class: 'danger', 'aria-label': `Delete ${r.name}`,
          onclick: async () => {
            const ok = await confirmDialog('Delete role', `Delete the custom role “${r.name}”? A role that is still assigned cannot be deleted.`, 'Delete role', true);
            if (!ok) return;
            try {
              const w = await api('DELETE', ctx.path(`/roles/${encodeURIComponent(r.id)}`));
              toast(`Role “${r.name}” deleted (revision ${w.revision}).`);
              ctx.invalidate();
              await list(root, ctx);
            } catch (e) {
              mount(status, errorBox(e, 'Not deleted:'));
            }
          },
        }, 'Delete'), noWrite)));
  });
  mount(root, head, status,
    noWrite ? callout('info', noWrite, ' You can look at roles but not change them.') : null,
    table(['Role', 'Id', 'Kind', 'Role type', 'Privileges', counts ? (ctx.can('assignments.read') === 'some' ? 'Assigned (your scope)' : 'Assigned') : null, ''].filter((x) => x !== null), rows, { 'aria-label': 'Roles' }));
}

// ---- the editor ---------------------------------------------------------------------

function slug(text) {
  return text.toLowerCase().normalize('NFKD').replace(/[^\w\s.:-]/g, '').trim()
    .replace(/\s+/g, '_').slice(0, 60);
}

async function editor(root, ctx, roleId) {
  mount(root, pageHead(roleId ? 'Role' : 'New role'), loading());
  const copyOf = roleId ? null : ctx.params.get('copy_of');
  const [catalog, roles] = await Promise.all([ctx.catalog(), ctx.roles()]);
  let role;
  if (roleId) {
    role = await api('GET', ctx.path(`/roles/${encodeURIComponent(roleId)}`));
  } else if (copyOf) {
    const src = roles.find((r) => r.id === copyOf);
    if (!src) throw new Error(`There is no role “${copyOf}” to copy.`);
    role = {
      id: '', name: `${src.name} (copy)`, description: src.description, type: src.type,
      template: false, version: null, includes: [...src.includes], grants: { ...src.grants }, locked: { ...src.locked },
    };
  } else {
    role = { id: '', name: '', description: null, type: null, template: false, version: null, includes: [], grants: {}, locked: {} };
  }
  const isNew = !roleId;
  const noWrite = ctx.denied('roles.write');
  const noPreview = ctx.denied('impact.read');
  const readOnly = Boolean(role.template) || Boolean(noWrite);
  const model = T.buildModel(catalog);
  let st = T.createState(model, role);
  const roleName = new Map(roles.map((r) => [r.id, r.name]));

  // Privileges held through included roles (shown beside the checkbox).
  const viaIncluded = () => {
    const via = new Map();
    for (const inc of currentIncludes()) {
      const r = roles.find((x) => x.id === inc);
      if (!r) continue;
      const s = T.createState(model, r);
      for (const [id, v] of s.nodes) if (v.on && !via.has(id)) via.set(id, r.name);
    }
    return via;
  };

  // -- form fields
  const nameIn = h('input', { type: 'text', value: role.name, required: true, disabled: readOnly, autocomplete: 'off' });
  const idIn = h('input', { type: 'text', value: role.id, required: true, disabled: !isNew, class: 'mono', autocomplete: 'off', spellcheck: 'false' });
  if (isNew && !role.id) idIn.value = slug(role.name);
  let idTouched = false;
  idIn.addEventListener('input', () => { idTouched = true; changed(); });
  nameIn.addEventListener('input', () => {
    if (isNew && !idTouched) idIn.value = slug(nameIn.value);
    changed();
  });
  const descIn = h('input', { type: 'text', value: role.description || '', disabled: readOnly });
  descIn.addEventListener('input', changed);
  const types = catalog.role_types || [];
  // A role's type is chosen when it is created and never changes afterwards.
  const typeSel = types.length
    ? select({ disabled: readOnly || !isNew }, [['', '— no role type —'], ...types.map((t) => [t.id, t.name + (t.cap ? ' (capped)' : '')])], role.type || '')
    : null;
  const incSel = h('select', { multiple: true, disabled: readOnly, size: 5 },
    roles.filter((r) => r.id !== role.id).map((r) => h('option', { value: r.id, selected: role.includes.includes(r.id) }, r.name)));
  const currentIncludes = () => [...incSel.selectedOptions].map((o) => o.value);
  incSel.addEventListener('change', () => { refresh(); changed(); });
  const typeNote = h('div', { 'aria-live': 'polite' });
  if (typeSel) {
    typeSel.addEventListener('change', () => {
      const kept = T.grants(model, st);
      st = T.createState(model, { type: typeSel.value || null, grants: kept, locked: role.locked });
      const t = model.roleTypes.get(typeSel.value);
      const dropped = Object.keys(kept).filter((id) => !st.nodes.get(id) || !st.nodes.get(id).on);
      mount(typeNote, t && t.cap
        ? callout('info', `${t.name} roles may hold only the privileges of their type; the others are disabled.`
          + (dropped.length ? ` ${plural(dropped.length, 'privilege')} outside the cap were turned off.` : ''))
        : null);
      refresh();
      changed();
    });
  }

  // -- the tree
  const controls = new Map(); // id → {row, box, level, choices, number, why, via, li}
  const filterIn = h('input', { type: 'search', id: uid('filter'), placeholder: 'e.g. recording, queue, listen' });
  const sectionsEl = h('div', { class: 'tree-root' });
  const countEl = h('span', { class: 'muted', 'aria-live': 'polite' });

  const nodeEl = (id) => {
    const node = model.nodes.get(id);
    const boxId = `priv-${id}`;
    const box = h('input', { type: 'checkbox', id: boxId, 'data-priv': id });
    box.addEventListener('change', () => {
      T.toggle(model, st, id, box.checked);
      refresh();
      changed();
    });
    const c = { box };
    const label = h('label', { for: boxId }, node.name);
    const extras = [];
    if (node.kind === 'levels') {
      c.level = select({ 'aria-label': `Level of ${node.name}`, 'data-level': id }, node.options);
      c.level.addEventListener('change', () => { T.setLevel(model, st, id, c.level.value); refresh(); changed(); });
      extras.push(c.level);
    } else if (node.kind === 'choice') {
      const multiple = node.detail ? node.detail.multiple : false;
      if (multiple) {
        c.choices = node.options.map((o) => {
          const cb = h('input', { type: 'checkbox', id: uid('ch'), value: o });
          cb.addEventListener('change', () => {
            const chosen = c.choices.filter((x) => x.checked).map((x) => x.value);
            T.setChoices(model, st, id, chosen);
            refresh();
            changed();
          });
          return cb;
        });
        extras.push(h('span', { class: 'choices', role: 'group', 'aria-label': `Choices of ${node.name}` },
          c.choices.map((cb) => h('label', { for: cb.id }, cb, cb.value))));
      } else {
        c.choice = select({ 'aria-label': `Choice for ${node.name}`, 'data-choice': id }, node.options);
        c.choice.addEventListener('change', () => { T.setChoices(model, st, id, [c.choice.value]); refresh(); changed(); });
        extras.push(c.choice);
      }
    } else if (node.kind === 'number') {
      const d = node.detail || {};
      c.number = h('input', { type: 'number', min: d.min, max: d.max, step: 1, 'aria-label': `Value of ${node.name}${d.unit ? ' in ' + d.unit : ''} (${d.min} to ${d.max})` });
      c.number.addEventListener('change', () => {
        const n = Number.parseInt(c.number.value, 10);
        if (!Number.isNaN(n)) T.setNumber(model, st, id, n);
        refresh();
        changed();
      });
      extras.push(c.number, d.unit ? h('span', { class: 'small muted' }, `${d.unit} (${d.min}–${d.max})`) : null);
    }
    c.why = h('span', { class: 'why' });
    c.via = h('span', { class: 'via' });
    c.row = h('div', { class: 'priv-row' }, box, label, extras, c.why, c.via);
    const desc = node.description ? h('div', { class: 'priv-desc', id: `desc-${id}` }, node.description) : null;
    if (desc) box.setAttribute('aria-describedby', desc.id);
    const kids = node.children.length ? h('ul', { class: 'tree', role: 'group', 'aria-label': `Included in ${node.name}` }, node.children.map(nodeEl)) : null;
    c.li = h('li', { class: 'priv', 'data-priv-item': id }, c.row, desc, kids);
    controls.set(id, c);
    return c.li;
  };
  const sectionEls = model.sections.map((sec) => {
    const count = h('span', { class: 'count' });
    const d = h('details', { class: 'section', open: true, 'data-section': sec.id },
      h('summary', {}, sec.name, count),
      h('ul', { class: 'tree' }, sec.roots.map(nodeEl)));
    return { sec, d, count };
  });
  mount(sectionsEl, sectionEls.map((x) => x.d));

  filterIn.addEventListener('input', () => {
    const keep = T.matching(model, filterIn.value);
    for (const [id, c] of controls) c.li.classList.toggle('hidden-by-filter', Boolean(keep) && !keep.has(id));
    for (const x of sectionEls) {
      if (keep) x.d.open = true;
      x.d.hidden = Boolean(keep) && !x.sec.roots.some((r) => keep.has(r));
    }
  });

  function refresh() {
    const via = viaIncluded();
    for (const [id, c] of controls) {
      const s = st.nodes.get(id);
      const cb = T.checkbox(model, st, id);
      c.box.checked = cb.checked;
      c.box.indeterminate = cb.indeterminate;
      c.box.setAttribute('aria-checked', cb.indeterminate ? 'mixed' : String(cb.checked));
      const why = T.whyDisabled(st, id);
      const disabled = readOnly || Boolean(why);
      c.box.disabled = disabled;
      c.row.classList.toggle('disabled', disabled);
      if (c.level) { c.level.value = s.level; c.level.disabled = disabled; }
      if (c.choice) { c.choice.value = s.choices[0] || model.nodes.get(id).options[0]; c.choice.disabled = disabled; }
      if (c.choices) for (const x of c.choices) { x.checked = s.choices.includes(x.value); x.disabled = disabled; }
      if (c.number) { c.number.value = s.number ?? ''; c.number.disabled = disabled; }
      mount(c.why, why && st.locked.has(id) ? h('span', { class: 'badge locked' }, 'Locked') : null, why ? ' ' + why : '');
      mount(c.via, via.has(id) && !s.on ? `also held through ${via.get(id)}` : '');
    }
    for (const x of sectionEls) {
      const ids = [];
      const walk = (i) => { ids.push(i); model.nodes.get(i).children.forEach(walk); };
      x.sec.roots.forEach(walk);
      const on = ids.filter((i) => st.nodes.get(i).on).length;
      x.count.textContent = `${on} of ${ids.length} granted`;
    }
    countEl.textContent = `${plural(T.countOn(st), 'privilege')} granted`;
  }

  // -- side panel: impact preview and save
  const impactEl = h('div', { class: 'impact', 'aria-live': 'polite' });
  const msgEl = h('div', { 'aria-live': 'assertive' });
  const previewBtn = refuse(h('button', { type: 'button', class: 'secondary' }, 'Preview impact'), noPreview);
  // Saving waits for the preview, unless this token may not preview at all.
  const saveBtn = refuse(h('button', { type: 'button', disabled: !noPreview }, isNew ? 'Create role' : 'Save role'), noWrite);
  const saveHint = h('p', { class: 'small muted', id: uid('hint') }, noPreview
    ? `${noPreview} Saving does not wait for a preview.`
    : 'Preview the impact first: saving is enabled once you have seen who gains and loses what.');
  saveBtn.setAttribute('aria-describedby', saveHint.id);
  let previewed = null; // the body the shown preview was made for
  let dirty = false;

  function body() {
    const b = {
      id: isNew ? idIn.value.trim() : role.id,
      name: nameIn.value.trim(),
      description: descIn.value.trim() || null,
      includes: currentIncludes(),
      grants: T.grants(model, st),
    };
    if (typeSel) b.type = typeSel.value || null;
    if (b.type === null) delete b.type;
    if (b.description === null) delete b.description;
    if (isNew && copyOf) b.copy_of = copyOf;
    return b;
  }

  function changed() {
    dirty = true;
    if (noPreview) return;
    if (previewed && JSON.stringify(previewed) !== JSON.stringify(body())) {
      saveBtn.disabled = true;
      const note = impactEl.querySelector('.stale');
      if (note) note.hidden = false;
    }
  }

  const userNames = ctx.list('users').then((us) => new Map(us.map((u) => [u.id, u.name || u.id]))).catch(() => new Map());

  previewBtn.addEventListener('click', async () => {
    mount(msgEl);
    const b = body();
    if (!b.id) {
      mount(msgEl, errorBox(new Error('Give the role an id (letters, digits, _ - . :).')));
      idIn.focus();
      return;
    }
    mount(impactEl, loading('Working out who gains and loses what…'));
    try {
      const r = await api('POST', ctx.path('/impact'), { role: b });
      previewed = b;
      mount(impactEl, renderImpact(r, await userNames));
      saveBtn.disabled = false;
    } catch (e) {
      previewed = null;
      saveBtn.disabled = true;
      mount(impactEl, errorBox(e, 'No preview:'));
    }
  });

  saveBtn.addEventListener('click', async () => {
    mount(msgEl);
    const b = body();
    saveBtn.disabled = true;
    try {
      let w;
      if (isNew) {
        w = await api('POST', ctx.path('/roles'), b);
      } else {
        const { id: _id, copy_of: _c, ...rest } = b;
        w = await api('PUT', ctx.path(`/roles/${encodeURIComponent(role.id)}`), { version: role.version, ...rest });
      }
      dirty = false;
      toast(`Role “${b.name || b.id}” saved (revision ${w.revision}).`);
      ctx.go(ctx.link('roles', { saved: w.revision }, ['edit', b.id]));
    } catch (e) {
      if (e.status === 409 && e.code === 'conflict') {
        mount(msgEl, h('div', { class: 'callout error', role: 'alert' },
          h('strong', {}, 'Someone else changed this role; reload.'),
          h('p', {}, 'Your edits were not saved and are still on screen. ', plain(e.message)),
          h('button', {
            type: 'button', class: 'secondary',
            onclick: async () => {
              if (await confirmDialog('Reload role', 'Reload the role as it is now stored? Your edits on screen will be lost.', 'Reload')) {
                ctx.go(ctx.link('roles', { reloaded: Date.now() }, ['edit', role.id]));
              }
            },
          }, 'Reload the role')));
      } else {
        mount(msgEl, errorBox(e, 'Not saved:'));
      }
      saveBtn.disabled = Boolean(noWrite);
    }
  });

  // -- layout
  const title = role.template ? `Template: ${role.name}`
    : isNew ? (copyOf ? `New role (copy of ${roleName.get(copyOf) || copyOf})` : 'New role')
      : readOnly ? `Role: ${role.name}` : `Edit role: ${role.name}`;
  const lead = role.template
    ? 'Templates are read-only. Copy this one to make a custom role you can edit.'
    : readOnly ? 'You can look at this role but not change it.'
      : 'Check privileges in the tree. Checking a parent checks what it includes; a partly checked parent shows a dash.';
  const tools = role.template
    ? [linkButton(ctx.link('roles', { copy_of: role.id }, ['new']), 'Copy this template', {}, noWrite)]
    : [];
  const saved = ctx.params.get('saved');
  const incCount = h('span', { class: 'muted' });
  const showIncCount = () => { incCount.textContent = ` (${currentIncludes().length} included)`; };
  incSel.addEventListener('change', showIncCount);
  showIncCount();
  const meta = h('div', { class: 'card meta' },
    h('div', { class: 'row top' },
      h('div', { class: 'grow' }, field('Name', nameIn)),
      h('div', { class: 'grow' }, field('Id', idIn, isNew ? 'Letters, digits, _ - . : — fixed once created' : 'The id cannot change')),
      typeSel ? h('div', { class: 'grow' }, field('Role type', typeSel, isNew ? 'A type may cap what its roles hold; it is fixed once created' : 'Fixed once the role is created')) : null,
      h('div', { class: 'grow2' }, field('Description', descIn))),
    h('details', {}, h('summary', {}, 'Includes other roles', incCount),
      h('p', { class: 'small muted' }, 'A role that includes another holds everything that role holds as well.'),
      field('Included roles', incSel, 'Ctrl/Shift to pick several')),
    typeNote,
    role.version ? h('p', { class: 'small muted' }, `Version ${role.version}. Saving checks that nobody saved another version meanwhile.`) : null);
  const treeCard = h('section', { 'aria-label': 'Privileges' },
    h('div', { class: 'tree-tools' },
      h('label', { for: filterIn.id, class: 'inline' }, 'Filter privileges'), filterIn,
      h('button', { type: 'button', class: 'secondary', onclick: () => sectionEls.forEach((x) => { x.d.open = true; }) }, 'Expand all'),
      h('button', { type: 'button', class: 'secondary', onclick: () => sectionEls.forEach((x) => { x.d.open = false; }) }, 'Collapse all'),
      countEl),
    sectionsEl);
  let sideBody;
  if (role.template) {
    sideBody = [h('p', {}, 'This template belongs to the profile. Copy it to change it.'), refusedNote(noWrite)];
  } else if (noWrite) {
    sideBody = [h('div', { class: 'actions' }, saveBtn), refusedNote(noWrite)];
  } else {
    sideBody = [h('div', { class: 'actions' }, previewBtn, saveBtn), saveHint, msgEl, impactEl];
  }
  const side = h('aside', { class: 'editor-side card', 'aria-label': 'Impact and save' },
    h('h2', {}, role.template ? 'Template' : readOnly ? 'Read only' : 'Review and save'),
    sideBody);
  mount(root,
    pageHead(title, lead, ...tools),
    saved ? callout('ok', `Saved at revision ${saved}.`) : null,
    h('p', {}, h('a', { href: ctx.link('roles') }, '← All roles')),
    meta,
    h('div', { class: 'editor-grid' }, treeCard, side));
  refresh();
  unsaved = () => dirty && document.body.contains(root);
}

// Leaving the page (closing the tab, reloading) with unsaved edits asks first.
let unsaved = () => false;
window.addEventListener('beforeunload', (ev) => {
  if (unsaved()) ev.preventDefault();
});

/** The impact preview in words. */
export function renderImpact(r, names) {
  const who = (ids) => {
    const shown = ids.slice(0, 8).map((u) => (names.get(u) ? `${names.get(u)}` : u));
    return shown.join(', ') + (ids.length > 8 ? ` and ${ids.length - 8} more` : '');
  };
  const part = (title, items, cls, sign) => (items.length
    ? [h('h3', {}, title), h('ul', {}, items.map((x) => h('li', { class: cls },
      h('strong', {}, `${sign} ${x.name}`), ` — ${plural(x.users.length, 'user')}`,
      x.org_units.length ? ` in ${x.org_units.join(', ')}` : '', ': ', who(x.users))))]
    : null);
  return h('div', { class: 'card', 'data-impact': 'shown' },
    h('h3', {}, 'Impact preview'),
    h('p', { class: 'stale callout warn', hidden: true }, 'Out of date: you changed the role since this preview. Preview again to save.'),
    h('ul', { 'data-summary': '' }, r.summary.map((s) => h('li', {}, s[0].toUpperCase() + s.slice(1) + '.'))),
    h('p', { class: 'small muted' }, `Grants change for ${plural(r.users_affected, 'user')} (from revision ${r.revision}). Nothing has been written yet.`),
    part('Who gains', r.gains, 'gain', '+'),
    part('Who loses', r.losses, 'loss', '−'));
}
