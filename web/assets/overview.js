// Overview (/): the plan's 11 goals, each with its KPIs (a small trend chart,
// the latest figure with its change, the reporting body), the firing alerts by
// severity, and the overdue figures.

import { t, tr, word, href, formatValue, formatChange, periodName, seriesLabel, decimalsOf, lang } from './i18n.js';
import { el, fill, table, severityBadge } from './dom.js';
import { get } from './api.js';
import { lineChart } from './charts.js';

const SEVERITIES = ['critical', 'warning', 'info'];

export async function mount(main) {
  document.title = `${t.overview} · ${t.site}`;
  const firing = el('section', { class: 'panel', dataset: { firing: '' }, 'aria-labelledby': 'firing-h' });
  const overdue = el('section', { class: 'panel', dataset: { overdue: '' }, 'aria-labelledby': 'overdue-h' });
  const goals = el('div', { class: 'goals' });
  fill(main,
    el('div', { class: 'page-head' }, el('h1', {}, t.overviewTitle), el('p', { class: 'lead' }, t.overviewLead)),
    el('div', { class: 'summary-row' }, firing, overdue),
    goals);
  const refresh = async () => {
    const [overview, digests] = await Promise.all([get('/api/v1/goals'), get('/api/v1/overdue').catch(() => null)]);
    drawFiring(firing, overview.firing || {});
    drawOverdue(overdue, overview, digests);
    drawGoals(goals, overview.goals || []);
  };
  await refresh();
  return refresh;
}

function severityCounts(counts, compact) {
  return el('ul', { class: compact ? 'counts counts-compact' : 'counts' },
    SEVERITIES.map((s) => el('li', {}, severityBadge(s, word('severity', s)),
      el('span', { class: 'count' }, t.count(counts[s] ?? 0)))));
}

function drawFiring(box, counts) {
  const total = SEVERITIES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  fill(box,
    el('h2', { id: 'firing-h' }, t.firingNow),
    total ? severityCounts(counts, false) : el('p', {}, t.firingNone),
    el('p', {}, el('a', { href: href('/alerts') }, `${t.alertsTitle} →`)));
}

function drawOverdue(box, overview, digests) {
  const list = (digests && digests.overdue) || [];
  const total = list.reduce((n, d) => n + (d.overdue ?? 0), 0)
    || (overview.goals || []).reduce((n, g) => n + (g.overdue ?? 0), 0);
  fill(box,
    el('h2', { id: 'overdue-h' }, t.overdue),
    total ? el('p', { class: 'big-count' }, t.overdueCount(total)) : el('p', {}, t.overdueNone),
    list.length ? el('ul', { class: 'overdue-list' }, list.slice(0, 6).map((d) => el('li', {}, tr(d.sentence)))) : null);
}

function drawGoals(box, goals) {
  fill(box, goals.map((g) => {
    const counts = g.firing || {};
    const firing = SEVERITIES.reduce((n, s) => n + (counts[s] ?? 0), 0);
    return el('section', { class: 'goal', dataset: { goal: String(g.number) }, 'aria-labelledby': `goal-${g.number}` },
      el('div', { class: 'goal-head' },
        el('p', { class: 'eyebrow' }, t.goal(g.number)),
        el('h2', { id: `goal-${g.number}` }, el('a', { href: href(`/goals/${g.number}`) }, tr(g.name))),
        el('div', { class: 'goal-meta' },
          firing ? severityCounts(counts, true) : el('span', { class: 'muted' }, t.firingNone),
          g.overdue ? el('span', { class: 'overdue-tag' }, t.overdueCount(g.overdue)) : null)),
      el('div', { class: 'kpi-grid' }, (g.kpis || []).map(kpiCard)));
  }));
}

// The lead series: trend from the server, else the first latest figure and the one before it.
function leadSeries(k) {
  const latest = k.latest || [];
  if (k.trend && Array.isArray(k.trend.points)) {
    const key = JSON.stringify(k.trend.dims || {});
    const entry = latest.find((l) => JSON.stringify(l.dims || {}) === key) || latest[0];
    return { points: k.trend.points, entry, label: k.trend.label ? tr(k.trend.label) : seriesLabel(k.trend) };
  }
  const entry = latest[0];
  if (!entry || entry.latest.value == null) return { points: [], entry, label: '' };
  const points = [entry.previous, entry.latest].filter(Boolean).map((p) => ({ ...p, period_name: p.period_name }));
  return { points, entry, label: seriesLabel(entry) };
}

function kpiCard(k) {
  const { points, entry, label } = leadSeries(k);
  const name = tr(k.name);
  const firing = k.firing ? SEVERITIES.reduce((n, s) => n + (k.firing[s] ?? 0), 0) : (k.alerts || []).length;
  const card = el('article', { class: 'kpi-card', dataset: { kpi: k.id } },
    el('h3', {}, name),
    latestFigure(k, entry),
    el('dl', { class: 'kpi-facts' },
      el('div', {}, el('dt', {}, t.reportedBy), el('dd', {}, (k.bodies || []).map((b) => tr(b)).join('、') || '—')),
      (k.series_count ?? (k.latest || []).length) > 1
        ? el('div', {}, el('dt', {}, t.series), el('dd', {}, `${label} · ${t.seriesCount(k.series_count ?? k.latest.length)}`))
        : null,
      firing ? el('div', {}, el('dt', {}, t.firingNow), el('dd', {}, t.count(firing))) : null,
      k.overdue ? el('div', {}, el('dt', {}, t.overdue), el('dd', {}, t.count(k.overdue))) : null));
  if (points.length > 0) {
    const id = `trend-${k.id}`;
    const labels = points.map(periodName);
    const values = points.map((p) => p.value ?? null);
    const canvas = el('canvas', { dataset: { chart: '' }, role: 'img', 'aria-label': `${t.trendOf(name)}: ${labels.map((l, i) => `${l} ${formatValue(values[i], k)}`).join('、')}` });
    card.insertBefore(el('div', { class: 'chart-box chart-small' }, canvas), card.children[1]);
    card.append(el('details', { class: 'chart-data' }, el('summary', {}, t.chartData),
      table({}, t.trendOf(name), [t.period, t.value], labels.map((l, i) => [l, formatValue(values[i], k)]))));
    queueMicrotask(() => lineChart(canvas, id, labels, [{ label: label || name, data: values }],
      { small: true, legend: false, decimals: decimalsOf(k), unit: '' }));
  }
  card.append(el('p', { class: 'card-link' }, el('a', { href: `${href(`/goals/${goalOf(k.id)}`)}#kpi-${k.id}` }, `${t.viewGoal} →`)));
  return card;
}

function goalOf(id) {
  const m = /^g(\d+)\./.exec(id);
  return m ? Number(m[1]) : 1;
}

function latestFigure(k, entry) {
  if (!entry) return el('p', { class: 'latest muted' }, t.noFigure);
  const f = entry.latest;
  if (f.value == null && Array.isArray(f.items))
    return el('p', { class: 'latest' }, el('span', { class: 'figure' }, lang === 'ja' ? `${f.items.length}項目` : `${f.items.length} items`),
      el('span', { class: 'period' }, entry.period_name ? tr(entry.period_name) : periodName(f)));
  return el('p', { class: 'latest' },
    el('span', { class: 'figure', dataset: { value: String(f.value) } }, formatValue(f.value, k)),
    el('span', { class: 'period' }, entry.period_name ? tr(entry.period_name) : periodName(f)),
    entry.change != null ? el('span', { class: 'change' }, `${t.change} ${formatChange(entry.change, k)}`) : null);
}
