/**
 * `npm run test:mutants`: are the tests guarding the behaviour users depend on? Each mutation below changes one
 * line of one file (`find` → `replace`) the way a plausible bug would; the script applies it, runs the test files
 * that cover it (`tests`), restores the file, and calls the mutation killed (the tests failed) or survived (they
 * passed: nothing guards that behaviour). It prints each result and the kill rate; the target is 100 %.
 *
 * Safety: the tree is restored after every mutation and on any exit (Ctrl-C, SIGTERM, an error). The original text
 * is also journalled in .local/mutants-in-progress.json before a file is changed, so even a run killed outright
 * (SIGKILL) is repaired by the next run, which says so. A `find` that no longer occurs exactly once in its file
 * stops the run before anything is changed, naming the mutation: the list cannot rot silently.
 * The unmutated tests run first (baseline): a red baseline would make every mutation look killed.
 * Not part of `npm test`: one mocha run per mutation, several minutes in all.
 *
 *   npm run test:mutants                     every mutation
 *   npm run test:mutants -- --only <text>    the mutations whose id contains <text> (repeatable)
 *   npm run test:mutants -- --list           check the list and print it; run nothing
 *   npm run test:mutants -- --verbose        also print the end of each run's test output (what failed)
 * Exit status: 0 every mutation killed; 1 some survived, or the baseline failed; 2 bad usage or a stale mutation.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runMain } from './runMain';

export interface Mutation {
  /** Short name, used by --only. */
  id: string;
  /** Repository-relative path of the file to change. */
  file: string;
  /** Text that must occur exactly once in the file. */
  find: string;
  replace: string;
  /** Test files (repository-relative) that must fail with the mutation applied. */
  tests: string[];
  /** The behaviour the mutation breaks. */
  why: string;
}

/**
 * Kept away from files that are being rewritten elsewhere (the items write path: handlers/items.ts,
 * handlers/lib/itemStore.ts, schema/resolvers/items.ts and the put/delete resolvers; config.ts and the config
 * parsers in components/), so the list survives those changes.
 */
export const MUTATIONS: Mutation[] = [
  // local/: the emulator's stand-ins for Route53, Lambda's event source mapping, global tables and DynamoDB Streams
  {
    id: 'router-recovery-after-one-pass',
    file: 'local/router.ts',
    find: 'if (!h.healthy && h.consecutivePasses >= settings.failureThreshold) {',
    replace: 'if (!h.healthy && h.consecutivePasses >= 1) {',
    tests: ['test/e2e/routing.test.ts'],
    why: 'an unhealthy region serves again only after failureThreshold passing checks in a row (Route53)',
  },
  {
    id: 'router-down-after-one-failure',
    file: 'local/router.ts',
    find: 'if (h.healthy && h.consecutiveFailures >= settings.failureThreshold) {',
    replace: 'if (h.healthy && h.consecutiveFailures >= 1) {',
    tests: ['test/e2e/routing.test.ts'],
    why: 'a region is marked down only after failureThreshold failed checks in a row',
  },
  {
    id: 'router-redirect-is-a-failure',
    file: 'local/router.ts',
    find: 'if (res.status >= 200 && res.status < 400) return record(h, true, res.status, null);',
    replace: 'if (res.status >= 200 && res.status < 300) return record(h, true, res.status, null);',
    tests: ['test/e2e/routing.test.ts'],
    why: 'a 3xx answer to the health check is a pass, as for Route53',
  },
  {
    id: 'notifier-loop-checkpoint-at-last-reported',
    file: 'local/notifierLoop.ts',
    find: 'checkpoint = Math.min(checkpoint, index);',
    replace: 'checkpoint = index;',
    tests: ['test/local/notifierLoop.test.ts'],
    why: 'after several batchItemFailures Lambda retries from the lowest reported record',
  },
  {
    id: 'replicator-ignores-lag',
    file: 'local/replicator.ts',
    find: 'dueAt: seenAt + pair.lagMs, seq: enqueued });',
    replace: 'dueAt: seenAt, seq: enqueued });',
    tests: ['test/local/replicator.test.ts'],
    why: 'each region pair replicates after its configured lag',
  },
  {
    id: 'replicator-forgets-tombstones',
    file: 'local/replicator.ts',
    find: 'const absentOk = tomb === undefined || Number.isNaN(incoming) || incoming > tomb;',
    replace: 'const absentOk = true;',
    tests: ['test/local/replicator.test.ts'],
    why: 'a delete beats an older write that arrives after it (no resurrection)',
  },
  {
    id: 'stream-poller-drops-unfinished-records',
    file: 'local/dynamodbStreams.ts',
    find: 's.buffer.splice(0, done);',
    replace: 's.buffer.splice(0, batch.length);',
    tests: ['test/local/streamPoller.test.ts'],
    why: 'records handle() did not finish are handed over again, not lost',
  },
  // handlers/
  {
    id: 'budget-pause-reaches-deadline',
    file: 'handlers/lib/budget.ts',
    find: 'if (ms >= this.remaining()) return false;',
    replace: 'if (ms > this.remaining()) return false;',
    tests: ['test/handlers/budget.test.ts'],
    why: 'no retry pause runs into the request deadline',
  },
  {
    id: 'health-ignores-invocation-time',
    file: 'handlers/health.ts',
    find: 'timeoutMs: Math.max(1, Math.min(cfg.healthTimeoutMs, scope.budget.remaining())),',
    replace: 'timeoutMs: Math.max(1, cfg.healthTimeoutMs),',
    tests: ['test/handlers/health.test.ts'],
    why: 'the health check answers within what is left of the invocation',
  },
  {
    id: 'state-readback-ignores-race',
    file: 'handlers/stateUpdater.ts',
    find: 'if (converged || raced !== undefined || now + READBACK_POLL_MS >= budgetEnd) {',
    replace: 'if (converged || now + READBACK_POLL_MS >= budgetEnd) {',
    tests: ['test/handlers/stateUpdaterRules.test.ts'],
    why: 'a racing state change ends the read-back at once and is named',
  },
  {
    id: 'state-readback-waits-full-call-timeout',
    file: 'handlers/stateUpdater.ts',
    find: 'const signal = AbortSignal.timeout(Math.max(1, Math.min(CALL_TIMEOUT_MS, budgetEnd - deps.now().getTime(), left())));',
    replace: 'const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);',
    tests: ['test/handlers/stateUpdaterRules.test.ts'],
    why: 'a stalled replica ends the read-back when the invocation has no time left',
  },
  {
    id: 'publish-attempt-past-deadline',
    file: 'handlers/lib/publish.ts',
    find: 'if (Date.now() + wait + this.requestTimeoutMs > deadlineAt) {',
    replace: 'if (Date.now() + wait > deadlineAt) {',
    tests: ['test/handlers/notifierFaults.test.ts'],
    why: 'no publish attempt starts that could not finish before the invocation ends',
  },
  {
    id: 'notifier-publishes-past-a-failed-record',
    file: 'handlers/notifier.ts',
    find: 'if (blockedBy !== undefined) {',
    replace: 'if (blockedBy === "never") {',
    tests: ['test/handlers/notifier.test.ts'],
    why: 'after a failed record, later records of the same id are held back (per-id order)',
  },
  {
    id: 'authorizer-accepts-token-without-exp',
    file: 'handlers/lib/auth.ts',
    find: "requiredClaims: ['exp', 'sub'],",
    replace: "requiredClaims: ['sub'],",
    tests: ['test/handlers/authorizer.test.ts'],
    why: 'a token without an expiry is refused',
  },
  // schema/
  {
    id: 'rules-primary-writes-during-failover',
    file: 'schema/rules.ts',
    find: 'if (ctx.region === ctx.primaryRegion) {',
    replace: 'if (ctx.region !== ctx.primaryRegion) {',
    tests: ['test/resolvers/writeRules.test.ts'],
    why: 'during failover the primary region refuses writes and the others take them',
  },
  {
    id: 'rules-accept-empty-value',
    file: 'schema/rules.ts',
    find: 'if (value.length === 0) {',
    replace: 'if (value.length < 0) {',
    tests: ['test/resolvers/badInputs.test.ts'],
    why: 'an empty value is refused with BadInput',
  },
  {
    id: 'list-items-unbounded-limit',
    file: 'schema/resolvers/listItems.ts',
    find: '(limit < 1 || limit > MAX_PAGE_SIZE)',
    replace: '(limit < 1)',
    tests: ['test/resolvers/badInputs.test.ts'],
    why: 'listItems refuses a page size over MAX_PAGE_SIZE',
  },
  // components/
  {
    id: 'routing-ignores-target-health',
    file: 'components/globalRouting.ts',
    find: 'zoneId: globalDomain.regionalZoneId, evaluateTargetHealth: true',
    replace: 'zoneId: globalDomain.regionalZoneId, evaluateTargetHealth: false',
    tests: ['test/unit/topology.test.ts'],
    why: 'latency records evaluate target health, so failover follows the health checks',
  },
  {
    id: 'replica-without-point-in-time-recovery',
    file: 'components/globalTable.ts',
    find: '          pointInTimeRecovery: true,',
    replace: '          pointInTimeRecovery: false,',
    tests: ['test/unit/topology.test.ts'],
    why: 'every replica keeps point-in-time recovery',
  },
  {
    id: 'stream-mapping-without-bisect',
    file: 'components/notifier.ts',
    find: 'bisectBatchOnFunctionError: STREAM_MAPPING.bisectBatchOnFunctionError,',
    replace: 'bisectBatchOnFunctionError: false,',
    tests: ['test/unit/security.test.ts'],
    why: 'the deployed event source mapping bisects a failing batch, as the emulator does',
  },
];

const ROOT = path.resolve(__dirname, '..');
const JOURNAL = path.join(ROOT, '.local', 'mutants-in-progress.json');
const MOCHA = require.resolve('mocha/bin/mocha.js');
/** Guard against a run that hangs (mocha's own per-test timeouts normally end it long before). */
const RUN_TIMEOUT_MS = 15 * 60_000;

const USAGE = 'usage: npm run test:mutants [-- --only <text>]... [-- --list] [-- --verbose]';

/** Mutations whose `find` does not occur exactly once in their file, or whose files are missing: one line each. */
export function staleMutations(list: readonly Mutation[], root = ROOT): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const m of list) {
    if (ids.has(m.id)) problems.push(`${m.id}: the id is used twice`);
    ids.add(m.id);
    const file = path.join(root, m.file);
    if (!fs.existsSync(file)) {
      problems.push(`${m.id}: ${m.file} does not exist`);
      continue;
    }
    const count = fs.readFileSync(file, 'utf8').split(m.find).length - 1;
    if (count !== 1) problems.push(`${m.id}: ${JSON.stringify(m.find)} occurs ${count} times in ${m.file} (must be exactly once)`);
    if (m.find === m.replace) problems.push(`${m.id}: replace is the same as find`);
    if (m.tests.length === 0) problems.push(`${m.id}: no test files`);
    for (const t of m.tests) if (!fs.existsSync(path.join(root, t))) problems.push(`${m.id}: test file ${t} does not exist`);
  }
  return problems;
}

/** Minimal glob → RegExp for mocha spec patterns (`**` any folders, `*` within one name). */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*' && glob[i + 2] === '/') {
      re += '(?:.*/)?';
      i += 2;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Test files that need no database run with test/unit/mocharc.cjs (no DynamoDB Local to start). */
function mochaConfigFor(tests: readonly string[]): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const unit = require(path.join(ROOT, 'test', 'unit', 'mocharc.cjs')) as { spec: string[] };
  const patterns = unit.spec.map(globRegExp);
  return tests.every((t) => patterns.some((p) => p.test(t))) ? 'test/unit/mocharc.cjs' : '.mocharc.cjs';
}

/** Files changed by this run and not yet restored: repository-relative path → original text. */
const changed = new Map<string, string>();
let child: ChildProcess | undefined;

function writeJournal(): void {
  if (changed.size === 0) {
    fs.rmSync(JOURNAL, { force: true });
    return;
  }
  fs.mkdirSync(path.dirname(JOURNAL), { recursive: true });
  fs.writeFileSync(JOURNAL, JSON.stringify(Object.fromEntries(changed)));
}

function restoreAll(): void {
  for (const [file, text] of changed) fs.writeFileSync(path.join(ROOT, file), text);
  changed.clear();
  writeJournal();
}

/** A run that was killed outright left files mutated: put them back first. */
function repairInterruptedRun(out: (line: string) => void): void {
  if (!fs.existsSync(JOURNAL)) return;
  const left = JSON.parse(fs.readFileSync(JOURNAL, 'utf8')) as Record<string, string>;
  for (const [file, text] of Object.entries(left)) {
    fs.writeFileSync(path.join(ROOT, file), text);
    out(`restored ${file}, left mutated by an interrupted run`);
  }
  fs.rmSync(JOURNAL, { force: true });
}

function apply(m: Mutation): void {
  const file = path.join(ROOT, m.file);
  const original = fs.readFileSync(file, 'utf8');
  if (original.split(m.find).length !== 2) throw new Error(`${m.id}: ${JSON.stringify(m.find)} no longer occurs exactly once in ${m.file}`);
  changed.set(m.file, original);
  writeJournal();
  fs.writeFileSync(file, original.replace(m.find, () => m.replace));
}

/** Runs mocha on `tests`; answers whether they passed, and the output's tail. */
function runTests(tests: readonly string[], bail: boolean): Promise<{ passed: boolean; tail: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const args = [MOCHA, '--config', mochaConfigFor(tests), ...(bail ? ['--bail'] : []), ...tests];
    // its own process group, so that a stop can end mocha's parallel workers with it
    const c = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, FORCE_COLOR: '0' } });
    child = c;
    let output = '';
    c.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const guard = setTimeout(() => killChild(), RUN_TIMEOUT_MS);
    c.on('error', reject);
    c.on('close', (code, signal) => {
      clearTimeout(guard);
      child = undefined;
      const tail = output.trimEnd().split('\n').slice(-30).join('\n');
      resolve({ passed: code === 0 && signal === null, tail, ms: Date.now() - started });
    });
  });
}

function killChild(): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export async function main(argv: string[], io: { out: (l: string) => void; err: (l: string) => void } = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { only: { type: 'string', multiple: true }, list: { type: 'boolean' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    io.out(USAGE);
    return 0;
  }
  repairInterruptedRun(io.out);
  const stale = staleMutations(MUTATIONS);
  if (stale.length > 0) {
    io.err(`the mutation list no longer matches the code (fix scripts/mutants.ts; nothing was changed):\n  ${stale.join('\n  ')}`);
    return 2;
  }
  const only = args.values.only ?? [];
  const chosen = only.length === 0 ? MUTATIONS : MUTATIONS.filter((m) => only.some((o) => m.id.includes(o)));
  if (chosen.length === 0) {
    io.err(`no mutation id contains ${only.map((o) => JSON.stringify(o)).join(' or ')}; ids: ${MUTATIONS.map((m) => m.id).join(', ')}`);
    return 2;
  }
  if (args.values.list) {
    for (const m of chosen) io.out(`${m.id}  ${m.file}  ${m.tests.join(' ')}\n    ${m.why}`);
    io.out(`${chosen.length} mutations, every one matches its file`);
    return 0;
  }

  const onSignal = (signal: NodeJS.Signals) => {
    killChild();
    restoreAll();
    io.err(`\n${signal}: stopped; every mutated file is restored`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', restoreAll);
  try {
    const files = [...new Set(chosen.flatMap((m) => m.tests))].sort();
    io.out(`baseline: the ${files.length} covering test files, unmutated`);
    const baseline = await runTests(files, false);
    if (!baseline.passed) {
      io.err(`the unmutated tests fail, so no mutation can be judged:\n${baseline.tail}`);
      return 1;
    }
    io.out(`baseline green (${(baseline.ms / 1000).toFixed(0)} s); ${chosen.length} mutations`);
    const survivors: Mutation[] = [];
    for (const m of chosen) {
      apply(m);
      let result;
      try {
        result = await runTests(m.tests, true);
      } finally {
        restoreAll();
      }
      if (result.passed) survivors.push(m);
      io.out(`  ${result.passed ? 'SURVIVED' : 'killed  '}  ${m.id.padEnd(42)} ${(result.ms / 1000).toFixed(0).padStart(4)} s  ${m.file}: ${m.why}`);
      if (args.values.verbose) io.out(result.tail.replace(/^/gm, '      | '));
    }
    const killed = chosen.length - survivors.length;
    io.out(`kill rate: ${killed}/${chosen.length} killed (${((100 * killed) / chosen.length).toFixed(0)}%)`);
    if (survivors.length > 0) io.err(`survived (no test guards this behaviour): ${survivors.map((m) => m.id).join(', ')}`);
    return survivors.length === 0 ? 0 : 1;
  } finally {
    restoreAll();
    for (const s of signals) process.off(s, onSignal);
    process.off('exit', restoreAll);
  }
}

runMain(module, main);
