// Queues: their org unit, members (agents) and supervisors. A supervisor's rights over a
// queue's calls often depend on being one of its supervisors.

import { api } from './api.js';
import { h, mount, field, select, errorBox, callout, loading, pageHead, table, toast, uid, plural, refuse, refusedNote } from './ui.js';

export async function render(root, ctx) {
  mount(root, pageHead('Queues'), loading());
  // The queues are the page; users and org units add names (left out when this token may
  // not read them).
  const optional = (p) => p.catch(() => []);
  const [queues, users, units] = await Promise.all([ctx.list('queues'), optional(ctx.list('users')), optional(ctx.list('org-units'))]);
  const noWrite = ctx.denied('queues.write');
  const userName = new Map(users.map((u) => [u.id, u.name || u.id]));
  const unitName = new Map(units.map((u) => [u.id, u.name || u.id]));
  const usersList = uid('queue-users');
  const editEl = h('div', {});

  /** A list of people as removable chips, with an input to add one. */
  function chips(title, initial) {
    let ids = [...initial];
    const box = h('div', { class: 'chips', 'aria-live': 'polite' });
    const input = h('input', { type: 'text', id: uid('add'), list: usersList, autocomplete: 'off', placeholder: 'a user id' });
    const err = h('div', {});
    const draw = () => mount(box, ids.length ? ids.map((id) => h('span', { class: 'chip', 'data-chip': id },
      userName.get(id) ? `${userName.get(id)} (${id})` : id,
      h('button', { type: 'button', 'aria-label': `Remove ${userName.get(id) || id} from ${title.toLowerCase()}`, onclick: () => { ids = ids.filter((x) => x !== id); draw(); } }, '×')))
      : h('span', { class: 'muted' }, 'Nobody yet.'));
    const add = () => {
      const v = input.value.trim();
      mount(err);
      if (!v) return;
      if (users.length && !userName.has(v)) {
        mount(err, errorBox(new Error(`There is no user “${v}”.`)));
        return;
      }
      if (!ids.includes(v)) ids.push(v);
      input.value = '';
      draw();
      input.focus();
    };
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); add(); } });
    draw();
    return {
      el: h('fieldset', {}, h('legend', {}, `${title} (${initial.length})`), box,
        h('div', { class: 'row' }, h('div', { class: 'grow' }, field(`Add to ${title.toLowerCase()}`, input)),
          h('div', { class: 'btn-cell' }, h('button', { type: 'button', class: 'secondary', onclick: add }, 'Add'))), err),
      ids: () => [...ids].sort(),
    };
  }

  function edit(q) {
    const members = chips('Members', q.relations.members || []);
    const sups = chips('Supervisors', q.relations.supervisors || []);
    if (noWrite) {
      for (const el of [members.el, sups.el]) el.disabled = true; // a disabled fieldset disables what it holds
    }
    const msg = h('div', { 'aria-live': 'assertive' });
    const save = async () => {
      mount(msg);
      const b = { members: members.ids(), supervisors: sups.ids(), attributes: q.attributes };
      if (q.name) b.name = q.name;
      const unit = (q.relations.org_unit || [])[0];
      if (unit) b.org_unit = unit;
      try {
        const w = await api('PUT', ctx.path(`/queues/${encodeURIComponent(q.id)}`), b);
        toast(`Queue ${q.name || q.id} saved (revision ${w.revision}).`);
        ctx.invalidate();
        await render(root, ctx);
      } catch (e) {
        mount(msg, errorBox(e, 'Not saved:'));
      }
    };
    mount(editEl, h('section', { class: 'card', 'aria-labelledby': 'queue-title' },
      h('h2', { id: 'queue-title' }, `Queue: ${q.name || q.id}`),
      h('p', { class: 'muted' }, `In ${unitName.get((q.relations.org_unit || [])[0]) || 'no org unit'}.`),
      h('div', { class: 'split' }, members.el, sups.el),
      msg, refusedNote(noWrite),
      h('div', { class: 'actions' },
        refuse(h('button', { type: 'button', onclick: save }, 'Save queue'), noWrite),
        h('button', { type: 'button', class: 'secondary', onclick: () => mount(editEl) }, 'Cancel'))));
    editEl.scrollIntoView({ block: 'nearest' });
    editEl.querySelector('input')?.focus();
  }

  // A new queue.
  const idIn = h('input', { type: 'text', id: uid('id'), class: 'mono', autocomplete: 'off' });
  const nameIn = h('input', { type: 'text', id: uid('name') });
  const unitSel = select({ id: uid('unit') }, [['', '— none —'], ...units.map((u) => [u.id, u.name || u.id])]);
  const newMsg = h('div', { 'aria-live': 'assertive' });
  const create = async () => {
    mount(newMsg);
    const b = { id: idIn.value.trim() };
    if (nameIn.value.trim()) b.name = nameIn.value.trim();
    if (unitSel.value) b.org_unit = unitSel.value;
    try {
      const w = await api('POST', ctx.path('/queues'), b);
      toast(`Queue ${b.id} created (revision ${w.revision}).`);
      ctx.invalidate();
      await render(root, ctx);
    } catch (e) {
      mount(newMsg, errorBox(e, 'Not created:'));
    }
  };

  const names = (ids) => (ids || []).map((x) => userName.get(x) || x).join(', ');
  const rows = queues.map((q) => h('tr', { 'data-queue': q.id },
    h('td', {}, q.name || q.id), h('td', { class: 'mono small' }, q.id),
    h('td', {}, unitName.get((q.relations.org_unit || [])[0]) || ''),
    h('td', { class: 'num' }, String((q.relations.members || []).length)),
    h('td', { class: 'small' }, names(q.relations.supervisors)),
    h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `${noWrite ? 'View' : 'Manage'} ${q.name || q.id}`, onclick: () => edit(q) }, noWrite ? 'View' : 'Manage'))));
  mount(root,
    pageHead('Queues', 'Each queue’s members (agents) and supervisors. Supervisors limited to their queues see and act on these queues only.'),
    h('datalist', { id: usersList }, users.map((u) => h('option', { value: u.id }, u.name || u.id))),
    editEl,
    queues.length ? table(['Queue', 'Id', 'Org unit', 'Members', 'Supervisors', ''], rows, { 'aria-label': 'Queues' }) : callout('info', 'No queues yet.'),
    h('details', { class: 'card' }, h('summary', {}, h('strong', {}, 'Add a queue')),
      h('div', { class: 'row' }, h('div', {}, field('Id', idIn)), h('div', { class: 'grow' }, field('Name', nameIn)), h('div', {}, field('Org unit', unitSel))),
      newMsg, h('div', { class: 'actions' }, refuse(h('button', { type: 'button', onclick: create }, 'Add queue'), noWrite)), refusedNote(noWrite)),
    h('p', { class: 'small muted' }, plural(queues.length, 'queue')));
}
