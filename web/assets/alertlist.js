// Alert rows: a link to the alert's page, its severity word, state and summary.

import { t, tr, word, href, formatTime, periodName } from './i18n.js';
import { el, severityBadge, stateBadge } from './dom.js';

export function alertRow(a, { showGoal = true } = {}) {
  const flags = [];
  if (a.acknowledged) flags.push(el('span', { class: 'flag' }, t.acknowledged(a.acknowledged.by, formatTime(a.acknowledged.at))));
  if (a.silenced_by && a.silenced_by.length) flags.push(el('span', { class: 'flag' }, t.silencedBy(a.silenced_by.join(', '))));
  if (a.inhibited_by && a.inhibited_by.length) flags.push(el('span', { class: 'flag' }, t.inhibitedBy));
  const goal = a.goal ?? a.labels?.goal;
  return el('li', { class: `alert-row alert-row-${a.state}`, dataset: { alert: a.fingerprint } },
    el('div', { class: 'alert-badges' }, severityBadge(a.severity, word('severity', a.severity)), stateBadge(a.state, word('state', a.state))),
    el('div', { class: 'alert-main' },
      el('a', { class: 'alert-summary', href: href(`/alerts/${encodeURIComponent(a.fingerprint)}`) }, tr(a.summary)),
      el('p', { class: 'alert-meta' },
        [showGoal && goal != null ? (a.goal_name ? `${t.goal(goal)} ${tr(a.goal_name)}` : t.goal(goal)) : null,
          a.kpi_name ? tr(a.kpi_name) : a.kpi,
          a.period_name ? tr(a.period_name) : (a.period ? periodName(a) : null),
          `${t.since} ${formatTime(a.firing_since || a.active_since)}`].filter(Boolean).join(' · ')),
      flags.length ? el('p', { class: 'alert-flags' }, flags) : null));
}

export function alertList(alerts, opts) {
  if (!alerts.length) return el('p', { class: 'muted' }, t.noAlerts);
  return el('ul', { class: 'alert-list' }, alerts.map((a) => alertRow(a, opts)));
}
