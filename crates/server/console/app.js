// The console's shell: login, tenant picker, navigation and the hash router.
// Routes: #/login, #/ (tenant choice), #/t/{tenant}/{page}[/{more}][?params].

import { api, token, setToken, clearToken, whenUnauthorized, tpath, ApiError } from './api.js';
import { h, mount, field, select, errorBox, loading, callout, pageHead, table, uid } from './ui.js';
import * as roles from './page-roles.js';
import * as users from './page-users.js';
import * as org from './page-org.js';
import * as queues from './page-queues.js';
import * as assignments from './page-assignments.js';
import * as whocan from './page-whocan.js';
import * as explain from './page-explain.js';
import * as viewas from './page-viewas.js';
import * as audit from './page-audit.js';

const PAGES = [
  { group: 'Administration' },
  { id: 'roles', label: 'Roles', mod: roles },
  { id: 'users', label: 'Users', mod: users },
  { id: 'org', label: 'Org tree', mod: org },
  { id: 'queues', label: 'Queues', mod: queues },
  { id: 'assignments', label: 'Assignments', mod: assignments },
  { group: 'Questions' },
  { id: 'who-can', label: 'Who can…', mod: whocan },
  { id: 'explain', label: 'Decision explainer', mod: explain },
  { id: 'view-as', label: 'View as', mod: viewas },
  { group: 'Evidence' },
  { id: 'audit', label: 'Audit trail', mod: audit },
];

const state = {
  who: null, // GET /v1/whoami
  tenants: null, // operator: GET /v1/tenants
  catalogs: new Map(), // tenant → Promise of its catalog
  renderSeq: 0,
};

const $ = (id) => document.getElementById(id);

/** '#/t/{tenant}/{page}/{more…}?{params}' */
export function link(tenant, page, params, more) {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString() : '';
  const extra = more ? '/' + more.map(encodeURIComponent).join('/') : '';
  return `#/t/${encodeURIComponent(tenant)}/${page}${extra}${q ? '?' + q : ''}`;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const [path, q] = raw.split('?');
  const parts = (path || '/').split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(q || '') };
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Per-render context handed to pages. */
function makeContext(tenant, page, more, params) {
  const cache = new Map();
  const ctx = {
    tenant,
    page,
    more,
    params,
    who: state.who,
    link: (p, prm, m) => link(tenant, p, prm, m),
    go,
    path: (rest) => tpath(tenant, rest),
    api,
    /** The tenant's catalog (privilege tree, role types, actions, types), cached. */
    catalog() {
      if (!state.catalogs.has(tenant)) {
        const p = api('GET', tpath(tenant, '/catalog'));
        p.catch(() => state.catalogs.delete(tenant));
        state.catalogs.set(tenant, p);
      }
      return state.catalogs.get(tenant);
    },
    /** A list endpoint's items, fetched once per page render. */
    list(kind) {
      if (!cache.has(kind)) {
        const path = {
          users: '/users', groups: '/groups', queues: '/queues', 'org-units': '/org-units',
        }[kind] || `/resources/${encodeURIComponent(kind)}`;
        cache.set(kind, api('GET', tpath(tenant, path)).then((r) => r.items));
      }
      return cache.get(kind);
    },
    roles() {
      if (!cache.has('roles')) cache.set('roles', api('GET', tpath(tenant, '/roles')).then((r) => r.roles));
      return cache.get('roles');
    },
    /** Resources of a type as [id, label] pairs (the tenant itself for `tenant`). */
    async resourceOptions(type) {
      if (type === 'tenant') return [[tenant, `${tenant} (this tenant)`]];
      const items = await ctx.list(type === 'org_unit' ? 'org-units' : type === 'user' ? 'users' : type === 'group' ? 'groups' : type === 'queue' ? 'queues' : type);
      return items.map((e) => [e.id, e.name ? `${e.name} (${e.id})` : e.id]);
    },
    invalidate() {
      cache.clear();
    },
  };
  return ctx;
}

function renderNav(tenant, page) {
  const nav = $('nav');
  nav.hidden = !tenant;
  if (!tenant) return;
  const ul = h('ul', {});
  for (const p of PAGES) {
    if (p.group) {
      ul.appendChild(h('li', { class: 'group', 'aria-hidden': 'true' }, p.group));
      continue;
    }
    ul.appendChild(h('li', {}, h('a', {
      href: link(tenant, p.id),
      'aria-current': p.id === page ? 'page' : null,
    }, p.label)));
  }
  mount(nav, ul);
}

async function renderHeader(tenant) {
  const area = $('tenant-area');
  const who = $('who');
  $('logout').hidden = !state.who;
  if (!state.who) {
    mount(area);
    mount(who);
    return;
  }
  if (state.who.operator) {
    mount(who, 'Operator');
    if (!state.tenants) {
      try {
        state.tenants = (await api('GET', '/v1/tenants')).tenants;
      } catch (e) {
        mount(area, h('span', {}, 'Tenants could not be listed: ' + e.message));
        return;
      }
    }
    const id = uid('tenant');
    const opts = [['', '— choose a tenant —'], ...state.tenants.map((t) => [t.id, `${t.name} (${t.id})`])];
    const s = select({ id }, opts, tenant || '');
    s.addEventListener('change', () => {
      // The same page in the other tenant (its ids differ: no parameters carried over).
      const { parts } = parseHash();
      const page = parts[0] === 't' && parts[2] ? parts[2] : 'roles';
      go(s.value ? link(s.value, page) : '#/');
    });
    mount(area, h('label', { for: id }, 'Tenant'), s);
  } else {
    mount(who, 'Signed in as ', h('strong', {}, state.who.principal));
    mount(area, h('span', {}, 'Tenant: '), h('span', { class: 'fixed' }, state.who.tenant));
  }
}

function loginPage(main, message) {
  const input = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, id: 'login-token' });
  const err = h('div', { 'aria-live': 'assertive' });
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Sign in to the rolecall console'),
    h('p', {}, 'Paste an API token. The operator token is printed once when ', h('code', {}, 'rolecall serve'),
      ' first starts; a tenant user’s token comes from ', h('code', {}, 'rolecall token create'),
      ' or from the demo tokens. The token stays in this browser tab only (session storage).'),
    message ? callout('warn', message) : null,
    field('API token', input, 'Starts with rc_'),
    err,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Log in')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    mount(err);
    const secret = input.value.trim();
    if (!secret) {
      mount(err, errorBox(new Error('Paste a token first.')));
      return;
    }
    try {
      const who = await api('GET', '/v1/whoami', undefined, { token: secret });
      setToken(secret);
      state.who = who;
      state.tenants = null;
      go(who.operator ? '#/' : link(who.tenant, 'roles'));
    } catch (e) {
      mount(err, errorBox(e, 'Not signed in:'));
      input.focus();
    }
  });
  mount(main, form);
  input.focus();
}

async function tenantChoice(main) {
  mount(main, pageHead('Tenants', 'As the operator you manage every tenant. Choose one to administer.'), loading());
  try {
    state.tenants = (await api('GET', '/v1/tenants')).tenants;
  } catch (e) {
    mount(main, pageHead('Tenants'), errorBox(e));
    return;
  }
  const rows = state.tenants.map((t) => h('tr', {},
    h('td', {}, h('a', { href: link(t.id, 'roles') }, t.name)),
    h('td', { class: 'mono' }, t.id),
    h('td', {}, t.profile_name),
    h('td', { class: 'num' }, String(t.revision))));
  mount(main,
    pageHead('Tenants', 'As the operator you manage every tenant. Choose one to administer.'),
    table(['Tenant', 'Id', 'Profile', 'Revision'], rows));
}

async function route() {
  const seq = ++state.renderSeq;
  const main = $('main');
  const navHadFocus = document.activeElement && $('nav').contains(document.activeElement);
  const { parts, params } = parseHash();
  // The previous page goes at once, so nothing stale can be clicked while this loads.
  if (token()) mount(main, loading());
  if (!token()) {
    state.who = null;
    await renderHeader(null);
    renderNav(null);
    loginPage(main, params.get('reason'));
    return;
  }
  if (!state.who) {
    try {
      state.who = await api('GET', '/v1/whoami');
    } catch (e) {
      clearToken();
      state.who = null;
      await renderHeader(null);
      renderNav(null);
      loginPage(main, e instanceof ApiError && e.status === 401 ? 'Your token is no longer accepted: ' + e.message : e.message);
      return;
    }
  }
  let tenant = parts[0] === 't' ? parts[1] : null;
  if (!tenant && !state.who.operator) {
    go(link(state.who.tenant, 'roles'));
    return;
  }
  await renderHeader(tenant);
  if (seq !== state.renderSeq) return;
  if (!tenant) {
    renderNav(null);
    await tenantChoice(main);
    return;
  }
  const pageId = parts[2] || 'roles';
  const page = PAGES.find((p) => p.id === pageId);
  renderNav(tenant, pageId);
  const root = h('div', { class: 'page', 'data-page': pageId });
  mount(main, root);
  if (navHadFocus) main.focus();
  if (!page) {
    mount(root, pageHead('Not found'), callout('warn', `There is no page “${pageId}”.`));
    return;
  }
  document.title = `${page.label} · ${tenant} · rolecall`;
  const ctx = makeContext(tenant, pageId, parts.slice(3), params);
  try {
    await page.mod.render(root, ctx);
  } catch (e) {
    if (seq === state.renderSeq) mount(root, pageHead(page.label), errorBox(e));
  }
}

function logout(message) {
  clearToken();
  state.who = null;
  state.tenants = null;
  state.catalogs.clear();
  if (message) go('#/login?reason=' + encodeURIComponent(message));
  else go('#/login');
}

whenUnauthorized((e) => {
  // A token revoked while the page is open: back to the login, saying why.
  if (state.who) logout('Your token is no longer accepted: ' + e.message);
});

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  $('logout').addEventListener('click', () => logout());
  $('skip').addEventListener('click', () => $('main').focus());
  route();
});
