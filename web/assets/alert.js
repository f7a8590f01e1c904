// Alert page (/alerts/{fingerprint}): its texts, the chart of its series with
// the breaching point marked and the rule's bound dashed, the criterion in
// words, the history, the notifications and their delivery, silences and ack.

import { t, tr, word, href, formatValue, formatTime, periodName, seriesLabel, unitName, decimalsOf, lang } from './i18n.js';
import { el, fill, table, notice, severityBadge, stateBadge } from './dom.js';
import { get, send, token, ApiError } from './api.js';
import { lineChart } from './charts.js';
import { tokenForm } from './token.js';

const BREACH_COLOUR = '#b42318';
const BOUND_COLOUR = '#5b6675';

export async function mount(main) {
  const fp = document.body.dataset.fingerprint;
  const path = `/api/v1/alerts/${encodeURIComponent(fp)}`;
  const head = el('div', { class: 'page-head' });
  const facts = el('section', { class: 'panel', 'aria-labelledby': 'facts-h' });
  const chartBox = el('section', { class: 'panel', 'aria-labelledby': 'chart-h' });
  const history = el('section', { class: 'panel', 'aria-labelledby': 'history-h' });
  const notifications = el('section', { class: 'panel', 'aria-labelledby': 'notif-h' });
  const status = el('section', { class: 'panel', 'aria-labelledby': 'status-h' });
  const actions = el('section', { class: 'panel actions', 'aria-labelledby': 'actions-h' });
  fill(main, head, el('div', { class: 'alert-layout' },
    el('div', { class: 'alert-col' }, facts, chartBox, history, notifications),
    el('div', { class: 'alert-col alert-side' }, status, actions)));
  let alert = null;
  const refresh = async () => {
    try {
      alert = await get(path);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return fill(main, el('h1', {}, t.notFound), el('p', {}, t.notFoundText));
      throw e;
    }
    drawHead(head, alert);
    drawFacts(facts, alert);
    drawChart(chartBox, alert);
    drawHistory(history, alert);
    drawNotifications(notifications, alert);
    await drawStatus(status, alert, refresh);
  };
  await refresh();
  if (alert) drawActions(actions, () => alert, refresh);
  return refresh;
}

function drawHead(head, a) {
  document.title = `${tr(a.summary)} · ${t.site}`;
  fill(head,
    el('nav', { class: 'breadcrumb', 'aria-label': 'breadcrumb' },
      el('a', { href: href('/') }, t.overview), ' / ', el('a', { href: href('/alerts') }, t.alertsTitle), ' / ', t.alert),
    el('p', { class: 'alert-badges' }, severityBadge(a.severity, word('severity', a.severity)), stateBadge(a.state, word('state', a.state))),
    el('h1', { dataset: { summary: '' } }, tr(a.summary)),
    el('p', { class: 'lead', dataset: { description: '' } }, tr(a.description)));
}

function kpiInfo(a) {
  const f = a.figures || {};
  return { unit: f.unit, unit_name: f.unit_name, decimals: f.decimals };
}

function fact(term, ...value) {
  return el('div', {}, el('dt', {}, term), el('dd', {}, ...value));
}

function drawFacts(box, a) {
  const info = kpiInfo(a);
  const goal = a.goal ?? a.labels?.goal;
  const labels = Object.entries(a.labels || {});
  fill(box,
    el('h2', { id: 'facts-h' }, t.summary),
    el('dl', { class: 'facts' },
      fact(t.kpi, goal != null ? el('a', { href: `${href(`/goals/${goal}`)}#kpi-${a.kpi}` }, a.kpi_name ? tr(a.kpi_name) : a.kpi) : a.kpi),
      goal != null ? fact(lang === 'ja' ? '目標' : 'Goal', a.goal_name ? `${t.goal(goal)} ${tr(a.goal_name)}` : t.goal(goal)) : null,
      fact(t.period, a.period_name ? tr(a.period_name) : periodName(a)),
      a.value != null ? fact(t.alertValue, formatValue(a.value, info)) : null,
      fact(t.activeSince, formatTime(a.active_since)),
      a.firing_since ? fact(t.firingSince, formatTime(a.firing_since)) : null,
      a.resolved_at ? fact(t.resolvedAt, formatTime(a.resolved_at)) : null,
      fact(t.labels, el('ul', { class: 'labels' }, labels.map(([k, v]) => el('li', {}, el('code', {}, `${k}=${v}`)))))),
    el('h3', {}, t.criterion),
    el('p', { class: 'criterion', dataset: { criterion: '' } },
      a.rule && a.rule.criterion ? tr(a.rule.criterion) : (a.rule && a.rule.id) || a.rule || '—'));
}

function sameDims(a, b) {
  const ka = Object.keys(a || {});
  return ka.length === Object.keys(b || {}).length && ka.every((k) => a[k] === b[k]);
}

// The alert's series: series_dims picks it; else the one whose dims are all among the labels.
function alertSeries(a) {
  const list = (a.figures && a.figures.series) || [];
  if (a.series_dims) return list.find((s) => sameDims(s.dims, a.series_dims)) || null;
  return list.find((s) => Object.entries(s.dims || {}).every(([k, v]) => (a.labels || {})[k] === v)) || list[0] || null;
}

function boundOf(a) {
  const b = a.rule && typeof a.rule === 'object' ? a.rule.bound : null;
  return typeof b === 'number' ? b : null;
}

function drawChart(box, a) {
  const series = alertSeries(a);
  const info = kpiInfo(a);
  fill(box, el('h2', { id: 'chart-h' }, series ? `${t.trendOf(a.kpi_name ? tr(a.kpi_name) : a.kpi)} · ${seriesLabel(series)}` : t.trendOf(a.kpi)));
  if (!series || !series.points.length) return box.append(el('p', { class: 'muted' }, t.noFigure));
  const points = series.points.filter((p) => p.value != null);
  const labels = points.map(periodName);
  const values = points.map((p) => p.value);
  const at = points.findIndex((p) => p.period === a.period);
  const bound = boundOf(a);
  const boundLabel = a.rule && a.rule.bound_label ? tr(a.rule.bound_label) : t.bound;
  const datasets = [{ label: seriesLabel(series), data: values, color: '#1d4e89', shape: 'circle', dash: [] }];
  if (bound != null)
    datasets.push({ label: boundLabel, data: values.map(() => bound), color: BOUND_COLOUR, dash: [6, 4], pointRadius: 0, pointStyle: 'line', borderWidth: 2, kind: 'bound' });
  if (at >= 0)
    datasets.push({ label: `${t.breach} (${labels[at]})`, data: values.map((v, i) => (i === at ? v : null)), color: BREACH_COLOUR, pointStyle: 'triangle', pointRadius: 9, borderWidth: 0, showLine: false, kind: 'breach' });
  const canvas = el('canvas', { dataset: { chart: '' }, role: 'img',
    'aria-label': `${t.trendOf(a.kpi_name ? tr(a.kpi_name) : a.kpi)}: ${labels.map((l, i) => `${l} ${formatValue(values[i], info)}${i === at ? `（${t.breach}）` : ''}`).join('、')}${bound != null ? `。${boundLabel} ${formatValue(bound, info)}` : ''}` });
  box.append(el('div', { class: 'chart-box chart-large' }, canvas));
  const rows = labels.map((l, i) => [l, formatValue(values[i], info), i === at ? `◆ ${t.breach}` : '']);
  box.append(el('details', { class: 'chart-data' }, el('summary', {}, t.chartData),
    table({}, t.chartData, [t.period, t.value, ''], rows)));
  queueMicrotask(() => lineChart(canvas, `alert-${a.fingerprint}`, labels, datasets,
    { decimals: decimalsOf(info), unit: unitName(info), legend: true, yLabel: unitName(info) }));
}

function drawHistory(box, a) {
  const info = kpiInfo(a);
  const rows = (a.history || []).slice().reverse().map((h) => [formatTime(h.at), word('state', h.from), word('state', h.to),
    periodName(h), h.value != null ? formatValue(h.value, info) : '—', tr(h.summary)]);
  fill(box, el('h2', { id: 'history-h' }, t.history),
    table({ dataset: { history: '' } }, t.history, [t.at, t.from, t.to, t.period, t.value, t.summary], rows));
}

function drawNotifications(box, a) {
  const list = a.notifications || [];
  const rows = list.map((n) => [formatTime(n.created_at), n.receiver, word('event', n.event),
    el('span', { class: `delivery delivery-${n.status}` }, word('status', n.status)), String(n.attempts ?? 0),
    n.delivered_at ? formatTime(n.delivered_at) : '—', n.group ? n.group.text : '—', n.last_error || '—']);
  fill(box, el('h2', { id: 'notif-h' }, t.notifications),
    table({ dataset: { notifications: '' } }, t.notifications,
      [t.at, t.receiver, t.event, t.status, t.attempts, t.deliveredAt, t.group, t.lastError], rows),
    list.length ? null : el('p', { class: 'muted' }, t.noNotifications));
}

// Silences and acknowledgement; the silences' details need an admin token.
async function drawStatus(box, a, refresh) {
  const ids = a.silenced_by || [];
  let silences = [];
  if (ids.length && token()) silences = await get('/api/v1/silences').then((s) => s.silences || []).catch(() => []);
  const held = silences.filter((s) => ids.includes(s.id));
  fill(box,
    el('h2', { id: 'status-h' }, `${t.acknowledgement} · ${t.silences}`),
    el('p', { dataset: { ackState: '' } }, a.acknowledged ? t.acknowledged(a.acknowledged.by, formatTime(a.acknowledged.at)) : t.notAcknowledged),
    a.acknowledged && a.acknowledged.comment ? el('p', { class: 'muted' }, a.acknowledged.comment) : null,
    el('p', { dataset: { silenceState: '' } }, ids.length ? t.silencedBy(ids.join(', ')) : t.notSilenced),
    held.length ? el('ul', { class: 'silences' }, held.map((s) => silenceItem(s, refresh))) : null,
    (a.inhibited_by || []).length ? el('div', {}, el('p', {}, t.inhibitedBy),
      el('ul', {}, a.inhibited_by.map((i) => el('li', {}, el('a', { href: href(`/alerts/${encodeURIComponent(i.fingerprint)}`) }, tr(i.summary)))))) : null);
}

function silenceItem(s, refresh) {
  const expire = el('button', { type: 'button', class: 'button button-secondary', dataset: { expire: String(s.id) } }, t.expire);
  const out = el('span', { role: 'status' });
  expire.addEventListener('click', async () => {
    try {
      await send('DELETE', `/api/v1/silences/${s.id}`);
      out.textContent = t.done;
      await refresh();
    } catch (e) { out.textContent = t.failed(e.message); }
  });
  return el('li', {}, `#${s.id} ${Object.entries(s.matchers || {}).map(([k, v]) => `${k}=${v}`).join(', ')} → ${formatTime(s.ends_at)}`,
    s.comment ? ` (${s.comment})` : '', ' ', expire, out);
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function drawActions(box, current, refresh) {
  const a = current();
  const ackOut = el('p', { role: 'status', class: 'result' });
  const ackComment = el('input', { id: 'ack-comment', class: 'input', name: 'comment', autocomplete: 'off' });
  const ack = el('button', { type: 'button', class: 'button', dataset: { ack: '' } }, t.ack);
  ack.addEventListener('click', async () => {
    try {
      const comment = ackComment.value.trim();
      await send('POST', `/api/v1/alerts/${encodeURIComponent(a.fingerprint)}/ack`, comment ? { comment } : {});
      ackOut.textContent = t.done;
      ackComment.value = '';
      await refresh();
    } catch (e) { ackOut.textContent = t.failed(e.message); }
  });
  const matchers = el('textarea', { id: 'silence-matchers', class: 'input', name: 'matchers', rows: '4', spellcheck: 'false' });
  matchers.value = Object.entries(a.labels || {}).map(([k, v]) => `${k}=${v}`).join('\n');
  const ends = el('input', { id: 'silence-ends', class: 'input', type: 'datetime-local', name: 'ends_at', required: true });
  ends.value = localInput(new Date(Date.now() + 24 * 3600 * 1000));
  const comment = el('input', { id: 'silence-comment', class: 'input', name: 'comment', autocomplete: 'off' });
  const silenceOut = el('p', { role: 'status', class: 'result' });
  const silence = el('form', { class: 'stack', dataset: { silence: '' } },
    el('h3', {}, t.silenceCreate),
    el('label', { for: 'silence-matchers' }, t.matchers), matchers,
    el('label', { for: 'silence-ends' }, t.endsAt), ends,
    el('label', { for: 'silence-comment' }, t.comment), comment,
    el('button', { type: 'submit', class: 'button' }, t.silenceCreate), silenceOut);
  silence.addEventListener('submit', async (e) => {
    e.preventDefault();
    const m = {};
    for (const line of matchers.value.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) m[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    const end = new Date(ends.value);
    try {
      const body = { matchers: m, ends_at: end.toISOString().replace(/\.\d{3}Z$/, 'Z') };
      if (comment.value.trim()) body.comment = comment.value.trim();
      const made = await send('POST', '/api/v1/silences', body);
      silenceOut.textContent = `${t.done} (#${made.id})`;
      await refresh();
    } catch (err) { silenceOut.textContent = t.failed(err.message); }
  });
  fill(box,
    el('h2', { id: 'actions-h' }, t.actions),
    el('p', { class: 'muted' }, t.actionsNote),
    tokenForm(refresh),
    el('div', { class: 'stack' }, el('h3', {}, t.acknowledgement),
      el('label', { for: 'ack-comment' }, t.comment), ackComment, ack, ackOut),
    silence);
}
