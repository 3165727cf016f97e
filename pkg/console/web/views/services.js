// API: the subscribed services with their counts, and each service's page
// with the tabs General, Users and user tokens, and Userless tokens.

import { h, replace, srOnly, time, details } from '../dom.js';
import { get, put, seg, APIError } from '../api.js';
import { Pager, errorBox, loading } from '../ui.js';
import { generateDialog, tokenList } from './tokens.js';

const USERS_PAGE = 20;

export async function servicesView(main, ctx) {
  ctx.title('API');
  const body = h('div', {}, loading('Loading services…'));
  replace(main, h('h1', {}, 'API'), h('p', {}, 'The data services your account subscribes to. Manage a service to switch users\u2019 access and to generate tokens.'), body);
  try {
    const { items } = await get('admin/services');
    replace(body, items.length === 0
      ? h('p', { class: 'empty' }, 'Your account subscribes to no service yet. Ask your operator to add one.')
      : h('ul', { class: 'cards services' }, items.map((s) => h('li', { class: 'card' },
        h('h2', {}, s.name, ' ', h('span', { class: 'muted' }, `(${s.id})`)),
        details([
          ['Users with access', String(s.usersWithAccess)],
          ['User tokens', String(s.userTokens)],
          ['Userless tokens', String(s.userlessTokens)],
        ]),
        h('a', { class: 'button', href: `#/services/${seg(s.id)}` }, 'Manage', srOnly(` ${s.name}`))))));
  } catch (err) {
    replace(body, errorBox(err, () => servicesView(main, ctx)));
  }
}

const TABS = [
  ['general', 'General', ''],
  ['users', 'Users and user tokens', '/users'],
  ['userless', 'Userless tokens', '/userless'],
];

export function serviceView(service, tab, userId) {
  return async (main, ctx) => {
    const body = h('div', { class: 'tab-body' }, loading());
    const heading = h('h1', {}, service);
    const active = tab === 'user' ? 'users' : tab;
    replace(main,
      h('p', { class: 'crumbs' }, h('a', { href: '#/api' }, 'API'), ' / ', service),
      heading,
      h('nav', { class: 'tabs', 'aria-label': 'Service sections' }, h('ul', {}, TABS.map(([id, label, suffix]) =>
        h('li', {}, h('a', { href: `#/services/${seg(service)}${suffix}`, 'aria-current': id === active ? 'page' : null }, label))))),
      body);
    let summary;
    try {
      summary = await get(`admin/services/${seg(service)}`);
    } catch (err) {
      replace(body, errorBox(err, () => serviceView(service, tab, userId)(main, ctx)));
      return;
    }
    replace(heading, summary.name);
    ctx.title(`${summary.name} — ${TABS.find(([id]) => id === active)[1]}`);
    const views = { general, users: usersTab, user: userTokens, userless };
    await views[tab](body, ctx, summary, userId);
  };
}

const number = new Intl.NumberFormat('en-GB');

/** How each quota period reads: "per UTC day", "this UTC day". */
const PERIODS = {
  day: 'UTC day',
  week: 'week (Monday to Sunday, UTC)',
  month: 'calendar month (UTC)',
};

/**
 * planCard shows the service's plan (set by the operator: admins read it,
 * never change it) and, with a quota, how much of it is used as a bar
 * with the same figures in words. Nothing when the API has no plans.
 */
function planCard(s) {
  if (!('plan' in s)) return null;
  const card = h('section', { class: 'card plan', 'aria-labelledby': 'plan-title' }, h('h2', { id: 'plan-title' }, 'Plan'));
  if (!s.plan) {
    card.append(h('p', { class: 'muted' }, 'No plan: calls to this service are not limited, except by tokens with a plan of their own.'));
    return card;
  }
  const p = s.plan;
  card.append(details([
    ['Plan', p.name],
    ['Rate', `${number.format(p.rate)} requests per second, bursts of up to ${number.format(p.burst)}`],
    ['Quota', p.quota ? `${number.format(p.quota.limit)} calls per ${PERIODS[p.quota.period] ?? p.quota.period}` : 'none'],
  ]));
  if (s.quota) {
    const q = s.quota;
    const share = q.limit > 0 ? Math.min(100, Math.floor((q.used / q.limit) * 100)) : 100;
    const label = `${number.format(q.used)} of ${number.format(q.limit)} calls used this ${PERIODS[q.period] ?? q.period} (${share}%)`;
    card.append(
      h('p', { id: 'quota-label', class: 'quota-label' }, label),
      h('progress', { class: q.used >= q.limit ? 'quota full' : 'quota', max: q.limit, value: Math.min(q.used, q.limit), 'aria-labelledby': 'quota-label' }),
      h('p', { class: 'muted' }, q.used >= q.limit ? 'Calls are refused (429 quota_exceeded) until ' : 'Resets ', time(q.resetsAt), '.'));
  }
  card.append(h('p', { class: 'muted' }, 'All tokens of this service share it, except tokens with a plan of their own. Your operator sets plans.'));
  return card;
}

async function general(el, ctx, s) {
  const def = h('section', { class: 'card default-token', 'aria-labelledby': 'default-title' }, h('h2', { id: 'default-title' }, 'Default token'), loading());
  const all = h('section', { 'aria-labelledby': 'all-title' }, h('h2', { id: 'all-title' }, 'All tokens'));
  const counts = details([
    ['Users with access', String(s.usersWithAccess)],
    ['User tokens', String(s.userTokens)],
    ['Userless tokens', String(s.userlessTokens)],
  ]);
  counts.classList.add('counts');
  replace(el, counts, planCard(s), def, all);
  const users = await userNames(s.id);
  const listEl = h('div');
  all.append(listEl);
  tokenList(listEl, ctx, { service: s.id, filters: ['type', 'user', 'status'], users });
  const none = () => h('p', { class: 'empty' }, 'No active token yet. Generate one under Users and user tokens or Userless tokens.');
  if (s.userTokens + s.userlessTokens === 0) {
    // Without a token there is no default: no request, and no 404 in the
    // browser's console.
    def.querySelector('.loading')?.remove();
    def.append(none());
    return;
  }
  try {
    const t = await get(`admin/services/${seg(s.id)}/tokens/default`);
    def.append(
      h('p', { class: 'muted' }, 'The earliest-created token of this service that is active now.'),
      h('p', { class: 'default-name' }, t.name, ' ', h('span', { class: 'hint' }, `\u2026${t.hint}`)),
      details([
        ['Token ID', h('code', {}, t.id)],
        ...(t.type === 'user' ? [['Type', 'user token'], ['User', users.get(t.userId) ?? h('code', {}, t.userId)]] : [['Type', 'userless']]),
        ['Created', time(t.createdAt)],
        ['Last used', time(t.lastUsedAt, 'never')],
        ['Expires', time(t.expiresAt, 'never')],
      ]));
  } catch (err) {
    def.append(err instanceof APIError && err.status === 404 ? none() : errorBox(err));
  } finally {
    def.querySelector('.loading')?.remove();
  }
}

/** userNames maps the first 100 users of a service to "name (email)" for lists and filters. */
async function userNames(service) {
  try {
    const { items } = await get(`admin/services/${seg(service)}/users`, { limit: 100 });
    return new Map(items.map((u) => [u.id, `${u.name} (${u.email})`]));
  } catch {
    return new Map();
  }
}

/**
 * usersTab lists the service's users with an access toggle each. Toggles
 * are pending until Save; Generate token works for users whose access is
 * on and saved.
 */
async function usersTab(el, ctx, s) {
  const pending = new Map(); // userId -> wanted access
  const pager = new Pager(() => load());
  const list = h('div');
  const flash = h('p', { class: 'flash', role: 'status' });
  const save = h('button', { type: 'button', class: 'primary', disabled: true, onclick: () => saveAll() }, 'Save');
  const pendingNote = h('span', { class: 'muted' });
  let page = { items: [] };

  function refreshSave() {
    save.disabled = pending.size === 0;
    replace(pendingNote, pending.size ? `${pending.size} unsaved change${pending.size === 1 ? '' : 's'}` : '');
  }

  function row(u) {
    const on = pending.has(u.id) ? pending.get(u.id) : u.active;
    const generate = h('button', {
      type: 'button', disabled: !u.active || pending.has(u.id),
      onclick: () => generateDialog(s.id, u, () => load('')),
    }, 'Generate token', srOnly(` for ${u.name}`));
    const toggle = h('input', {
      type: 'checkbox', role: 'switch', checked: on, id: `access-${u.id}`,
      onchange: (ev) => {
        if (ev.currentTarget.checked === u.active) pending.delete(u.id);
        else pending.set(u.id, ev.currentTarget.checked);
        generate.disabled = !u.active || pending.has(u.id);
        refreshSave();
      },
    });
    return h('li', { class: 'card user-row', 'data-user-id': u.id },
      h('div', { class: 'who' }, h('strong', {}, u.name), h('span', { class: 'muted' }, u.email)),
      h('div', { class: 'switch' }, toggle, h('label', { for: toggle.id }, 'Access', srOnly(` for ${u.name}`))),
      h('div', { class: 'actions' },
        generate,
        h('a', { class: 'button', href: `#/services/${seg(s.id)}/users/${seg(u.id)}` }, 'Manage', srOnly(` tokens of ${u.name}`))));
  }

  async function load(message) {
    replace(list, loading('Loading users…'));
    try {
      page = await get(`admin/services/${seg(s.id)}/users`, { limit: USERS_PAGE, cursor: pager.cursor });
      pager.next = page.nextCursor;
      replace(list, page.items.length === 0
        ? h('p', { class: 'empty' }, 'Your account has no users yet. Create them under Users.')
        : h('ul', { class: 'cards users' }, page.items.map(row)),
      pager.controls('User'));
      if (message !== undefined) replace(flash, message);
    } catch (err) {
      replace(list, errorBox(err, () => load()));
    }
  }

  async function saveAll() {
    save.disabled = true;
    replace(flash, 'Saving…');
    const failures = [];
    for (const [id, active] of pending) {
      try {
        await put(`admin/services/${seg(s.id)}/users/${seg(id)}`, { active });
        pending.delete(id);
      } catch (err) {
        failures.push(err.message);
      }
    }
    refreshSave();
    await load(failures.length ? `Some changes were not saved: ${failures.join('; ')}` : 'Access saved.');
  }

  replace(el,
    h('p', {}, 'Switch a user\u2019s access on or off, then press Save. Generate token works for users whose access is on.'),
    flash, list,
    h('div', { class: 'actions sticky' }, save, pendingNote));
  await load();
}

/** userTokens is one user's tokens for the service (the Manage link). */
async function userTokens(el, ctx, s, userId) {
  replace(el, loading());
  let u;
  try {
    u = await get(`admin/users/${seg(userId)}`);
  } catch (err) {
    replace(el, errorBox(err));
    return;
  }
  const { items } = await get(`admin/services/${seg(s.id)}/users`, { limit: 100 }).catch(() => ({ items: [] }));
  const access = items.find((x) => x.id === userId);
  const listEl = h('div');
  const on = access ? access.active : null;
  replace(el,
    h('p', {}, h('a', { href: `#/services/${seg(s.id)}/users` }, '\u2190 All users')),
    h('h2', {}, `Tokens of ${u.name}`),
    h('p', { class: 'muted' }, u.email, on === false ? ' \u2014 access to this service is off: their tokens are refused until it is switched on.' : ''),
    h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'primary', disabled: on === false,
      onclick: () => generateDialog(s.id, u, () => list.reload('')),
    }, 'Generate token')),
    listEl);
  const list = tokenList(listEl, ctx, { service: s.id, fixed: { userId }, filters: ['status'], users: new Map([[u.id, `${u.name} (${u.email})`]]) });
}

async function userless(el, ctx, s) {
  const listEl = h('div');
  replace(el,
    h('h2', {}, 'Userless tokens'),
    h('p', {}, 'Userless tokens belong to no user: anyone holding one may call the service, for example from a public web page.'),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => generateDialog(s.id, null, () => list.reload('')) }, 'Generate token')),
    listEl);
  const list = tokenList(listEl, ctx, { service: s.id, fixed: { type: 'userless' }, filters: ['status'] });
}
