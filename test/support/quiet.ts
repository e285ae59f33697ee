/**
 * Mocha root hooks: keeps what the code under test prints (handlers' JSON log lines, SDK and Node warnings, the
 * emulator's notices) out of the test report. Every line goes to .local/test-output.log, marked with the test that
 * printed it; the lines of a FAILED test are also printed under its failure, so nothing needed to debug is lost.
 * DEBUG=1 (any non-empty DEBUG) turns this off: everything prints as it happens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';

const LOG = path.resolve(__dirname, '..', '..', '.local', 'test-output.log');
const METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;
const original = Object.fromEntries(METHODS.map((m) => [m, console[m]])) as Record<(typeof METHODS)[number], (...a: unknown[]) => void>;
const originalEmitWarning = process.emitWarning;

let buffer: string[] = [];
let fd: number | undefined;
let current = '(outside any test)';

function capture(level: string, args: unknown[]): void {
  const line = `[${level}] ${format(...args)}`;
  buffer.push(line);
  if (fd !== undefined) fs.writeSync(fd, `${current} ${line}\n`);
}

function install(): void {
  fs.mkdirSync(path.dirname(LOG), { recursive: true });
  fd = fs.openSync(LOG, 'w');
  for (const m of METHODS) console[m] = (...a: unknown[]) => capture(m, a);
  // Node's process warnings (SDK deprecation notices, ExperimentalWarning): kept like console lines
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    capture('warning', [`${type ?? 'Warning'}: ${warning instanceof Error ? warning.message : warning}`]);
  }) as typeof process.emitWarning;
}

function restore(): void {
  for (const m of METHODS) console[m] = original[m];
  process.emitWarning = originalEmitWarning;
  if (fd !== undefined) fs.closeSync(fd);
  fd = undefined;
}

const quiet = !process.env.DEBUG;

export const mochaHooks = quiet
  ? {
      beforeAll(): void {
        install();
      },
      beforeEach(this: Mocha.Context): void {
        current = `[${this.currentTest?.fullTitle() ?? '?'}]`;
        buffer = [];
      },
      afterEach(this: Mocha.Context): void {
        if (this.currentTest?.state === 'failed' && buffer.length > 0) {
          original.error(`\n    output of the failed test "${this.currentTest.title}" (${buffer.length} lines; all output: ${path.relative(process.cwd(), LOG)}):`);
          for (const l of buffer) original.error(`      ${l}`);
        }
        buffer = [];
        current = '(between tests)';
      },
      afterAll(): void {
        restore();
      },
    }
  : {};
