// Who can: pick an action and a resource, see everyone who may, each with a link to the
// explainer that says why. Optionally as of an earlier revision.

import { api } from './api.js';
import { h, mount, field, errorBox, callout, loading, pageHead, table, uid, plural, actionSelect, resourcePicker } from './ui.js';

export async function render(root, ctx) {
  mount(root, pageHead('Who can…'), loading());
  const catalog = await ctx.catalog();
  const users = await ctx.list('users').catch(() => []);
  const userById = new Map(users.map((u) => [u.id, u]));
  const actions = new Map(catalog.actions.map((a) => [a.id, a]));
  const p = ctx.params;
  const actSel = actionSelect(catalog, p.get('action'));
  const [, rid] = (p.get('resource') || '').includes(':') ? p.get('resource').split(/:(.*)/s) : [null, p.get('resource')];
  const res = resourcePicker(ctx, rid || '');
  const asOf = h('input', { type: 'number', id: uid('asof'), min: 1, step: 1, value: p.get('revision') || '' });
  const out = h('div', { 'aria-live': 'polite' });
  const syncType = () => res.setType(actions.get(actSel.value)?.resource || 'tenant');
  actSel.addEventListener('change', syncType);
  await syncType();

  const run = async (ev) => {
    if (ev) ev.preventDefault();
    const a = actions.get(actSel.value);
    const body = { action: a.id, resource: { type: a.resource, id: res.value() } };
    if (asOf.value) body.as_of = { revision: Number.parseInt(asOf.value, 10) };
    mount(out, loading('Checking every user…'));
    try {
      const r = await api('POST', ctx.path('/lookup/subjects'), body);
      const resource = `${a.resource}:${body.resource.id}`;
      const rows = r.ids.map((id) => {
        const u = userById.get(id);
        return h('tr', { 'data-user': id },
          h('td', {}, u?.name || id), h('td', { class: 'mono small' }, id),
          h('td', {}, (u?.relations.org_unit || []).join(', ')),
          h('td', {}, h('a', {
            href: ctx.link('explain', { user: id, action: a.id, resource }),
            'aria-label': `Why may ${u?.name || id} ${a.name}?`,
          }, 'Why?')));
      });
      mount(out,
        h('p', { class: 'verdict', 'data-count': String(r.count) },
          `${plural(r.count, 'user')} may “${a.name}” on ${a.resource} ${body.resource.id}`,
          body.as_of ? ` as of revision ${r.revision}` : ` (revision ${r.revision})`, '.'),
        r.count ? table(['Name', 'Id', 'Org unit', 'Explanation'], rows, { 'aria-label': 'Users who may' })
          : callout('info', 'Nobody may. Open the explainer with a user to see what they lack.'));
    } catch (e) {
      mount(out, errorBox(e));
    }
  };

  const form = h('form', { class: 'card', 'aria-label': 'Who can question' },
    h('div', { class: 'row' },
      h('div', { class: 'grow' }, field('Action', actSel)),
      h('div', { class: 'grow' }, res.el),
      h('div', {}, field('As of revision (optional)', asOf, 'Empty: now'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Find who can')));
  form.addEventListener('submit', run);
  mount(root,
    pageHead('Who can…', 'Everyone who may perform an action on a resource right now (or at an earlier revision), with a link to why.'),
    form, out);
  if (p.get('action')) await run();
}
