/**
 * Runs one *bundled* Lambda handler (dist/handlers/<name>/index.js, exactly what `pulumi up` zips) the way Lambda
 * runs a function: in its own sandbox, here a worker thread, with its own process.env (the function's environment
 * from components/lambdaEnv.ts plus what Lambda itself sets: AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, credentials), and
 * the handler called with (event, context). The answer crosses the boundary as JSON, as Lambda serialises it.
 *
 * - A handler that throws gives {errorType, errorMessage} like Lambda's function error; `invoke` rejects with a
 *   FunctionError carrying them. So does a handler that runs past the timeout (the worker is then replaced, as Lambda
 *   discards a timed-out sandbox).
 * - What the function prints goes to `log` line by line (CloudWatch Logs' part; the emulator writes a file per function).
 * - The sandbox starts on the function's first invocation, as Lambda starts one on demand (a cold start): a
 *   function nobody calls costs no worker thread (each is a V8 isolate of its own, tens of MB with the SDK loaded).
 * - `updateEnvironment` replaces the worker (Lambda starts new sandboxes after a configuration update): the old one
 *   finishes what it has in flight, the next invocation starts the new one.
 * - Invocations may overlap in one worker (Node's event loop); Lambda would use several sandboxes, which only
 *   differs in cold starts and module-level state that our handlers keep per (url, region) anyway.
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

// The sandbox: loads the bundle once, then answers {id, event, timeoutMs} messages.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const mod = require(workerData.bundle);
parentPort.on('message', async ({ id, event, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: workerData.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.functionArn,
    memoryLimitInMB: '256',
    awsRequestId: id,
    logGroupName: '/aws/lambda/' + workerData.functionName,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
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
  /** Receives each line the function writes to stdout/stderr (Lambda sends them to CloudWatch Logs); default: dropped. */
  log?: (line: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
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
      env,
      stdout: true,
      stderr: true,
      workerData: {
        bundle: path.join(DIST, 'handlers', opts.handler, 'index.js'),
        functionName: opts.functionName,
        functionArn: `arn:aws:lambda:${opts.region}:000000000000:function:${opts.functionName}`,
      },
    });
    worker.on('message', (msg: { id: string; result?: string; error?: { errorType: string; errorMessage: string } }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
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

  private failAll(worker: Worker, errorType: string, message: string): void {
    if (worker !== this.worker) return;
    this.worker = undefined; // a crashed sandbox is gone: the next invocation starts a fresh one
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
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
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.errors += 1;
        this.opts.log?.(`${id} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
        reject(new FunctionError(this.opts.functionName, 'Sandbox.Timedout', `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`));
        this.restart();
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      (this.worker ?? this.spawn()).postMessage({ id, event, timeoutMs });
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

  /** Retires the sandbox; the next invocation starts a fresh one. */
  private restart(): void {
    const old = this.worker;
    this.worker = undefined;
    if (!old) return;
    // let in-flight invocations of the old sandbox finish
    if (this.pending.size === 0) void old.terminate();
    else setTimeout(() => void old.terminate(), this.opts.timeoutMs ?? 10_000).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const [, p] of this.pending) clearTimeout(p.timer);
    this.pending.clear();
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
