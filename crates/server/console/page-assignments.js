// Assignments: a role given to a user over a scope (the tenant, org units with their
// subtrees, or queues), optionally until a time; listed with the time they have left.

import { api } from './api.js';
import {
  h, mount, field, select, errorBox, callout, loading, pageHead, table, toast, uid, plural,
  fmtTime, fmtDuration, localInputValue, fromLocalInput, confirmDialog, userPicker,
  refuse, refusedNote, cannotSee, isRefusal,
} from './ui.js';
import { renderImpact } from './page-roles.js';

export async function render(root, ctx) {
  mount(root, pageHead('Assignments'), loading());
  // Roles, org units, queues and users fill the form's pickers and the list's names; each
  // is left empty when this token may not read it.
  const optional = (p) => p.catch(() => []);
  const [roles, units, queues, users] = await Promise.all([optional(ctx.roles()), optional(ctx.list('org-units')), optional(ctx.list('queues')), optional(ctx.list('users'))]);
  const noWrite = ctx.denied('assignments.write');
  const noPreview = ctx.denied('impact.read');
  let listing = { assignments: [] };
  let listError = null;
  try {
    listing = await api('GET', ctx.path('/assignments'));
  } catch (e) {
    listError = e; // this token may give roles without reading every assignment
    if (noWrite) throw e; // nothing else on this page to use
  }
  const roleName = new Map(roles.map((r) => [r.id, r.name]));
  const userName = new Map(users.map((u) => [u.id, u.name || u.id]));
  const unitName = new Map(units.map((u) => [u.id, u.name || u.id]));
  const queueName = new Map(queues.map((q) => [q.id, q.name || q.id]));
  const names = new Map(users.map((u) => [u.id, u.name || u.id]));

  const scopeWords = (s) => {
    if (s === 'tenant') return 'whole tenant';
    if (s.org_units) return `org units: ${s.org_units.map((x) => unitName.get(x) || x).join(', ')} (and beneath)`;
    if (s.queues) return `queues: ${s.queues.map((x) => queueName.get(x) || x).join(', ')}`;
    return JSON.stringify(s);
  };

  // ---- give a role
  const user = await userPicker(ctx, 'User', ctx.params.get('user') || '');
  const roleSel = select({ id: uid('role') }, roles.map((r) => [r.id, `${r.name}${r.template ? '' : ' (custom)'}`]), ctx.params.get('role') || undefined);
  const scopeName = uid('scope');
  const radio = (value, label, checked) => {
    const r = h('input', { type: 'radio', name: scopeName, value, id: uid('sc'), checked });
    return { r, el: h('label', { for: r.id }, r, label) };
  };
  const scopes = [radio('tenant', 'Whole tenant', true), radio('org_units', 'Org units (with everything beneath)'), radio('queues', 'Queues')];
  const unitPick = h('select', { multiple: true, id: uid('units'), size: 6 }, units.map((u) => h('option', { value: u.id }, `${u.name || u.id} (${u.attributes.kind || 'unit'})`)));
  const queuePick = h('select', { multiple: true, id: uid('queues'), size: 6 }, queues.map((q) => h('option', { value: q.id }, q.name || q.id)));
  const unitField = field('Org units in scope', unitPick, 'Ctrl/Shift to pick several');
  const queueField = field('Queues in scope', queuePick, 'Ctrl/Shift to pick several');
  const showScope = () => {
    const v = scopes.find((s) => s.r.checked).r.value;
    unitField.hidden = v !== 'org_units';
    queueField.hidden = v !== 'queues';
  };
  scopes.forEach((s) => s.r.addEventListener('change', showScope));
  showScope();

  const expName = uid('exp');
  const never = h('input', { type: 'radio', name: expName, id: uid('never'), checked: true });
  const at = h('input', { type: 'radio', name: expName, id: uid('at') });
  const when = h('input', { type: 'datetime-local', id: uid('when') });
  when.addEventListener('input', () => { at.checked = true; });
  const quick = (label, secs) => h('button', {
    type: 'button', class: 'secondary',
    onclick: () => { when.value = localInputValue(Math.floor(Date.now() / 1000) + secs); at.checked = true; },
  }, label);

  const preview = h('div', { 'aria-live': 'polite' });
  const msg = h('div', { 'aria-live': 'assertive' });

  function body() {
    const b = { principal: user.value(), role: roleSel.value };
    const v = scopes.find((s) => s.r.checked).r.value;
    if (v === 'org_units') b.scope = { org_units: [...unitPick.selectedOptions].map((o) => o.value) };
    else if (v === 'queues') b.scope = { queues: [...queuePick.selectedOptions].map((o) => o.value) };
    else b.scope = 'tenant';
    if (at.checked) {
      const t = fromLocalInput(when.value);
      if (t === null) throw new Error('Pick the expiry date and time, or choose “Never”.');
      if (t <= Date.now() / 1000) throw new Error('The expiry is in the past; pick a later time.');
      b.expires_at = t;
    }
    if (!b.principal) throw new Error('Pick a user.');
    if (b.scope !== 'tenant' && (b.scope.org_units || b.scope.queues).length === 0) throw new Error('Pick at least one org unit or queue for the scope, or choose the whole tenant.');
    return b;
  }

  const doPreview = async () => {
    mount(msg);
    try {
      const r = await api('POST', ctx.path('/impact'), { assignment: body() });
      mount(preview, renderImpact(r, names));
    } catch (e) {
      mount(preview, errorBox(e, 'No preview:'));
    }
  };
  const give = async () => {
    mount(msg);
    let b;
    try {
      b = body();
    } catch (e) {
      mount(msg, errorBox(e));
      return;
    }
    try {
      const w = await api('POST', ctx.path('/assignments'), b);
      toast(`${roleName.get(b.role) || b.role} given to ${userName.get(b.principal) || b.principal} (revision ${w.revision}).`);
      ctx.go(ctx.link('assignments', { user: b.principal, given: w.revision }));
    } catch (e) {
      mount(msg, errorBox(e, 'Not given:'));
    }
  };

  const form = h('section', { class: 'card', 'aria-labelledby': 'give-title' },
    h('h2', { id: 'give-title' }, 'Give a role'),
    h('div', { class: 'row' }, h('div', { class: 'grow' }, user.el), h('div', { class: 'grow' }, field('Role', roleSel))),
    h('div', { class: 'split' },
      h('fieldset', {}, h('legend', {}, 'Scope'), h('div', { class: 'radio-row' }, scopes.map((s) => s.el)), unitField, queueField),
      h('fieldset', {}, h('legend', {}, 'Expires'),
        h('div', { class: 'radio-row' }, h('label', { for: never.id }, never, 'Never'), h('label', { for: at.id }, at, 'At a time')),
        field('Expiry date and time', when, 'Your local time. Decisions stop granting at that moment, with no further write.'),
        h('div', { class: 'actions' }, quick('In 8 hours', 8 * 3600), quick('In 1 day', 86400), quick('In 7 days', 7 * 86400)))),
    msg,
    h('div', { class: 'actions' },
      refuse(h('button', { type: 'button', class: 'secondary', onclick: doPreview }, 'Preview impact'), noPreview || noWrite),
      refuse(h('button', { type: 'button', onclick: give }, 'Give role'), noWrite)),
    refusedNote(noWrite || noPreview),
    ctx.can('assignments.write') === 'some' ? h('p', { class: 'small muted' }, 'You give roles within your part of the tenant: the server refuses users and scopes outside it.') : null,
    preview);

  // ---- the list
  const filterIn = h('input', { type: 'search', id: uid('filter'), value: ctx.params.get('user') || '', placeholder: 'user, role or scope' });
  const listEl = h('div', {});
  const status = h('div', { 'aria-live': 'polite' });
  const draw = () => {
    if (listError) {
      mount(listEl, isRefusal(listError) ? cannotSee(listError, 'the current assignments') : errorBox(listError, 'Assignments cannot be listed:'));
      return;
    }
    const q = filterIn.value.trim().toLowerCase();
    const items = listing.assignments.filter((a) => !q || [a.principal, userName.get(a.principal), a.role, roleName.get(a.role), scopeWords(a.scope)].join(' ').toLowerCase().includes(q));
    items.sort((a, b) => (a.expires_at ?? Infinity) - (b.expires_at ?? Infinity) || a.principal.localeCompare(b.principal));
    const rows = items.slice(0, 200).map((a) => h('tr', { 'data-assignment': a.id },
      h('td', {}, userName.get(a.principal) || a.principal, h('div', { class: 'mono small muted' }, a.principal)),
      h('td', {}, roleName.get(a.role) || a.role),
      h('td', {}, scopeWords(a.scope)),
      h('td', { class: 'nowrap' }, a.expires_at ? fmtTime(a.expires_at) : h('span', { class: 'muted' }, 'never')),
      h('td', {}, a.remaining_seconds === null ? '' : a.remaining_seconds > 0
        ? h('span', { class: a.remaining_seconds < 86400 ? 'badge warn' : 'badge' }, `${fmtDuration(a.remaining_seconds)} left`)
        : h('span', { class: 'badge bad' }, 'expired')),
      h('td', {}, refuse(h('button', {
        type: 'button', class: 'danger', 'aria-label': `Remove ${roleName.get(a.role) || a.role} from ${userName.get(a.principal) || a.principal}`,
        onclick: () => remove(a),
      }, 'Remove'), noWrite))));
    mount(listEl,
      h('p', { class: 'small muted' }, `${plural(items.length, 'assignment')}${items.length > 200 ? ' (the first 200 shown; filter to narrow)' : ''}.`),
      table(['User', 'Role', 'Scope', 'Expires', 'Time left', ''], rows, { 'aria-label': 'Assignments' }));
  };
  filterIn.addEventListener('input', draw);

  async function remove(a) {
    mount(status);
    let effect = null;
    if (!noPreview) {
      try {
        const r = await api('POST', ctx.path('/impact'), { remove_assignment: a.id });
        effect = renderImpact(r, names);
      } catch (e) {
        effect = errorBox(e, 'No preview:');
      }
    }
    const ok = await confirmDialog('Remove assignment',
      [h('p', {}, `Remove ${roleName.get(a.role) || a.role} from ${userName.get(a.principal) || a.principal} (${scopeWords(a.scope)})?`), effect],
      'Remove', true);
    if (!ok) return;
    try {
      const w = await api('DELETE', ctx.path(`/assignments/${encodeURIComponent(a.id)}`));
      toast(`Assignment removed (revision ${w.revision}).`);
      ctx.go(ctx.link('assignments', { user: filterIn.value, removed: w.revision }));
    } catch (e) {
      mount(status, errorBox(e, 'Not removed:'));
    }
  }

  const given = ctx.params.get('given');
  const removed = ctx.params.get('removed');
  mount(root,
    pageHead('Assignments', 'A role given to a user over the whole tenant, some org units (with everything beneath) or some queues — optionally only until a time.'),
    given ? callout('ok', `Role given at revision ${given}.`) : null,
    removed ? callout('ok', `Assignment removed at revision ${removed}.`) : null,
    noWrite ? callout('info', noWrite) : form,
    h('h2', {}, 'Current assignments'),
    h('div', { class: 'tree-tools' }, h('label', { for: filterIn.id, class: 'inline' }, 'Filter assignments'), filterIn),
    status,
    listEl);
  draw();
}
