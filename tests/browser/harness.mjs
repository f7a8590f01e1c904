// The browser and the daemon as the tests see them: one headless Debian chromium with a
// fresh profile, every request and every console error and page error it meets recorded,
// and the daemon's API read over HTTP. run.sh sets the variables.
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with tests/browser/run.sh`);
  return value;
}

// playwright-core is installed outside the source tree (run.sh's npm ci), so it is
// required from there rather than resolved next to this file.
const require = createRequire(path.join(env('KPIWATCH_BROWSER_MODULES'), 'package.json'));
const { chromium } = require('playwright-core');

export const base = env('KPIWATCH_URL');
export const adminToken = env('KPIWATCH_ADMIN_TOKEN');
const screenshots = env('KPIWATCH_SCREENSHOTS');

// Bounded waits: generous so that a loaded CI machine does not fail them, never a
// measurement of speed.
export const READY_MS = 20000;
export const LIVE_MS = 10000;

export async function api(target, init = {}) {
  const response = await fetch(base + target, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${target}: ${response.status} ${text}`);
  return JSON.parse(text);
}

export async function submit(submission) {
  return api('/api/v1/submissions', {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(submission),
  });
}

export class Browser {
  requests = [];
  problems = [];

  async start() {
    this.profile = mkdtempSync(path.join(os.tmpdir(), 'kpiwatch-chromium-'));
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: env('KPIWATCH_CHROMIUM'),
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: READY_MS,
    });
    this.context.on('request', (request) => this.requests.push(request.url()));
    this.context.setDefaultTimeout(READY_MS);
    mkdirSync(screenshots, { recursive: true });
  }

  async stop() {
    await this.context?.close();
    if (this.profile) rmSync(this.profile, { recursive: true, force: true });
  }

  // A new tab on `target`, once the page says it has drawn its data.
  async open(target, width = 1280) {
    const page = await this.context.newPage();
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.location()?.url;
      this.problems.push(`${page.url()}: console error: ${message.text()}${where ? ` (${where})` : ''}`);
    });
    page.on('pageerror', (error) => this.problems.push(`${page.url()}: page error: ${error.message}`));
    await page.setViewportSize({ width, height: 900 });
    const response = await page.goto(base + target);
    if (response.status() !== 200) throw new Error(`GET ${target}: ${response.status()} ${await response.text()}`);
    await ready(page);
    return page;
  }

  async screenshot(page, name) {
    await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  }
}

export async function ready(page) {
  await page.waitForSelector('body[data-ready="true"]', { timeout: READY_MS });
}

// Every value a chart carries, by the chart's data-chart-id or the canvas it draws on.
export async function chartValues(page, canvasSelector) {
  return page.$eval(canvasSelector, (canvas) => {
    const charts = window.kpiwatchCharts;
    const id = canvas.dataset.chartId ?? canvas.closest('[data-chart-id]')?.dataset.chartId;
    const chart = charts instanceof Map ? charts.get(id) : charts?.[id];
    if (!chart) return { id, values: null };
    const values = chart.data.datasets.flatMap((dataset) =>
      dataset.data.map((point) => (point !== null && typeof point === 'object' ? point.y : point)),
    );
    return { id, values };
  });
}
