// Alerts page (/alerts): alerts grouped as the routes group them, filters
// (goal, severity, state, any label) kept in the URL, silenced and
// acknowledged alerts hidden unless asked, pages of groups.

import { t, tr, word, href, lang } from './i18n.js';
import { el, fill, notice } from './dom.js';
import { get, ApiError } from './api.js';
import { getPaged } from './paged.js';
import { alertList } from './alertlist.js';

const FLAGS = [['silenced', 'showSilenced'], ['acknowledged', 'showAcknowledged'], ['inhibited', 'showInhibited']];

export async function mount(main) {
  document.title = `${t.alertsTitle} · ${t.site}`;
  const params = new URLSearchParams(location.search);
  const goals = await get('/api/v1/goals').then((o) => o.goals || []).catch(() => []);
  const results = el('div', { class: 'alert-groups', 'aria-live': 'polite' });
  fill(main,
    el('div', { class: 'page-head' }, el('h1', {}, t.alertsTitle)),
    filterForm(params, goals),
    results);
  const goalNames = new Map(goals.map((g) => [String(g.number), tr(g.name)]));
  const refresh = async () => draw(results, params, goalNames);
  await refresh();
  return refresh;
}

function select(name, label, options, current) {
  const id = `filter-${name}`;
  return el('div', { class: 'field' },
    el('label', { for: id }, label),
    el('select', { id, name, class: 'input' },
      el('option', { value: '' }, t.all),
      options.map(([value, text]) => el('option', { value, selected: value === current }, text))));
}

// '' (absent) groups as the routes do; the others ask the server for ?group_by=.
function groupSelect(current) {
  const options = [['goal', t.groupByGoal], ['severity', t.groupBySeverity], ['none', t.groupByNone]];
  return el('div', { class: 'field' },
    el('label', { for: 'filter-group' }, t.groupBy),
    el('select', { id: 'filter-group', name: 'group_by', class: 'input' },
      el('option', { value: '' }, t.groupByRoutes),
      options.map(([value, text]) => el('option', { value, selected: value === current }, text))));
}

function filterForm(params, goals) {
  const labelId = 'filter-label';
  const form = el('form', { class: 'filters panel', method: 'get', action: '/alerts', dataset: { filters: '' }, 'aria-label': t.filters },
    select('goal', lang === 'ja' ? '目標' : 'Goal', goals.map((g) => [String(g.number), `${t.goal(g.number)} ${tr(g.name)}`]), params.get('goal') || ''),
    select('severity', t.severity, ['critical', 'warning', 'info'].map((s) => [s, word('severity', s)]), params.get('severity') || ''),
    select('state', t.state, ['firing', 'pending', 'resolved'].map((s) => [s, word('state', s)]), params.get('state') || ''),
    groupSelect(params.get('group_by')),
    el('div', { class: 'field' },
      el('label', { for: labelId }, t.anyLabel),
      el('input', { id: labelId, name: 'label', class: 'input', value: params.get('label') || '', placeholder: t.anyLabelHint, autocomplete: 'off' })),
    el('fieldset', { class: 'checks' }, el('legend', { class: 'visually-hidden' }, t.filters),
      FLAGS.map(([name, text]) => el('label', { class: 'check' },
        el('input', { type: 'checkbox', name, value: 'true', checked: params.get(name) === 'true' }), t[text]))),
    lang === 'en' ? el('input', { type: 'hidden', name: 'lang', value: 'en' }) : null,
    el('div', { class: 'field field-buttons' },
      el('button', { type: 'submit', class: 'button' }, t.filter),
      el('a', { class: 'button button-secondary', href: href('/alerts') }, t.reset)));
  // Empty fields stay out of the URL.
  form.addEventListener('formdata', (e) => {
    for (const [k, v] of [...e.formData.entries()]) if (v === '') e.formData.delete(k);
  });
  return form;
}

// The page's URL parameters → the API's.
function apiParams(params) {
  const out = {};
  for (const k of ['goal', 'severity', 'state']) if (params.get(k)) out[k] = params.get(k);
  for (const [k] of FLAGS) if (params.get(k) === 'true') out[k] = 'true';
  const by = params.get('group_by');
  if (by) out.group_by = by === 'none' ? '' : by;
  const label = (params.get('label') || '').trim();
  const eq = label.indexOf('=');
  if (eq > 0) out[`label.${label.slice(0, eq).trim()}`] = label.slice(eq + 1).trim();
  return out;
}

async function groups(params) {
  const offset = Number(params.get('offset')) || 0;
  try {
    // The page size is the server's; the pager's links carry it on as ?limit=.
    const query = apiParams(params);
    if (Number(params.get('limit')) > 0) query.limit = params.get('limit');
    return await getPaged('/api/v1/alerts/groups', query, offset);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    // A daemon without groups: one group of the whole list.
    const query = new URLSearchParams(apiParams(params)).toString();
    const list = await get(query ? `/api/v1/alerts?${query}` : '/api/v1/alerts');
    const alerts = list.alerts || [];
    return { groups: alerts.length ? [{ receiver: '', group_by: [], labels: {}, count: alerts.length, alerts }] : [], total: 1, next_offset: null };
  }
}

async function draw(box, params, goalNames) {
  let data;
  try {
    data = await groups(params);
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) return fill(box, notice('error', t.failed(e.message)));
    throw e;
  }
  const list = data.groups || [];
  if (!list.length) return fill(box, el('p', { class: 'panel muted' }, t.noAlerts));
  fill(box, sections(list, goalNames).map((g, i) => {
    const id = `group-${i}`;
    return el('section', { class: 'panel alert-group', dataset: { alertGroup: '' }, 'aria-labelledby': id },
      el('div', { class: 'section-head' },
        el('h2', { id }, g.title),
        el('p', { class: 'muted' }, [g.receiver ? `${t.receiver}: ${g.receiver}` : null, t.groupCount(g.count ?? g.alerts.length, g.alerts.length)].filter(Boolean).join(' · '))),
      alertList(g.alerts || []));
  }), pager(params, list.length, data));
}

// A group's labels in words: 目標6 …, the severity's word, else name=value.
function groupTitle(g, goalNames) {
  const entries = Object.entries(g.labels || {});
  if (!(g.group_by || []).length) return t.allAlerts;
  if (!entries.length) return t.groupOf('');
  return entries.map(([k, v]) => {
    if (k === 'goal' && goalNames.has(v)) return `${t.goal(v)} ${goalNames.get(v)}`;
    if (k === 'severity') return word('severity', v);
    return `${k}=${v}`;
  }).join(' · ');
}

// Alerts a route sends one by one (no group_by, a group each) side by side become one list.
function sections(list, goalNames) {
  const out = [];
  for (const g of list) {
    const alone = !(g.group_by || []).length && String(g.key || '').startsWith('alert:');
    const last = out[out.length - 1];
    if (alone && last && last.alone && last.receiver === g.receiver) {
      last.alerts.push(...(g.alerts || []));
      last.count += g.count ?? (g.alerts || []).length;
      continue;
    }
    out.push({ ...g, alerts: [...(g.alerts || [])], count: g.count ?? (g.alerts || []).length, alone,
      title: alone ? t.ungrouped : groupTitle(g, goalNames) });
  }
  return out;
}

function pager(params, shown, data) {
  const offset = Number(params.get('offset')) || 0;
  if (!offset && data.next_offset == null) return null;
  const size = Number(params.get('limit')) || shown;
  const link = (to, text, rel) => {
    const p = new URLSearchParams(params);
    p.set('limit', String(size));
    if (to) p.set('offset', String(to)); else p.delete('offset');
    return el('a', { class: 'button button-secondary', href: `/alerts?${p}`, rel }, text);
  };
  const total = data.total ?? offset + shown;
  return el('nav', { class: 'pager', 'aria-label': t.pagination },
    offset > 0 ? link(Math.max(0, offset - size), t.previous, 'prev') : null,
    el('span', {}, t.pageOf(offset + 1, offset + shown, total)),
    data.next_offset != null ? link(data.next_offset, t.next, 'next') : null);
}
