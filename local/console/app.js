/**
 * The console: one panel per region of the target (./target.js) — health as the global endpoint sees it, app state,
 * drain, and against the emulator its admin API's /status (replication queue and lag to every other region, notifier
 * backlog) polled every second — plus a live feed of the region's onItemChange subscription (./realtime.js), a form
 * that puts, gets or deletes an item through a region's AppSync or the global endpoint, and (emulator only) the
 * admin API's fault controls. Plain DOM, no framework, no build step; every value from the network is shown with
 * textContent, never parsed as HTML.
 */
import { credential, fromEndpoints, fromStackOutputs, TargetError } from './target.js';
import { Subscription } from './realtime.js';

const ITEM = 'id value version updatedAt updatedRegion';
const QUERIES = {
  put: `mutation Put($id: ID!, $value: String!) { putItem(input: {id: $id, value: $value}) { ${ITEM} } }`,
  get: `query Get($id: ID!) { getItem(id: $id) { ${ITEM} } }`,
  delete: `mutation Delete($id: ID!) { deleteItem(id: $id) { ${ITEM} } }`,
  appState: 'query State { appState { state writable region reason updatedAt } }',
  // every field of ItemChange, so each change shows what wrote it and when
  subscription: `subscription Changes { onItemChange { id kind publishedRegion sequenceNumber changedAt item { ${ITEM} } } }`,
};
const FIELD = { put: 'putItem', get: 'getItem', delete: 'deleteItem' };
const params = new URLSearchParams(location.search);
/** How often the admin API's /status and every region's appState are read (ms). */
const POLL_MS = Number(params.get('poll')) > 0 ? Number(params.get('poll')) : 1000;
const DEPLOYED_POLL_MS = 3000;
const FEED_MAX = 40;
/** The admin API is the origin serving this page (the console lives under /console/). */
const ADMIN = new URL('../', location.href);

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
};
const clock = (t = Date.now()) => new Date(t).toISOString().slice(11, 23);

const state = {
  target: null,
  pending: null,
  token: '',
  emulatorEndpoints: null,
  panels: new Map(),
  /** Every item id the console has seen (feeds and calls): what a reconnected panel re-reads. */
  known: new Set(),
  timers: [],
  /** "from>to" → when the console first saw that pair's queue non-empty */
  queuedSince: new Map(),
  generation: 0,
};

// ---------------------------------------------------------------------------------------------- network

/** One GraphQL call: status, x-served-by, latency and the parsed answer (status 0: no answer at all). */
async function graphql(url, headers, query, variables) {
  const t0 = performance.now();
  let res;
  let text;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
    text = await res.text();
  } catch (err) {
    return { status: 0, servedBy: null, ms: performance.now() - t0, body: null, problem: `no answer (${err.message})` };
  }
  const ms = performance.now() - t0;
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    return { status: res.status, servedBy: res.headers.get('x-served-by'), ms, body: null, problem: `not JSON: ${text.slice(0, 200)}` };
  }
  const err = body?.errors?.[0];
  const problem = err ? `${err.errorType ?? 'Error'}: ${err.message}` : res.ok ? null : (body?.message ?? body?.error ?? `HTTP ${res.status}`);
  return { status: res.status, servedBy: res.headers.get('x-served-by'), ms, body, problem, errorType: err?.errorType ?? null };
}

async function admin(method, route, body) {
  let res;
  try {
    res = await fetch(new URL(route, ADMIN), { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    return { ok: false, status: 0, body: { error: `the admin API does not answer (${err.message}): is npm start still running?` } };
  }
  let parsed = null;
  try {
    parsed = await res.json();
  } catch {
    parsed = { error: `HTTP ${res.status}` };
  }
  return { ok: res.ok, status: res.status, body: parsed };
}

function regionCredential(r) {
  return credential(state.target, r, state.token);
}

// ---------------------------------------------------------------------------------------------- target

function showConnectError(message) {
  $('#connect-error').textContent = message;
  $('#connect').open = true;
}

function teardown() {
  state.generation += 1;
  for (const t of state.timers) clearTimeout(t);
  state.timers = [];
  for (const p of state.panels.values()) p.sub?.close();
  state.panels.clear();
  state.known.clear();
  state.queuedSince.clear();
  $('#panels').replaceChildren();
  $('#calls tbody').replaceChildren();
}

function connect(target) {
  teardown();
  state.pending = target;
  $('#connect-error').textContent = '';
  if (target.auth.mode === 'token' && !state.token) {
    $('#token-row').hidden = false;
    $('#token-hint').textContent = target.auth.hint;
    showConnectError('this stack takes a token: paste one above, then "Use token"');
    return;
  }
  state.target = target;
  document.body.dataset.target = target.kind;
  $('#target-line').textContent = `${target.kind === 'emulator' ? 'emulator' : 'deployed'} · stack ${target.stack} · ${target.regions.length} regions · ${target.writeMode ?? '?'} (primary ${target.primaryRegion ?? '?'}) · auth ${target.auth.mode}`;
  $('#workbench').hidden = false;
  $('#connect').open = false;

  const via = $('#call select[name=via]');
  via.replaceChildren(...(target.global ? [el('option', { value: 'global' }, 'the global endpoint')] : []), ...target.regions.map((r) => el('option', { value: r.name }, r.name)));
  $('#global-note').textContent = target.global ? '' : `global: ${target.globalNote}`;
  $('#route-line').textContent = target.kind === 'emulator' ? '' : target.globalNote;
  for (const sel of ['select[name=pauseScope]', 'select[name=stateRegion]']) {
    const s = $(`#faults ${sel}`);
    s.replaceChildren(s.options[0], ...target.regions.map((r) => el('option', { value: r.name }, r.name)));
  }

  for (const r of target.regions) state.panels.set(r.name, makePanel(r));
  const gen = state.generation;
  if (target.kind === 'emulator') loop(gen, pollStatus, POLL_MS);
  loop(gen, pollAppStates, target.kind === 'emulator' ? POLL_MS : DEPLOYED_POLL_MS);
}

/** Runs fn now and then `ms` after each run ends, until the target changes. */
function loop(gen, fn, ms) {
  const run = async () => {
    if (gen !== state.generation) return;
    try {
      await fn();
    } finally {
      if (gen === state.generation) state.timers.push(setTimeout(run, ms));
    }
  };
  run();
}

// ---------------------------------------------------------------------------------------------- panels

function makePanel(r) {
  const node = $('#panel-template').content.firstElementChild.cloneNode(true);
  node.dataset.region = r.name;
  $('.name', node).textContent = r.name;
  $('#panels').append(node);
  const panel = { region: r, node, feed: $('.feed', node), seen: new Map(), sub: null };
  for (const b of node.querySelectorAll('.controls button')) b.addEventListener('click', () => regionAction(r.name, b.dataset.action));
  if (state.target.kind === 'deployed') {
    const hc = r.healthCheckId ? ` (aws route53 get-health-check-status --health-check-id ${r.healthCheckId})` : '';
    setFact(node, '.health', { healthy: 'unknown' }, `Route53's view is not readable from a browser${hc}`);
    const drained = state.target.drainedRegions.includes(r.name);
    setFact(node, '.drain', { drained: String(drained) }, drained ? 'drained (drainRegions)' : 'in routing');
  }
  panel.sub = new Subscription({
    realtimeUrl: r.realtimeUrl,
    graphqlUrl: r.graphqlUrl,
    credential: () => regionCredential(r),
    query: QUERIES.subscription,
    onData: (data) => data.onItemChange && onChange(panel, data.onItemChange, Date.now()),
    onStatus: (s) => onSubStatus(panel, s),
  });
  panel.sub.start();
  return panel;
}

function setFact(root, sel, data, text, bad = false) {
  const e = $(sel, root);
  Object.assign(e.dataset, data);
  e.textContent = text;
  e.classList.toggle('bad', bad);
}

function remember(panel, id, item, deleted) {
  state.known.add(id);
  if (panel) panel.seen.set(id, { version: item?.version ?? null, updatedAt: item?.updatedAt ?? null, deleted });
}

function addFeedEntry(panel, li) {
  panel.feed.prepend(li);
  while (panel.feed.children.length > FEED_MAX) panel.feed.lastElementChild.remove();
}

/** A change delivered by the subscription: kind, who wrote it, and how long after its updatedAt it arrived here. */
function onChange(panel, c, arrivedAt) {
  const item = c.item ?? {};
  // a DELETED change carries the item as it was; its changedAt is when the delete was seen
  const writtenAt = Date.parse(c.kind === 'DELETED' ? c.changedAt : (item.updatedAt ?? c.changedAt));
  const delay = Math.max(0, Math.round(arrivedAt - writtenAt));
  remember(panel, c.id, item, c.kind === 'DELETED');
  const writer = c.kind === 'DELETED' ? `deleted (last written in ${item.updatedRegion ?? '?'})` : `written in ${item.updatedRegion ?? '?'}`;
  const li = el(
    'li',
    { class: `change kind-${c.kind}`, dataset: { id: c.id, kind: c.kind, version: String(item.version ?? ''), written: item.updatedRegion ?? '', published: c.publishedRegion, delay: String(delay) } },
    el('span', { class: 'when' }, clock(arrivedAt)),
    el('span', { class: 'kind' }, c.kind),
    el('span', { class: 'id', title: c.id }, c.id),
    el('span', { class: 'value', title: item.value ?? '' }, c.kind === 'DELETED' ? '' : `v${item.version} “${item.value}”`),
    el('span', { class: 'writer' }, writer),
    el('span', { class: 'delay', title: `published by ${c.publishedRegion}; delay = arrival here − the change's updatedAt` }, `+${delay} ms`),
  );
  addFeedEntry(panel, li);
}

/** After a reconnect: re-read every item the console has seen, through this region, and show what changed meanwhile. */
async function resync(panel, downMs) {
  const r = panel.region;
  const ids = [...state.known];
  const status = $('.sub-status', panel.node);
  const gen = state.generation;
  const answers = await Promise.all(ids.map((id) => graphql(r.graphqlUrl, regionCredential(r), QUERIES.get, { id }).then((a) => [id, a])));
  if (gen !== state.generation) return;
  let changed = 0;
  let failed = 0;
  for (const [id, a] of answers) {
    if (a.problem) {
      failed += 1;
      continue;
    }
    const item = a.body?.data?.getItem ?? null;
    const before = panel.seen.get(id);
    const isNew = item && (!before || before.deleted || before.updatedAt !== item.updatedAt);
    const isGone = !item && before && !before.deleted;
    if (!isNew && !isGone) continue;
    changed += 1;
    remember(panel, id, item, !item);
    addFeedEntry(
      panel,
      el(
        'li',
        { class: 'change missed', dataset: { id, kind: item ? 'MISSED' : 'MISSED_DELETE', version: String(item?.version ?? ''), written: item?.updatedRegion ?? '' } },
        el('span', { class: 'when' }, clock()),
        el('span', { class: 'kind' }, 'missed'),
        el('span', { class: 'id' }, id),
        el('span', { class: 'value' }, item ? `v${item.version} “${item.value}”` : 'deleted'),
        el('span', { class: 'writer' }, item ? `written in ${item.updatedRegion}` : ''),
        el('span', { class: 'delay' }, 're-read'),
      ),
    );
  }
  status.dataset.missed = String(changed);
  status.textContent = `reconnected after ${(downMs / 1000).toFixed(1)} s · re-read ${ids.length} item${ids.length === 1 ? '' : 's'}: ${changed} changed while disconnected${failed ? ` (${failed} re-reads failed)` : ''}`;
}

function onSubStatus(panel, s) {
  const status = $('.sub-status', panel.node);
  status.dataset.state = s.state;
  status.textContent = s.detail;
  if (s.state === 'reconnected') {
    status.dataset.reconnects = String(Number(status.dataset.reconnects ?? 0) + 1);
    resync(panel, s.downMs);
  }
}

// ---------------------------------------------------------------------------------------------- polling

async function pollStatus() {
  const gen = state.generation;
  const a = await admin('GET', 'status');
  // the target changed while the answer was on its way: it belongs to panels that are gone
  if (gen !== state.generation) return;
  if (!a.ok) {
    $('#route-line').textContent = a.body?.error ?? `admin API: HTTP ${a.status}`;
    return;
  }
  const s = a.body;
  const health = new Map((s.health?.regions ?? []).map((h) => [h.region, h]));
  const views = new Map((s.regions ?? []).map((v) => [v.region, v]));
  const notifier = new Map((s.notifier ?? []).map((n) => [n.region, n]));
  // the global endpoint's choice for a request with no preference: the first healthy region in config order, or
  // (no region healthy) the first, failing open as Route53 does
  const order = state.target.regions.map((r) => r.name);
  const routesTo = s.health?.failOpen ? order[0] : order.find((n) => health.get(n)?.healthy);
  const line = $('#route-line');
  line.dataset.routesTo = routesTo ?? '';
  line.textContent = `global endpoint → ${routesTo ?? 'nowhere'}${s.health?.failOpen ? ' (no region healthy: failing open, as Route53 does)' : ' (first healthy region in config order)'}`;
  const now = Date.now();
  for (const [name, p] of state.panels) {
    const n = p.node;
    const h = health.get(name);
    if (h) setFact(n, '.health', { healthy: String(h.healthy) }, h.healthy ? `healthy (${h.checks} checks)` : `unhealthy: ${h.lastFailure ?? '?'}`, !h.healthy);
    const v = views.get(name);
    if (v) {
      setFact(n, '.running', { running: String(v.running) }, v.running ? `serving · ${v.subscriptions} subscription${v.subscriptions === 1 ? '' : 's'}` : 'stopped (regional outage)', !v.running);
      setFact(n, '.drain', { drained: String(v.drained) }, v.drained ? 'drained: /health answers 503' : 'in routing', v.drained);
    }
    const nb = notifier.get(name);
    if (nb) {
      const what = [`backlog ${nb.backlog}`, nb.held ? 'held (outage)' : '', nb.failing ? 'failing (notifier-errors drill)' : ''].filter(Boolean).join(' · ');
      setFact(n, '.notifier', { backlog: String(nb.backlog), failing: String(nb.failing) }, what, nb.failing || nb.held);
    }
    $('.route-marker', n).hidden = routesTo !== name;
    n.classList.toggle('routed', routesTo === name);
    const rows = (s.replication ?? [])
      .filter((pair) => pair.from === name)
      .map((pair) => {
        const key = `${pair.from}>${pair.to}`;
        if (pair.pending > 0 && !state.queuedSince.has(key)) state.queuedSince.set(key, now);
        if (pair.pending === 0) state.queuedSince.delete(key);
        const since = state.queuedSince.get(key);
        const waiting = since === undefined ? '' : ` · queued ≥ ${((now - since) / 1000).toFixed(1)} s`;
        const lag = pair.lastLagMs === null ? '—' : `last ${Math.round(pair.lastLagMs)} ms · max ${Math.round(pair.maxLagMs)} ms`;
        return el(
          'tr',
          { dataset: { to: pair.to, pending: String(pair.pending), paused: String(pair.paused), lastLag: String(pair.lastLagMs ?? ''), maxLag: String(pair.maxLagMs ?? ''), queuedMs: String(since === undefined ? 0 : now - since) }, class: pair.paused ? 'bad' : '' },
          el('td', {}, pair.to),
          el('td', { class: 'queue' }, String(pair.pending)),
          el('td', { class: 'lag' }, `${lag}${waiting}`),
          el('td', { class: 'paused' }, pair.paused ? `paused (${pair.pausedBy.join(', ')})` : pair.lastError ? `error: ${pair.lastError}` : 'flowing'),
        );
      });
    $('.replication tbody', n).replaceChildren(...rows);
  }
}

async function pollAppStates() {
  const gen = state.generation;
  await Promise.all(
    [...state.panels.values()].map(async (p) => {
      let headers;
      try {
        headers = regionCredential(p.region);
      } catch {
        return;
      }
      const a = await graphql(p.region.graphqlUrl, headers, QUERIES.appState, {});
      if (gen !== state.generation) return;
      const s = a.body?.data?.appState;
      if (!s) return setFact(p.node, '.app-state', { state: 'unreachable', writable: 'unknown' }, `unreachable: ${a.problem ?? 'no appState'}`, true);
      const text = `${s.state} · ${s.writable ? 'writable' : 'read-only'}${s.reason ? ` · “${s.reason}”` : ''}`;
      setFact(p.node, '.app-state', { state: s.state, writable: String(s.writable) }, text, !s.writable);
    }),
  );
}

// ---------------------------------------------------------------------------------------------- actions

async function sendCall(op, id, value, via) {
  const t = state.target;
  const row = el('tr', { dataset: { op, id, via, status: 'pending' } });
  $('#calls tbody').prepend(row);
  while ($('#calls tbody').children.length > 30) $('#calls tbody').lastElementChild.remove();
  const cells = [clock(), `${op} ${id}${op === 'put' ? ` = “${value}”` : ''}`, via === 'global' ? 'global endpoint' : via, '…', '', '', ''];
  row.replaceChildren(...cells.map((c) => el('td', {}, c)));
  let a;
  try {
    const target = via === 'global' ? t.global : t.regions.find((r) => r.name === via);
    a = await graphql(target.graphqlUrl, credential(t, target, state.token), QUERIES[op], op === 'put' ? { id, value } : { id });
  } catch (err) {
    a = { status: 0, servedBy: null, ms: 0, body: null, problem: err.message };
  }
  const item = a.body?.data?.[FIELD[op]];
  if (!a.problem) {
    state.known.add(id);
  }
  const servedBy = a.servedBy ?? (via === 'global' ? '—' : `${via} (its own URL)`);
  const answer = a.problem ?? (item ? `v${item.version} “${item.value}” · written in ${item.updatedRegion}` : op === 'get' ? 'not found' : 'nothing to delete');
  Object.assign(row.dataset, { status: String(a.status), servedBy: a.servedBy ?? '', outcome: a.problem ? 'error' : 'ok', errorType: a.errorType ?? '' });
  row.classList.toggle('bad', !!a.problem);
  row.replaceChildren(...[cells[0], cells[1], cells[2], a.status === 0 ? 'no answer' : String(a.status), servedBy, `${Math.round(a.ms)} ms`, answer].map((c, i) => el('td', i === 6 ? { class: 'answer' } : {}, c)));
}

function showAction(what, a) {
  const out = $('#action-result');
  // the state updater's refusal comes back as HTTP 200 with {region, why, answer: {ok: false, errorType, error}}:
  // a refusal, not "done"
  const answer = a.body?.answer;
  const refused = a.ok && answer?.ok === false;
  const summary = refused ? `${answer.errorType ?? 'refused'}: ${answer.error ?? JSON.stringify(answer)}` : a.ok ? 'done' : `HTTP ${a.status}: ${a.body?.error ?? JSON.stringify(a.body)}`;
  out.textContent = `${clock()} ${what}: ${summary}`;
  out.dataset.outcome = a.ok && !refused ? 'ok' : 'error';
  out.classList.toggle('error', !a.ok || refused);
}

async function regionAction(region, action) {
  const routes = {
    stop: ['POST', `regions/${encodeURIComponent(region)}/stop`],
    start: ['POST', `regions/${encodeURIComponent(region)}/start`],
    drain: ['POST', `regions/${encodeURIComponent(region)}/drain`],
    undrain: ['POST', `regions/${encodeURIComponent(region)}/undrain`],
    'notifier-errors': ['POST', 'drills/notifier-errors', { region }],
    'notifier-ok': ['POST', 'drills/notifier-errors/stop', { region }],
  };
  const [method, route, body] = routes[action];
  showAction(`${action} ${region}`, await admin(method, route, body));
  if (state.target?.kind === 'emulator') await pollStatus();
}

async function faultAction(action) {
  const f = $('#faults').elements;
  const scope = f.pauseScope.value;
  if (action === 'state') {
    const body = { state: f.state.value, reason: f.reason.value, ...(f.stateRegion.value ? { region: f.stateRegion.value } : {}) };
    const a = await admin('POST', 'state', body);
    showAction(`state ${body.state}${a.ok ? ` (through ${a.body.region}: ${a.body.why})` : ''}`, a);
    await pollAppStates();
    return;
  }
  const a = await admin('POST', `replication/${action}`, scope ? { region: scope } : {});
  showAction(`${action} replication ${scope ? `into and out of ${scope}` : 'of every pair'}`, a);
  await pollStatus();
}

// ---------------------------------------------------------------------------------------------- start

async function useOutputs() {
  const text = $('#outputs').value.trim();
  const url = $('#outputs-url').value.trim();
  try {
    let json = text;
    if (!json && url) {
      const res = await fetch(url).catch((err) => {
        throw new TargetError(`cannot fetch ${url} (${err.message}; a URL on another origin must send CORS headers)`);
      });
      if (!res.ok) throw new TargetError(`${url} answered HTTP ${res.status}`);
      json = await res.text();
    }
    if (!json) throw new TargetError('paste the outputs, or give a URL to them');
    connect(fromStackOutputs(json));
  } catch (err) {
    showConnectError(err instanceof TargetError ? err.message : `could not use the outputs: ${err.message}`);
  }
}

async function boot() {
  $('#call').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    sendCall(f.op.value, f.itemId.value.trim(), f.itemValue.value, f.via.value);
  });
  for (const b of document.querySelectorAll('#faults button')) b.addEventListener('click', () => faultAction(b.dataset.action));
  $('#use-outputs').addEventListener('click', useOutputs);
  $('#use-emulator').addEventListener('click', () => connect(fromEndpoints(state.emulatorEndpoints, new URL('global/graphql', location.href).href)));
  $('#use-token').addEventListener('click', () => {
    state.token = $('#token').value.trim();
    if (state.pending) connect(state.pending);
  });
  window.addEventListener('pagehide', () => {
    for (const p of state.panels.values()) p.sub?.close();
  });

  const e = await admin('GET', 'endpoints');
  if (e.ok && e.body?.regions) {
    state.emulatorEndpoints = e.body;
    $('#emulator-choice').hidden = false;
  }
  if (params.get('outputs')) {
    $('#outputs-url').value = params.get('outputs');
    await useOutputs();
  } else if (state.emulatorEndpoints) {
    connect(fromEndpoints(state.emulatorEndpoints, new URL('global/graphql', location.href).href));
  }
}

boot();
