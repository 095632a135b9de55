// View as: a user's effective permissions (GET /users/{id}/permissions) drawn as the
// pages and buttons of a contact-center application, shown or hidden.

import { api, query } from './api.js';
import { h, mount, field, select, errorBox, loading, pageHead, uid, plural, userPicker } from './ui.js';

export async function render(root, ctx) {
  mount(root, pageHead('View as'), loading());
  const catalog = await ctx.catalog();
  const initial = ctx.params.get('user') || (ctx.who.operator ? '' : ctx.who.principal);
  const user = await userPicker(ctx, 'User', initial, 'check.others');
  const showHidden = h('input', { type: 'checkbox', id: uid('hidden'), checked: true });
  const ctxEl = h('div', { class: 'row' });
  const out = h('div', { 'aria-live': 'polite' });
  const types = [...new Set(catalog.actions.map((a) => a.resource))].filter((t) => t !== 'tenant');
  const pickers = new Map(); // type → select
  let lastUser = null;

  async function samplePickers(uid_) {
    const u = user.users.find((x) => x.id === uid_);
    mount(ctxEl);
    pickers.clear();
    for (const t of types) {
      let opts;
      try {
        opts = await ctx.resourceOptions(t);
      } catch {
        opts = [];
      }
      if (!opts.length) continue;
      let pick = opts[0][0];
      if (t === 'user') pick = uid_;
      if (t === 'queue' && u) pick = (u.relations.supervised_queues || u.relations.queues || [])[0] || pick;
      if (t === 'org_unit' && u) pick = (u.relations.org_unit || [])[0] || pick;
      const s = select({ id: uid('ctx'), 'data-type': t }, opts.slice(0, 500), pick);
      s.addEventListener('change', show);
      pickers.set(t, s);
      ctxEl.appendChild(h('div', {}, field(`Seen on ${t.replace(/_/g, ' ')}`, s)));
    }
  }

  async function show(ev) {
    if (ev && ev.preventDefault && ev.type === 'submit') ev.preventDefault();
    const id = user.value();
    if (!id) {
      mount(out, errorBox(new Error('Pick a user.')));
      return;
    }
    if (id !== lastUser) {
      lastUser = id;
      await samplePickers(id);
    }
    mount(out, loading('Reading effective permissions…'));
    const base = ctx.path(`/users/${encodeURIComponent(id)}/permissions`);
    try {
      const calls = [['tenant', api('GET', base)]];
      for (const [t, s] of pickers) calls.push([t, api('GET', base + query({ resource: `${t}:${s.value}` }))]);
      const answers = await Promise.all(calls.map(([, p]) => p));
      const allowed = new Map();
      const on = new Map();
      answers.forEach((r, i) => {
        for (const a of r.actions) allowed.set(a.id, a.allowed);
        on.set(calls[i][0], r.resource);
      });
      draw(answers[0], allowed, on);
    } catch (e) {
      mount(out, errorBox(e));
    }
  }

  function draw(tenantPerms, allowed, on) {
    const name = user.users.find((x) => x.id === user.value())?.name || user.value();
    const menus = new Map();
    for (const a of catalog.actions) {
      const m = a.menu || a.id.split('.')[0].replace(/_/g, ' ');
      if (!menus.has(m)) menus.set(m, []);
      menus.get(m).push(a);
    }
    const hidden = !showHidden.checked;
    let shown = 0;
    let total = 0;
    const pages = [];
    const tabs = [];
    for (const [m, acts] of menus) {
      const visible = acts.filter((a) => allowed.get(a.id));
      total += acts.length;
      shown += visible.length;
      const pageOn = visible.length > 0;
      tabs.push(h('span', { class: pageOn ? 'on' : 'off', 'data-tab': m }, m, pageOn ? null : h('span', { class: 'sr-only' }, ' (hidden)')));
      if (!pageOn && hidden) continue;
      const ctxTypes = [...new Set(acts.map((a) => a.resource))].filter((t) => t !== 'tenant');
      pages.push(h('section', { class: `app-page ${pageOn ? '' : 'page-hidden'}`, 'data-menu': m, 'aria-label': `${m}${pageOn ? '' : ' (hidden page)'}` },
        h('h3', {}, m, pageOn ? '' : ' — hidden'),
        ctxTypes.length ? h('div', { class: 'ctx' }, 'On ', ctxTypes.map((t) => on.get(t) || t).join(', ')) : null,
        h('div', { class: 'app-buttons' },
          acts.filter((a) => allowed.get(a.id) || !hidden).map((a) => h('span', {
            class: `app-btn ${allowed.get(a.id) ? '' : 'off'}`,
            'data-action': a.id,
            'data-allowed': String(Boolean(allowed.get(a.id))),
            title: a.id,
          }, a.name, allowed.get(a.id) ? null : ' (hidden)')))));
    }
    const held = tenantPerms.privileges;
    mount(out,
      h('p', {}, `${name} sees ${shown} of ${plural(total, 'control')} on ${menus.size} pages. `,
        h('a', { href: ctx.link('explain', { user: user.value() }) }, 'Ask why in the explainer')),
      h('div', { class: 'split wide-left' },
        h('section', { class: 'app-frame', 'aria-label': `The application as ${name} sees it` },
          h('div', { class: 'app-bar' }, h('span', { class: 'app-name' }, 'Contact center'), h('span', {}, `signed in as ${name}`)),
          h('div', { class: 'app-tabs' }, tabs),
          h('div', { class: 'app-pages' }, pages)),
        h('section', { class: 'card', 'aria-label': 'Privileges held' },
          h('h2', {}, 'Privileges held over the tenant'),
          held.length ? h('ul', {}, held.map((p) => h('li', {}, p.name,
            p.level ? h('span', { class: 'muted' }, ` — ${p.level}`) : null,
            p.choices.length ? h('span', { class: 'muted' }, ` — ${p.choices.join(', ')}`) : null)))
            : h('p', { class: 'muted' }, 'None over the whole tenant (scoped grants show on the pages of their resources).'))));
  }

  showHidden.addEventListener('change', () => show());
  const form = h('form', { class: 'card', 'aria-label': 'Whose view' },
    h('div', { class: 'row' }, h('div', { class: 'grow' }, user.el),
      h('div', { class: 'btn-cell' }, h('label', { for: showHidden.id, class: 'inline' }, showHidden, 'Show what is hidden, greyed out')),
      h('div', { class: 'btn-cell' }, h('button', { type: 'submit' }, 'Show'))),
    ctxEl);
  form.addEventListener('submit', show);
  mount(root,
    pageHead('View as', 'What a user’s application shows: pages and buttons their permissions allow, and those hidden from them.'),
    form, out);
  if (initial) await show();
}
