// Goal page (/goals/{n}): a chart per KPI with every series of its dimensions,
// the figures with their provenance, a CSV download, and the goal's alerts.

import { t, tr, href, lang, formatValue, formatTime, periodName, seriesLabel, unitName, decimalsOf } from './i18n.js';
import { el, fill, table } from './dom.js';
import { get, token, headers } from './api.js';
import { getPaged } from './paged.js';
import { lineChart, periodAxis } from './charts.js';
import { alertList } from './alertlist.js';

const CHART_SERIES = 12;  // more series than this are in the table only

export async function mount(main) {
  const number = Number(document.body.dataset.goal);
  const head = el('div', { class: 'page-head' });
  const kpis = el('div', { class: 'kpi-sections' });
  const alerts = el('section', { class: 'panel', dataset: { alerts: '' }, 'aria-labelledby': 'alerts-h' });
  fill(main, head, alerts, kpis);
  const refresh = async () => {
    const [goal, list] = await Promise.all([
      get(`/api/v1/goals/${number}`),
      getPaged('/api/v1/alerts', { goal: String(number) }),
    ]);
    const name = tr(goal.name);
    document.title = `${t.goal(number)} ${name} · ${t.site}`;
    fill(head,
      el('nav', { class: 'breadcrumb', 'aria-label': 'breadcrumb' }, el('a', { href: href('/') }, t.overview), ' / ', t.goal(number)),
      el('p', { class: 'eyebrow' }, t.goal(number)),
      el('h1', {}, name));
    fill(alerts, el('h2', { id: 'alerts-h' }, t.goalAlerts), alertList(list.alerts || [], { showGoal: false }));
    const series = await Promise.all((goal.kpis || []).map((k) => getPaged(`/api/v1/kpis/${encodeURIComponent(k.id)}/series`, {})));
    fill(kpis, (goal.kpis || []).map((k, i) => kpiSection(k, series[i])));
  };
  await refresh();
  return refresh;
}

function kpiSection(k, view) {
  const name = tr(view.name || k.name);
  const info = { ...k, unit_name: view.unit_name ?? k.unit_name, decimals: view.decimals ?? k.decimals };
  const section = el('section', { class: 'kpi-section panel', id: `kpi-${k.id}`, dataset: { kpi: k.id }, 'aria-labelledby': `h-${k.id}` });
  const csv = `/api/v1/kpis/${encodeURIComponent(k.id)}/series?format=csv${lang === 'en' ? '&lang=en' : ''}`;
  const unit = unitName(info);
  section.append(
    el('div', { class: 'section-head' },
      el('h2', { id: `h-${k.id}` }, name),
      csvLink(csv, `${k.id}.csv`)),
    el('p', { class: 'muted' }, [
      `${t.reportedBy}: ${(k.bodies || []).map((b) => tr(b)).join('、') || '—'}`,
      unit ? `${lang === 'ja' ? '単位' : 'Unit'}: ${unit}` : null,
      view.series_count != null ? t.seriesCount(view.series_count) : null].filter(Boolean).join(' · ')));
  const series = view.series || [];
  const numeric = series.some((s) => s.points.some((p) => p.value != null));
  if (numeric) section.append(chart(k, info, name, series, view.series_count));
  const tableBox = el('div', {});
  section.append(tableBox);
  let rows = figureRows(info, series);
  const draw = () => fill(tableBox, table({ dataset: { figures: '' }, class: 'figures' }, `${name}: ${t.figures}`,
    [t.period, t.series, t.value, t.source, t.note, t.submittedBy, t.submittedAt, t.revision], rows));
  draw();
  let next = view.next_offset;
  if (next != null) {
    const more = el('button', { type: 'button', class: 'button button-secondary' }, t.moreRows);
    more.addEventListener('click', async () => {
      const page = await getPaged(`/api/v1/kpis/${encodeURIComponent(k.id)}/series`, {}, next);
      rows = rows.concat(figureRows(info, page.series || []));
      next = page.next_offset;
      draw();
      if (next == null) more.remove();
    });
    section.append(more);
  }
  return section;
}

// A plain link; with a token in the tab (reads may need one) the file is fetched with it.
function csvLink(url, filename) {
  const a = el('a', { class: 'button button-secondary', href: url, download: true, dataset: { csv: '' } }, t.downloadCsv);
  a.addEventListener('click', async (e) => {
    if (!token()) return;
    e.preventDefault();
    const res = await fetch(url, { headers: headers({ Accept: 'text/csv' }), credentials: 'omit' });
    if (!res.ok) return;
    const blob = URL.createObjectURL(await res.blob());
    const save = el('a', { href: blob, download: filename, hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(blob), 1000);
  });
  return a;
}

function chart(k, info, name, series, total) {
  const shown = series.slice(0, CHART_SERIES);
  const axis = periodAxis(shown);
  const labels = axis.map(periodName);
  const datasets = shown.map((s) => {
    const byPeriod = new Map(s.points.map((p) => [p.period, p.value]));
    return { label: seriesLabel(s), data: axis.map((p) => byPeriod.get(p.period) ?? null) };
  });
  const canvas = el('canvas', { dataset: { chart: '' }, role: 'img',
    'aria-label': `${t.trendOf(name)}（${shown.map(seriesLabel).join('、')}）` });
  queueMicrotask(() => lineChart(canvas, `kpi-${k.id}`, labels, datasets,
    { decimals: decimalsOf(info), unit: unitName(info), legend: true, yLabel: unitName(info) }));
  const count = total ?? series.length;
  return el('figure', { class: 'chart' },
    el('div', { class: 'chart-box chart-large' }, canvas),
    el('figcaption', { class: 'muted' }, `${t.trendOf(name)}${count > shown.length ? ` · ${t.moreSeries(shown.length, count)}` : ''}`));
}

function figureRows(info, series) {
  const rows = [];
  for (const s of series) {
    const label = seriesLabel(s);
    for (const p of [...s.points].reverse()) {
      const value = p.value != null ? formatValue(p.value, info) : (p.items || []).join('、');
      rows.push([periodName(p), label, value, p.source || '—', p.note || '—', p.submitted_by || '—',
        formatTime(p.submitted_at || p.received_at), String(p.revision ?? '')]);
    }
  }
  return rows;
}
