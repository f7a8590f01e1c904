// The status page in headless Chromium against the real daemon on its embedded default
// (issue 11, point 7). Checked by value against the daemon's own API. The tests run in
// order: the read-only ones first, then the ones that act (ack, silence, submissions).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Browser, LIVE_MS, adminToken, api, base, chartValues, ready, submit } from './harness.mjs';

const browser = new Browser();
const STAGE_UP = 'g06.stage_up_rate';

function localLinks(page) {
  return page.$$eval('a[href]', (links) =>
    links
      .map((a) => ({ href: a.href, isSwitch: a.hasAttribute('data-lang-switch') }))
      .filter((l) => l.href.startsWith(location.origin)),
  );
}

// The page links (overview, goal, alert list, alert pages) of a page, as URLs.
async function pageLinks(page) {
  const links = await localLinks(page);
  return links
    .filter((l) => !l.isSwitch)
    .map((l) => new URL(l.href))
    .filter((u) => u.pathname === '/' || /^\/(goals|alerts)(\/|$)/.test(u.pathname));
}

async function firstAlertRow(page) {
  return page.$eval('[data-alert]', (row) => row.getAttribute('data-alert'));
}

// Tabs from the top of the page until `selector` has the focus; null if it never does.
async function tabTo(page, selector, limit = 80) {
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < limit; ++i) {
    await page.keyboard.press('Tab');
    const found = await page.evaluate((s) => {
      const el = document.activeElement;
      if (!el || !el.matches(s)) return null;
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      return { outline, boxShadow: style.boxShadow, tag: el.tagName };
    }, selector);
    if (found) return found;
  }
  return null;
}

function visibleFocus(found) {
  return found.outline || (found.boxShadow && found.boxShadow !== 'none');
}

async function figuresText(page) {
  return page.$$eval('table[data-figures]', (tables) => tables.map((t) => t.textContent).join('\n'));
}

let goals;
let firstFingerprint;

// The alert the alerts page shows first; the API's first firing one if that test failed.
async function anAlert() {
  if (firstFingerprint) return firstFingerprint;
  const firing = (await api('/api/v1/alerts?state=firing')).alerts.filter((a) => a.labels.criterion !== 'missing_data');
  assert.ok(firing.length > 0, 'the bundled figures have firing alerts');
  return firing[0].fingerprint;
}

before(async () => {
  goals = (await api('/api/v1/goals')).goals;
  await browser.start();
});

after(async () => {
  await browser.stop();
});

describe('the status page', () => {
  it('the browser reaches the daemon', async () => {
    const page = await browser.context.newPage();
    const response = await page.goto(`${base}/healthz`);
    assert.equal(response.status(), 200);
    assert.deepEqual(JSON.parse(await page.textContent('body')), { status: 'ok' });
    await page.close();
  });

  it('the overview shows the 11 goals with their Japanese names', async () => {
    assert.equal(goals.length, 11, 'the API lists 11 goals');
    const page = await browser.open('/');
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    const sections = await page.$$eval('section[data-goal]', (list) =>
      list.map((s) => ({ goal: s.getAttribute('data-goal'), name: s.querySelector('h2')?.textContent.trim() })),
    );
    assert.equal(sections.length, 11);
    for (const goal of goals) {
      const section = sections.find((s) => s.goal === String(goal.number));
      assert.ok(section, `section[data-goal="${goal.number}"]`);
      assert.ok(section.name?.includes(goal.name.ja), `goal ${goal.number}: h2 "${section.name}" has "${goal.name.ja}"`);
    }
    const names = sections.map((s) => s.name).join('\n');
    assert.match(names, /重点分野における研究開発の活性化/);
    assert.match(names, /臨床ニーズを見出し事業化までけん引可能な人材の増加/);
    await page.close();
  });

  it('the stage-up rate chart carries 33.1 and 26.8, on the overview and the goal page', async () => {
    for (const target of ['/', '/goals/6']) {
      const page = await browser.open(target);
      const chart = await chartValues(page, `[data-kpi="${STAGE_UP}"] canvas`);
      assert.ok(chart.values, `${target}: window.kpiwatchCharts has the chart "${chart.id}" of ${STAGE_UP}`);
      assert.ok(chart.values.includes(33.1), `${target}: ${JSON.stringify(chart.values)} has 33.1`);
      assert.ok(chart.values.includes(26.8), `${target}: ${JSON.stringify(chart.values)} has 26.8`);
      await page.close();
    }
  });

  it('the first alert on the alerts page is a finding of the report, not an overdue notice', async () => {
    const page = await browser.open('/alerts');
    assert.ok((await page.$$('[data-alert-group]')).length > 0, 'at least one [data-alert-group]');
    firstFingerprint = await firstAlertRow(page);
    assert.ok(firstFingerprint, 'a [data-alert="FP"] row');
    assert.equal(firstFingerprint, await apiFirstAlert(), "the page's first alert is the API's first");
    const alert = await api(`/api/v1/alerts/${encodeURIComponent(firstFingerprint)}`);
    const rule = typeof alert.rule === 'string' ? alert.rule : alert.rule?.id;
    assert.notEqual(alert.labels.criterion, 'missing_data', `the first alert ${rule} is an overdue notice`);
    assert.notEqual(rule, 'data-overdue');
    assert.equal(alert.state, 'firing');
    const row = page.locator(`[data-alert="${firstFingerprint}"]`).first();
    const severity = (await row.locator('[data-severity]').first().textContent()).trim();
    assert.ok(severity.length > 0, 'the severity is a word, not only a colour');
    assert.ok((await row.textContent()).includes(alert.summary.ja), `the row shows "${alert.summary.ja}"`);
    const link = await row.locator('a[href]').first().getAttribute('href');
    assert.equal(new URL(link, base).pathname, `/alerts/${firstFingerprint}`);
    await page.close();
  });

  it('the alerts page groups by goal when asked, each group titled with its goal name', async () => {
    const page = await browser.open('/alerts');
    await page.selectOption('#filter-group', 'goal');
    await Promise.all([page.waitForURL(/group_by=goal/), page.click('form[data-filters] button[type=submit]')]);
    await ready(page);
    const api_ = await api('/api/v1/alerts/groups?group_by=goal');
    const titles = await page.$$eval('[data-alert-group] h2', (hs) => hs.map((h) => h.textContent.trim()));
    assert.equal(titles.length, api_.groups.length, 'one section per goal that has alerts');
    for (const [i, g] of api_.groups.entries()) {
      const goal = goals.find((x) => String(x.number) === g.labels.goal);
      assert.ok(titles[i].includes(goal.name.ja), `group ${i} is titled "${titles[i]}", not with ${goal.name.ja}`);
      const rows = await page.$$eval(`[data-alert-group]:nth-of-type(${i + 1}) [data-alert]`, (r) => r.length);
      assert.equal(rows, g.alerts.length, `group ${goal.name.ja} lists its alerts`);
    }
    await page.close();
  });

  it('the English switch gives lang="en", English goal names, and keeps the lang in links', async () => {
    const page = await browser.open('/');
    await Promise.all([page.waitForURL(/[?&]lang=en/), page.click('a[data-lang-switch]')]);
    await ready(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    const names = await page.$$eval('section[data-goal] h2', (list) => list.map((h) => h.textContent.trim()));
    for (const goal of goals) {
      assert.ok(names.some((n) => n.includes(goal.name.en)), `the English name "${goal.name.en}"`);
    }
    const links = await pageLinks(page);
    assert.ok(links.length >= 11, 'the overview links to goals and alerts');
    for (const url of links) assert.equal(url.searchParams.get('lang'), 'en', `${url} keeps lang=en`);
    const back = await page.getAttribute('a[data-lang-switch]', 'href');
    assert.notEqual(new URL(back, base).searchParams.get('lang'), 'en', 'the switch leads back to Japanese');

    const alerts = await browser.open('/alerts?lang=en');
    assert.equal(await alerts.getAttribute('html', 'lang'), 'en');
    for (const url of await pageLinks(alerts)) assert.equal(url.searchParams.get('lang'), 'en', `${url} keeps lang=en`);
    await alerts.close();
    await page.close();
  });

  it('an alert page shows its texts, criterion and history rows', async () => {
    const fingerprint = await anAlert();
    const alert = await api(`/api/v1/alerts/${encodeURIComponent(fingerprint)}`);
    const page = await browser.open(`/alerts/${encodeURIComponent(fingerprint)}`);
    assert.ok((await page.textContent('[data-summary]')).includes(alert.summary.ja));
    assert.ok((await page.textContent('[data-description]')).includes(alert.description.ja));
    assert.ok((await page.textContent('[data-criterion]')).trim().length > 0, 'the criterion in words');
    if (alert.rule?.criterion?.ja)
      assert.ok((await page.textContent('[data-criterion]')).includes(alert.rule.criterion.ja));
    assert.ok(alert.history.length > 0, 'the API has the transitions');
    const rows = await page.$$eval('table[data-history] tbody tr', (list) => list.map((r) => r.textContent));
    assert.equal(rows.length, alert.history.length, `history rows: ${JSON.stringify(rows)}`);
    const chart = await chartValues(page, 'canvas[data-chart]');
    assert.ok(chart.values, `window.kpiwatchCharts has the alert's chart "${chart.id}"`);
    if (alert.value !== null)
      assert.ok(chart.values.includes(alert.value), `the chart ${JSON.stringify(chart.values)} has the alert's ${alert.value}`);
    assert.ok(await page.$('table[data-notifications]'), 'the notifications table');
    await page.close();
  });

  it('the keyboard reaches the language switch and the filters, with a visible focus', async () => {
    const page = await browser.open('/alerts');
    const toSwitch = await tabTo(page, 'a[data-lang-switch]');
    assert.ok(toSwitch, 'Tab reaches a[data-lang-switch]');
    assert.ok(visibleFocus(toSwitch), `the focused switch shows a focus ring: ${JSON.stringify(toSwitch)}`);
    const toFilter = await tabTo(page, 'form[data-filters] select, form[data-filters] input, form[data-filters] button');
    assert.ok(toFilter, 'Tab reaches a control of form[data-filters]');
    assert.ok(visibleFocus(toFilter), `the focused filter shows a focus ring: ${JSON.stringify(toFilter)}`);
    await page.close();
  });

  it('every page holds at 1280 and 375 px wide (screenshots of each)', async () => {
    const fingerprint = await anAlert();
    const pages = {
      overview: '/',
      'overview-en': '/?lang=en',
      'goal-6': '/goals/6',
      alerts: '/alerts',
      alert: `/alerts/${encodeURIComponent(fingerprint)}`,
    };
    for (const [name, target] of Object.entries(pages)) {
      for (const width of [1280, 375]) {
        const page = await browser.open(target, width);
        const sizes = await page.evaluate(() => ({
          scrollWidth: document.scrollingElement.scrollWidth,
          innerWidth: window.innerWidth,
          // The outermost elements that reach past the right edge, to say what overflows.
          wide: [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= window.innerWidth + 0.5)
            .slice(0, 5)
            .map((el) => `${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''} ${Math.round(el.getBoundingClientRect().width)}px`),
        }));
        await browser.screenshot(page, `${name}-${width}`);
        assert.ok(sizes.scrollWidth <= sizes.innerWidth, `${target} at ${width} px scrolls sideways: ${JSON.stringify(sizes)}`);
        await page.close();
      }
    }
  });

  it('an unknown goal gives a 404 page in the page language', async () => {
    const page = await browser.context.newPage();
    const response = await page.goto(`${base}/goals/99?lang=en`);
    assert.equal(response.status(), 404);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.close();
  });

  it('the report link opens the follow-up report, its style allowed by its own policy', async () => {
    for (const [from, lang, concern] of [['/', 'ja', '懸念'], ['/alerts?lang=en', 'en', 'concern']]) {
      const page = await browser.open(from);
      const link = page.locator('[data-report]');
      await Promise.all([page.waitForURL(/\/report/), link.click()]);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      const goals = await page.$$eval('section[id^="goal-"]', (list) => list.map((s) => s.id));
      assert.deepEqual(goals, Array.from({ length: 11 }, (_, i) => `goal-${i + 1}`));
      // The report's CSS applied (a blocked <style> would leave the default): one goal to a printed page.
      const breaks = await page.$$eval('section[id^="goal-"]', (list) => list.map((s) => getComputedStyle(s).breakBefore));
      assert.ok(breaks.every((b) => b === 'page'), breaks.join());
      assert.ok((await page.locator('section#goal-6 svg').count()) >= 2, 'goal 6 has its charts drawn inline');
      const summary = await page.textContent('table');
      assert.ok(summary.includes(concern), `the summary table names a ${concern}`);
      await browser.screenshot(page, `report-${lang}`);
      await page.close();
    }
  });

  it('acknowledges, silences and unsilences an alert from its page with a token entered in the page', async () => {
    const first = await anAlert();
    const open = (await api('/api/v1/alerts?state=firing')).alerts.filter((a) => a.fingerprint !== first);
    assert.ok(open.length >= 2, 'two more firing alerts to act on');
    const [toAck, toSilence] = open;

    const page = await browser.open(`/alerts/${encodeURIComponent(toAck.fingerprint)}`);
    await page.fill('form[data-token] input', adminToken);
    await page.locator('form[data-token] [type="submit"], form[data-token] button').first().click();
    await page.click('button[data-ack]');
    await waitFor(async () => (await alertOf(toAck.fingerprint)).acknowledged, 'the alert is acknowledged');
    const stored = await page.evaluate(() => ({
      cookie: document.cookie,
      local: localStorage.length,
      session: Object.values(sessionStorage),
    }));
    assert.deepEqual(stored.cookie, '', 'no cookie');
    assert.equal(stored.local, 0, 'nothing in localStorage');
    assert.ok(stored.session.some((v) => v.includes(adminToken)), 'the token is kept in sessionStorage');

    // The tab's session keeps the token: its next page needs no new entry.
    const before = await api('/api/v1/silences', { headers: { Authorization: `Bearer ${adminToken}` } });
    const silencePage = page;
    await silencePage.goto(`${base}/alerts/${encodeURIComponent(toSilence.fingerprint)}`);
    await ready(silencePage);
    await silencePage.locator('form[data-silence] [type="submit"], form[data-silence] button').first().click();
    await waitFor(async () => (await alertOf(toSilence.fingerprint)).silenced_by?.length > 0, 'the alert is silenced');
    const afterSilence = await api('/api/v1/silences', { headers: { Authorization: `Bearer ${adminToken}` } });
    assert.equal(countOf(afterSilence), countOf(before) + 1, 'one new silence');

    // Expiring it from the page (button[data-expire="ID"], beside each silence of the alert).
    const [silence] = (await alertOf(toSilence.fingerprint)).silenced_by;
    await silencePage.click(`button[data-expire="${silence}"]`, { timeout: LIVE_MS });
    await waitFor(async () => (await alertOf(toSilence.fingerprint)).silenced_by?.length === 0, 'the silence expired');
    await silencePage.close();
  });

  it('a new submission shows on an open goal page without a reload', async () => {
    const page = await browser.open('/goals/6');
    await page.evaluate(() => {
      window.kpiwatchSamePage = true;
    });
    const updated = await page.getAttribute('body', 'data-updated');
    await submit({
      kpi: STAGE_UP,
      period: '2025',
      dims: { stage: 'all' },
      value: 24.9,
      source: 'browser test',
      note: 'live update',
    });
    await page.waitForFunction((u) => document.body.dataset.updated !== u, updated, { timeout: LIVE_MS });
    await page.waitForFunction(
      () => [...document.querySelectorAll('table[data-figures]')].some((t) => t.textContent.includes('24.9')),
      null,
      { timeout: LIVE_MS },
    );
    assert.equal(await page.evaluate(() => window.kpiwatchSamePage), true, 'the page was not reloaded');
    const streams = browser.requests.filter((u) => new URL(u).pathname === '/api/v1/events');
    assert.ok(streams.length > 0, 'the page reads the event stream GET /api/v1/events');
    const chart = await chartValues(page, `[data-kpi="${STAGE_UP}"] canvas`);
    assert.ok(chart.values?.includes(24.9), `the chart has the new figure: ${JSON.stringify(chart.values)}`);
    await page.close();
  });

  it('a note holding <script> shows as text and runs nothing', async () => {
    const note = '<script>window.pwned=1</script>';
    const live = await browser.open('/goals/6');
    const updated = await live.getAttribute('body', 'data-updated');
    await submit({ kpi: STAGE_UP, period: '2025', dims: { stage: 'basic' }, value: 12.5, source: 'browser test', note });
    await live.waitForFunction((u) => document.body.dataset.updated !== u, updated, { timeout: LIVE_MS });
    const fresh = await browser.open('/goals/6');
    for (const page of [live, fresh]) {
      await page.waitForFunction((n) => [...document.querySelectorAll('table[data-figures]')].some((t) => t.textContent.includes(n)), note, {
        timeout: LIVE_MS,
      });
      assert.equal(await page.evaluate(() => typeof window.pwned), 'undefined');
      assert.equal(await page.$$eval('table[data-figures] script', (s) => s.length), 0, 'no script element in the table');
      assert.ok((await figuresText(page)).includes(note));
    }
    await live.close();
    await fresh.close();
  });

  it('no page had a console error or a page error', () => {
    assert.deepEqual(browser.problems, []);
  });

  it('no request went to a host other than 127.0.0.1', () => {
    assert.ok(browser.requests.length > 0, 'requests were recorded');
    const foreign = browser.requests.filter((u) => {
      const url = new URL(u);
      return !['data:', 'blob:'].includes(url.protocol) && url.hostname !== '127.0.0.1';
    });
    assert.deepEqual(foreign, []);
  });
});

// The first alert of the alert list as the API orders it: the first group's first alert.
async function apiFirstAlert() {
  const response = await fetch(`${base}/api/v1/alerts/groups`);
  if (response.status === 200) return (await response.json()).groups[0]?.alerts[0]?.fingerprint;
  return (await api('/api/v1/alerts')).alerts[0]?.fingerprint;
}

async function alertOf(fingerprint) {
  return api(`/api/v1/alerts/${encodeURIComponent(fingerprint)}`);
}

function countOf(silences) {
  return (Array.isArray(silences) ? silences : silences.silences).length;
}

async function waitFor(condition, what, timeout = LIVE_MS) {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`${what}: not within ${timeout} ms`);
}
