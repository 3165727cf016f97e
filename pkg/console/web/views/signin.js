// Sign in: the account's API key, checked against GET /admin/account
// before it is kept (in sessionStorage only).

import { h, replace } from '../dom.js';
import { request, session } from '../api.js';
import { errorBox, field } from '../ui.js';

export async function signInView(main, ctx) {
  ctx.title('Sign in');
  const status = h('div', { 'aria-live': 'polite' }, ctx.notice ? h('p', { class: 'notice' }, ctx.notice) : null);
  const key = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', required: true, spellcheck: 'false' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    class: 'card narrow',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const value = key.value.trim();
      button.disabled = true;
      replace(status, h('p', { role: 'status' }, 'Signing in…'));
      try {
        await request('GET', 'admin/account', { key: value });
        session.signIn(value);
        key.value = '';
        ctx.signedIn();
      } catch (err) {
        replace(status, errorBox(err));
        button.disabled = false;
        key.focus();
      }
    },
  },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Sign in with your account\u2019s API key. The console keeps it in this tab only and forgets it when you sign out or close the tab.'),
  field('API key', key),
  status,
  h('div', { class: 'actions' }, button));
  replace(main, form);
  key.focus();
}
