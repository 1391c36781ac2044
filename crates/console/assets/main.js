// The console's shell: sign-in, the header and the router (`#/queue`, `#/alert/<id>`,
// `#/registries`). Each page returns a function that stops its live updates on leaving.

import { ApiError, gql, session } from './api.js';
import { h, replace } from './dom.js';
import { label } from './format.js';
import { showQueue } from './queue.js';
import { showAlert } from './alert.js';
import { showRegistries } from './registries.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

let viewer = null;
let leave = null;

function showSignIn(message) {
  nav.hidden = true;
  replace(who);
  const input = h('input', {
    type: 'password',
    id: 'api-key',
    name: 'api-key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (event) => {
        event.preventDefault();
        const token = input.value.trim();
        input.value = '';
        if (!token) return;
        session.signIn(token);
        viewer = null;
        await route();
      },
    },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      {},
      'Paste your carbonmesh API key. It stays in this browser tab and is sent only in ',
      'request headers; the console can do exactly what the key can do.',
    ),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('button', { type: 'submit', id: 'sign-in' }, 'Sign in'),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
  );
  replace(view, form);
  input.focus();
}

function showWho() {
  nav.hidden = false;
  replace(
    who,
    h('span', { id: 'viewer' }, viewer.name, ' · ', label(viewer.role ?? 'no role')),
    ' ',
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        id: 'sign-out',
        onclick: () => {
          session.signOut();
          viewer = null;
          location.hash = '#/queue';
          showSignIn();
        },
      },
      'Sign out',
    ),
  );
}

async function route() {
  leave?.();
  leave = null;
  if (!session.token) {
    showSignIn();
    return;
  }
  if (!viewer) {
    try {
      viewer = (await gql('{ viewer { name role } }')).viewer;
    } catch (error) {
      session.signOut();
      showSignIn(error instanceof ApiError ? error.message : 'The server cannot be reached.');
      return;
    }
    showWho();
  }
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const page = { view, viewer, params: new URLSearchParams(query ?? '') };
  for (const link of nav.querySelectorAll('a')) {
    link.classList.toggle('current', link.dataset.nav === (parts[0] === 'registries' ? 'registries' : 'queue'));
  }
  try {
    if (parts[0] === 'alert' && parts[1]) {
      leave = await showAlert(page, decodeURIComponent(parts[1]));
    } else if (parts[0] === 'registries') {
      leave = await showRegistries(page);
    } else {
      leave = await showQueue(page);
    }
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
      session.signOut();
      viewer = null;
      showSignIn(error.message);
      return;
    }
    replace(view, h('p', { class: 'error', role: 'alert' }, error.message));
  }
}

window.addEventListener('hashchange', route);
route();
