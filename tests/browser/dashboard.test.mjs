// The dashboard in a real headless Chromium against a real agent (simulator
// backend, real HTTP on 127.0.0.1, real SQLite): tiles and the device table
// fill in from the live stream, Block on a device shows it Blocked in the
// page and in the API, the page survives losing its stream (refused, or
// evicted by other streams), and a screenshot is saved for the README.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const binary = process.env.BWALLOC_BIN;
const chromiumPath = '/usr/bin/chromium';
let playwright = null;
try { playwright = await import('playwright-core'); } catch { /* reported as a skip below */ }

const skipReason = !binary ? 'BWALLOC_BIN is not set (run through ctest)'
  : !existsSync(chromiumPath) ? 'chromium is not installed (scripts/install-deps.sh installs it)'
  : !playwright ? 'playwright-core is not installed (scripts/web-vendor.sh installs it)'
  : !existsSync(join(repo, 'web', 'vendor', 'plotly.min.js')) ? 'web/vendor/plotly.min.js is missing (scripts/web-vendor.sh)'
  : null;

let agent = null;
let work = null;
let base = null;

// How long a wait may last before it counts as a hang. Every wait polls for
// its event and returns as soon as it happens: a loaded machine makes the
// test slower, not failed.
const PATIENCE_MS = 120000;

async function waitFor(check, what, ms = PATIENCE_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startAgent(devices) {
  const dir = mkdtempSync(join(tmpdir(), 'bwalloc-browser-'));
  let log = '';
  const child = spawn(binary, ['run',
    '--set', 'agent.backend="simulator"',
    '--set', `agent.simulated_devices=${devices}`,
    '--set', 'http.port=0',
    '--set', `store.path="${join(dir, 'bwalloc.db')}"`,
    '--set', `http.token_file="${join(dir, 'token')}"`,
    '--set', `http.web_root="${join(repo, 'web')}"`,
    '--set', `datapath.state_dir="${join(dir, 'state')}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', (chunk) => { log += chunk; });
  const port = await waitFor(() => log.match(/API on http:\/\/127\.0\.0\.1:(\d+)\//)?.[1], `the agent to start (log: ${log})`);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health`)).ok, '/health');
  return { child, dir, url };
}

function launchBrowser() {
  return playwright.chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

before(async () => {
  if (skipReason) return;
  const started = await startAgent(12);
  agent = started.child;
  work = started.dir;
  base = started.url;
});

after(() => {
  if (agent) agent.kill('SIGTERM');
  if (work) rmSync(work, { recursive: true, force: true });
});

test('dashboard shows devices live and blocks one', { skip: skipReason ?? false, timeout: 4 * PATIENCE_MS }, async () => {
  const token = readFileSync(join(work, 'token'), 'utf8').trim();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.setDefaultTimeout(PATIENCE_MS);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/#token=${token}`);
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');

    await page.waitForFunction(() => document.querySelectorAll('#devices tbody tr').length >= 10);
    await page.waitForFunction(() => document.getElementById('t-total').textContent !== '–');
    assert.equal(Number(await page.textContent('#t-total')), 12);
    assert.match(await page.textContent('#t-throughput'), /Mbit\/s/);
    assert.match(await page.textContent('#connection'), /live/);

    const row = page.locator('#devices tbody tr').first();
    const ip = await row.getAttribute('data-ip');
    await row.locator('button[data-action="block"]').click();
    await page.waitForFunction((target) => {
      const tr = document.querySelector(`#devices tbody tr[data-ip="${target}"]`);
      return tr && tr.querySelector('.badge').textContent === 'Blocked';
    }, ip);
    const devices = await (await fetch(`${base}/api/devices`)).json();
    const unblockShown = await page.evaluate((target) =>
      !document.querySelector(`#devices tbody tr[data-ip="${target}"] button[data-action="unblock"]`).hidden, ip);
    assert.ok(unblockShown, 'a Blocked device offers Unblock');
    await page.waitForFunction(() => document.querySelectorAll('#events li').length > 0);
    assert.doesNotMatch(await page.textContent('#events'), /Invalid Date/);
    const device = devices.devices.find((d) => d.ip === ip);
    assert.equal(device.priority, 0, 'the original API\'s number: 0 is Blocked');
    assert.equal(device.priority_name, 'Blocked');
    const blocked = await (await fetch(`${base}/api/blocked`)).json();
    assert.ok(blocked.blocked.some((b) => b.ip === ip));

    // The filter narrows the table to matching devices.
    await page.fill('#filter', 'Blocked');
    await page.waitForFunction(() => document.querySelectorAll('#devices tbody tr').length === 1);
    await page.fill('#filter', '');
    // The screenshot once the charts are drawn: a live line of a few points
    // and the stacked bars (charts redraw once a second from the stream).
    await page.waitForFunction(() => {
      const line = document.querySelector('#live-chart .scatterlayer path.js-line');
      const bars = document.querySelectorAll('#stack-chart .barlayer .point');
      return line && (line.getAttribute('d') || '').split('L').length >= 3 && bars.length > 0;
    }, null, { polling: 100 });
    mkdirSync(join(here, 'screenshots'), { recursive: true });
    const shot = join(here, 'screenshots', 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    copyFileSync(shot, join(repo, 'docs', 'dashboard.png'));
    assert.deepEqual(errors, [], 'no script errors in the page');
  } finally {
    await browser.close();
  }
});

test('dashboard stays usable with 1,000 devices', { skip: skipReason ?? false, timeout: 4 * PATIENCE_MS }, async () => {
  const big = await startAgent(1000);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.setDefaultTimeout(PATIENCE_MS);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(big.url);
    await page.waitForFunction(() => /of [0-9]{3,4} devices/.test(document.getElementById('device-count').textContent),
      null, { polling: 100 });
    assert.equal(await page.locator('#devices tbody tr').count(), 100, 'one page of 100 rows, not 1,000');
    assert.match(await page.textContent('#page'), /page 1 \/ 10/);
    await page.click('#next');
    await page.waitForFunction(() => document.getElementById('page').textContent.startsWith('page 2'), null, { polling: 100 });
    await page.fill('#filter', '10.77.2.2');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#devices tbody tr')];
      return rows.length > 0 && rows.length < 100 && rows.every((r) => r.dataset.ip.includes('10.77.2.2'));
    }, null, { polling: 100 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    big.child.kill('SIGTERM');
    rmSync(big.dir, { recursive: true, force: true });
  }
});

// Opens one /api/stream from this process and resolves once it is admitted
// (its 200 head arrived); the caller ends it with .destroy().
function holdStream(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/api/stream`, { agent: false, localAddress: '127.0.0.1' }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`stream refused: ${res.statusCode}`));
      res.on('data', () => {});
      res.on('error', () => {});
      resolve(req);
    });
    req.on('error', () => {});  // evicted later by the dashboard's own retry
  });
}

// Paths the page requested, in order, and the connection badge's texts.
async function watchPage(page) {
  const seen = { requests: [], states: [] };
  page.on('request', (r) => seen.requests.push(new URL(r.url()).pathname));
  await page.exposeFunction('recordState', (text) => seen.states.push(text));
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      const badge = document.getElementById('connection');
      new MutationObserver(() => window.recordState(badge.textContent))
        .observe(badge, { childList: true, characterData: true, subtree: true });
    });
  });
  return seen;
}

// After request number `from`, did the page poll (GET /api/devices) and
// then ask for the stream again? The page polls in its error handler and
// asks for the stream only from a retry timer, so this order is the code's.
function polledThenRetried(requests, from) {
  const later = requests.slice(from);
  const poll = later.indexOf('/api/devices');
  return poll !== -1 && later.indexOf('/api/stream', poll + 1) !== -1;
}

test('dashboard polls at once when its stream fails and returns to the stream', { skip: skipReason ?? false, timeout: 4 * PATIENCE_MS },
  async () => {
    const browser = await launchBrowser();
    const held = [];
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const seen = await watchPage(page);

      // 1. The first stream is refused (as a full agent once did): the
      // browser's EventSource gives up on a 503, the page must not.
      let refusals = 1;
      await page.route('**/api/stream', (route) => {
        if (refusals > 0) {
          refusals -= 1;
          return route.fulfill({ status: 503, contentType: 'application/json', body: '{"ok":false,"error":"busy"}' });
        }
        return route.fallback();
      });
      await page.goto(base);
      await waitFor(() => polledThenRetried(seen.requests, 0), 'a poll, then a new stream, after the refusal');
      await page.waitForFunction(() => document.getElementById('connection').textContent === 'live', null, { timeout: PATIENCE_MS });
      await page.unroute('**/api/stream');

      // 2. Other streams from the same address overrun its share (16 streams):
      // the dashboard's, older than all of them, is evicted. It polls,
      // retries, and its retry evicts the oldest of those instead. Twice the
      // share, so streams an earlier test left behind cannot shield it.
      const mark = seen.requests.length;
      const statesMark = seen.states.length;
      for (let i = 0; i < 32; i++) held.push(await holdStream(base));
      await waitFor(() => seen.states.slice(statesMark).some((s) => s !== 'live'), 'the dashboard to lose its stream');
      await waitFor(() => polledThenRetried(seen.requests, mark), 'a poll, then a new stream, after the eviction');
      await page.waitForFunction(() => document.getElementById('connection').textContent === 'live', null, { timeout: PATIENCE_MS });
      assert.deepEqual(errors, [], 'no script errors in the page');
    } finally {
      for (const req of held) req.destroy();
      await browser.close();
    }
  });
