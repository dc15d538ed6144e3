// End-to-end: a person sets Kith up, signs in, creates clients, filters the list and opens a
// client, in headless Chromium against the real `kith serve` binary on SQLite.
//
// KITH_BIN points at the binary (default: ../../target/debug/kith). Screenshots land in
// ../../target/browser-screenshots for a human to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');
const bin = process.env.KITH_BIN ?? join(root, 'target', 'debug', 'kith');
const shots = join(root, 'target', 'browser-screenshots');
const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];

let server;
let browser;
let base;
let dataDir;

function freePort() {
  return new Promise((done, fail) => {
    const probe = net.createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

async function waitUntilUp(url, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      const reply = await fetch(`${url}/healthz`);
      if (reply.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`kith did not answer on ${url} within ${seconds}s`);
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'kith-browser-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve'], {
    env: { ...process.env, KITH_DATA_DIR: dataDir, KITH_LISTEN: `127.0.0.1:${port}`, KITH_LOG: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitUntilUp(base);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

test('a new user sets up Kith, creates clients, filters the list and opens a client', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const cspViolations = [];
  page.on('console', (message) => {
    if (message.type() === 'error') cspViolations.push(message.text());
  });

  // First run sends the visitor to setup.
  await page.goto(`${base}/crm/clients`);
  assert.match(page.url(), /\/setup$/);
  await page.screenshot({ path: join(shots, '01-setup.png'), fullPage: true });
  await page.fill('#workspace', 'Northwind MSP');
  await page.fill('#currency', 'GBP');
  await page.fill('#country', 'GB');
  await page.fill('#time_zone', 'Europe/London');
  await page.fill('#name', 'Jordan Lee');
  await page.fill('#email', 'jordan@northwind.example');
  await page.fill('#password', 'correct horse battery');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
  assert.equal(await page.textContent('h1'), 'Good to see you, Jordan Lee');

  // Sign out and back in.
  await page.click('text=Sign out');
  await page.waitForURL(/\/login$/);
  await page.screenshot({ path: join(shots, '02-login.png') });
  await page.fill('#email', 'jordan@northwind.example');
  await page.fill('#password', 'correct horse battery');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);

  // Two clients in different industries.
  for (const [name, industry, lifecycle] of [['Contoso Clinic', 'Medical', 'Customer'], ['Fabrikam Stores', 'Retail', 'Prospect']]) {
    await page.goto(`${base}/crm/clients/new`);
    await page.fill('#name', name);
    await page.selectOption('#industry', industry);
    await page.selectOption('#lifecycle', lifecycle);
    await page.fill('#tags', 'north, managed');
    if (name === 'Contoso Clinic') await page.screenshot({ path: join(shots, '03-client-form.png'), fullPage: true });
    await page.click('button.primary');
    await page.waitForURL(/\/crm\/clients\/\d+$/);
    assert.equal(await page.textContent('h1'), name);
  }

  // The list shows both; the industry filter narrows it live and keeps it in the URL.
  await page.goto(`${base}/crm/clients`);
  assert.equal(await page.locator('#results tbody tr').count(), 2);
  await page.selectOption('select[name=industry]', 'Medical');
  await page.waitForURL(/industry=Medical/);
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 1);
  assert.equal((await page.textContent('#results tbody tr td a')).trim(), 'Contoso Clinic');
  assert.equal(await page.textContent('.pager .total'), '1');
  await page.screenshot({ path: join(shots, '04-client-list-filtered.png'), fullPage: true });

  // Typing a search keeps the industry filter and combines with it.
  await page.fill('input[name=search]', 'fabrikam');
  await page.waitForURL(/search=fabrikam/);
  await page.waitForFunction(() => document.querySelector('#results td.empty') !== null);

  // Reloading the filtered URL gives the same list; opening the client shows its page.
  await page.goto(`${base}/crm/clients?industry=Medical`);
  await page.click('#results tbody tr td a');
  await page.waitForURL(/\/crm\/clients\/\d+$/);
  assert.equal(await page.textContent('h1'), 'Contoso Clinic');
  assert.match(await page.textContent('.facts'), /Medical/);
  await page.screenshot({ path: join(shots, '05-client-page.png'), fullPage: true });

  // A contact at the client, picked with the suggestion box.
  await page.click('text=Add contact');
  await page.fill('#first_name', 'Priya');
  await page.fill('#last_name', 'Shah');
  await page.fill('#email', 'priya.shah@contoso.example');
  await page.fill('input[name=phone_number] >> nth=0', '020 7946 0018');
  await page.screenshot({ path: join(shots, '06-contact-form.png'), fullPage: true });
  await page.click('button.primary');
  await page.waitForURL(/\/crm\/contacts\/\d+$/);
  assert.match(await page.textContent('.facts'), /\+442079460018/);
  await page.screenshot({ path: join(shots, '07-contact-page.png'), fullPage: true });

  assert.deepEqual(cspViolations, [], 'no console errors (a CSP violation would show here)');
  await page.close();
});

test('a deal dragged into a won stage gets a close date and both columns\' totals change; moving it back clears it', async () => {
  // An API token from the CLI, as a script would get one, to create the deal.
  const made = spawnSync(bin, ['token', 'create', '--user', 'jordan@northwind.example', '--name', 'e2e'], {
    // The default log level: logs go to stderr, so stdout is the token alone.
    env: { ...process.env, KITH_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, made.stderr);
  const token = made.stdout.trim();
  assert.match(token, /^kith_[A-Za-z0-9_-]+$/, `stdout holds only the token: ${JSON.stringify(made.stdout)}`);
  const created = await fetch(`${base}/api/v1/deals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Managed backup', value: 250000 }),
  });
  const deal = await created.json();
  assert.equal(created.status, 201, JSON.stringify(deal));
  const stages = await (await fetch(`${base}/api/v1/stages`, { headers: { authorization: `Bearer ${token}` } })).json();
  const won = stages.items.find((s) => s.is_won);
  const qualified = stages.items.find((s) => s.name === 'Qualified');

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${base}/login`);
  await page.fill('#email', 'jordan@northwind.example');
  await page.fill('#password', 'correct horse battery');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);

  await page.goto(`${base}/crm/pipeline`);
  const head = (stage) => page.locator(`#column-head-${stage.id}`);
  assert.match(await head(qualified).textContent(), /GBP 2,500\.00\s+weighted\s+GBP 250\.00/);
  assert.match(await head(won).textContent(), /No deals/);
  await page.screenshot({ path: join(shots, '08-pipeline.png'), fullPage: true });

  // Drag the card into the won column.
  const card = page.locator(`li.card[data-deal="${deal.id}"] .card-title`);
  const target = page.locator(`ol.cards[data-stage="${won.id}"]`);
  const from = await card.boundingBox();
  const to = await target.boundingBox();
  await page.mouse.move(from.x + 10, from.y + 5);
  await page.mouse.down();
  await page.mouse.move(from.x + 30, from.y + 20, { steps: 5 });
  await page.mouse.move(to.x + to.width / 2, to.y + 20, { steps: 15 });
  await page.mouse.up();

  await page.waitForFunction((id) => /1/.test(document.querySelector(`#column-head-${id} .count`).textContent), won.id);
  assert.match(await head(won).textContent(), /GBP 2,500\.00\s+weighted\s+GBP 2,500\.00/);
  assert.match(await head(qualified).textContent(), /No deals/);
  const today = new Date().toISOString().slice(0, 10);
  assert.match(await page.locator(`li.card[data-deal="${deal.id}"]`).textContent(), new RegExp(`Closed ${today}`));
  await page.screenshot({ path: join(shots, '09-pipeline-won.png'), fullPage: true });

  // Move it back with the keyboard-usable control on the card.
  await page.selectOption(`#move-${deal.id}`, String(qualified.id));
  await page.click(`li.card[data-deal="${deal.id}"] button`);
  await page.waitForFunction((id) => /No deals/.test(document.querySelector(`#column-head-${id}`).textContent), won.id);
  assert.match(await head(qualified).textContent(), /GBP 2,500\.00\s+weighted\s+GBP 250\.00/);
  assert.doesNotMatch(await page.locator(`li.card[data-deal="${deal.id}"]`).textContent(), /Closed/);

  const stored = await (await fetch(`${base}/api/v1/deals/${deal.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
  assert.equal(stored.close_date, null);
  assert.equal(stored.stage_name, 'Qualified');
  assert.equal(stored.version, 3);
  assert.deepEqual(consoleErrors, [], 'no console errors (a CSP violation would show here)');
  await page.close();
});

test('a call logged on a client and completed with a follow-up for tomorrow shows under My follow-ups', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${base}/login`);
  await page.fill('#email', 'jordan@northwind.example');
  await page.fill('#password', 'correct horse battery');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);

  // From the client's page: log a call, still to do.
  await page.goto(`${base}/crm/clients`);
  await page.click('text=Contoso Clinic');
  await page.waitForURL(/\/crm\/clients\/\d+$/);
  await page.click('#timeline >> text=Log activity');
  await page.waitForURL(/\/crm\/activities\/new\?client=\d+$/);
  assert.match(await page.inputValue('#client'), /^Contoso Clinic \(#\d+\)$/);
  await page.selectOption('#type', 'Call');
  await page.fill('#subject', 'Renewal check-in call');
  await page.fill('#outcome', 'Wants a quote for more seats');
  await page.screenshot({ path: join(shots, '11-activity-form.png'), fullPage: true });
  await page.click('button.primary');
  await page.waitForURL(/\/crm\/activities\/\d+$/);
  assert.equal(await page.textContent('h1'), 'Renewal check-in call');
  assert.match(await page.textContent('#activity-status'), /Completed/);

  // Reopen it, then complete it with a follow-up for tomorrow in the user's zone (London).
  await page.click('button:has-text("Reopen")');
  await page.waitForSelector('#complete-form');
  assert.equal(await page.inputValue('#follow_up_date'), '', 'a follow-up is asked for, not assumed');
  const londonToday = new Date().toLocaleDateString('en-CA', { timeZone: 'Europe/London' });
  const next = new Date(`${londonToday}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  const tomorrow = next.toISOString().slice(0, 10);
  await page.screenshot({ path: join(shots, '12-activity-complete.png'), fullPage: true });
  await page.click('#follow-up-tomorrow');
  await page.waitForURL(/\/crm\/activities\/\d+$/);
  assert.equal(await page.textContent('h1'), 'Follow-up: Renewal check-in call');
  assert.match(await page.textContent('#activity-status'), /Upcoming/);

  // Home: the follow-up is under "Next 7 days".
  await page.click('nav >> text=Home');
  await page.waitForURL(`${base}/`);
  const week = page.locator('#follow-ups-upcoming');
  assert.match(await week.textContent(), /Follow-up: Renewal check-in call/);
  const [year, month, day] = tomorrow.split('-').map(Number);
  const shown = new Date(Date.UTC(year, month - 1, day)).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  assert.match(await week.textContent(), new RegExp(`due ${shown}`));
  await page.screenshot({ path: join(shots, '13-my-follow-ups.png'), fullPage: true });

  // The client's timeline lists both, newest first.
  await page.goto(`${base}/crm/clients`);
  await page.click('text=Contoso Clinic');
  const timeline = await page.textContent('#timeline');
  assert.ok(timeline.indexOf('Follow-up: Renewal check-in call') < timeline.indexOf('Renewal check-in call', timeline.indexOf('Follow-up: Renewal check-in call') + 30), timeline);

  assert.deepEqual(consoleErrors, []);
  await page.close();
});
