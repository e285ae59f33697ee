/**
 * Runs one *bundled* Lambda handler (dist/handlers/<name>/index.js, exactly what `pulumi up` zips) the way Lambda
 * runs a function: in its own sandbox, here a worker thread, with its own process.env (the function's environment
 * from components/lambdaEnv.ts plus what Lambda itself sets: AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, credentials), and
 * the handler called with (event, context). The answer crosses the boundary as JSON, as Lambda serialises it.
 *
 * - A handler that throws gives {errorType, errorMessage} like Lambda's function error; `invoke` rejects with a
 *   FunctionError carrying them.
 * - The timeout. Lambda fixes an invocation's deadline when it hands the invocation to the runtime
 *   (Lambda-Runtime-Deadline-Ms, "the date that the function times out in Unix time milliseconds",
 *   https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), and context.getRemainingTimeInMillis counts
 *   down to it; the timeout limits the whole Invoke phase, and a function that times out has its execution
 *   environment reset: Lambda shuts its runtime down
 *   (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, "Invoke phase").
 *   Here the deadline is fixed once, at `invoke`, and posted to the worker as an absolute time: the host's timer and
 *   the handler's getRemainingTimeInMillis end at the same instant. It counts from `invoke`, so the time a message
 *   waits for the worker (its cold start, which Lambda's Init phase keeps out of the timeout when Init ends within
 *   10 s, or a busy event loop)
 *   is the handler's loss: it never has more time than Lambda would give it. At the deadline `invoke` rejects with
 *   Sandbox.Timedout and the worker is terminated at once, as Lambda ends the runtime: nothing the handler would do
 *   after its caller was told it timed out can run, so no write of it can start then (the write bound counts on
 *   it: local/writeBound.ts). Invocations share a worker here (below), so the others running in it end too, with
 *   Runtime.ExitError naming the invocation that timed out; Lambda would have run them in sandboxes of their own.
 * - What the function prints goes to `log` line by line (CloudWatch Logs' part; the emulator writes a file per function).
 * - The sandbox starts on the function's first invocation, as Lambda starts one on demand (a cold start): a
 *   function nobody calls costs no worker thread (each is a V8 isolate of its own, tens of MB with the SDK loaded).
 * - `updateEnvironment` replaces the worker (Lambda starts new sandboxes after a configuration update): the old one
 *   finishes what it has in flight, the next invocation starts the new one.
 * - Invocations may overlap in one worker (Node's event loop); Lambda would use several sandboxes, which only
 *   differs in cold starts, in module-level state that our handlers keep per (url, region) anyway, and in a
 *   timeout ending the others (above).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DIST, type HandlerName } from '../components/bundle';

export class FunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(`${functionName} failed: ${errorType}: ${errorMessage}`);
    this.name = 'FunctionError';
  }
}

// The sandbox: loads the bundle once, then answers {id, event, deadlineMs} messages; deadlineMs is the invocation's
// deadline in epoch milliseconds, fixed by the host at invoke (Lambda-Runtime-Deadline-Ms).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const mod = require(workerData.bundle);
parentPort.on('message', async ({ id, event, deadlineMs }) => {
  const context = {
    functionName: workerData.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.functionArn,
    memoryLimitInMB: '256',
    awsRequestId: id,
    logGroupName: '/aws/lambda/' + workerData.functionName,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
  try {
    const result = await mod.handler(event, context);
    parentPort.postMessage({ id, result: result === undefined ? 'null' : JSON.stringify(result) });
  } catch (err) {
    parentPort.postMessage({ id, error: { errorType: (err && err.name) || 'Error', errorMessage: String((err && err.message) || err) } });
  }
});
`;

export interface LambdaHostOptions {
  handler: HandlerName;
  region: string;
  functionName: string;
  /** The function's environment (components/lambdaEnv.ts) */
  environment: Record<string, string>;
  /** AWS_ENDPOINT_URL_DYNAMODB and the local credentials */
  dynamodbEndpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  timeoutMs?: number;
  /** The bundle to load; default dist/handlers/<handler>/index.js (tests give a handler of their own). */
  bundle?: string;
  /** Receives each line the function writes to stdout/stderr (Lambda sends them to CloudWatch Logs); default: dropped. */
  log?: (line: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  /** The sandbox running it. */
  worker: Worker;
}

export class LambdaHost {
  private worker?: Worker;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private env: Record<string, string>;
  invocations = 0;
  errors = 0;
  /** Sandboxes started so far (each a cold start). */
  coldStarts = 0;
  private stopped = false;

  constructor(private readonly opts: LambdaHostOptions) {
    this.env = { ...opts.environment };
  }

  get name(): string {
    return this.opts.functionName;
  }

  get environment(): Readonly<Record<string, string>> {
    return this.env;
  }

  /** The function's timeout: an invocation still running then fails with Sandbox.Timedout. */
  get timeoutMs(): number {
    return this.opts.timeoutMs ?? 10_000;
  }

  private spawn(): Worker {
    const { opts } = this;
    this.coldStarts += 1;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      TZ: 'UTC',
      AWS_REGION: opts.region,
      AWS_DEFAULT_REGION: opts.region,
      AWS_LAMBDA_FUNCTION_NAME: opts.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_ACCESS_KEY_ID: opts.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: opts.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: opts.dynamodbEndpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...this.env,
    };
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // none of the host's Node options (a TypeScript loader, a preload): the bundle is plain JavaScript, as Lambda
      // runs it, and a sandbox's cold start stays the bundle's own (inheriting a loader cost ~150 ms CPU apiece)
      execArgv: [],
      env,
      stdout: true,
      stderr: true,
      workerData: {
        bundle: opts.bundle ?? path.join(DIST, 'handlers', opts.handler, 'index.js'),
        functionName: opts.functionName,
        functionArn: `arn:aws:lambda:${opts.region}:000000000000:function:${opts.functionName}`,
      },
    });
    worker.on('message', (msg: { id: string; result?: string; error?: { errorType: string; errorMessage: string } }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      // a retired sandbox (after a configuration update) ends with its last invocation
      if (worker !== this.worker && !this.runsIn(worker)) void worker.terminate();
      if (msg.error) {
        this.errors += 1;
        opts.log?.(JSON.stringify({ level: 'ERROR', errorType: msg.error.errorType, errorMessage: msg.error.errorMessage, requestId: msg.id }));
        p.reject(new FunctionError(opts.functionName, msg.error.errorType, msg.error.errorMessage));
      } else {
        p.resolve(JSON.parse(msg.result ?? 'null'));
      }
    });
    for (const stream of [worker.stdout, worker.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) opts.log?.(line);
      });
    }
    worker.on('error', (err) => this.failAll(worker, 'Runtime.ExitError', err.message));
    worker.on('exit', (code) => this.failAll(worker, 'Runtime.ExitError', `the sandbox exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  /** Whether an invocation is still running in `worker`. */
  private runsIn(worker: Worker): boolean {
    for (const p of this.pending.values()) if (p.worker === worker) return true;
    return false;
  }

  /** Fails every invocation still running in `worker`; a sandbox that is gone is never used again. */
  private failAll(worker: Worker, errorType: string, message: string): void {
    if (worker === this.worker) this.worker = undefined; // the next invocation starts a fresh one
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      clearTimeout(p.timer);
      this.errors += 1;
      p.reject(new FunctionError(this.opts.functionName, errorType, message));
      this.pending.delete(id);
    }
  }

  /** Invokes the handler (RequestResponse) and resolves with its JSON answer. */
  invoke<T = unknown>(event: unknown): Promise<T> {
    // a stopped function starts no sandbox again (a worker thread would keep the process alive)
    if (this.stopped) return Promise.reject(new FunctionError(this.opts.functionName, 'Runtime.ExitError', 'the function has been stopped'));
    this.invocations += 1;
    const id = `${this.opts.functionName}-${(this.seq += 1)}`;
    const timeoutMs = this.timeoutMs;
    // the deadline, fixed now for the host's timer and the handler's context alike (see the header)
    const deadlineMs = Date.now() + timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const worker = this.worker ?? this.spawn();
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.errors += 1;
        const message = `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
        this.opts.log?.(`${id} ${message}`);
        reject(new FunctionError(this.opts.functionName, 'Sandbox.Timedout', message));
        // Lambda ends the runtime of a timed-out invocation: the handler runs no further, nor does anything else in it
        this.failAll(worker, 'Runtime.ExitError', `the sandbox was ended when invocation ${id} timed out (here invocations share one sandbox; Lambda runs each in its own)`);
        void worker.terminate();
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, worker });
      worker.postMessage({ id, event, deadlineMs });
    });
  }

  /** Changes environment variables (undefined removes one); new invocations run in a fresh sandbox. */
  updateEnvironment(vars: Record<string, string | undefined>): void {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete this.env[k];
      else this.env[k] = v;
    }
    this.restart();
  }

  /**
   * Retires the sandbox; the next invocation starts a fresh one. Invocations in flight in the old one finish there:
   * it is terminated with the last of them (or at the first one's timeout, like any sandbox).
   */
  private restart(): void {
    const old = this.worker;
    this.worker = undefined;
    if (old && !this.runsIn(old)) void old.terminate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // the current sandbox and any retired one still running invocations
    const workers = new Set<Worker>([...this.pending.values()].map((p) => p.worker));
    if (this.worker) workers.add(this.worker);
    for (const [, p] of this.pending) clearTimeout(p.timer);
    this.pending.clear();
    this.worker = undefined;
    await Promise.all([...workers].map((w) => w.terminate()));
  }
}
