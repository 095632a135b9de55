// Small DOM helpers. Text always goes in as text (never as HTML), so nothing the
// server returns can become markup.

import { plain } from './access.js';

let seq = 0;

/** A fresh element id. */
export function uid(prefix = 'f') {
  seq += 1;
  return `${prefix}-${seq}`;
}

/**
 * h('button', {class: 'x', onclick: f, disabled: true}, 'text', child, [more])
 * Attributes: `class`, `for`, `on…` (listeners), boolean and value properties, the rest
 * as attributes (aria-*, data-*, role…).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'for') el.htmlFor = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected' || k === 'multiple' || k === 'required' || k === 'open' || k === 'indeterminate') el[k] = Boolean(v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled field: the label points at the control by id. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid('f');
  const hintEl = hint ? h('span', { class: 'hint', id: control.id + '-hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

/** A <select> from [value, label] pairs (or strings); `groups` as {label: [...]} too. */
export function select(attrs, options, selected) {
  const s = h('select', attrs);
  const add = (parent, o) => {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    parent.appendChild(h('option', { value, selected: value === selected }, label));
  };
  if (Array.isArray(options)) options.forEach((o) => add(s, o));
  else {
    for (const [g, opts] of Object.entries(options)) {
      const og = h('optgroup', { label: g });
      opts.forEach((o) => add(og, o));
      s.appendChild(og);
    }
  }
  if (selected !== undefined) s.value = selected;
  return s;
}

/** A <datalist> for an <input list=…>. */
export function datalist(id, items) {
  return h('datalist', { id }, items.map(([value, label]) => h('option', { value }, label)));
}

/**
 * The technical part of a server message, folded away ("Technical details"), when it
 * says more than the sentence shown.
 */
function techDetails(msg, shown) {
  const bare = (s) => s.toLowerCase().replace(/[`“”.]/g, '').trim();
  return msg && bare(msg) !== bare(shown)
    ? h('details', { class: 'tech' }, h('summary', {}, 'Technical details'), h('code', {}, msg))
    : null;
}

/**
 * An error in words (role=alert so screen readers announce it): the first sentence of
 * the server's message, in the administrator's language; the full message (operation
 * ids, requirements) under a collapsed "Technical details".
 */
export function errorBox(err, prefix) {
  const msg = err && err.message ? err.message : String(err);
  const shown = plain(msg);
  return h('div', { class: 'callout error', role: 'alert' }, h('strong', {}, prefix || 'Error:'), ' ', shown,
    techDetails(msg, shown));
}

/** A refused read: "You cannot see this", and why in the administrator's words. */
export function cannotSee(err, what) {
  const msg = err && err.message ? err.message : String(err);
  const shown = plain(msg);
  return h('div', { class: 'callout warn refused', role: 'alert', 'data-refused': '' },
    h('strong', {}, 'You cannot see this', what ? ` (${what})` : '', '.'), ' ', shown,
    techDetails(msg, shown));
}

/** Whether an error is the API refusing this token (403). */
export function isRefusal(err) {
  return Boolean(err && err.status === 403);
}

/**
 * A control this token may not use: disabled, with why as its tooltip (and accessible
 * description). `why` null leaves it as it is.
 */
export function refuse(control, why) {
  if (!why) return control;
  control.disabled = true;
  control.title = why;
  control.classList.add('refused');
  return control;
}

/** A link styled as a button, or, when `why` says it may not be used, a disabled button saying why. */
export function linkButton(href, label, attrs = {}, why = null) {
  if (why) return refuse(h('button', { type: 'button', class: attrs.class, 'aria-label': attrs['aria-label'] }, label), why);
  return h('a', { ...attrs, href, class: attrs.class ? `button ${attrs.class}` : 'button' }, label);
}

/** A short note beside controls the token may not use, saying why. */
export function refusedNote(why) {
  return why ? h('p', { class: 'small refused-note', 'data-refused-note': '' }, why) : null;
}

export function callout(kind, ...children) {
  return h('div', { class: `callout ${kind}` }, ...children);
}

export function loading(what = 'Loading…') {
  return h('p', { class: 'muted', 'aria-busy': 'true' }, what);
}

let toastTimer = null;
/** A short message in the corner (aria-live). */
export function toast(message) {
  const t = document.getElementById('toast');
  mount(t, h('div', {}, message));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => mount(t), 5000);
}

/** A modal yes/no question; resolves true when confirmed. `body` is text or nodes. */
export function confirmDialog(title, body, okLabel = 'OK', danger = false) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  mount(document.getElementById('confirm-body'), body);
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  ok.textContent = okLabel;
  ok.className = danger ? 'danger' : '';
  return new Promise((resolve) => {
    const done = (v) => {
      ok.onclick = null;
      cancel.onclick = null;
      d.onclose = null;
      if (d.open) d.close();
      resolve(v);
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    d.onclose = () => done(false);
    d.showModal();
    cancel.focus();
  });
}

/** Unix seconds → local "YYYY-MM-DD HH:MM". */
export function fmtTime(secs) {
  if (secs === null || secs === undefined) return '';
  const d = new Date(secs * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Seconds → "2 d 3 h", "1 h 59 min", "45 s". */
export function fmtDuration(secs) {
  if (secs <= 0) return 'expired';
  const d = Math.floor(secs / 86400);
  const hrs = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  if (d > 0) return `${d} d ${hrs} h`;
  if (hrs > 0) return `${hrs} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${secs} s`;
}

/** A datetime-local input's value ↔ Unix seconds (local time). */
export function localInputValue(secs) {
  const d = new Date(secs * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fromLocalInput(value) {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

/** "1 user" / "3 users". */
export function plural(n, word, many) {
  return `${n} ${n === 1 ? word : many || word + 's'}`;
}

/** A list in words: "a, b and c". */
export function words(list) {
  if (list.length <= 1) return list.join('');
  return list.slice(0, -1).join(', ') + ' and ' + list[list.length - 1];
}

/** A table: headers and rows of cells (nodes or text). */
export function table(headers, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)));
}

/** A page heading with a lead sentence and optional tools on the right. */
export function pageHead(title, lead, ...tools) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), lead ? h('p', { class: 'lead' }, lead) : null),
    tools.length ? h('div', { class: 'tools' }, tools) : null);
}

/** Saves text as a file through a temporary link. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Actions grouped by the menu they sit in (or their resource type): {group: [[id, label]]}. */
export function actionGroups(catalog) {
  const groups = {};
  for (const a of catalog.actions) {
    const g = a.menu || `${a.resource} actions`;
    (groups[g] = groups[g] || []).push([a.id, `${a.name} (${a.id})`]);
  }
  return groups;
}

/** A labelled action <select>, grouped by menu. */
export function actionSelect(catalog, selected) {
  const s = select({ id: uid('action') }, actionGroups(catalog), selected || catalog.actions[0]?.id);
  return s;
}

/**
 * A resource picker for one type at a time: a text input with suggestions of that
 * type's resources. `setType(type)` reloads the suggestions; `value()` is the id.
 */
export function resourcePicker(ctx, initial) {
  const listId = uid('res');
  const input = h('input', { type: 'text', id: uid('resource'), list: listId, autocomplete: 'off', spellcheck: 'false', value: initial || '' });
  const dl = h('datalist', { id: listId });
  const label = h('label', { for: input.id }, 'Resource');
  const hint = h('span', { class: 'hint' });
  let type = null;
  const el = h('div', { class: 'field' }, label, input, dl, hint);
  return {
    el,
    input,
    async setType(t) {
      if (t === type) return;
      type = t;
      label.textContent = `Resource (${t})`;
      input.placeholder = `a ${t} id`;
      mount(dl);
      try {
        const opts = await ctx.resourceOptions(t);
        if (type !== t) return;
        mount(dl, opts.map(([v, l]) => h('option', { value: v }, l)));
        hint.textContent = opts.length ? `${plural(opts.length, 'resource')} of this type; type to search.` : 'No resources of this type yet.';
        if (!input.value && opts.length) input.value = opts[0][0];
        else if (input.value && !opts.some(([v]) => v === input.value) && opts.length) input.value = opts[0][0];
      } catch (e) {
        hint.textContent = 'Suggestions unavailable: ' + e.message;
      }
    },
    value: () => input.value.trim(),
    type: () => type,
  };
}

/**
 * A user picker: a text input with the tenant's users as suggestions. With `othersOp`
 * (e.g. 'check.others'), a token that may not perform it for other users is held to
 * itself: the input shows its own user, disabled, saying why.
 */
export async function userPicker(ctx, label, initial, othersOp) {
  const listId = uid('users');
  const self = othersOp && ctx.who && !ctx.who.operator && ctx.who.principal && !ctx.may(othersOp)
    ? ctx.who.principal : null;
  const input = h('input', { type: 'text', id: uid('user'), list: listId, autocomplete: 'off', spellcheck: 'false', value: self || initial || '', placeholder: 'a user id', disabled: Boolean(self) });
  let users = [];
  try {
    users = await ctx.list('users');
  } catch {
    users = [];
  }
  const dl = h('datalist', { id: listId }, users.map((u) => h('option', { value: u.id }, u.name || u.id)));
  const hint = self ? h('span', { class: 'hint', id: input.id + '-hint' }, `Yourself only: ${ctx.denied(othersOp)}`) : null;
  if (hint) input.setAttribute('aria-describedby', hint.id);
  return { el: h('div', { class: 'field' }, h('label', { for: input.id }, label), input, dl, hint), input, users, value: () => input.value.trim() };
}
