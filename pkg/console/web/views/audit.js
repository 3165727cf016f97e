// Audit log: every change an admin or operator made to the account, newest
// first, from GET /admin/audit with its filters (action, target, time
// range). Load more appends the next page with the API's cursor, so the
// history reads as one list.

import { h, replace, time } from '../dom.js';
import { get } from '../api.js';
import { errorBox, field, loading, select, toISO } from '../ui.js';

const PAGE_SIZE = 50;

/** The actions the API records (openapi.yaml, AuditAction). */
const ACTIONS = ['account.create', 'account.update', 'apiKey.rotate', 'apiKey.replace', 'user.create', 'user.update',
  'user.delete', 'access.update', 'token.create', 'token.clone', 'token.update', 'token.delete', 'settings.update', 'token.expose'];

/** actorOf names who made a change: an API key by its public ID, or an operator's principal. */
function actorOf(a) {
  return a?.type === 'operator' ? `Operator ${a.principal}` : `API key ${a?.keyId ?? ''}`;
}

/** value shows one side of a change: null is "not there". */
function value(v) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, '—');
  return h('code', {}, typeof v === 'string' ? v : JSON.stringify(v));
}

/**
 * Fields the API records that mean nothing to an admin: keyGeneration
 * moves when a token of a replaced key is enabled again, which the entry
 * already shows as enabled and disabledReason.
 */
const INTERNAL = new Set(['keyGeneration']);

/** reportOf shows where a leak report found a token (token.expose entries). */
function reportOf(report) {
  if (!report) return null;
  return h('p', { class: 'muted' }, 'Reported found in public', report.source ? ` by ${report.source}` : '',
    report.url ? h('span', {}, ' at ', h('code', {}, report.url)) : '', '.');
}

function changesOf(changes) {
  const names = Object.keys(changes ?? {}).filter((n) => !INTERNAL.has(n)).sort();
  if (names.length === 0) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'changes' }, names.map((n) => h('li', {},
    h('strong', {}, n), ': ', value(changes[n].before), ' → ', value(changes[n].after))));
}

export async function auditView(main, ctx) {
  ctx.title('Audit log');
  const heading = h('h1', {}, 'Audit log');
  const filters = {};
  let cursor = '';
  const form = h('form', {
    class: 'card filters', 'aria-label': 'Audit filters',
    onsubmit: (ev) => { ev.preventDefault(); apply(); },
  },
  h('div', { class: 'row' },
    field('Action', select('action', [['', 'All actions'], ...ACTIONS.map((a) => [a, a])])),
    field('Target ID', h('input', { name: 'targetId', autocomplete: 'off', spellcheck: 'false' })),
    field('From (UTC)', h('input', { name: 'from', type: 'datetime-local' })),
    field('To (UTC)', h('input', { name: 'to', type: 'datetime-local' }))),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters')));

  const tbody = h('tbody');
  const list = h('div');
  const more = h('div');

  function apply() {
    const e = form.elements;
    Object.assign(filters, { action: e.action.value, targetId: e.targetId.value.trim(), from: toISO(e.from.value), to: toISO(e.to.value) });
    cursor = '';
    replace(tbody);
    replace(list, loading('Loading the audit log…'));
    replace(more);
    load();
  }

  async function load() {
    try {
      const page = await get('admin/audit', { ...filters, limit: PAGE_SIZE, cursor });
      tbody.append(...page.items.map((r) => h('tr', {},
        h('td', {}, time(r.time)), h('td', {}, actorOf(r.actor)), h('td', {}, h('code', {}, r.action)),
        h('td', {}, `${r.targetType} `, h('code', {}, r.targetId)), h('td', {}, changesOf(r.changes), reportOf(r.report)), h('td', {}, r.sourceIp))));
      cursor = page.nextCursor;
      replace(list, tbody.children.length === 0
        ? h('p', { class: 'empty' }, 'No changes match these filters.')
        : h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Audit entries' },
          h('table', { class: 'audit' },
            h('thead', {}, h('tr', {}, ['Time', 'Actor', 'Action', 'Target', 'Changes (before → after)', 'Source IP']
              .map((c) => h('th', { scope: 'col' }, c)))),
            tbody)));
      replace(more, cursor ? h('button', { type: 'button', onclick: () => { replace(more, loading('Loading more…')); load(); } }, 'Load more') : null);
    } catch (err) {
      replace(more, errorBox(err, () => { replace(more, loading('Loading more…')); load(); }));
    }
  }

  replace(main,
    heading,
    h('p', {}, 'Every change an admin or operator made to the account (tokens, users, access, the API key, settings), newest first, kept 400 days. No secret is ever recorded.'),
    form,
    h('section', { 'aria-labelledby': 'audit-title' }, h('h2', { id: 'audit-title' }, 'Changes'), list, more));
  apply();
}
