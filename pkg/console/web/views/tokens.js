// Tokens: the paged list with its filters (name search included) and
// per-token actions, a token's own page (where "Cloned from" leads), and
// the Generate token and Clone dialogs that show a new token exactly once.

import { h, replace, srOnly, time, details, formatTime } from '../dom.js';
import { get, post, patch, del, seg } from '../api.js';
import { Pager, confirmDialog, errorBox, field, formDialog, loading, openDialog, secretPanel, select, toISO } from '../ui.js';

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

function lastUse(t) {
  return t.lastUsedAt ? `It was last used ${formatTime(t.lastUsedAt)}.` : 'It has never been used.';
}

function deleteDialog(t, done) {
  if (t.protected) {
    // The API would refuse (409 token_protected): say so before anyone tries.
    openDialog('Delete token', (close) => [
      h('p', {}, h('strong', {}, `The token \u201c${t.name}\u201d (\u2026${t.hint}) is protected: it cannot be deleted.`)),
      h('p', {}, lastUse(t)),
      h('p', {}, 'Switch Protected off first if it really should go. You can still disable it.'),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: close }, 'Close')),
    ]);
    return;
  }
  confirmDialog('Delete token', [
    `Delete the token \u201c${t.name}\u201d (\u2026${t.hint})?`,
    lastUse(t),
    'Calls with it stop within the revocation delay. This cannot be undone.',
  ], 'Delete token', async () => {
    await del(`admin/tokens/${seg(t.id)}`);
    done(`Token \u201c${t.name}\u201d deleted.`);
  });
}

/** lines splits a textarea into its non-empty, trimmed lines. */
function lines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * restrictionsDialog edits where a token may be used from. The API
 * checks every entry; its 400 message, which names the entry, stays in
 * the dialog next to what the person typed.
 */
function restrictionsDialog(t, done) {
  const r = t.restrictions ?? { origins: [], ipRanges: [] };
  formDialog('Restrictions', {
    intro: [
      h('p', {}, `Where the token \u201c${t.name}\u201d (\u2026${t.hint}) may be used from. Empty lists restrict nothing; one entry per line, at most 50 each.`),
      h('p', { class: 'muted' }, 'Origins keep other web sites\u2019 pages from reusing a token embedded in yours (browsers send the page\u2019s origin); they do not stop a script or a server, which can send any origin it likes. IP ranges do: the address is the one the gateway saw.'),
    ],
    fields: () => [
      field('Allowed web origins', h('textarea', { name: 'origins', rows: 4, spellcheck: 'false', autocomplete: 'off' }, r.origins.join('\n')),
        'For example https://maps.example.com, or https://*.example.com for one level of subdomain.'),
      field('Allowed IP ranges', h('textarea', { name: 'ipRanges', rows: 4, spellcheck: 'false', autocomplete: 'off' }, r.ipRanges.join('\n')),
        'IPv4 or IPv6 CIDRs, for example 192.0.2.0/24 or 2001:db8::/32.'),
    ],
    submitLabel: 'Save restrictions',
    submit: async (form) => {
      await patch(`admin/tokens/${seg(t.id)}`, {
        restrictions: { origins: lines(form.elements.origins.value), ipRanges: lines(form.elements.ipRanges.value) },
      });
      done(`Restrictions of \u201c${t.name}\u201d saved.`);
    },
  });
}

/** restrictionList shows one list of a token's restrictions. */
function restrictionList(entries, none) {
  if (!entries?.length) return h('span', { class: 'muted' }, none);
  return h('ul', { class: 'plain' }, entries.map((e) => h('li', {}, h('code', {}, e))));
}

/** Why a token is disabled, in words (the API's disabledReason codes). */
const REASONS = {
  disabled_by_admin: 'by an admin',
  api_key_replaced: 'the API key was replaced',
  exposed: 'found in public',
};

function reasonWords(code) {
  return REASONS[code] ?? code.replace(/_/g, ' ');
}

function statusBadge(t) {
  const label = t.status === 'disabled' && t.disabledReason ? `disabled: ${reasonWords(t.disabledReason)}` : t.status;
  const attrs = { class: `badge ${t.status}` };
  if (t.status === 'disabled' && t.disabledReason === 'exposed') {
    attrs.title = 'Reported found in public (a leak report). Replace it wherever it is used, then delete it; enable it only if the report was wrong.';
  }
  return h('span', attrs, label);
}

/**
 * tokenCard is one token of a list, with its actions. users maps user IDs
 * to "name (email)"; level is its heading's, below the screen's headings.
 */
function tokenCard(t, users, changed, ctx, level = 'h3') {
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
  const protect = h('input', {
    type: 'checkbox', role: 'switch', checked: t.protected, id: `protected-${t.id}`,
    onchange: async (ev) => {
      const input = ev.currentTarget;
      input.disabled = true;
      try {
        await patch(`admin/tokens/${seg(t.id)}`, { protected: input.checked });
        changed(`Token \u201c${t.name}\u201d ${input.checked ? 'protected: it cannot be deleted until unprotected' : 'no longer protected'}.`);
      } catch (err) {
        input.checked = !input.checked;
        input.disabled = false;
        ctx.announce(err.message);
        input.parentElement.after(errorBox(err));
      }
    },
  });
  const about = srOnly(` ${t.name}`);
  return h('li', { class: 'card token', 'data-token-id': t.id },
    h('div', { class: 'token-head' },
      h(level, {}, t.name),
      statusBadge(t),
      t.isDefault ? h('span', { class: 'badge default' }, 'default') : null,
      t.protected ? h('span', { class: 'badge protected' }, 'protected') : null),
    details([
      ['Hint', `\u2026${t.hint}`],
      ['Token ID', h('code', {}, t.id)],
      ...(t.userId
        ? [['Type', 'user token'], ['User', users.get(t.userId) ?? h('code', {}, t.userId)]]
        : [['Type', 'userless: anyone holding it may call']]),
      ...(t.status === 'disabled' && t.disabledReason
        // The code too: it is what the API, the docs and the audit log say.
        ? [['Disabled', [reasonWords(t.disabledReason), ' ', h('code', { class: 'muted' }, `(${t.disabledReason})`)]]]
        : []),
      ['Created', time(t.createdAt)],
      ['Expires', time(t.expiresAt, 'never')],
      ['Last used', time(t.lastUsedAt, 'never')],
      ['Allowed origins', restrictionList(t.restrictions?.origins, 'any')],
      ['Allowed IP ranges', restrictionList(t.restrictions?.ipRanges, 'any')],
      ...(t.clonedFrom ? [['Cloned from', h('a', { href: `#/tokens/${seg(t.clonedFrom)}` }, h('code', {}, t.clonedFrom), srOnly(' (the source token)'))]] : []),
    ]),
    h('div', { class: 'switch' }, protect, h('label', { for: protect.id }, 'Protected', srOnly(` ${t.name}`), h('span', { class: 'muted' }, ' \u2014 cannot be deleted'))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => renameDialog(t, changed) }, 'Rename', about.cloneNode(true)),
      h('button', { type: 'button', onclick: (ev) => toggle(ev.currentTarget) }, t.status === 'disabled' ? 'Enable' : 'Disable', about.cloneNode(true)),
      h('button', { type: 'button', onclick: () => restrictionsDialog(t, changed) }, 'Restrictions', about.cloneNode(true)),
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
  const state = { type: '', userId: '', status: '', name: '', ...fixed };
  const list = h('div', { class: 'token-list' });
  const flash = h('p', { class: 'flash', role: 'status' });
  const pager = new Pager(() => load());
  let typing = 0;
  const search = h('input', {
    name: 'name', type: 'search', maxlength: 100, autocomplete: 'off', spellcheck: 'false',
    // Search as the person types, once they pause.
    oninput: () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        if (state.name === search.value.trim()) return;
        state.name = search.value.trim();
        pager.reset();
        load();
      }, 300);
    },
  });
  const controls = [field('Name starts with', search, 'Any case; matches are listed by name.')];
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
    onchange: (ev) => {
      if (ev.target === search) return; // searched as typed
      for (const name of ['type', 'userId', 'status']) {
        if (form.elements[name]) state[name] = form.elements[name].value;
      }
      pager.reset();
      load();
    },
    onsubmit: (ev) => {
      ev.preventDefault();
      // Enter searches at once.
      clearTimeout(typing);
      state.name = search.value.trim();
      pager.reset();
      load();
    },
  }, controls);

  let loads = 0;
  async function load(message) {
    const n = ++loads;
    replace(list, loading('Loading tokens…'));
    list.setAttribute('aria-busy', 'true');
    try {
      const page = await get(`admin/services/${seg(service)}/tokens`, { ...state, limit: PAGE_SIZE, cursor: pager.cursor });
      if (n !== loads) return; // a newer search or page is on its way
      pager.next = page.nextCursor;
      const changed = (msg) => load(msg);
      replace(list,
        page.items.length === 0
          ? h('p', { class: 'empty' }, 'No tokens match.')
          : h('ul', { class: 'cards' }, page.items.map((t) => tokenCard(t, users, changed, ctx))),
        pager.controls('Token'));
      replace(flash, message ?? '');
    } catch (err) {
      if (n === loads) replace(list, errorBox(err, () => load()));
    } finally {
      if (n === loads) list.removeAttribute('aria-busy');
    }
  }

  replace(el, form, flash, list);
  load();
  return { reload: (message) => load(message) };
}

/**
 * tokenView is one token's own page: the card with its actions, found by
 * ID (where a clone's "Cloned from" leads).
 */
export function tokenView(tokenId) {
  return async (main, ctx) => {
    ctx.title('Token');
    const flash = h('p', { class: 'flash', role: 'status' });
    const body = h('div', {});
    replace(main, h('h1', {}, 'Token'), flash, body);
    async function load(message) {
      replace(body, loading('Loading the token…'));
      try {
        const t = await get(`admin/tokens/${seg(tokenId)}`);
        const users = new Map();
        if (t.userId) {
          const u = await get(`admin/users/${seg(t.userId)}`).catch(() => null);
          if (u) users.set(u.id, `${u.name} (${u.email})`);
        }
        ctx.title(`Token ${t.name}`);
        replace(main.querySelector('h1'), `Token \u201c${t.name}\u201d`);
        replace(body,
          h('p', {}, t.userId
            ? h('a', { href: `#/services/${seg(t.service)}/users/${seg(t.userId)}` }, `All ${t.service} tokens of this user`)
            : h('a', { href: `#/services/${seg(t.service)}/userless` }, `All userless ${t.service} tokens`)),
          h('ul', { class: 'cards single' }, tokenCard(t, users, (msg) => load(msg), ctx, 'h2')));
        replace(flash, message ?? '');
      } catch (err) {
        replace(flash, message ?? '');
        replace(body, errorBox(err.status === 404 ? { message: 'This token does not exist any more (it was deleted), or it belongs to another account.' } : err, err.status === 404 ? null : () => load()));
      }
    }
    await load();
  };
}
