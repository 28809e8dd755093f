// Shared helpers for the dashboard's browser tests: playwright-core (from
// npm, in the repository's node_modules: `npm install --no-save
// playwright-core@1`) driving Debian's /usr/bin/chromium headless.  Each
// test script prints one line per check, "check NAME ok" or "check NAME
// fail: WHY", which its .t turns into TAP points.
import { chromium } from 'playwright-core';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const env = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`set ${name}`);
  }
  return v;
};

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-default-apps',
      '--disable-extensions', '--metrics-recording-only',
      '--no-default-browser-check'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // a dialog means a script ran that should not have (XSS)
  page.dialogs = [];
  page.on('dialog', (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return { browser, context, page };
}

// Sign in through the form; resolves with the page's URL afterwards.
export async function login(page, url, token, next) {
  await page.goto(url + '/login' + (next ? '?next=' + encodeURIComponent(next) : ''));
  await page.fill('#token', token);
  await Promise.all([page.waitForLoadState('load'), page.click('form.login button[type=submit]')]);
  return page.url();
}

let failures = 0;
// check NAME FN: runs FN (async, returns true or a string saying why not)
export async function check(name, fn) {
  let r;
  try {
    r = await fn();
  } catch (e) {
    r = String(e && e.message ? e.message : e).split('\n')[0];
  }
  if (r === true) console.log(`check ${name} ok`);
  else {
    failures++;
    console.log(`check ${name} fail: ${r}`);
  }
}
export const failed = () => failures;

// A screenshot into SHOTS (the test's temp dir), copied to SHOTS_COPY
// when set (for people to look at).
export async function shot(page, name) {
  const dir = env('SHOTS');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.SHOTS_COPY) {
    mkdirSync(process.env.SHOTS_COPY, { recursive: true });
    copyFileSync(file, join(process.env.SHOTS_COPY, name + '.png'));
  }
  return file;
}

// The API as the test's admin token.
export async function api(url, token, method, path, body) {
  const r = await fetch(url + path, {
    method,
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: r.status, json, text };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
