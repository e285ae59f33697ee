/**
 * Starts and stops one DynamoDB Local JVM (AWS's own jar, fetched by scripts/fetch-dynamodb-local.js) bound to
 * 127.0.0.1 on a free port. Without -sharedDb, DynamoDB Local keeps a separate database per access key and
 * region name, so one process serves every emulated region: clients only have to name their region.
 * Used by the test setup (test/support/dynamodb.ts) and by the local emulator.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const DDB_DIR = path.join(ROOT, '.local', 'dynamodb');
const LAUNCHER_SRC = path.join(__dirname, 'java', 'LoopbackDynamoDBLocal.java');
const LAUNCHER_DIR = path.join(DDB_DIR, 'launcher');

export interface DynamoDBLocal {
  endpoint: string;
  port: number;
  /** The JVM's process id (absent when the emulator was given an endpoint to use). */
  pid?: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number;
  /** Keep data in this folder instead of memory. */
  dbPath?: string;
  /** Milliseconds to wait for the first successful answer. */
  startTimeoutMs?: number;
}

/** Fetches the jar (if missing) and compiles the loopback launcher (if missing or older than its source). */
export function ensureDynamoDBLocal(): void {
  if (!fs.existsSync(path.join(DDB_DIR, 'DynamoDBLocal.jar'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'fetch-dynamodb-local.js')], { stdio: 'inherit' });
  }
  const compiled = path.join(LAUNCHER_DIR, 'LoopbackDynamoDBLocal.class');
  if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(LAUNCHER_SRC).mtimeMs) {
    fs.mkdirSync(LAUNCHER_DIR, { recursive: true });
    execFileSync('javac', ['-cp', classPath(), '-d', LAUNCHER_DIR, LAUNCHER_SRC], { stdio: 'inherit' });
  }
}

function classPath(): string {
  return [LAUNCHER_DIR, path.join(DDB_DIR, 'DynamoDBLocal.jar'), path.join(DDB_DIR, 'DynamoDBLocal_lib', '*')].join(path.delimiter);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startDynamoDBLocal(opts: StartOptions = {}): Promise<DynamoDBLocal> {
  ensureDynamoDBLocal();
  const port = opts.port ?? (await freePort());
  const args = [
    `-Djava.library.path=${path.join(DDB_DIR, 'DynamoDBLocal_lib')}`,
    '-Xms64m',
    // C1 only, and the serial collector: DynamoDB Local here lives minutes to hours on a laptop or a 2-core CI box,
    // where the C2 compiler's work costs more CPU than it ever returns (measured: 2,000 writes and reads took
    // 3.0 s of JVM CPU instead of 6.5 s, 25,000 took 12.5 s instead of 16.9 s, at the same wall time; booting 1.4 s
    // instead of 3.0 s), and a parallel collector's threads compete with Node for the same cores.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-cp',
    classPath(),
    'LoopbackDynamoDBLocal',
    '-port',
    String(port),
    '-disableTelemetry',
    ...(opts.dbPath ? ['-dbPath', opts.dbPath] : ['-inMemory']),
  ];
  // stdin stays an open pipe: the launcher exits when it closes, i.e. when this process dies however it dies.
  // Its own process group (detached): a terminal's Ctrl-C goes to the foreground group, and would stop the JVM at the
  // same moment as Node, while the stream pollers are still reading from it (each would report "fetch failed");
  // Node stops it last instead (stop() below), after everything that reads from it.
  const child: ChildProcess = spawn('java', args, { cwd: DDB_DIR, stdio: ['pipe', 'pipe', 'pipe'], detached: true, windowsHide: true });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while (!(await answers(endpoint))) {
    if (exited !== null) {
      throw new Error(`DynamoDB Local exited with ${exited} before answering:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${opts.startTimeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    port,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
