// Shared pieces of the screens: dialogs (native <dialog>, which traps
// focus and closes on Escape), loading and error states, paging, and the
// panel that shows a new secret exactly once.

import { h, replace, download } from './dom.js';

let dialogCount = 0;

/**
 * openDialog shows a modal dialog titled title with body nodes, and
 * removes it from the page when it closes (so nothing it showed, such as
 * a secret, stays in the DOM). It answers the <dialog> and a close function.
 */
export function openDialog(title, build) {
  const id = `dialog-title-${++dialogCount}`;
  const dlg = h('dialog', { 'aria-labelledby': id, class: 'dialog' });
  const close = () => dlg.close();
  dlg.addEventListener('close', () => dlg.remove());
  dlg.append(h('h2', { id }, title));
  const body = h('div', { class: 'dialog-body' });
  dlg.append(body);
  document.body.append(dlg);
  replace(body, build(close, body));
  dlg.showModal();
  const first = dlg.querySelector('[autofocus], input, select, textarea, button');
  first?.focus();
  return { dlg, close, body };
}

/** errorBox shows an API error as an alert, with an optional retry. */
export function errorBox(err, retry) {
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, err?.message ?? String(err)),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null);
}

export function loading(what = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, what);
}

/**
 * formDialog opens a dialog holding a form: fields are built by
 * fields(); submit(form) does the work and answers the node to show
 * next (or nothing, to close). Errors stay in the dialog.
 */
export function formDialog(title, { fields, submitLabel, submit, danger = false, intro }) {
  return openDialog(title, (close, body) => {
    const status = h('div', { class: 'dialog-status', 'aria-live': 'polite' });
    const submitButton = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, submitLabel);
    const form = h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        submitButton.disabled = true;
        replace(status, loading('Working…'));
        try {
          const next = await submit(form);
          if (next) replace(body, next(close));
          else close();
        } catch (err) {
          replace(status, errorBox(err));
          submitButton.disabled = false;
        }
      },
    },
    intro ?? null,
    fields ? fields() : null,
    status,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: close }, 'Cancel'),
      submitButton));
    return form;
  });
}

/** confirmDialog asks before a change that cannot be undone. */
export function confirmDialog(title, message, confirmLabel, action) {
  return formDialog(title, {
    intro: Array.isArray(message) ? message.map((m) => h('p', {}, m)) : h('p', {}, message),
    submitLabel: confirmLabel, danger: true, submit: action,
  });
}

/**
 * secretPanel shows a token or API key that the API returns only once,
 * with Copy and Download and the warning that it cannot be shown again.
 * file is { name, text }: the download's name and content.
 */
export function secretPanel(label, value, file) {
  return (close) => {
    const copied = h('p', { class: 'copied', 'aria-live': 'polite' });
    return h('div', { class: 'secret' },
      h('p', { class: 'warning' }, h('strong', {}, `Copy or download this ${label} now: you will not see it again.`),
        ` We keep only a hash of it. If you lose it, generate a new one.`),
      h('label', { for: 'secret-value' }, `Your new ${label}`),
      h('input', { id: 'secret-value', class: 'secret-value', readonly: true, value, spellcheck: 'false', autocomplete: 'off' }),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'primary',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(value);
              replace(copied, 'Copied to the clipboard.');
            } catch {
              replace(copied, 'The browser refused the clipboard: select the text and copy it.');
            }
          },
        }, 'Copy'),
        h('button', {
          type: 'button',
          onclick: () => { download(file.name, file.text); replace(copied, `Downloaded ${file.name}.`); },
        }, 'Download'),
        h('button', { type: 'button', onclick: close }, 'Done')),
      copied);
  };
}

/**
 * pager keeps cursor-paged lists: the cursors of the pages seen so far,
 * so Previous works, and never more than one page in memory.
 */
export class Pager {
  constructor(onChange) { this.cursors = ['']; this.onChange = onChange; this.next = null; }
  get cursor() { return this.cursors[this.cursors.length - 1]; }
  reset() { this.cursors = ['']; this.next = null; }
  controls(label) {
    const page = this.cursors.length;
    if (page === 1 && !this.next) return null; // one page: nothing to page through
    return h('nav', { class: 'pager', 'aria-label': `${label} pages` },
      h('button', { type: 'button', disabled: page === 1, onclick: () => { this.cursors.pop(); this.onChange(); } }, 'Previous page'),
      h('span', {}, `Page ${page}`),
      h('button', { type: 'button', disabled: !this.next, onclick: () => { this.cursors.push(this.next); this.onChange(); } }, 'Next page'));
  }
}

/** A labelled form field. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { id: hintId, class: 'hint' }, hint) : null);
}

/** select makes a <select> of [value, label] options. */
export function select(name, options, value = '') {
  return h('select', { name }, options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
}

/** toISO turns a datetime-local value (read as UTC) into RFC 3339, or ''. */
export function toISO(local) {
  return local ? new Date(local + 'Z').toISOString() : '';
}
