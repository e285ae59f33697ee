/**
 * The browser console (local/console/, served by the admin API at consoleUrl) in a real headless Chromium against
 * one emulator: every step is done through the page — its call form, its fault buttons — and checked in the page's
 * DOM, the way a person watching it would see it. One emulator, one browser, one page for the whole file.
 *
 * Waiting is for state, never for time: playwright waits until a selector matching the expected state is in the
 * DOM (the console polls the admin API and each region's appState every second, and its feeds are live
 * subscriptions); WAIT is only an outer guard against a hang. A screenshot of each step goes to
 * .local/artifacts/console/, with the put → other-region feed delays the page showed (timings.json).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestEmulator, TEST_WRITE_BOUND_MS, type TestEmulator } from '../support/emulator';
import { chromiumExecutable, launchChromium } from './browser';

const EU = 'eu-west-1'; // region A: first in config order, the global endpoint's choice while healthy
const AP = 'ap-southeast-2'; // region B
/** Route53's 30 s × 3 scaled 1:150, as the drill tests run it: a stopped region is unhealthy within about a second. */
const HEALTH = { intervalMs: 200, failureThreshold: 3 };
/** An outer guard against a hang (5× what the slowest step needs on a loaded machine), not a timing claim. */
const WAIT = 20_000;
const ARTIFACTS = path.resolve(__dirname, '..', '..', '.local', 'artifacts', 'console');

/** The little of the page's DOM the predicates run in the browser use (the tests compile without the DOM lib). */
type PageDocument = { querySelector(selector: string): { getAttribute(name: string): string | null } | null };

const panel = (region: string) => `.panel[data-region="${region}"]`;
const feedEntry = (region: string, id: string) => `${panel(region)} .feed li[data-id="${id}"]`;

describe('browser console (headless Chromium)', function () {
  this.timeout(6 * WAIT);
  let t: TestEmulator;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const timings: Record<string, number[]> = {};

  /** Resolves once `selector` matches an element in the page. */
  const until = (selector: string) => page.locator(selector).first().waitFor({ state: 'attached', timeout: WAIT });
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  /** Resolves once the attribute `name` of `selector` holds a number above `min` (checked in the page). */
  const numberAbove = (selector: string, name: string, min: number) =>
    page.waitForFunction(
      ([sel, n, m]) => Number((globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.getAttribute(n)) > m,
      [selector, name, min] as const,
      { timeout: WAIT },
    );
  const attr = async (selector: string, name: string) => (await page.locator(selector).first().getAttribute(name)) ?? '';

  /** Puts, gets or deletes through the page's call form; resolves with the call's row once it has an answer. */
  async function call(op: 'put' | 'get' | 'delete', id: string, via: string, value = `v-${id}`) {
    await page.selectOption('#call select[name=op]', op);
    await page.fill('#call input[name=itemId]', id);
    await page.fill('#call input[name=itemValue]', value);
    await page.selectOption('#call select[name=via]', via);
    await page.click('#call button[type=submit]');
    const row = `#calls tr[data-op="${op}"][data-id="${id}"]:not([data-status="pending"])`;
    await until(row);
    return {
      status: await attr(row, 'data-status'),
      servedBy: await attr(row, 'data-served-by'),
      outcome: await attr(row, 'data-outcome'),
      errorType: await attr(row, 'data-error-type'),
      text: (await page.locator(row).first().innerText()).replace(/\s+/g, ' '),
    };
  }

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // the browser check first: without Chromium the file fails with one line before an emulator starts
    const launching = launchChromium(chromiumExecutable());
    launching.catch(() => {});
    t = await startTestEmulator({}, { health: HEALTH, writeBoundMs: TEST_WRITE_BOUND_MS }).catch(async (err) => {
      await (await launching.catch(() => undefined))?.close();
      throw err;
    });
    browser = await launching;
    page = await browser.newPage({ viewport: { width: 1280, height: 960 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  after(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    await browser?.close();
    await t?.stop();
  });

  it('is served at consoleUrl (named in the endpoints file) and shows every region healthy, active and subscribed', async () => {
    assert.equal(t.endpoints.consoleUrl, `${t.endpoints.adminUrl}/console/`);
    // what the page reads the emulator's endpoints from: the endpoints file's content, to this origin's host only (a
    // page whose DNS name is rebound to 127.0.0.1 must not read the keys); only the console's own files are served
    assert.deepEqual(await (await fetch(`${t.endpoints.adminUrl}/endpoints`)).json(), t.endpoints);
    const foreignHost = await new Promise<number>((resolve, reject) => {
      http.get(`${t.endpoints.adminUrl}/endpoints`, { headers: { host: 'rebound.example:80' } }, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject);
    });
    assert.equal(foreignHost, 403);
    assert.equal((await fetch(`${t.endpoints.adminUrl}/console/admin.ts`)).status, 404);
    // why the page calls AppSync and not REST: AppSync answers a browser's CORS preflight, API Gateway without OPTIONS
    // methods (what components/restApi.ts deploys) answers 403 Missing Authentication Token, as the emulator does
    const preflight = { method: 'OPTIONS', headers: { origin: t.endpoints.adminUrl, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-api-key' } };
    const appsync = await fetch(t.endpoints.regions[EU].graphqlUrl, preflight);
    assert.deepEqual([appsync.status, appsync.headers.get('access-control-allow-origin')], [200, '*']);
    const restPreflight = await fetch(`${t.endpoints.regions[EU].restUrl}/items/x`, { ...preflight, headers: { ...preflight.headers, 'access-control-request-method': 'PUT' } });
    assert.deepEqual([restPreflight.status, restPreflight.headers.get('access-control-allow-origin')], [403, null]);
    // status and app state read every 300 ms instead of every second: the same page, fewer seconds spent waiting
    await page.goto(`${t.endpoints.consoleUrl}?poll=300`);
    for (const r of [EU, AP]) {
      await until(`${panel(r)} .sub-status[data-state="subscribed"]`);
      await until(`${panel(r)} .health[data-healthy="true"]`);
      await until(`${panel(r)} .app-state[data-state="active"]`);
      await until(`${panel(r)} .running[data-running="true"]`);
    }
    await until(`#route-line[data-routes-to="${EU}"]`);
    // both regions' AppSync servers hold the page's subscription (the admin API counts them)
    const status = (await (await fetch(`${t.endpoints.adminUrl}/status`)).json()) as { regions: { region: string; subscriptions: number }[] };
    assert.deepEqual(status.regions.map((r) => [r.region, r.subscriptions]), [[EU, 1], [AP, 1]]);
    await shot('01-loaded');
  });

  it('puts through region A and shows the change in every region\'s panel: kind, the region that wrote it, its delay', async () => {
    const delays: number[] = [];
    for (const n of [1, 2, 3]) {
      const id = `put-a-${n}`;
      const answer = await call('put', id, EU);
      assert.equal(answer.status, '200', answer.text);
      assert.equal(answer.outcome, 'ok', answer.text);
      assert.match(answer.text, new RegExp(`${EU} \\(its own URL\\).*v1 “v-${id}” · written in ${EU}`));
      for (const r of [EU, AP]) await until(`${feedEntry(r, id)}[data-kind="CREATED"][data-written="${EU}"][data-published="${r}"]`);
      const shown = Number(await attr(feedEntry(AP, id), 'data-delay'));
      assert.ok(Number.isFinite(shown) && shown >= 0, `B's panel shows a delay in ms, got ${shown}`);
      assert.match(await page.locator(feedEntry(AP, id)).innerText(), new RegExp(`CREATED\\s+${id}\\s+v1 “v-${id}”\\s+written in ${EU}\\s+\\+${shown} ms`));
      delays.push(shown);
    }
    timings[`put in ${EU} → shown in ${AP}'s panel, ms (updatedAt → arrival)`] = delays;
    console.log(`put in ${EU} → shown in ${AP}'s panel: ${delays.join(', ')} ms`);
    await shot('02-put-in-a');
  });

  it('stops region A: its panel goes unhealthy and loses its subscription, the global endpoint moves to B', async () => {
    await page.click(`${panel(EU)} .controls button[data-action="stop"]`);
    await until(`${panel(EU)} .running[data-running="false"]`);
    await until(`${panel(EU)} .health[data-healthy="false"]`);
    await until(`${panel(EU)} .sub-status[data-state="reconnecting"]`);
    await until(`${panel(EU)} .app-state[data-state="unreachable"]`);
    await until(`#route-line[data-routes-to="${AP}"]`);
    assert.match(await page.locator(`${panel(EU)} .health`).innerText(), /unhealthy: ECONNREFUSED/);
    const answer = await call('put', 'during-outage', 'global');
    assert.deepEqual([answer.status, answer.servedBy, answer.outcome], ['200', AP, 'ok'], answer.text);
    await until(`${feedEntry(AP, 'during-outage')}[data-written="${AP}"]`);
    await shot('03-a-stopped');
  });

  it('starts region A: healthy again, reconnected, and shows what it missed by re-reading the items the console has seen', async () => {
    // The page's reconnection to A is held until B's write has replicated into A, and A's notifier fails meanwhile
    // (the notifier-errors drill, from the panel): AppSync never delivers that write live to A's subscribers, so
    // what A's panel shows for it can only come from the re-read it does on reconnecting.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.routeWebSocket(t.endpoints.regions[EU].realtimeUrl, async (ws) => {
      await held;
      ws.connectToServer();
    });
    await page.click(`${panel(EU)} .controls button[data-action="notifier-errors"]`);
    await until(`${panel(EU)} .notifier[data-failing="true"]`);
    await page.click(`${panel(EU)} .controls button[data-action="start"]`);
    await until(`${panel(EU)} .running[data-running="true"]`);
    // B → A drained: the write B took during the outage is in A's replica
    await until(`${panel(AP)} .replication tr[data-to="${EU}"][data-pending="0"][data-paused="false"]`);
    assert.equal(await page.locator(feedEntry(EU, 'during-outage')).count(), 0);
    release();
    await until(`${panel(EU)} .sub-status[data-state="reconnected"][data-missed]`);
    assert.match(await page.locator(`${panel(EU)} .sub-status`).innerText(), /^reconnected after \d+\.\d s · re-read 4 items: 1 changed while disconnected$/);
    await until(`${feedEntry(EU, 'during-outage')}[data-kind="MISSED"][data-written="${AP}"]`);
    assert.match(await page.locator(feedEntry(EU, 'during-outage')).innerText(), /missed\s+during-outage\s+v1 “v-during-outage”\s+written in ap-southeast-2\s+re-read/);
    await until(`${panel(EU)} .health[data-healthy="true"]`);
    await until(`#route-line[data-routes-to="${EU}"]`);
    await page.click(`${panel(EU)} .controls button[data-action="notifier-ok"]`);
    await until(`${panel(EU)} .notifier[data-failing="false"]`);
    await shot('04-a-caught-up');
  });

  it('fences: every panel shows the state and a write is refused with the error shown', async () => {
    await page.selectOption('#faults select[name=state]', 'fenced');
    await page.fill('#faults input[name=reason]', 'console test: fence');
    await page.click('#faults button[data-action="state"]');
    // this action's answer (an earlier action's "ok" may still be shown)
    await page.locator('#action-result[data-outcome="ok"]', { hasText: 'state fenced' }).waitFor({ state: 'attached', timeout: WAIT });
    // active after fenced is refused until the fence has stood for the write bound (the emulator's, scaled from AWS's
    // 30 s): tried at once, the refusal is shown with the time it may be retried, and the retry after that time is
    // accepted (below)
    const boundS = Number(t.emulator.region(EU).functions.stateUpdater.environment.STATE_WRITE_BOUND_MS) / 1000;
    assert.equal(boundS, TEST_WRITE_BOUND_MS / 1000);
    await page.selectOption('#faults select[name=state]', 'active');
    await page.fill('#faults input[name=reason]', 'console test: unfence');
    await page.click('#faults button[data-action="state"]');
    await page.locator('#action-result[data-outcome="error"]', { hasText: 'FencedTooShort' }).waitFor({ state: 'attached', timeout: WAIT });
    const early = await page.locator('#action-result').innerText();
    assert.match(early, new RegExp(`FencedTooShort: .*active is allowed after ${boundS} s in fenced \\(the write bound of ${boundS} s`), early);
    const allowedAt = Date.parse(/retry at (\S+) or later/.exec(early)?.[1] ?? '');
    assert.ok(Number.isFinite(allowedAt), `the refusal says when to retry: ${early}`);
    // a reason is required: the admin API's 400 is shown, and the state stays fenced
    await page.fill('#faults input[name=reason]', '');
    await page.click('#faults button[data-action="state"]');
    await page.locator('#action-result[data-outcome="error"]', { hasText: 'HTTP 400' }).waitFor({ state: 'attached', timeout: WAIT });
    assert.match(await page.locator('#action-result').innerText(), /HTTP 400: reason is required/);
    for (const r of [EU, AP]) await until(`${panel(r)} .app-state[data-state="fenced"][data-writable="false"]`);
    const refused = await call('put', 'while-fenced', EU);
    assert.deepEqual([refused.status, refused.outcome, refused.errorType], ['200', 'error', 'WriteFenced'], refused.text);
    assert.match(refused.text, /WriteFenced: the application is fenced \(read-only\): writes are rejected, nothing was written/);
    const read = await call('get', 'put-a-1', AP);
    assert.match(read.text, /v1 “v-put-a-1” · written in eu-west-1/, 'reads are served while fenced');
    await shot('05-fenced');
    await page.fill('#faults input[name=reason]', 'console test: unfence');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, allowedAt - Date.now())));
    await page.click('#faults button[data-action="state"]');
    for (const r of [EU, AP]) await until(`${panel(r)} .app-state[data-state="active"][data-writable="true"]`);
  });

  it('pauses replication: A → B\'s queue and wait grow while B sees nothing; after resume it drains and B gets every write', async () => {
    await page.click('#faults button[data-action="pause"]');
    await until(`${panel(EU)} .replication tr[data-to="${AP}"][data-paused="true"]`);
    const ids = ['paused-1', 'paused-2', 'paused-3'];
    for (const id of ids) assert.equal((await call('put', id, EU)).outcome, 'ok');
    const row = `${panel(EU)} .replication tr[data-to="${AP}"]`;
    await numberAbove(row, 'data-pending', 2);
    const queued = Number(await attr(row, 'data-queued-ms'));
    // the wait the panel shows grows from one status poll to the next while the pair stays paused
    await numberAbove(row, 'data-queued-ms', queued);
    const shownWait = Number(await attr(row, 'data-queued-ms'));
    assert.match(await page.locator(`${row} .lag`).innerText(), /queued ≥ \d+\.\d s/);
    for (const id of ids) assert.equal(await page.locator(feedEntry(AP, id)).count(), 0, `${id} must not reach B while replication is paused`);
    await shot('06-replication-paused');

    await page.click('#faults button[data-action="resume"]');
    await until(`${row}[data-pending="0"][data-paused="false"]`);
    for (const id of ids) await until(`${feedEntry(AP, id)}[data-written="${EU}"]`);
    // the first queued write waited at least as long as the panel said it had been queued
    assert.ok(Number(await attr(row, 'data-max-lag')) >= shownWait, `max lag ${await attr(row, 'data-max-lag')} ms ≥ the ${shownWait} ms the panel showed queued`);
    await shot('07-replication-drained');
  });

  it('works against a deployed stack\'s outputs: secrets demanded, emulator-only controls hidden, calls and feeds live', async () => {
    const e = t.endpoints;
    const regions = Object.fromEntries(Object.entries(e.regions).map(([r, x]) => [r, { graphqlUrl: x.graphqlUrl, realtimeUrl: x.realtimeUrl, restUrl: x.restUrl, healthCheckId: `hc-${r}` }]));
    const outputs = { regions, apiKeys: Object.fromEntries(Object.entries(e.regions).map(([r, x]) => [r, x.apiKey])), apiKey: e.globalApiKey, primaryRegion: e.primaryRegion, writeMode: e.writeMode, drainedRegions: [AP], tables: { items: 'global-appsync-prod-items' } };
    await page.click('#connect summary');
    await page.fill('#outputs', JSON.stringify({ ...outputs, apiKeys: '[secret]' }));
    await page.click('#use-outputs');
    await until('#connect-error:text("--show-secrets")');

    await page.fill('#outputs', JSON.stringify(outputs, null, 2));
    await page.click('#use-outputs');
    await until('body[data-target="deployed"]');
    for (const r of [EU, AP]) await until(`${panel(r)} .sub-status[data-state="subscribed"]`);
    assert.equal(await page.locator('#faults').isVisible(), false, 'fault controls are emulator-only');
    assert.equal(await page.locator(`${panel(EU)} .controls`).isVisible(), false);
    assert.equal(await page.locator(`${panel(EU)} .replication`).isVisible(), false);
    assert.deepEqual(await page.locator('#call select[name=via] option').allTextContents(), [EU, AP], 'no global endpoint: API Gateway answers no CORS preflight');
    assert.match(await page.locator(`${panel(EU)} .health`).innerText(), /not readable from a browser.*--health-check-id hc-eu-west-1/);
    await until(`${panel(AP)} .drain[data-drained="true"]`);
    assert.match(await page.locator('#target-line').innerText(), /deployed · stack global-appsync-prod · 2 regions/);

    const answer = await call('put', 'deployed-1', AP);
    assert.deepEqual([answer.status, answer.outcome], ['200', 'ok'], answer.text);
    for (const r of [EU, AP]) await until(`${feedEntry(r, 'deployed-1')}[data-kind="CREATED"][data-written="${AP}"]`);
    await shot('08-deployed-outputs');
    assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
  });
});
