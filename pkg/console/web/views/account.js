// Account: the account, its services and its API key, and Rotate API key.

import { h, replace, time, details } from '../dom.js';
import { get, post, session } from '../api.js';
import { confirmDialog, errorBox, loading, secretPanel } from '../ui.js';

export async function accountView(main, ctx) {
  ctx.title('Account');
  const body = h('div', {}, loading('Loading the account…'));
  const flash = h('p', { class: 'flash', role: 'status' });
  replace(main, h('h1', {}, 'Account'), flash, body);
  let a;
  try {
    a = await get('admin/account');
  } catch (err) {
    replace(body, errorBox(err, () => accountView(main, ctx)));
    return;
  }
  replace(body,
    h('section', { class: 'card' },
      h('h2', {}, a.name),
      details([
        ['Account ID', h('code', {}, a.id)],
        ['Status', a.status],
        ['Services', a.services.length ? a.services.join(', ') : 'none'],
        ['Created', time(a.createdAt)],
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'key-title' },
      h('h2', { id: 'key-title' }, 'API key'),
      details([
        ['Key', h('span', { class: 'hint' }, `\u2026${a.apiKey.hint}`)],
        ['Key ID', h('code', {}, a.apiKey.id)],
        ['Created', time(a.apiKey.createdAt)],
      ]),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: () => rotate(main, ctx) }, 'Rotate API key'))));
}

function rotate(main, ctx) {
  const { dlg } = confirmDialog('Rotate API key', [
    'A new API key replaces the current one at once: the current key stops working now, in this console and in every script that uses it.',
    'Every token created under the current key (or an older one) stops working too. Such tokens show as \u201cdisabled: the API key was replaced\u201d, and work again only if you enable them.',
    'The new key is shown once.',
  ], 'Rotate API key', async () => {
    const { apiKey } = await post('admin/api-key/rotate');
    session.signIn(apiKey);
    return secretPanel('API key', apiKey, { name: 'api-key.txt', text: `apiKey: ${apiKey}\n` });
  });
  dlg.addEventListener('close', () => accountView(main, ctx));
}
