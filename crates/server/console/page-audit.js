// The audit trail: every change (who, when, revision, before and after) and every
// sensitive decision, filtered and paged, exportable, with the hash chain's status.

import { api, apiText, query } from './api.js';
import { h, mount, field, select, errorBox, cannotSee, isRefusal, callout, loading, pageHead, table, uid, fmtTime, fromLocalInput, localInputValue, download, plural } from './ui.js';

function short(v, key) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number' && key && /_at$/.test(key)) return fmtTime(v);
  if (Array.isArray(v)) return v.length ? v.map((x) => short(x)).join(', ') : '(none)';
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) return '(none)';
    return keys.map((k) => (v[k] === true ? k : `${k}: ${short(v[k], k)}`)).join('; ');
  }
  return String(v);
}

const empty = (v) => v === null || v === undefined || (Array.isArray(v) && !v.length)
  || (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length);

/** A role's or an entity's fields sit one level down ({"role": {...}, "version": 2}). */
function flat(o) {
  if (!o || typeof o !== 'object') return {};
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && ['role', 'entity', 'assignment'].includes(k)) Object.assign(out, v);
    else out[k] = v;
  }
  return out;
}

/** What an entry says, in words: a decision, or what changed key by key. */
function changes(entry) {
  const { before, after } = entry;
  if (entry.action.startsWith('decision.') && after) {
    return h('span', {}, after.allowed ? h('span', { class: 'gain' }, 'allowed') : h('span', { class: 'loss' }, 'denied'),
      ` for ${after.principal}`,
      after.error ? ` (${after.error})` : '',
      after.obligations && after.obligations.length ? `, with ${after.obligations.join(', ')}` : '');
  }
  const b = flat(before);
  const a = flat(after);
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  const items = [];
  for (const k of keys) {
    if (JSON.stringify(b[k]) === JSON.stringify(a[k])) continue;
    const kEl = h('span', { class: 'k' }, k.replace(/_/g, ' '));
    if (!before) {
      if (!empty(a[k])) items.push(h('li', {}, kEl, ': ', short(a[k], k)));
    } else if (!after) {
      if (!empty(b[k])) items.push(h('li', {}, kEl, ': was ', short(b[k], k)));
    } else if (b[k] && a[k] && typeof b[k] === 'object' && typeof a[k] === 'object' && !Array.isArray(a[k])) {
      const added = Object.keys(a[k]).filter((z) => JSON.stringify(a[k][z]) !== JSON.stringify(b[k][z]));
      const gone = Object.keys(b[k]).filter((z) => !(z in a[k]));
      items.push(h('li', {}, kEl, ': ',
        added.length ? h('span', { class: 'gain' }, '+ ' + added.map((z) => (a[k][z] === true ? z : `${z} = ${short(a[k][z], z)}`)).join(', ')) : null,
        added.length && gone.length ? '; ' : '',
        gone.length ? h('span', { class: 'loss' }, '− ' + gone.join(', ')) : null));
    } else {
      items.push(h('li', {}, kEl, ': ', short(b[k], k), ' → ', short(a[k], k)));
    }
  }
  if (!before && !after) return h('span', { class: 'muted' }, '');
  return items.length ? h('ul', { class: 'diff' }, items) : h('span', { class: 'muted' }, 'no field changed');
}

export async function render(root, ctx) {
  mount(root, pageHead('Audit trail'), loading());
  const p = ctx.params;
  const actor = h('input', { type: 'text', id: uid('actor'), value: p.get('actor') || '', placeholder: 'user:alice or operator:tok_…' });
  const target = h('input', { type: 'text', id: uid('target'), value: p.get('target') || '', placeholder: 'role:team_lead, user:bob' });
  const action = h('input', { type: 'text', id: uid('action'), value: p.get('action') || '', placeholder: 'role. assignment. decision.' });
  const from = h('input', { type: 'datetime-local', id: uid('from'), value: p.get('from') ? localInputValue(Number(p.get('from'))) : '' });
  const to = h('input', { type: 'datetime-local', id: uid('to'), value: p.get('to') ? localInputValue(Number(p.get('to'))) : '' });
  const limit = select({ id: uid('limit') }, [['25', '25'], ['50', '50'], ['100', '100'], ['500', '500']], p.get('limit') || '50');
  const before = p.get('before') || '';
  const history = (p.get('back') || '').split(',').filter(Boolean); // newer pages' `before`

  const filters = () => ({
    actor: actor.value.trim(), target: target.value.trim(), action: action.value.trim(),
    from: fromLocalInput(from.value), to: fromLocalInput(to.value),
  });
  const go = (extra) => ctx.go(ctx.link('audit', { ...filters(), limit: limit.value, ...extra }));

  const verifyEl = h('div', { 'aria-live': 'polite' }, loading('Verifying the hash chain…'));
  api('GET', ctx.path('/audit/verify')).then((v) => {
    mount(verifyEl, v.intact
      ? callout('ok', h('strong', {}, 'Chain intact.'), ` ${plural(v.entries, 'entry', 'entries')} verified: each one’s SHA-256 covers its fields and its predecessor’s hash.`)
      : callout('error', h('strong', {}, 'Chain broken.'), ` The first altered entry is #${v.first_bad_seq}: ${v.reason}. Entries before it verify (${plural(v.entries, 'entry', 'entries')} checked).`));
    verifyEl.dataset.intact = String(v.intact);
  }, (e) => mount(verifyEl, isRefusal(e) ? cannotSee(e, 'the chain’s status') : errorBox(e, 'Chain not verified:')));

  const exportMsg = h('div', { 'aria-live': 'polite' });
  const exporter = (format, ext, type) => async (ev) => {
    ev.preventDefault();
    mount(exportMsg);
    try {
      const r = await apiText(ctx.path('/audit' + query({ ...filters(), format, limit: 10000 })));
      download(`audit-${ctx.tenant}.${ext}`, r.text, type);
      mount(exportMsg, h('p', { class: 'small muted' }, `Exported ${format.toUpperCase()} (${r.text.trim() ? r.text.trim().split('\n').length - (format === 'csv' ? 1 : 0) : 0} entries, up to 10,000 with these filters).`));
    } catch (e) {
      mount(exportMsg, errorBox(e, 'Not exported:'));
    }
  };
  const jsonl = h('a', { href: ctx.path('/audit' + query({ ...filters(), format: 'jsonl' })), class: 'button secondary', onclick: exporter('jsonl', 'jsonl', 'application/x-ndjson') }, 'Export JSON lines');
  const csv = h('a', { href: ctx.path('/audit' + query({ ...filters(), format: 'csv' })), class: 'button secondary', onclick: exporter('csv', 'csv', 'text/csv') }, 'Export CSV');

  const form = h('form', { class: 'card', 'aria-label': 'Audit filters' },
    h('div', { class: 'row' },
      h('div', { class: 'grow' }, field('Actor', actor)),
      h('div', { class: 'grow' }, field('Target', target)),
      h('div', { class: 'grow' }, field('Action starts with', action)),
      h('div', {}, field('From', from)),
      h('div', {}, field('Before', to)),
      h('div', {}, field('Per page', limit))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Apply filters'),
      h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go(ctx.link('audit')) }, 'Clear'),
      jsonl, csv),
    exportMsg);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); go({}); });

  const listEl = h('div', {}, loading());
  mount(root,
    pageHead('Audit trail', 'Every change — who, when, at which revision, before and after — and every decision on a sensitive action, appended to a hash chain.'),
    verifyEl, form, listEl);

  try {
    const f = filters();
    const page = await api('GET', ctx.path('/audit' + query({ ...f, before, order: 'desc', limit: limit.value })));
    const rows = page.entries.map((e) => h('tr', { 'data-seq': String(e.seq) },
      h('td', { class: 'num' }, String(e.seq)),
      h('td', { class: 'nowrap' }, fmtTime(e.at)),
      h('td', { class: 'small' }, e.actor),
      h('td', { class: 'audit-action' }, e.action),
      h('td', { class: 'mono small' }, e.target),
      h('td', { class: 'num' }, String(e.revision)),
      h('td', {}, changes(e))));
    const pager = h('div', { class: 'pager' },
      h('button', {
        type: 'button', class: 'secondary', disabled: !before,
        onclick: () => go({ before: history[history.length - 1] || '', back: history.slice(0, -1).join(',') }),
      }, '← Newer entries'),
      h('span', {}, page.entries.length ? `Entries ${page.entries[0].seq}–${page.entries[page.entries.length - 1].seq}, newest first` : 'No entries match.'),
      h('button', {
        type: 'button', class: 'secondary', disabled: !page.next_before,
        onclick: () => go({ before: page.next_before, back: [...history, before].join(',') }),
      }, 'Older entries →'));
    mount(listEl, pager,
      page.entries.length ? table(['#', 'Time', 'Actor', 'Action', 'Target', 'Rev.', 'What changed'], rows, { 'aria-label': 'Audit entries' }) : callout('info', 'No entries match these filters.'));
  } catch (e) {
    // A refused read leaves nothing on this page to use: the refusal replaces it.
    if (isRefusal(e)) mount(root, pageHead('Audit trail'), cannotSee(e));
    else mount(listEl, errorBox(e));
  }
}
