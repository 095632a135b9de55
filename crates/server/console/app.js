// The console's shell: login, tenant picker, navigation and the hash router.
// Routes: #/login, #/ (tenant choice), #/t/{tenant}/{page}[/{more}][?params].
// The console follows the token: the navigation lists only the pages whose operations
// GET /v1/whoami says it may perform somewhere, and a refused read says so in words.

import { api, token, setToken, clearToken, whenUnauthorized, tpath, ApiError } from './api.js';
import { h, mount, field, select, errorBox, cannotSee, isRefusal, loading, callout, pageHead, table, uid } from './ui.js';
import { reach, may, denied, pageAllowed, plain } from './access.js';
import * as roles from './page-roles.js';
import * as users from './page-users.js';
import * as org from './page-org.js';
import * as queues from './page-queues.js';
import * as assignments from './page-assignments.js';
import * as whocan from './page-whocan.js';
import * as explain from './page-explain.js';
import * as viewas from './page-viewas.js';
import * as audit from './page-audit.js';
import * as credentials from './page-credentials.js';

// `needs`: the management operations a page cannot work without (each allowed
// somewhere); `any`: at least one of these. A page the token may not use is left out of
// the navigation; opened by its address, it asks the API and shows the refusal.
const PAGES = [
  { group: 'Administration' },
  { id: 'roles', label: 'Roles', mod: roles, needs: ['roles.read'] },
  { id: 'users', label: 'Users', mod: users, needs: ['users.read'] },
  { id: 'org', label: 'Org tree', mod: org, needs: ['org_units.read'] },
  { id: 'queues', label: 'Queues', mod: queues, needs: ['queues.read'] },
  { id: 'assignments', label: 'Assignments', mod: assignments, any: ['assignments.read', 'assignments.write'] },
  { id: 'credentials', label: 'Credentials', mod: credentials, needs: ['credentials.write'] },
  { group: 'Questions' },
  { id: 'who-can', label: 'Who can…', mod: whocan, needs: ['check.others', 'catalog.read'] },
  { id: 'explain', label: 'Decision explainer', mod: explain, needs: ['catalog.read'] },
  { id: 'view-as', label: 'View as', mod: viewas, needs: ['catalog.read'] },
  { group: 'Evidence' },
  { id: 'audit', label: 'Audit trail', mod: audit, needs: ['audit.read'] },
];

/** The pages `who` may use, in navigation order. */
function usablePages(who) {
  return PAGES.filter((p) => !p.group && pageAllowed(who, p));
}

/** Where a tenant's console opens: its first usable page ('home' when there is none). */
function firstPage(who) {
  const p = usablePages(who)[0];
  return p ? p.id : 'home';
}

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
    /** How far this token may perform a management operation: 'all', 'some' or 'none'. */
    can: (op) => reach(state.who, op),
    /** Whether it may perform it anywhere. */
    may: (op) => may(state.who, op),
    /** Why a control for `op` is off, in words (null when the token may use it). */
    denied: (op) => denied(state.who, op),
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
  let group = null;
  for (const p of PAGES) {
    if (p.group) {
      group = p.group;
      continue;
    }
    if (!pageAllowed(state.who, p)) continue;
    if (group) {
      ul.appendChild(h('li', { class: 'group', 'aria-hidden': 'true' }, group));
      group = null;
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
        mount(area, h('span', {}, 'Tenants could not be listed: ' + plain(e.message)));
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
    const c = state.who.credential;
    mount(who, 'Signed in as ', c ? ['service credential ', h('strong', {}, c.name)] : h('strong', {}, state.who.principal));
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
      go(who.operator ? '#/' : link(who.tenant, firstPage(who)));
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
  // What the token may do is asked again on every page: an administrator may have
  // changed its roles meanwhile.
  try {
    state.who = await api('GET', '/v1/whoami');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      clearToken();
      state.who = null;
      await renderHeader(null);
      renderNav(null);
      loginPage(main, 'Your token is no longer accepted: ' + e.message);
    } else if (seq === state.renderSeq) {
      mount(main, errorBox(e, 'The console cannot tell what your sign-in may do:'));
    }
    return;
  }
  if (seq !== state.renderSeq) return;
  let tenant = parts[0] === 't' ? parts[1] : null;
  if (!tenant && !state.who.operator) {
    go(link(state.who.tenant, firstPage(state.who)));
    return;
  }
  await renderHeader(tenant);
  if (seq !== state.renderSeq) return;
  if (!tenant) {
    renderNav(null);
    await tenantChoice(main);
    return;
  }
  const pageId = parts[2] || firstPage(state.who);
  const page = PAGES.find((p) => p.id === pageId);
  renderNav(tenant, pageId);
  const root = h('div', { class: 'page', 'data-page': pageId });
  mount(main, root);
  if (navHadFocus) main.focus();
  if (pageId === 'home') {
    if (firstPage(state.who) !== 'home') {
      go(link(tenant, firstPage(state.who)));
      return;
    }
    document.title = `${tenant} · rolecall`;
    homePage(root);
    return;
  }
  if (!page) {
    mount(root, pageHead('Not found'), callout('warn', `There is no page “${pageId}”.`));
    return;
  }
  document.title = `${page.label} · ${tenant} · rolecall`;
  const ctx = makeContext(tenant, pageId, parts.slice(3), params);
  try {
    await page.mod.render(root, ctx);
  } catch (e) {
    if (seq !== state.renderSeq) return;
    mount(root, pageHead(page.label), isRefusal(e) ? cannotSee(e) : errorBox(e));
  }
}

/** A tenant token that may use no page of the console. */
function homePage(root) {
  mount(root,
    pageHead('Nothing to administer here', 'This console administers roles, users and permissions.'),
    callout('info', 'Your sign-in may not use any page of this console: the tenant’s roles give you none of its administration, questions or evidence pages. ',
      'Ask an administrator of the tenant if you need them.'));
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
