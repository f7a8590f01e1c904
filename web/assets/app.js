// The status page: one shell for every page; the page kind comes in
// <body data-page>, set by the daemon. Each page module draws its data and
// returns a refresh function that the live updates call.

import { t } from './i18n.js';
import { el, notice } from './dom.js';
import { ApiError, headers, token } from './api.js';
import { startLive } from './live.js';
import { tokenForm } from './token.js';

const pages = {
  overview: () => import('./overview.js'),
  goal: () => import('./goal.js'),
  alerts: () => import('./alerts.js'),
  alert: () => import('./alert.js'),
};

const body = document.body;
const main = document.getElementById('main');

function markNav(kind) {
  const current = kind === 'alert' ? 'alerts' : kind === 'goal' ? 'overview' : kind;
  for (const a of document.querySelectorAll('[data-nav]'))
    if (a.dataset.nav === current) a.setAttribute('aria-current', 'page');
}

// A failed read: a token form if the API asks for one, else the error.
function showError(error, retry) {
  const box = document.querySelector('[data-page-error]') || el('div', { dataset: { pageError: '' } });
  box.replaceChildren();
  if (error instanceof ApiError && error.status === 401) {
    box.append(notice('error', t.tokenNeeded), tokenForm(retry));
  } else {
    box.append(notice('error', t.loadFailed(error.message)));
  }
  if (!box.isConnected) main.prepend(box);
}

function clearError() {
  const box = document.querySelector('[data-page-error]');
  if (box) box.remove();
}

// A link cannot carry the tab's token: with one, the report is fetched with it and saved as a file.
function reportLinks() {
  for (const a of document.querySelectorAll('[data-report]'))
    a.addEventListener('click', async (e) => {
      if (!token()) return;
      e.preventDefault();
      try {
        const res = await fetch(a.href, { headers: headers({ Accept: 'text/html' }), credentials: 'omit' });
        if (!res.ok) throw new ApiError(res.status, '', `HTTP ${res.status}`);
        const url = URL.createObjectURL(await res.blob());
        const lang = document.documentElement.lang;
        el('a', { href: url, download: `kpiwatch-report-${lang}.html` }).click();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (error) {
        showError(error, () => a.click());
      }
    });
}

async function start() {
  const kind = body.dataset.page;
  markNav(kind);
  reportLinks();
  const load = pages[kind];
  if (!load) return;  // the 404 and 400 pages are drawn by the server
  const module = await load();
  let refresh = null;
  let running = false;
  let again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try {
      if (!refresh) {
        refresh = await module.mount(main, { onError: showError });
        body.dataset.ready = 'true';
      } else {
        await refresh();
        body.dataset.updated = String(Number(body.dataset.updated || 0) + 1);
      }
      clearError();
    } catch (error) {
      console.warn(error);
      showError(error, run);
    } finally {
      running = false;
      if (again) { again = false; run(); }
    }
  };
  await run();
  startLive(() => { if (refresh) run(); }, (mode) => { body.dataset.live = mode; });
}

start();
