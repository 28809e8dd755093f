// The dashboard's run pages in a real browser (tests/e2e/7001-web-runs.t):
// sign-in, the runs list and its filter, a run's job graph, folded
// groups, escaping, live follow of a running job, the run page's own
// refresh, sign-out.  Env: URL, TOKEN (admin), RUN_CI (a completed run of
// ci.yml), RUN_FAIL (a failed run), REPO (for dispatching slow.yml),
// SHOTS (screenshot dir), SHOTS_COPY (optional second copy).
import { api, check, env, failed, launch, login, shot, sleep } from './lib.mjs';

const URL = env('URL');
const TOKEN = env('TOKEN');
const RUN_CI = env('RUN_CI');
const RUN_FAIL = env('RUN_FAIL');
const REPO = env('REPO', 'app');

const { browser, context, page } = await launch();
const textOf = (sel) => page.$eval(sel, (e) => e.textContent);

try {
  await check('login-bad', async () => {
    const at = await login(page, URL, '0'.repeat(64), '/runs');
    if (!at.includes('/login')) return 'left the sign-in page: ' + at;
    const msg = await textOf('#login-error');
    return /not valid/.test(msg) || 'no error shown: ' + msg;
  });

  await check('login-good', async () => {
    const at = await login(page, URL, TOKEN, '/runs');
    if (!at.endsWith('/runs')) return 'landed on ' + at;
    const rows = await page.$$eval('table.runs tbody tr', (r) => r.length);
    await shot(page, 'runs-list');
    return rows >= 2 || `${rows} rows`;
  });

  await check('runs-filter', async () => {
    await page.selectOption('select[name=conclusion]', 'failure');
    await Promise.all([page.waitForLoadState('load'),
      page.click('form.filters button[type=submit]')]);
    if (!page.url().includes('conclusion=failure')) return 'url ' + page.url();
    const rows = await page.$$eval('table.runs tbody tr', (r) =>
      r.map((x) => [x.getAttribute('data-run'), x.querySelector('.badge').textContent]));
    if (!rows.length) return 'no rows';
    if (rows.some(([, b]) => b !== 'failure')) return 'rows ' + JSON.stringify(rows);
    if (!rows.some(([id]) => id === RUN_FAIL)) return `run ${RUN_FAIL} missing`;
    return !rows.some(([id]) => id === RUN_CI) || `run ${RUN_CI} shown`;
  });

  await check('run-dag', async () => {
    await page.goto(`${URL}/runs/${RUN_CI}`);
    const nodes = await page.$$eval('svg.dag g.n', (g) =>
      g.map((x) => x.getAttribute('data-id') + ':' + x.getAttribute('class')).sort());
    const want = ['build:n n-success', 'deploy:n n-success', 'lint:n n-success',
      'test:n n-success'];
    if (JSON.stringify(nodes) !== JSON.stringify(want)) return 'nodes ' + JSON.stringify(nodes);
    const edges = await page.$$eval('svg.dag path.e', (p) =>
      p.map((x) => x.getAttribute('data-from') + '>' + x.getAttribute('data-to')).sort());
    const wantE = ['build>deploy', 'lint>build', 'lint>test', 'test>deploy'];
    if (JSON.stringify(edges) !== JSON.stringify(wantE)) return 'edges ' + JSON.stringify(edges);
    const box = await page.$eval('svg.dag', (s) => s.getBoundingClientRect().width);
    await shot(page, 'run-page');
    return box > 400 || 'graph width ' + box;
  });

  await check('xss', async () => {
    const names = await page.$$eval('.card.job h3', (h) => h.map((x) => x.textContent));
    if (!names.some((n) => n.includes('test <script>alert(1)</script>')))
      return 'job name not shown as text: ' + JSON.stringify(names);
    if (page.dialogs.length) return 'a dialog opened: ' + page.dialogs.join(', ');
    const scripts = await page.$$eval('script', (s) => s.map((x) => x.src || 'inline'));
    return JSON.stringify(scripts) === JSON.stringify([URL + '/static/app.js']) ||
      'scripts ' + JSON.stringify(scripts);
  });

  await check('log-group', async () => {
    const href = await page.$eval('.card.job[data-key=test] a[href*="logs?job="]',
      (a) => a.getAttribute('href'));
    await page.goto(URL + href);
    const d = page.locator('#logview details').first();
    if (!(await d.count())) return 'no <details> in the log';
    if (await d.evaluate((x) => x.open)) return 'the group is open';
    const summary = await d.locator('summary').textContent();
    if (summary !== 'Setup things') return 'summary ' + summary;
    const inner = page.locator('#logview details .ln', { hasText: 'inside the group' });
    if (await inner.isVisible()) return 'the folded line is visible';
    await d.locator('summary').click();
    if (!(await inner.isVisible())) return 'the line did not show after a click';
    const xss = await page.locator('#logview .ln', { hasText: "<script>alert('x')</script> printed" }).count();
    if (xss !== 1) return 'the <script> log line is not shown as text';
    await shot(page, 'log-group');
    return page.dialogs.length === 0 || 'a dialog opened';
  });

  // --- live: a job printing a line every 0.3 s ---
  const d = await api(URL, TOKEN, 'POST', `/api/v1/repos/${REPO}/workflows/slow.yml/dispatches`, {});
  const slow = d.json && d.json.runs && d.json.runs[0] && d.json.runs[0].id;
  const runStatus = async () => (await api(URL, TOKEN, 'GET', `/api/v1/runs/${slow}`)).json.status;
  const ticks = () => page.$$eval('#logview .ln', (l) =>
    l.map((x) => x.lastChild && x.lastChild.textContent).filter((t) => /^tick \d+$/.test(t || '')));
  let runPage = null;
  await check('live-follow', async () => {
    if (!slow) return 'dispatch failed: ' + d.text;
    for (let i = 0; i < 100 && (await runStatus()) !== 'running'; i++) await sleep(50);
    runPage = await context.newPage();
    await runPage.goto(`${URL}/runs/${slow}`);
    await page.goto(`${URL}/runs/${slow}/logs`);
    await page.waitForFunction(() =>
      /Following live/.test((document.getElementById('live-status') || {}).textContent || ''),
    null, { timeout: 5000 });
    const first = (await ticks()).length;
    await sleep(1500);
    const second = (await ticks()).length;
    const st = await runStatus();
    await shot(page, 'log-live');
    if (st !== 'running') return `the run is ${st} already (ticks ${first} then ${second})`;
    return second > first || `no new line in 1.5 s (${first} then ${second})`;
  });

  await check('live-group', async () => {
    await page.waitForFunction(() => [...document.querySelectorAll('#logview details summary')]
      .some((s) => s.textContent === 'Details'), null, { timeout: 10000 });
    const inner = page.locator('#logview details .ln', { hasText: 'detail one' });
    if ((await inner.count()) !== 1) return 'the group\'s lines are not inside it';
    return !(await inner.isVisible()) || 'the live group is not folded';
  });

  await check('live-end', async () => {
    await page.waitForSelector('#logview[data-ended]', { timeout: 20000 });
    const ended = await page.$eval('#logview', (v) => v.getAttribute('data-ended'));
    const status = await textOf('#live-status');
    const t = await ticks();
    const want = Array.from({ length: 20 }, (_, i) => 'tick ' + (i + 1));
    await shot(page, 'log-done');
    if (ended !== 'success' || !/completed: success/.test(status))
      return `ended ${ended}, status '${status}'`;
    return JSON.stringify(t) === JSON.stringify(want) || 'ticks ' + JSON.stringify(t);
  });

  await check('run-live', async () => {
    if (!runPage) return 'no run page';
    await runPage.waitForFunction(() =>
      (document.getElementById('run-badge') || {}).textContent === 'success',
    null, { timeout: 10000 });
    return !(await runPage.$('#run-live')) || 'still live after the end';
  });

  await check('logout', async () => {
    await page.goto(`${URL}/runs`);
    await Promise.all([page.waitForLoadState('load'), page.click('header form button')]);
    if (!page.url().endsWith('/login')) return 'after sign-out: ' + page.url();
    const cookies = await context.cookies();
    if (cookies.some((c) => c.name === 'ferry_session')) return 'the session cookie is still there';
    await page.goto(`${URL}/runs/${RUN_CI}`);
    return page.url().includes('/login?next=') || 'not sent to sign in: ' + page.url();
  });

  await check('no-script-errors', async () =>
    page.errors.length === 0 || 'errors: ' + page.errors.join('; '));
} finally {
  await browser.close();
}
process.exit(failed() ? 1 : 0);
