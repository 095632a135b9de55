// The decision explainer: a user, an action and a resource → the decision and the
// evaluation tree in words (which privilege, level, relation or expiry decided it).

import { api } from './api.js';
import { h, mount, field, errorBox, loading, pageHead, actionSelect, resourcePicker, userPicker } from './ui.js';

const MARK = { true: '✓', false: '✗', error: '!', skipped: '–' };
const SAYS = { true: 'holds', false: 'does not hold', error: 'could not be evaluated', skipped: 'not needed' };

function nodeEl(n) {
  return h('li', { class: `enode ${n.outcome}` },
    h('span', { class: 'mark', 'aria-hidden': 'true' }, MARK[n.outcome] || '?'),
    h('code', {}, n.expr), ' ',
    h('span', { class: 'badge ' + (n.outcome === 'true' ? 'ok' : n.outcome === 'skipped' ? '' : 'bad') }, SAYS[n.outcome] || n.outcome),
    n.detail ? h('span', { class: 'detail' }, ' — ', n.detail) : null,
    n.children.length ? h('ul', { class: 'etree' }, n.children.map(nodeEl)) : null);
}

export async function render(root, ctx) {
  mount(root, pageHead('Decision explainer'), loading());
  const catalog = await ctx.catalog();
  const actions = new Map(catalog.actions.map((a) => [a.id, a]));
  const p = ctx.params;
  const user = await userPicker(ctx, 'User', p.get('user') || (ctx.who.operator ? '' : ctx.who.principal), 'check.others');
  const actSel = actionSelect(catalog, p.get('action'));
  const rawRes = p.get('resource') || '';
  const rid = rawRes.includes(':') ? rawRes.slice(rawRes.indexOf(':') + 1) : rawRes;
  const res = resourcePicker(ctx, rid);
  const syncType = () => res.setType(actions.get(actSel.value)?.resource || 'tenant');
  actSel.addEventListener('change', syncType);
  await syncType();
  const out = h('div', { 'aria-live': 'polite' });

  const run = async (ev) => {
    if (ev) ev.preventDefault();
    const a = actions.get(actSel.value);
    if (!user.value()) {
      mount(out, errorBox(new Error('Pick a user.')));
      return;
    }
    const body = { principal: user.value(), action: a.id, resource: { type: a.resource, id: res.value() }, explain: true };
    mount(out, loading('Evaluating…'));
    try {
      const r = await api('POST', ctx.path('/explain'), body);
      const x = r.explanation;
      const name = user.users.find((u) => u.id === body.principal)?.name || body.principal;
      const verdict = r.allowed ? 'Allowed' : 'Denied';
      mount(out, h('section', { class: 'card', 'aria-label': 'Decision', 'data-allowed': String(r.allowed) },
        h('p', { class: `verdict ${r.allowed ? 'allowed' : 'denied'}` },
          `${verdict}: ${name} ${r.allowed ? 'may' : 'may not'} ${x ? x.action : a.name} on ${a.resource} ${body.resource.id}.`),
        x && x.reasons.length ? h('div', {}, h('h3', {}, r.allowed ? 'Because' : 'Why not'),
          h('ul', {}, x.reasons.map((s) => h('li', {}, s)))) : null,
        r.error ? h('p', {}, 'The requirement could not be evaluated: ', r.error.message, ' (an error is a denial).') : null,
        r.obligations && r.obligations.length ? h('p', {}, h('strong', {}, 'Conditions to apply: '), r.obligations.join(', ')) : null,
        x ? [h('h3', {}, 'The requirement'), h('pre', { class: 'req' }, x.requirement)] : null,
        x && x.tree ? [h('h3', {}, 'How it was evaluated'), h('ul', { class: 'etree root' }, nodeEl(x.tree))] : null,
        h('p', { class: 'small muted' }, `Decided at revision ${r.revision}.`),
        h('p', {}, h('a', { href: ctx.link('who-can', { action: a.id, resource: `${a.resource}:${body.resource.id}` }) }, 'Who else can do this?'), ' · ',
          h('a', { href: ctx.link('view-as', { user: body.principal }) }, `View as ${name}`))));
    } catch (e) {
      mount(out, errorBox(e, 'No decision:'));
    }
  };

  const form = h('form', { class: 'card', 'aria-label': 'Decision question' },
    h('div', { class: 'row' },
      h('div', { class: 'grow' }, user.el),
      h('div', { class: 'grow' }, field('Action', actSel)),
      h('div', { class: 'grow' }, res.el)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Explain')));
  form.addEventListener('submit', run);
  mount(root,
    pageHead('Decision explainer', 'Ask whether a user may perform an action on a resource, and see the evaluation in words: the privilege, level, relation, scope or expiry that decided it.'),
    form, out);
  if (p.get('user') && p.get('action')) await run();
}
