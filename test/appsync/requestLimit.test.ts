/**
 * AppSync's request limit on the local endpoint (local/appsync/requestLimit.ts), over a real socket with the
 * executor on DynamoDB Local: a resolver whose DynamoDB call stalls past the limit answers the client with
 * AppSync's timeout error, and no data-source call of that request starts after the deadline. A write in flight at
 * the deadline is aborted: one the SDK has not sent yet is never sent, one a DynamoDB front (local/contention.ts)
 * holds is dropped there once the front sees its caller go, and only one DynamoDB has already received still lands
 * (its answer is dropped), as on AWS.
 *
 * The stall is test-controlled: a middleware on the data sources' DynamoDB client holds a chosen call (before it is
 * sent, or once DynamoDB has answered it) until the test releases it, or a contention front of the test's own holds
 * it before forwarding. Deadlines run on a clock the test moves (the executor's requestClock), except in the test
 * of the machine clock's own timer.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type AdmittedRequest, type ContentionFront, startContentionFront } from '../../local/contention';
import { createGraphQLExecutor, type GraphQLExecutor } from '../../local/appsync/graphql';
import type { DeadlineClock } from '../../local/appsync/requestLimit';
import { startAppSyncServer, type AppSyncServer } from '../../local/appsync/server';
import { LOCAL_CREDENTIALS } from '../../local/tables';
import { createTable, ddbClient, dynamoLocalEndpoint, uniqueTableName } from '../support/dynamodb';
import { PUT, rawItem, REGIONS, setState } from '../resolvers/support';
import { API_KEY, CREDS, post, REGION } from './support';

/** A DynamoDB call a data source started. */
interface Call {
  command: string;
  table: string;
}

/**
 * Holds the first call matching `which` until release(): before it is sent (`request`), or once DynamoDB has answered
 * it (`answer`: the call has taken effect, its answer waits); `held` resolves when it is being held.
 */
class Gate {
  /** Every call started, in order; `done`: those answered. */
  readonly calls: Call[] = [];
  private readonly done: Call[] = [];
  private waiters: Array<{ which: (c: Call) => boolean; resolve: () => void }> = [];
  private which?: (c: Call) => boolean;
  private at: 'request' | 'answer' = 'request';
  private open?: () => void;
  held!: Promise<Call>;
  private holding!: (c: Call) => void;

  arm(which: (c: Call) => boolean, at: 'request' | 'answer' = 'request'): void {
    this.which = which;
    this.at = at;
    this.held = new Promise((resolve) => (this.holding = resolve));
  }

  release(): void {
    this.open?.();
  }

  /** Resolves once a call matching `which` has had its answer (now or later). */
  answered(which: (c: Call) => boolean): Promise<void> {
    if (this.done.some(which)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ which, resolve }));
  }

  /**
   * The region's client (on `endpoint`, default the tests' DynamoDB) with the gate in its middleware stack: every
   * call is recorded before it is sent.
   */
  client(region: string, endpoint?: string): DynamoDBClient {
    const c = endpoint ? new DynamoDBClient({ region, endpoint, credentials: LOCAL_CREDENTIALS }) : ddbClient(region);
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const call = { command: context.commandName ?? '', table: String((args.input as { TableName?: string }).TableName ?? '') };
        this.calls.push(call);
        const hold = this.which?.(call) ? this.at : undefined;
        if (hold) this.which = undefined;
        const wait = async () => {
          const opened = new Promise<void>((resolve) => (this.open = resolve));
          this.holding(call);
          await opened;
        };
        if (hold === 'request') await wait();
        const out = await next(args);
        if (hold === 'answer') await wait();
        this.done.push(call);
        for (const w of this.waiters.filter((x) => x.which(call))) w.resolve();
        this.waiters = this.waiters.filter((x) => !x.which(call));
        return out;
      },
      { step: 'initialize', name: 'requestLimitGate' },
    );
    return c;
  }
}

/** A clock the test moves: the deadline passes only when the test says so. */
class HandClock implements DeadlineClock {
  private t = 0;
  private timers: Array<{ at: number; fire: () => void }> = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fire: () => void): () => void {
    const timer = { at: this.t + ms, fire };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((x) => x !== timer));
  }
  /** Moves time on by `ms`, firing every timer due. */
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fire();
  }
  get pending(): number {
    return this.timers.length;
  }
}

const isWrite = (items: string) => (c: Call) => c.table === items && /^(Put|Update|Delete|TransactWrite)/.test(c.command);

describe('local AppSync endpoint: the request limit (AppSync ends a request at 30 s)', function () {
  this.timeout(30_000);
  const items = uniqueTableName('items');
  const appConfig = uniqueTableName('app-config');
  const fx = { items, appConfig, primaryRegion: REGION, writeMode: 'multi-master' as const, api: (): GraphQLExecutor => executor };
  let gate: Gate;
  let executor: GraphQLExecutor;
  let server: AppSyncServer | undefined;

  before(async () => {
    // setState writes the app state in every region's replica
    for (const r of REGIONS) for (const t of [items, appConfig]) await createTable(r, t);
    await setState(fx, 'active');
  });
  /** A test's own contention front: its hold is released before the requests settle, and it stops last. */
  let front: { front: ContentionFront; release: () => void } | undefined;
  afterEach(async () => {
    gate?.release();
    front?.release();
    await executor?.settled();
    await server?.close();
    server = undefined;
    await front?.front.stop();
    front = undefined;
  });

  /** This region's endpoint on a free port; its executor's data sources use the gate's client (on `endpoint`). */
  async function serve(o: { requestLimitMs?: number; requestClock?: DeadlineClock }, endpoint?: string): Promise<AppSyncServer> {
    gate = new Gate();
    const client = gate.client(REGION, endpoint);
    executor = createGraphQLExecutor({
      settings: { region: REGION, primaryRegion: REGION, writeMode: 'multi-master' },
      dataSources: { localItems: { tableName: items, region: REGION }, primaryItems: { tableName: items, region: REGION }, appConfig: { tableName: appConfig, region: REGION } },
      clientFor: () => client,
      ...o,
    });
    server = await startAppSyncServer({ region: REGION, executor, apiKey: API_KEY, credentials: CREDS });
    return server;
  }

  it('is 30 s unless given, and only up to AppSync\'s 30 s', () => {
    const base = { settings: { region: REGION, primaryRegion: REGION, writeMode: 'multi-master' as const }, dataSources: { localItems: { tableName: items, region: REGION }, primaryItems: { tableName: items, region: REGION }, appConfig: { tableName: appConfig, region: REGION } } };
    assert.equal(createGraphQLExecutor(base).requestLimitMs, 30_000);
    assert.equal(createGraphQLExecutor({ ...base, requestLimitMs: 5000 }).requestLimitMs, 5000);
    for (const bad of [0, 30_001, 2.5, Number.NaN]) {
      assert.throws(() => createGraphQLExecutor({ ...base, requestLimitMs: bad }), /requestLimitMs must be an integer from 1 to 30000 \(AppSync's limit\), got /, String(bad));
    }
  });

  it('a data source stalling past the limit: the client gets ExecutionTimeout, and the pipeline calls no data source after the deadline', async () => {
    const clock = new HandClock();
    const s = await serve({ requestLimitMs: 5000, requestClock: clock });
    // the mutation's first call (its state read) stalls
    gate.arm(() => true);
    const answer = post(s.graphqlUrl, { query: PUT, variables: { input: { id: 'stall-1', value: 'late' } } });
    const held = await gate.held;
    assert.deepEqual(held, { command: 'GetItemCommand', table: appConfig }, 'the write guard reads the app state first');
    clock.advance(4999);
    assert.equal(clock.pending, 1, 'not yet: the deadline is at 5000 ms');
    clock.advance(1);
    const res = await answer;
    assert.equal(res.status, 200);
    // AppSync's answer for a field that timed out: null (putItem is Item!, so null reaches data), the error at its path
    assert.deepEqual(res.json, {
      data: null,
      errors: [{ message: 'Execution timed out.', errorType: 'ExecutionTimeout', path: ['putItem'], locations: [{ line: 1, column: 39 }], data: null, errorInfo: null }],
    });
    // the stalled call answers now: the pipeline goes no further (no item read, no write)
    gate.release();
    await executor.settled();
    assert.deepEqual(gate.calls, [held]);
    assert.equal(await rawItem(fx, REGION, 'stall-1'), null, 'nothing was written');
  });

  /**
   * A putItem whose item write the gate holds (before it is sent, or its answer after DynamoDB has it) while the
   * request's 5 s deadline passes: the client gets ExecutionTimeout, and once the gate lets go no further call is made.
   */
  async function writeHeldPastDeadline(id: string, value: string, holdAt: 'request' | 'answer'): Promise<void> {
    const clock = new HandClock();
    const s = await serve({ requestLimitMs: 5000, requestClock: clock });
    gate.arm(isWrite(items), holdAt);
    const answer = post(s.graphqlUrl, { query: PUT, variables: { input: { id, value } } });
    const held = await gate.held;
    clock.advance(5000);
    const res = await answer;
    assert.equal(res.json.data, null);
    assert.deepEqual(
      res.json.errors?.map((e) => [e.errorType, e.message]),
      [['ExecutionTimeout', 'Execution timed out.']],
    );
    const before = gate.calls.length;
    gate.release();
    await executor.settled();
    assert.equal(gate.calls.length, before, `no call after the deadline: ${JSON.stringify(gate.calls.slice(before))}`);
    assert.deepEqual(gate.calls[gate.calls.length - 1], held, 'the write was the last call');
  }

  it('a write the SDK has not sent by the deadline is aborted: the client gets ExecutionTimeout, and the write is never sent', async () => {
    await writeHeldPastDeadline('stall-2', 'never', 'request');
    // released after the deadline, the call carries an aborted signal: the SDK never sends it
    assert.equal(await rawItem(fx, REGION, 'stall-2'), null, 'the write did not land');
  });

  it('a write in flight at the deadline is aborted: the DynamoDB front holding it sees its caller go, and drops it', async () => {
    let held!: (r: AdmittedRequest) => void;
    const reached = new Promise<AdmittedRequest>((r) => (held = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // the regions' path to DynamoDB in the emulator: a contention front, here holding the item write before forwarding
    const f = await startContentionFront({
      endpoint: dynamoLocalEndpoint(),
      log: () => undefined,
      beforeForward: async (r) => {
        if (!/^(Put|Update|Delete)Item$/.test(r.target) || r.items[0]?.table !== items) return;
        held(r);
        await released;
      },
    });
    front = { front: f, release };
    const clock = new HandClock();
    const s = await serve({ requestLimitMs: 5000, requestClock: clock }, f.url);
    const answer = post(s.graphqlUrl, { query: PUT, variables: { input: { id: 'stall-4', value: 'late' } } });
    const request = await reached;
    assert.equal(request.target, 'UpdateItem', 'putItem writes with a conditional UpdateItem');
    clock.advance(5000);
    assert.deepEqual(
      (await answer).json.errors?.map((e) => e.errorType),
      ['ExecutionTimeout'],
    );
    // the SDK closed the call's connection at the deadline: the front holding it sees its caller go
    if (!request.signal.aborted) await once(request.signal, 'abort');
    const dropped = once(f.events, 'dropped');
    release();
    assert.deepEqual((await dropped)[0], { region: REGION, target: 'UpdateItem' });
    await executor.settled();
    assert.equal(await rawItem(fx, REGION, 'stall-4'), null, 'the write did not land');
  });

  it('a write DynamoDB already received when the deadline passes still lands, its answer dropped (as on AWS)', async () => {
    // the write reaches DynamoDB; its answer is held until after the deadline
    await writeHeldPastDeadline('stall-5', 'landed', 'answer');
    // DynamoDB applied the call it had received before the deadline; only its answer was dropped
    assert.equal((await rawItem(fx, REGION, 'stall-5'))?.value, 'landed');
  });

  it('a query: the field still resolving at the deadline is null with the error, a field already resolved keeps its value', async () => {
    const clock = new HandClock();
    const s = await serve({ requestLimitMs: 5000, requestClock: clock });
    gate.arm((c) => c.table === items);
    const answer = post(s.graphqlUrl, { query: 'query Q($id: ID!) { appState { state } getItem(id: $id) { id value } }', variables: { id: 'stall-q' } });
    await gate.held;
    // appState reads the other table: it answers while getItem's read is held; what follows its answer (the response
    // handler, the field's value) runs in promise jobs, all done before the next turn of the event loop
    await gate.answered((c) => c.table === appConfig);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(5000);
    const res = await answer;
    assert.deepEqual(res.json.data, { appState: { state: 'active' }, getItem: null });
    assert.deepEqual(
      res.json.errors?.map((e) => [e.errorType, (e as { path?: unknown }).path]),
      [['ExecutionTimeout', ['getItem']]],
    );
  });

  it('on the machine\'s clock: a stalled request is answered at its limit, with nothing called after', async () => {
    const s = await serve({ requestLimitMs: 200 });
    // the first call stalls until the answer is in; on a slow machine the deadline may come before any call
    gate.arm(() => true);
    const started = performance.now();
    const res = await post(s.graphqlUrl, { query: PUT, variables: { input: { id: 'stall-3', value: 'x' } } });
    const tookMs = performance.now() - started;
    assert.deepEqual(
      res.json.errors?.map((e) => e.errorType),
      ['ExecutionTimeout'],
    );
    assert.ok(tookMs >= 200, `answered at the limit, not before: ${tookMs.toFixed(0)} ms`);
    gate.release();
    await executor.settled();
    assert.ok(gate.calls.length <= 1, `at most the stalled call: ${JSON.stringify(gate.calls)}`);
    assert.equal(await rawItem(fx, REGION, 'stall-3'), null);
  });

  it('a request that answers before its limit is untouched, and its deadline is cancelled', async () => {
    const clock = new HandClock();
    const s = await serve({ requestLimitMs: 5000, requestClock: clock });
    const res = await post(s.graphqlUrl, { query: PUT, variables: { input: { id: 'quick-1', value: 'in time' } } });
    assert.equal(res.json.errors, undefined, JSON.stringify(res.json));
    assert.equal((res.json.data?.putItem as { value: string }).value, 'in time');
    assert.equal(clock.pending, 0, 'no deadline left running once the request answered');
  });
});
