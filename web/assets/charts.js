// Line charts with Chart.js 3 (Debian's libjs-chart.js, loaded as /assets/chart.umd.js):
// a category x-axis of period names; every series has its own colour, point
// shape and line pattern, so colour is never the only signal. Each chart is
// registered in window.kpiwatchCharts under its data-chart-id.

import { formatNumber, lang } from './i18n.js';

window.kpiwatchCharts = window.kpiwatchCharts || {};

const palette = ['#1d4e89', '#c2410c', '#2f7d32', '#7b3294', '#8a6d00', '#0f766e', '#9f1239', '#475569'];
const shapes = ['circle', 'rect', 'triangle', 'rectRot', 'crossRot', 'star', 'rectRounded', 'cross'];
const dashes = [[], [6, 3], [2, 3], [10, 4, 2, 4], [1, 2], [8, 2], [4, 4], [12, 3]];

export function seriesStyle(i) {
  const n = i % palette.length;
  return { color: palette[n], shape: shapes[n % shapes.length], dash: dashes[n % dashes.length] };
}

function options({ decimals, unit, legend, small, yLabel }) {
  const tick = (v) => formatNumber(v, Math.min(decimals ?? 1, 2));
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    locale: lang === 'ja' ? 'ja-JP' : 'en-GB',
    interaction: { mode: 'nearest', intersect: false },
    layout: { padding: small ? 2 : 6 },
    scales: {
      x: { type: 'category', grid: { display: false }, ticks: { color: '#3b4654', font: { size: small ? 10 : 12 } } },
      y: {
        grace: '8%',
        ticks: { color: '#3b4654', callback: tick, maxTicksLimit: small ? 4 : 7, font: { size: small ? 10 : 12 } },
        grid: { color: '#e3e7ec' },
        title: { display: !small && !!yLabel, text: yLabel, color: '#3b4654' },
      },
    },
    plugins: {
      legend: { display: legend, position: 'bottom', labels: { usePointStyle: true, boxWidth: 10, color: '#1f2933' } },
      tooltip: {
        callbacks: {
          label: (ctx) => `${ctx.dataset.label}: ${formatNumber(ctx.parsed.y, decimals)}${unit ? ` ${unit}` : ''}`,
        },
      },
    },
  };
}

// datasets: [{label, data, color?, shape?, dash?, pointStyle?, pointRadius?, kind?}]
export function lineChart(canvas, id, labels, datasets, opts = {}) {
  const old = window.kpiwatchCharts[id];
  if (old) old.destroy();
  canvas.dataset.chartId = id;
  if (typeof window.Chart !== 'function') return null;  // the table beside it still holds the figures
  const data = {
    labels,
    datasets: datasets.map((d, i) => {
      const s = seriesStyle(i);
      const color = d.color || s.color;
      return {
        label: d.label,
        data: d.data,
        kind: d.kind || 'series',
        borderColor: color,
        backgroundColor: color,
        borderWidth: d.borderWidth ?? 2,
        borderDash: d.dash ?? s.dash,
        pointStyle: d.pointStyle ?? s.shape,
        pointRadius: d.pointRadius ?? (opts.small ? 2.5 : 4),
        pointHoverRadius: 6,
        pointBackgroundColor: d.pointBackgroundColor ?? color,
        pointBorderColor: d.pointBorderColor ?? color,
        showLine: d.showLine ?? true,
        spanGaps: true,
        tension: 0,
        fill: false,
      };
    }),
  };
  const chart = new window.Chart(canvas, {
    type: 'line',
    data,
    options: options({ legend: opts.legend ?? datasets.length > 1, ...opts }),
  });
  window.kpiwatchCharts[id] = chart;
  return chart;
}

// Periods of several series, in the order they first appear, sorted as period ids sort.
export function periodAxis(seriesList) {
  const byPeriod = new Map();
  for (const s of seriesList) for (const p of s.points) if (!byPeriod.has(p.period)) byPeriod.set(p.period, p);
  return [...byPeriod.keys()].sort(comparePeriods).map((k) => byPeriod.get(k));
}

export function comparePeriods(a, b) {
  const key = (p) => String(p).replace(/^FY/, '');
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
