// Credentials: the tenant's service credentials, for the applications that embed
// rolecall (a CRM, a wallboard, an integration): each with a name, abilities (decide,
// read, write), optionally a scope, the user it writes as and an expiry. A new
// credential's secret is shown once, with a copy button; revoking asks first.

import { api } from './api.js';
import {
  h, mount, field, errorBox, callout, loading, pageHead, table, toast, uid, plural,
  fmtTime, fmtDuration, fromLocalInput, localInputValue, confirmDialog, userPicker, refuse,
} from './ui.js';

const ABILITIES = [
  ['decide', 'Decide', 'checks, explanations and lookups for any user of its scope'],
  ['read', 'Read', 'every read within its scope (users, roles, assignments, audit…)'],
  ['write', 'Write', 'changes within its scope, as the user it writes as'],
];

export async function render(root, ctx) {
  mount(root, pageHead('Credentials'), loading());
  let creds = (await api('GET', ctx.path('/credentials'))).credentials;
  // Org units, queues and users fill the pickers; each stays empty when this token may
  // not read it.
  const optional = (p) => p.catch(() => []);
  const [units, queues] = await Promise.all([optional(ctx.list('org-units')), optional(ctx.list('queues'))]);
  const unitName = new Map(units.map((u) => [u.id, u.name || u.id]));
  const queueName = new Map(queues.map((q) => [q.id, q.name || q.id]));
  const noWrite = ctx.denied('credentials.write');

  const scopeWords = (s) => {
    if (!s || s === 'tenant') return 'Whole tenant';
    if (s.org_units) return `Org units: ${s.org_units.map((x) => unitName.get(x) || x).join(', ')} (and beneath)`;
    if (s.queues) return `Queues: ${s.queues.map((x) => queueName.get(x) || x).join(', ')}`;
    return JSON.stringify(s);
  };
  const abilityName = new Map(ABILITIES.map(([id, name]) => [id, name]));

  // ---- the list
  const listEl = h('div', {});
  const status = h('div', { 'aria-live': 'polite' });
  const drawList = () => {
    const now = Math.floor(Date.now() / 1000);
    const rows = creds.map((c) => h('tr', { 'data-credential': c.id },
      h('td', {}, c.name, h('div', { class: 'mono small muted' }, c.id)),
      h('td', {}, c.abilities.map((a) => abilityName.get(a) || a).join(', ')),
      h('td', {}, scopeWords(c.scope)),
      h('td', {}, c.principal || h('span', { class: 'muted' }, 'nobody (writes nothing)')),
      h('td', { class: 'nowrap' }, c.expires_at
        ? [fmtTime(c.expires_at), ' ', c.expires_at > now
          ? h('span', { class: c.expires_at - now < 86400 ? 'badge warn' : 'badge' }, `${fmtDuration(c.expires_at - now)} left`)
          : h('span', { class: 'badge bad' }, 'expired')]
        : h('span', { class: 'muted' }, 'never')),
      h('td', { class: 'small' }, c.created_by),
      h('td', {}, refuse(h('button', {
        type: 'button', class: 'danger', 'aria-label': `Revoke ${c.name}`, onclick: () => revoke(c),
      }, 'Revoke'), noWrite))));
    mount(listEl, creds.length
      ? [h('p', { class: 'small muted' }, `${plural(creds.length, 'credential')}.`),
        table(['Name', 'Abilities', 'Scope', 'Writes as', 'Expires', 'Created by', ''], rows, { 'aria-label': 'Service credentials' })]
      : callout('info', 'This tenant has no service credentials yet.'));
  };
  const reload = async () => {
    creds = (await api('GET', ctx.path('/credentials'))).credentials;
    drawList();
  };

  async function revoke(c) {
    mount(status);
    const ok = await confirmDialog('Revoke credential',
      `Revoke the credential “${c.name}”? Applications using it are refused from now on; this cannot be undone.`, 'Revoke', true);
    if (!ok) return;
    try {
      await api('DELETE', ctx.path(`/credentials/${encodeURIComponent(c.id)}`));
      toast(`Credential “${c.name}” revoked.`);
      await reload();
    } catch (e) {
      mount(status, errorBox(e, 'Not revoked:'));
    }
  }

  // ---- a new credential
  const nameIn = h('input', { type: 'text', id: uid('name'), autocomplete: 'off', placeholder: 'e.g. CRM integration', maxlength: 100 });
  const boxes = ABILITIES.map(([id, name, what]) => {
    const c = h('input', { type: 'checkbox', id: uid('ab'), value: id, checked: id === 'decide' });
    return { c, el: h('label', { for: c.id, class: 'inline' }, c, h('span', {}, h('strong', {}, name), ` — ${what}`)) };
  });
  const scopeName = uid('scope');
  const radio = (value, label, checked) => {
    const r = h('input', { type: 'radio', name: scopeName, value, id: uid('sc'), checked });
    return { r, el: h('label', { for: r.id }, r, label) };
  };
  const scopes = [radio('tenant', 'Whole tenant', true), radio('org_units', 'Org units (with everything beneath)'), radio('queues', 'Queues')];
  const unitPick = h('select', { multiple: true, id: uid('units'), size: 5 }, units.map((u) => h('option', { value: u.id }, `${u.name || u.id} (${u.attributes.kind || 'unit'})`)));
  const queuePick = h('select', { multiple: true, id: uid('queues'), size: 5 }, queues.map((q) => h('option', { value: q.id }, q.name || q.id)));
  const unitField = field('Org units in scope', unitPick, units.length ? 'Ctrl/Shift to pick several' : 'No org units you may see.');
  const queueField = field('Queues in scope', queuePick, queues.length ? 'Ctrl/Shift to pick several' : 'No queues you may see.');
  const showScope = () => {
    const v = scopes.find((s) => s.r.checked).r.value;
    unitField.hidden = v !== 'org_units';
    queueField.hidden = v !== 'queues';
  };
  scopes.forEach((s) => s.r.addEventListener('change', showScope));
  showScope();
  const principal = await userPicker(ctx, 'Writes as (user)', '');
  principal.el.appendChild(h('span', { class: 'hint' }, 'Needed with Write: its writes are checked as this user’s, and nobody grants what they do not hold.'));
  const expName = uid('exp');
  const never = h('input', { type: 'radio', name: expName, id: uid('never'), checked: true });
  const at = h('input', { type: 'radio', name: expName, id: uid('at') });
  const when = h('input', { type: 'datetime-local', id: uid('when'), value: localInputValue(Math.floor(Date.now() / 1000) + 90 * 86400) });
  when.addEventListener('input', () => { at.checked = true; });

  const msg = h('div', { 'aria-live': 'assertive' });
  const secretEl = h('div', { 'aria-live': 'polite' });

  function body() {
    const b = { name: nameIn.value.trim(), abilities: boxes.filter((x) => x.c.checked).map((x) => x.c.value) };
    if (!b.name) throw new Error('Give the credential a name, e.g. the application that will use it.');
    if (!b.abilities.length) throw new Error('Pick at least one ability.');
    const v = scopes.find((s) => s.r.checked).r.value;
    if (v === 'org_units') b.scope = { org_units: [...unitPick.selectedOptions].map((o) => o.value) };
    else if (v === 'queues') b.scope = { queues: [...queuePick.selectedOptions].map((o) => o.value) };
    if (b.scope && (b.scope.org_units || b.scope.queues).length === 0) throw new Error('Pick at least one org unit or queue for the scope, or choose the whole tenant.');
    if (principal.value()) b.principal = principal.value();
    if (b.abilities.includes('write') && !b.principal) throw new Error('A credential that writes needs a user to write as.');
    if (at.checked) {
      const t = fromLocalInput(when.value);
      if (t === null) throw new Error('Pick the expiry date and time, or choose “Never”.');
      if (t <= Date.now() / 1000) throw new Error('The expiry is in the past; pick a later time.');
      b.expires_at = t;
    }
    return b;
  }

  /** The secret, once: a read-only field, a copy button and a warning. */
  function showSecret(c) {
    const out = h('input', { type: 'text', id: uid('secret'), value: c.token, readonly: true, class: 'mono secret', spellcheck: 'false', autocomplete: 'off' });
    const copied = h('span', { class: 'small', 'aria-live': 'polite' });
    const copy = h('button', {
      type: 'button',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(c.token);
          copied.textContent = 'Copied.';
        } catch {
          out.focus();
          out.select();
          copied.textContent = 'Selected: press Ctrl+C to copy.';
        }
      },
    }, 'Copy secret');
    mount(secretEl, h('section', { class: 'card secret-card', 'aria-labelledby': 'secret-title', 'data-secret': c.id },
      h('h2', { id: 'secret-title' }, `Secret of “${c.name}”`),
      callout('warn', h('strong', {}, 'Copy it now: it is shown only once.'),
        ' rolecall keeps only its hash, so nobody can show it again. Whoever holds it acts as this credential; keep it in the application’s secret store, never in code or chat.'),
      field('Secret', out, 'The application sends it as “Authorization: Bearer …”.'),
      h('div', { class: 'actions' }, copy, copied,
        h('button', { type: 'button', class: 'secondary', onclick: () => mount(secretEl) }, 'I have copied it — hide'))));
    out.focus();
    out.select();
  }

  const create = async () => {
    mount(msg);
    let b;
    try {
      b = body();
    } catch (e) {
      mount(msg, errorBox(e));
      return;
    }
    try {
      const c = await api('POST', ctx.path('/credentials'), b);
      toast(`Credential “${c.name}” created.`);
      nameIn.value = '';
      showSecret(c);
      await reload();
    } catch (e) {
      mount(msg, errorBox(e, 'Not created:'));
    }
  };

  const form = h('section', { class: 'card', 'aria-labelledby': 'new-cred-title' },
    h('h2', { id: 'new-cred-title' }, 'New credential'),
    h('div', { class: 'row top' }, h('div', { class: 'grow' }, field('Name', nameIn)), h('div', { class: 'grow' }, principal.el)),
    h('div', { class: 'split' },
      h('fieldset', {}, h('legend', {}, 'Abilities'), h('div', { class: 'check-list' }, boxes.map((x) => x.el))),
      h('fieldset', {}, h('legend', {}, 'Scope (optional)'), h('div', { class: 'radio-row' }, scopes.map((s) => s.el)), unitField, queueField)),
    h('fieldset', {}, h('legend', {}, 'Expires (optional)'),
      h('div', { class: 'radio-row' }, h('label', { for: never.id }, never, 'Never'), h('label', { for: at.id }, at, 'At a time')),
      field('Expiry date and time', when, 'Your local time. The credential is refused from then on.')),
    msg,
    h('div', { class: 'actions' }, refuse(h('button', { type: 'button', onclick: create }, 'Create credential'), noWrite)));

  mount(root,
    pageHead('Credentials', 'Service credentials let applications call rolecall’s API in their own name: with the abilities you choose, optionally over part of the tenant only and until a time. A secret is shown once, when it is created.'),
    secretEl,
    form,
    h('h2', {}, 'Current credentials'),
    status,
    listEl);
  drawList();
}
