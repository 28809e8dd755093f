// The dashboard's delivery pages in a real browser, against a real
// `ferry serve` that 7002-web-cd.t set up: a production environment that
// needs one approver, and a workflow whose job deploys through
// ferry/deploy's script target.  An approver approves and rejects with
// the pages' forms, a developer sees no buttons and a forged POST of
// theirs is refused, /environments shows the current version, a bad
// version's rollback shows up as an incident with its timeline, and the
// DORA page shows what GET /api/v1/dora says.
//
// env: URL, ADMIN, ALICE (approver), DAN (developer), REPO, SHOTS,
// SHOTS_COPY (optional).  Prints "check NAME ok|fail: why" lines.
import { api, check, env, failed, launch, login, shot, sleep } from './lib.mjs';

const URL = env('URL');
const ADMIN = env('ADMIN');
const ALICE = env('ALICE');
const DAN = env('DAN');
const REPO = env('REPO', 'app');

const XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
const admin = (method, path, body) => api(URL, ADMIN, method, path, body);

// until FN returns a truthy value (then that), or throw after SECS
async function until(what, secs, fn) {
  const end = Date.now() + secs * 1000;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function dispatch(version) {
  const r = await admin('POST', `/api/v1/repos/${REPO}/workflows/cd.yml/dispatches`,
    { ref: 'main', inputs: { version } });
  if (r.status !== 201) throw new Error(`dispatch ${version}: ${r.status} ${r.text}`);
  return r.json.runs[0].id;
}

// the deployment of run RUN, once it waits for approval
async function waitingDeployment(run) {
  return until(`the deployment of run ${run} to wait`, 30, async () => {
    const r = await admin('GET', `/api/v1/deployments?repo=${REPO}`);
    const d = (r.json?.deployments || []).find((x) => x.run_id === run);
    return d && d.status === 'waiting' ? d.id : null;
  });
}

const FINAL = ['success', 'failure', 'failed', 'rolled_back', 'escalated',
  'rejected', 'timed_out', 'cancelled'];
async function finalStatus(dep, secs = 60) {
  return until(`deployment ${dep} to end`, secs, async () => {
    const r = await admin('GET', `/api/v1/deployments/${dep}`);
    return FINAL.includes(r.json?.status) ? r.json.status : null;
  });
}

async function runConclusion(run, secs = 60) {
  return until(`run ${run} to complete`, secs, async () => {
    const r = await admin('GET', `/api/v1/runs/${run}`);
    return r.json?.status === 'completed' ? r.json.conclusion : null;
  });
}

const text = async (page, sel) => ((await page.locator(sel).first().textContent()) || '').trim();

// the session's CSRF token: the hidden input of the page's logout form
const csrfOf = (page) => page.locator('input[name=csrf]').first().getAttribute('value');

const { browser, context, page } = await launch();
const devCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const dev = await devCtx.newPage();
dev.errors = [];
dev.on('pageerror', (e) => dev.errors.push(String(e)));

let dep1, dep2, dep3, dep4, run1, run2, run4, incident;

try {
  await login(page, URL, ALICE, '/approvals');
  await login(dev, URL, DAN, '/approvals');

  // ---------- v1: approved with the form on /approvals ----------
  run1 = await dispatch('v1');
  dep1 = await waitingDeployment(run1);
  await check('approvals-lists-waiting', async () => {
    await page.goto(URL + '/approvals');
    const row = page.locator(`#approval-${dep1}`);
    if ((await row.count()) !== 1) return `no row #approval-${dep1}`;
    const t = (await row.textContent()) || '';
    if (!t.includes('production')) return `the row lacks the environment: ${t}`;
    if (!t.includes(`run ${run1}`)) return `the row lacks run ${run1}: ${t}`;
    const tmo = await text(page, `#timeout-${dep1}`);
    if (!/^in \d/.test(tmo)) return `timeout cell says '${tmo}'`;
    if ((await page.locator(`#approve-${dep1}`).count()) !== 1) return 'no approve button';
    await shot(page, 'cd-approvals');
    return true;
  });
  await check('approve-with-the-form', async () => {
    await page.fill(`#review-${dep1} textarea[name=comment]`, 'ship it');
    await Promise.all([page.waitForURL(/\/deployments\/\d+\?review=approved$/),
      page.click(`#approve-${dep1}`)]);
    if (!page.url().endsWith(`/deployments/${dep1}?review=approved`)) return `at ${page.url()}`;
    const note = await text(page, '#review-outcome');
    if (!note.startsWith('You approved')) return `outcome says '${note}'`;
    return true;
  });
  await check('approved-deployment-succeeds', async () => {
    const st = await finalStatus(dep1);
    const c = await runConclusion(run1);
    const d = (await admin('GET', `/api/v1/deployments/${dep1}`)).json;
    if (st !== 'success' || c !== 'success') return `deployment ${st}, run ${c}`;
    if (d.approved_by !== 'alice') return `approved_by ${d.approved_by}`;
    if (!d.approvals.some((a) => a.user === 'alice' && a.comment === 'ship it'))
      return 'the comment was not kept';
    return true;
  });
  await check('deployment-page-shows-success', async () => {
    await page.goto(`${URL}/deployments/${dep1}`);
    const st = await text(page, '#deployment-status');
    const v = await text(page, '#deployment-version');
    const by = await text(page, '#deployment-approved-by');
    if (st !== 'success' || v !== 'v1' || by !== 'alice') return `status '${st}' version '${v}' by '${by}'`;
    if ((await page.locator('#deployment-phases li').count()) < 2) return 'no phase timeline';
    if ((await page.locator('svg#phase-durations rect').count()) < 1) return 'no phase chart';
    if (!(await text(page, '#deployment-approvals')).includes('ship it')) return 'no approval comment';
    await shot(page, 'cd-deployment-success');
    return true;
  });

  // ---------- v2: a developer cannot, alice rejects ----------
  run2 = await dispatch('v2');
  dep2 = await waitingDeployment(run2);
  await check('developer-sees-no-buttons', async () => {
    await dev.goto(URL + '/approvals');
    if ((await dev.locator(`#approval-${dep2}`).count()) !== 1) return 'the developer does not see the row';
    if ((await dev.locator(`#approve-${dep2}, #reject-${dep2}, #review-${dep2}`).count()) !== 0)
      return 'the developer has review buttons';
    const why = await text(dev, `#approval-${dep2} .cd-cannot`);
    if (!why.includes('approver')) return `no reason given: '${why}'`;
    await shot(dev, 'cd-approvals-developer');
    return true;
  });
  await check('developer-forged-post-403', async () => {
    const csrf = await csrfOf(dev);
    if (!csrf || csrf.length !== 64) return `no csrf on the developer's page (${csrf})`;
    const r = await dev.request.post(`${URL}/deployments/${dep2}/review`,
      { form: { csrf, decision: 'approve', comment: 'sneaky' }, maxRedirects: 0 });
    if (r.status() !== 403) return `status ${r.status()}`;
    const body = await r.text();
    if (!body.includes('approver role')) return `the page does not say why: ${body.slice(0, 200)}`;
    const d = (await admin('GET', `/api/v1/deployments/${dep2}`)).json;
    if (d.status !== 'waiting' || d.approvals.length !== 0) return `deployment is ${d.status}`;
    return true;
  });
  await check('post-without-csrf-403', async () => {
    const r = await page.request.post(`${URL}/deployments/${dep2}/review`,
      { form: { decision: 'approve' }, maxRedirects: 0 });
    const d = (await admin('GET', `/api/v1/deployments/${dep2}`)).json;
    return r.status() === 403 && d.status === 'waiting' ? true : `status ${r.status()}, deployment ${d.status}`;
  });
  await check('reject-with-the-form', async () => {
    await page.goto(URL + '/approvals');
    await page.fill(`#review-${dep2} textarea[name=comment]`, 'not today');
    await Promise.all([page.waitForURL(/review=rejected$/), page.click(`#reject-${dep2}`)]);
    const st = await text(page, '#deployment-status');
    const reason = await text(page, '#deployment-reason');
    if (st !== 'rejected') return `status '${st}'`;
    if (!reason.includes("rejected by 'alice': not today")) return `reason '${reason}'`;
    const c = await runConclusion(run2);
    if (c !== 'failure') return `run ${c}`;
    await shot(page, 'cd-deployment-rejected');
    return true;
  });
  await check('second-review-409', async () => {
    const csrf = await csrfOf(page);
    const r = await page.request.post(`${URL}/deployments/${dep2}/review`,
      { form: { csrf, decision: 'approve' }, maxRedirects: 0 });
    const body = await r.text();
    return r.status() === 409 && body.includes('not waiting for approval') ? true
      : `status ${r.status()}: ${body.slice(0, 200)}`;
  });
  await check('bad-decision-422', async () => {
    const csrf = await csrfOf(page);
    const r = await page.request.post(`${URL}/deployments/${dep2}/review`,
      { form: { csrf, decision: 'maybe' }, maxRedirects: 0 });
    return r.status() === 422 ? true : `status ${r.status()}`;
  });

  // ---------- v3: approved from the deployment's own page ----------
  const run3 = await dispatch('v3');
  dep3 = await waitingDeployment(run3);
  await check('approve-from-deployment-page', async () => {
    await page.goto(`${URL}/deployments/${dep3}`);
    await page.fill(`#review-${dep3} textarea[name=comment]`, XSS);
    await Promise.all([page.waitForURL(/review=approved$/), page.click(`#approve-${dep3}`)]);
    const st = await finalStatus(dep3);
    if (st !== 'success') return `deployment ${st}`;
    // the comment is shown as text, never run
    await page.goto(`${URL}/deployments/${dep3}`);
    const shown = await text(page, '#deployment-approvals');
    if (!shown.includes(XSS)) return `the comment shows as '${shown}'`;
    if ((await page.locator('#deployment-approvals img').count()) !== 0) return 'markup got through';
    return page.dialogs.length === 0 ? true : `a script ran: ${page.dialogs}`;
  });
  await check('environments-current-version', async () => {
    await page.goto(URL + '/environments');
    const cur = await text(page, `#env-${REPO}-production-current`);
    const prev = await text(page, `#env-${REPO}-production-previous`);
    const e = (await admin('GET', `/api/v1/repos/${REPO}/environments/production`)).json;
    if (cur !== 'v3' || prev !== 'v1') return `current '${cur}', previous '${prev}'`;
    if (e.current?.version !== cur || e.previous?.version !== prev)
      return `the API says current ${e.current?.version}, previous ${e.previous?.version}`;
    const rules = await text(page, `#env-${REPO}-production .cd-rules`);
    if (!rules.includes('1 approval')) return `rules '${rules}'`;
    await shot(page, 'cd-environments');
    return true;
  });
  await check('deployments-filter', async () => {
    await page.goto(`${URL}/deployments?status=rejected`);
    const has2 = await page.locator(`#deployment-${dep2}`).count();
    const has3 = await page.locator(`#deployment-${dep3}`).count();
    return has2 === 1 && has3 === 0 ? true : `rejected filter shows ${dep2}:${has2} ${dep3}:${has3}`;
  });

  // ---------- v4-bad: verify fails, rolled back, an incident ----------
  run4 = await dispatch('v4-bad');
  dep4 = await waitingDeployment(run4);
  await check('bad-version-rolled-back', async () => {
    await page.goto(URL + '/approvals');
    await Promise.all([page.waitForURL(/review=approved$/), page.click(`#approve-${dep4}`)]);
    const st = await finalStatus(dep4);
    const c = await runConclusion(run4);
    if (st !== 'rolled_back' || c !== 'failure') return `deployment ${st}, run ${c}`;
    const list = (await admin('GET', `/api/v1/incidents?repo=${REPO}`)).json.incidents;
    const i = list.find((x) => x.deployment_id === dep4);
    if (!i) return 'no incident';
    incident = i.id;
    return i.status === 'resolved' ? true : `incident ${i.status}`;
  });
  await check('incidents-list', async () => {
    await page.goto(URL + '/incidents');
    const row = page.locator(`#incident-${incident}`);
    if ((await row.count()) !== 1) return `no row #incident-${incident}`;
    const t = (await row.textContent()) || '';
    if (!t.includes('resolved') || !t.includes(`#${dep4}`)) return `row '${t}'`;
    return true;
  });
  await check('incident-timeline', async () => {
    await page.goto(`${URL}/incidents/${incident}`);
    const items = await page.locator('#incident-timeline li').allTextContents();
    const api1 = (await admin('GET', `/api/v1/incidents/${incident}`)).json;
    if (items.length !== api1.timeline.length || items.length < 2)
      return `${items.length} entries, the API has ${api1.timeline.length}`;
    if (!items.some((x) => x.includes('rollback started'))) return `no 'rollback started' in ${items}`;
    if (!items.some((x) => x.includes('rollback succeeded'))) return `no 'rollback succeeded' in ${items}`;
    if ((await text(page, '#incident-status')) !== 'resolved') return 'not resolved';
    await shot(page, 'cd-incident');
    return true;
  });
  await check('failed-deployment-page', async () => {
    await page.goto(`${URL}/deployments/${dep4}`);
    const st = await text(page, '#deployment-status');
    const ph = await page.locator('#deployment-phases li').allTextContents();
    if (st !== 'rolled_back') return `status '${st}'`;
    if (!ph.some((x) => x.includes('rollback'))) return `no rollback phase in ${ph}`;
    if ((await page.locator(`a[href="/incidents/${incident}"]`).count()) < 1) return 'no link to the incident';
    await shot(page, 'cd-deployment-rolled-back');
    return true;
  });
  await check('environments-after-rollback', async () => {
    await page.goto(URL + '/environments');
    const cur = await text(page, `#env-${REPO}-production-current`);
    return cur === 'v3' ? true : `current '${cur}'`;
  });

  // ---------- DORA ----------
  await check('dora-matches-api', async () => {
    const a = await admin('GET', '/api/v1/dora?window=30d');
    if (a.status !== 200) return `GET /api/v1/dora: ${a.status} ${a.text.slice(0, 200)}`;
    const df = a.json.deployment_frequency;
    const cfr = a.json.change_failure_rate;
    const resp = await page.goto(URL + '/dora?window=30d');
    if (resp.status() !== 200) return `status ${resp.status()}`;
    const el = page.locator('#dora-deployment-frequency');
    const raw = Number(await el.getAttribute('data-value'));
    const shown = (await el.textContent()).trim();
    if (Math.abs(raw - df.per_day) > 1e-9) return `page ${raw}, API ${df.per_day}`;
    if (shown !== df.per_day.toFixed(2)) return `shown '${shown}', API ${df.per_day}`;
    if (df.count < 3) return `the API counts ${df.count} deployments`;
    if (cfr.rate !== null) {
      const r = Number(await page.locator('#dora-change-failure-rate').getAttribute('data-value'));
      if (Math.abs(r - cfr.rate) > 1e-9) return `change failure rate: page ${r}, API ${cfr.rate}`;
    }
    if ((await page.locator('svg#chart-deployments rect').count()) < 1) return 'no bars';
    if ((await page.locator('svg#chart-lead-time').count()) !== 1) return 'no lead time chart';
    if ((await page.locator('svg#chart-time-to-restore').count()) !== 1) return 'no restore chart';
    if ((await page.locator('svg#chart-build-success').count()) !== 1) return 'no build chart';
    const svg = await page.locator('.cd-charts').innerHTML();
    if (/nan|infinity/i.test(svg)) return 'NaN in a chart';
    await shot(page, 'cd-dora');
    return true;
  });
  await check('dora-window-links', async () => {
    await Promise.all([page.waitForURL(/window=7d/), page.click('#window-7d')]);
    const cls = await page.locator('#window-7d').getAttribute('class');
    if (!(cls || '').includes('cd-current')) return `7d is not current (${cls})`;
    const r = await page.goto(URL + '/dora?window=bogus');
    return r.status() === 400 ? true : `a bad window answers ${r.status()}`;
  });
  await check('unknown-ids-404', async () => {
    const a = await page.goto(URL + '/deployments/999999');
    const b = await page.goto(URL + '/incidents/abc');
    return a.status() === 404 && b.status() === 404 ? true : `${a.status()} ${b.status()}`;
  });
  // ---------- coverage and tests: three CI runs ----------
  const ci = [];
  for (const [rate, failedTests] of [['0.65', '0'], ['0.72', '3'], ['0.78', '1']]) {
    const r = await admin('POST', `/api/v1/repos/${REPO}/workflows/ci.yml/dispatches`,
      { ref: 'main', inputs: { rate, failed: failedTests } });
    if (r.status !== 201) throw new Error(`ci dispatch: ${r.status} ${r.text}`);
    ci.push(r.json.runs[0].id);
    await runConclusion(r.json.runs[0].id); // in order: the trend's order
  }
  await check('trends-page', async () => {
    const r = await page.goto(`${URL}/trends?repo=${REPO}&branch=main`);
    if (r.status() !== 200) return `status ${r.status()}`;
    const cov = page.locator('svg#chart-trend-coverage');
    if ((await cov.count()) !== 1) return 'no coverage chart';
    if (!(await cov.innerHTML()).includes('target 70 %')) return 'no 70 % target line';
    const dots = await cov.locator('circle title').allTextContents();
    const want = ci.map((id, i) => `run ${id} \u00b7 coverage: ${['65', '72', '78'][i]} %`);
    if (JSON.stringify(dots) !== JSON.stringify(want)) return `points ${JSON.stringify(dots)}`;
    const failedBars = await page.locator('svg#chart-trend-tests g.s1 rect title').allTextContents();
    if (failedBars.length !== 2 || !failedBars[0].endsWith('failed: 3'))
      return `failed-test bars ${JSON.stringify(failedBars)}`;
    await shot(page, 'cd-trends');
    return true;
  });
  await check('dora-coverage-card', async () => {
    const a = (await admin('GET', `/api/v1/dora?window=30d&repo=${REPO}`)).json;
    await page.goto(`${URL}/dora?window=30d&repo=${REPO}`);
    const raw = Number(await page.locator('#dora-coverage').getAttribute('data-value'));
    const shown = await text(page, '#dora-coverage');
    const tests = await text(page, '#dora-tests');
    if (!a || a.coverage.latest === null) return 'the API has no coverage';
    if (Math.abs(raw - a.coverage.latest) > 1e-9) return `page ${raw}, API ${a.coverage.latest}`;
    if (shown !== '78 %') return `shown '${shown}'`;
    if (tests !== String(a.tests.latest_total)) return `tests '${tests}', API ${a.tests.latest_total}`;
    if ((await text(page, '#dora-coverage-met')) !== '\u2713') return 'coverage does not meet its target';
    return true;
  });
  await check('no-script-errors', async () => {
    const all = [...page.errors, ...dev.errors, ...page.dialogs];
    return all.length === 0 ? true : all.join('; ');
  });
} catch (e) {
  console.log(`check scenario fail: ${String(e && e.message ? e.message : e).split('\n')[0]}`);
  try { await shot(page, 'cd-failure'); } catch (e2) { /* nothing to show */ }
} finally {
  await browser.close();
}
process.exit(failed() ? 1 : 0);
