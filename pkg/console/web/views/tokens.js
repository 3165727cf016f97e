// Tokens: the paged list with its filters and per-token actions, and the
// Generate token and Clone dialogs that show a new token exactly once.

import { h, replace, srOnly, time, details, formatTime } from '../dom.js';
import { get, post, patch, del, seg } from '../api.js';
import { Pager, confirmDialog, errorBox, field, formDialog, loading, secretPanel, select, toISO } from '../ui.js';

const PAGE_SIZE = 20;

/** The grace periods offered when cloning, in seconds ('' keeps the source). */
const GRACE = [
  ['', 'None: the source keeps working until deleted'],
  ['300', '5 minutes'],
  ['3600', '1 hour'],
  ['86400', '1 day'],
  ['604800', '7 days'],
];

/** The downloadable file of a new token: the secret and what it is for. */
function tokenFile(t) {
  return {
    name: `token-${t.service}-${t.id}.txt`,
    text: [`token: ${t.token}`, `id: ${t.id}`, `service: ${t.service}`, `name: ${t.name}`,
      `type: ${t.type}`, ...(t.userId ? [`user: ${t.userId}`] : []), `created: ${t.createdAt}`,
      ...(t.expiresAt ? [`expires: ${t.expiresAt}`] : []), ''].join('\n'),
  };
}

/**
 * generateDialog asks for an optional name and expiry and makes a token
 * for service (for user, if given). done runs when the dialog closes.
 */
export function generateDialog(service, user, done) {
  const { dlg } = formDialog('Generate token', {
    intro: h('p', {}, user ? `A token for ${user.name} (${user.email}) to call ${service}.` : `A userless token for ${service}: anyone holding it may call the service.`),
    fields: () => [
      field('Name (optional)', h('input', { name: 'name', maxlength: 100, autocomplete: 'off' })),
      field('Expires (optional, UTC)', h('input', { name: 'expiresAt', type: 'datetime-local' }), 'Leave empty for a token that never expires.'),
    ],
    submitLabel: 'Generate',
    submit: async (form) => {
      const body = {};
      const name = form.elements.name.value.trim();
      if (name) body.name = name;
      const expiresAt = toISO(form.elements.expiresAt.value);
      if (expiresAt) body.expiresAt = expiresAt;
      if (user) body.userId = user.id;
      const t = await post(`admin/services/${seg(service)}/tokens`, body);
      return secretPanel('token', t.token, tokenFile(t));
    },
  });
  dlg.addEventListener('close', () => done?.());
}

function cloneDialog(t, done) {
  const { dlg } = formDialog('Clone token', {
    intro: h('p', {}, `A new token with the same service, user and settings as \u201c${t.name}\u201d (\u2026${t.hint}).`),
    fields: () => [
      field('Name of the new token (optional)', h('input', { name: 'name', maxlength: 100, autocomplete: 'off' })),
      field('Grace period for the source token', select('grace', GRACE, ''), 'After it the source token stops working; without one it works until you delete it.'),
    ],
    submitLabel: 'Clone',
    submit: async (form) => {
      const body = {};
      const name = form.elements.name.value.trim();
      if (name) body.name = name;
      if (form.elements.grace.value) body.revokeSourceAfterSeconds = Number(form.elements.grace.value);
      const c = await post(`admin/tokens/${seg(t.id)}/clone`, body);
      return secretPanel('token', c.token, tokenFile(c));
    },
  });
  dlg.addEventListener('close', () => done());
}

function renameDialog(t, done) {
  formDialog('Rename token', {
    fields: () => field('Name', h('input', { name: 'name', value: t.name, maxlength: 100, required: true, autocomplete: 'off' })),
    submitLabel: 'Save name',
    submit: async (form) => {
      await patch(`admin/tokens/${seg(t.id)}`, { name: form.elements.name.value.trim() });
      done(`Token renamed to \u201c${form.elements.name.value.trim()}\u201d.`);
    },
  });
}

function deleteDialog(t, done) {
  confirmDialog('Delete token', [
    `Delete the token \u201c${t.name}\u201d (\u2026${t.hint})?`,
    t.lastUsedAt ? `It was last used ${formatTime(t.lastUsedAt)}.` : 'It has never been used.',
    'Calls with it stop within the revocation delay. This cannot be undone.',
  ], 'Delete token', async () => {
    await del(`admin/tokens/${seg(t.id)}`);
    done(`Token \u201c${t.name}\u201d deleted.`);
  });
}

function statusBadge(t) {
  const label = t.status === 'disabled' && t.disabledReason ? `disabled (${t.disabledReason})` : t.status;
  return h('span', { class: `badge ${t.status}` }, label);
}

/** tokenCard is one token of a list, with its actions. */
function tokenCard(t, users, changed, ctx) {
  const who = t.userId ? (users.get(t.userId) ?? t.userId) : 'userless';
  const toggle = async (button) => {
    button.disabled = true;
    try {
      await patch(`admin/tokens/${seg(t.id)}`, { enabled: t.status === 'disabled' });
      changed(`Token \u201c${t.name}\u201d ${t.status === 'disabled' ? 'enabled' : 'disabled'}.`);
    } catch (err) {
      button.disabled = false;
      ctx.announce(err.message);
      button.after(errorBox(err));
    }
  };
  const about = srOnly(` ${t.name}`);
  return h('li', { class: 'card token', 'data-token-id': t.id },
    h('div', { class: 'token-head' },
      h('h3', {}, t.name),
      statusBadge(t),
      t.isDefault ? h('span', { class: 'badge default' }, 'default') : null),
    details([
      ['Hint', `\u2026${t.hint}`],
      ['Token ID', h('code', {}, t.id)],
      ['Type', t.type],
      ['User', who],
      ['Created', time(t.createdAt)],
      ['Expires', time(t.expiresAt, 'never')],
      ['Last used', time(t.lastUsedAt, 'never')],
      ...(t.clonedFrom ? [['Cloned from', h('code', {}, t.clonedFrom)]] : []),
    ]),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => renameDialog(t, changed) }, 'Rename', about.cloneNode(true)),
      h('button', { type: 'button', onclick: (ev) => toggle(ev.currentTarget) }, t.status === 'disabled' ? 'Enable' : 'Disable', about.cloneNode(true)),
      h('button', { type: 'button', onclick: () => cloneDialog(t, () => changed()) }, 'Clone', about.cloneNode(true)),
      h('button', { type: 'button', class: 'danger', onclick: () => deleteDialog(t, changed) }, 'Delete', about.cloneNode(true))));
}

/**
 * tokenList renders the tokens of service into el, a page at a time.
 * fixed holds filters the screen sets (userId, type); filters lists the
 * filters the person may change ('type', 'user', 'status'). users maps
 * user IDs to names for display and for the User filter.
 */
export function tokenList(el, ctx, { service, fixed = {}, filters = ['status'], users = new Map() }) {
  const state = { type: '', userId: '', status: '', ...fixed };
  const list = h('div', { class: 'token-list' });
  const flash = h('p', { class: 'flash', role: 'status' });
  const pager = new Pager(() => load());
  const controls = [];
  if (filters.includes('type')) {
    controls.push(field('Type', select('type', [['', 'All types'], ['user', 'User tokens'], ['userless', 'Userless tokens']])));
  }
  if (filters.includes('user')) {
    controls.push(field('User', select('userId', [['', 'All users'], ...[...users].map(([id, name]) => [id, name])])));
  }
  if (filters.includes('status')) {
    controls.push(field('Status', select('status', [['', 'Any status'], ['active', 'Active'], ['disabled', 'Disabled'], ['expired', 'Expired']])));
  }
  const form = h('form', {
    class: 'filters', 'aria-label': 'Token filters',
    onchange: () => {
      for (const name of ['type', 'userId', 'status']) {
        if (form.elements[name]) state[name] = form.elements[name].value;
      }
      pager.reset();
      load();
    },
    onsubmit: (ev) => ev.preventDefault(),
  }, controls);

  async function load(message) {
    replace(list, loading('Loading tokens…'));
    list.setAttribute('aria-busy', 'true');
    try {
      const page = await get(`admin/services/${seg(service)}/tokens`, { ...state, limit: PAGE_SIZE, cursor: pager.cursor });
      pager.next = page.nextCursor;
      const changed = (msg) => load(msg);
      replace(list,
        page.items.length === 0
          ? h('p', { class: 'empty' }, 'No tokens match.')
          : h('ul', { class: 'cards' }, page.items.map((t) => tokenCard(t, users, changed, ctx))),
        pager.controls('Token'));
      replace(flash, message ?? '');
    } catch (err) {
      replace(list, errorBox(err, () => load()));
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  replace(el, controls.length ? form : null, flash, list);
  load();
  return { reload: (message) => load(message) };
}
