// DOM helpers. Every piece of text goes in as a text node, never as
// HTML: nothing a user typed (or the API returned) can become markup.

/**
 * h makes an element. attrs: plain attributes, except `on*` (event
 * listeners), `class`, and boolean values (set or removed).
 * Children: nodes, strings (text), numbers, or nested arrays; null and
 * false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else el.append(document.createTextNode(String(c)));
  }
}

/** replace empties el and puts children in it. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A visually hidden text for screen readers (e.g. which row a button acts on). */
export function srOnly(text) {
  return h('span', { class: 'sr-only' }, text);
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  timeZone: 'UTC', timeZoneName: 'short',
});

/** A <time> element for an RFC 3339 string, or `none` when it is empty. */
export function time(value, none = '—') {
  if (!value) return h('span', { class: 'muted' }, none);
  return h('time', { datetime: value }, dateTime.format(new Date(value)));
}

/** formatTime is time() as plain text, for sentences. */
export function formatTime(value) {
  return value ? dateTime.format(new Date(value)) : '';
}

/** A <dl> of [term, description] pairs. */
export function details(pairs) {
  return h('dl', { class: 'details' }, pairs.map(([term, desc]) => [h('dt', {}, term), h('dd', {}, desc)]));
}

/** Saves text as a file the browser downloads. */
export function download(filename, text, type = 'text/plain') {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
