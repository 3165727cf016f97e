// Users: create, rename and delete the account's users.

import { h, replace, srOnly, time } from '../dom.js';
import { get, post, patch, del, seg } from '../api.js';
import { Pager, confirmDialog, errorBox, field, formDialog, loading } from '../ui.js';

const PAGE_SIZE = 20;

export async function usersView(main, ctx) {
  ctx.title('Users');
  const pager = new Pager(() => load());
  const list = h('div');
  const flash = h('p', { class: 'flash', role: 'status' });
  const createStatus = h('div', { 'aria-live': 'polite' });
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off' });
  const name = h('input', { name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const create = h('form', {
    class: 'card create-user', 'aria-labelledby': 'create-title',
    onsubmit: async (ev) => {
      ev.preventDefault();
      replace(createStatus, loading('Creating…'));
      try {
        const u = await post('admin/users', { email: email.value.trim(), name: name.value.trim() });
        email.value = '';
        name.value = '';
        replace(createStatus);
        pager.reset();
        await load(`User ${u.name} created. Switch their access on per service under API.`);
        email.focus();
      } catch (err) {
        replace(createStatus, errorBox(err));
      }
    },
  },
  h('h2', { id: 'create-title' }, 'Create user'),
  h('div', { class: 'row' }, field('Email', email), field('Name', name)),
  createStatus,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create user')));

  function row(u) {
    const about = srOnly(` ${u.name}`);
    return h('tr', { 'data-user-id': u.id },
      h('td', {}, u.name), h('td', {}, u.email), h('td', {}, time(u.createdAt)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', onclick: () => renameUser(u) }, 'Rename', about.cloneNode(true)),
        h('button', { type: 'button', class: 'danger', onclick: () => deleteUser(u) }, 'Delete', about.cloneNode(true))));
  }

  function renameUser(u) {
    formDialog('Rename user', {
      fields: () => [
        field('Name', h('input', { name: 'name', value: u.name, required: true, maxlength: 100, autocomplete: 'off' })),
        field('Email', h('input', { name: 'email', type: 'email', value: u.email, required: true, autocomplete: 'off' })),
      ],
      submitLabel: 'Save',
      submit: async (form) => {
        const changed = await patch(`admin/users/${seg(u.id)}`, { name: form.elements.name.value.trim(), email: form.elements.email.value.trim() });
        await load(`User ${changed.name} saved.`);
      },
    });
  }

  function deleteUser(u) {
    confirmDialog('Delete user', [
      `Delete ${u.name} (${u.email})?`,
      'Their tokens for every service are deleted too, and stop working within the revocation delay. This cannot be undone.',
    ], 'Delete user', async () => {
      await del(`admin/users/${seg(u.id)}`);
      await load(`User ${u.name} and their tokens deleted.`);
    });
  }

  async function load(message) {
    replace(list, loading('Loading users…'));
    try {
      const page = await get('admin/users', { limit: PAGE_SIZE, cursor: pager.cursor });
      pager.next = page.nextCursor;
      replace(list, page.items.length === 0
        ? h('p', { class: 'empty' }, 'No users yet.')
        : h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Users' },
          h('table', {},
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col' }, 'Actions'))),
            h('tbody', {}, page.items.map(row)))),
      pager.controls('User'));
      if (message !== undefined) replace(flash, message);
    } catch (err) {
      replace(list, errorBox(err, () => load()));
    }
  }

  replace(main, h('h1', {}, 'Users'),
    h('p', {}, 'The members of your account. A new user has no access to any service until you switch it on.'),
    create, h('h2', {}, 'All users'), flash, list);
  await load();
}
