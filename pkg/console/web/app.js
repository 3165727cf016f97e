// The console's entry point: a hash router over the screens, the main
// navigation, and signing in and out. Each screen is a function that
// renders into <main> and loads what it shows.

import { replace } from './dom.js';
import { session, onUnauthorized } from './api.js';
import { signInView } from './views/signin.js';
import { servicesView, serviceView } from './views/services.js';
import { tokenView } from './views/tokens.js';
import { usersView } from './views/users.js';
import { usageView } from './views/usage.js';
import { auditView } from './views/audit.js';
import { accountView } from './views/account.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

/** Routes: a pattern of hash segments (":x" captures) and its screen. */
const routes = [
  ['api', 'api', () => servicesView],
  ['services/:service', 'api', (p) => serviceView(p.service, 'general')],
  ['services/:service/users', 'api', (p) => serviceView(p.service, 'users')],
  ['services/:service/users/:userId', 'api', (p) => serviceView(p.service, 'user', p.userId)],
  ['services/:service/userless', 'api', (p) => serviceView(p.service, 'userless')],
  ['tokens/:tokenId', 'api', (p) => tokenView(p.tokenId)],
  ['users', 'users', () => usersView],
  ['usage', 'usage', () => usageView],
  ['audit', 'audit', () => auditView],
  ['account', 'account', () => accountView],
];

function match(hash) {
  const segs = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  for (const [pattern, section, view] of routes) {
    const parts = pattern.split('/');
    if (parts.length !== segs.length) continue;
    const params = {};
    if (parts.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = segs[i]), true) : p === segs[i]))) {
      return { section, view: view(params) };
    }
  }
  return null;
}

/** context is what every screen gets: where to render, and how to say things. */
const context = {
  announce(text) { replace(document.getElementById('announce'), text); },
  title(text) { document.title = `${text} — API tokens`; },
};

let rendering = 0;
// notice is said once on the sign-in screen (why the console signed out).
let notice = '';

async function render() {
  const n = ++rendering;
  // A dialog belongs to the screen that opened it: Back, a link or a typed
  // address takes it away (and what it showed, a new secret included).
  // Removed, not closed: a close would run what the dialog does when done
  // on its own screen (reload a list, redraw the account) over this one.
  for (const d of document.querySelectorAll('dialog')) d.remove();
  if (!session.key()) {
    nav.hidden = true;
    if (location.hash !== '#/signin') history.replaceState(null, '', '#/signin');
    const said = notice;
    notice = '';
    await signInView(main, { ...context, notice: said, signedIn: () => { location.hash = '#/api'; } });
    return;
  }
  const found = match(location.hash);
  if (!found) {
    location.replace('#/api');
    return;
  }
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a[data-section]')) {
    if (a.dataset.section === found.section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  replace(main);
  await found.view(main, context);
  // Move focus to the new screen's heading, as a page load would, unless
  // the person is already working in it (typing while a list loads).
  const heading = main.querySelector('h1');
  if (heading && n === rendering && !main.contains(document.activeElement) && !document.querySelector('dialog[open]')) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: false });
  }
}

function signOut(message) {
  session.signOut();
  for (const d of document.querySelectorAll('dialog')) d.remove();
  notice = message;
  if (location.hash === '#/signin') render();
  else location.hash = '#/signin';
}

document.getElementById('sign-out').addEventListener('click', () => signOut('You are signed out.'));
onUnauthorized((err) => signOut(`Signed out: ${err.message}`));
window.addEventListener('hashchange', render);
render();

