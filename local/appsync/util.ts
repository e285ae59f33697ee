/**
 * The local stand-in for AppSync's APPSYNC_JS runtime module `@aws-appsync/utils` (`util`, `runtime`), used by the
 * resolver runner (local/appsync/runner.ts) when it evaluates the bundled resolvers of schema/resolvers. It covers
 * exactly what those resolvers use, and nothing else: any other `util.*` / `runtime.*` member throws an error naming
 * the member, so a resolver that starts using something new fails loudly here instead of behaving differently.
 *
 * | member                           | behaviour here (matches AppSync's documented behaviour)                       |
 * |----------------------------------|-------------------------------------------------------------------------------|
 * | util.error(msg, type?, data?, info?) | throws; aborts the whole resolver (unit or pipeline); the field resolves to |
 * |                                  | null with one GraphQL error {message, errorType, data, errorInfo}             |
 * | util.appendError(msg, type?, data?, info?) | records an error, execution continues; the field keeps its value    |
 * | util.autoId()                    | a random UUID v4 (crypto.randomUUID)                                          |
 * | util.matches(pattern, s)         | true when the WHOLE string matches (AppSync follows Java String.matches,     |
 * |                                  | so the pattern is implicitly anchored at both ends)                          |
 * | util.time.nowISO8601()           | UTC ISO-8601 with milliseconds, e.g. 2026-01-02T03:04:05.678Z                 |
 * | util.time.nowEpochMilliSeconds() | Date.now()                                                                    |
 * | util.dynamodb.toDynamoDB(v)      | one attribute value in AppSync's form: numbers stay JSON numbers ({N: 12345}),|
 * |                                  | arrays are lists ({L: [...]}, never SS/NS/BS sets), objects maps ({M: ...})   |
 * | util.dynamodb.toMapValues(obj)   | a map of such attribute values (undefined members dropped)                    |
 * | runtime.earlyReturn(obj?, {skipTo}?) | ends the handler; the runner (./runner.ts) decides what runs next, as AWS |
 * |                                  | documents it, from where it was called and skipTo 'END' | 'NEXT'             |
 *
 * util.dynamodb's form is AWS's "DynamoDB helpers in util.dynamodb" page
 * (https://docs.aws.amazon.com/appsync/latest/devguide/dynamodb-helpers-in-util-dynamodb-js.html): toDynamoDB(12345)
 * is { "N" : 12345 }, and "it will use lists ("L") rather than sets". The SDK's marshall writes numbers as strings
 * and JS Sets as sets, so its output is converted to that form (the local data source, ./dynamodb.ts, turns it
 * back into what the SDK sends, as AppSync's data source does).
 * runtime.earlyReturn: https://docs.aws.amazon.com/appsync/latest/devguide/runtime-utils-js.html
 *
 * Not covered (throws): every other member, e.g. util.unauthorized, util.str.*, util.transform.*,
 * util.dynamodb.toS..., util.http.*, runtime.* other than earlyReturn, extensions.*, the
 * `@aws-appsync/utils/dynamodb` helper module. Not in APPSYNC_JS at all: util.isNull, util.isNullOrEmpty and the
 * other VTL-only helpers (AWS's "Built-in utilities" page for APPSYNC_JS lists none of them), so they throw too.
 */
import { randomUUID } from 'node:crypto';
import { convertToAttr } from '@aws-sdk/util-dynamodb';

/** A GraphQL error as AppSync reports it. */
export interface AppSyncError {
  message: string;
  errorType?: string;
  data?: unknown;
  errorInfo?: unknown;
}

/** Thrown by util.error: aborts the resolver. */
export class UtilError extends Error {
  constructor(readonly error: AppSyncError) {
    super(error.message);
    this.name = 'UtilError';
  }
}

/** runtime.earlyReturn's documented returnOptions.skipTo; null when no options were given. */
export type SkipTo = 'END' | 'NEXT' | null;

/** Thrown by runtime.earlyReturn: caught by the runner at the handler boundary. */
export class EarlyReturn extends Error {
  constructor(
    readonly value: unknown,
    readonly skipTo: SkipTo = null,
  ) {
    super('runtime.earlyReturn');
    this.name = 'EarlyReturn';
  }
}

/** Thrown when a resolver uses a member the stand-in does not cover. */
export class UnsupportedUtilError extends Error {
  constructor(member: string) {
    super(`${member} is not covered by the local APPSYNC_JS stand-in (local/appsync/util.ts); add it there, documented, before using it`);
    this.name = 'UnsupportedUtilError';
  }
}

/** Errors appended (util.appendError) by the handler running now. Handlers are synchronous, so one slot suffices. */
let appended: AppSyncError[] | null = null;

/** Runs one synchronous resolver handler, collecting the errors it appends into `sink`. */
export function withAppendedErrors<T>(sink: AppSyncError[], fn: () => T): T {
  const previous = appended;
  appended = sink;
  try {
    return fn();
  } finally {
    appended = previous;
  }
}

function strict<T extends object>(name: string, target: T): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (typeof prop === 'symbol' || Object.prototype.hasOwnProperty.call(obj, prop) || prop === 'then' || prop === 'toJSON') {
        return Reflect.get(obj, prop, receiver);
      }
      throw new UnsupportedUtilError(`${name}.${prop}`);
    },
  });
}

function errorOf(message: unknown, errorType?: unknown, data?: unknown, errorInfo?: unknown): AppSyncError {
  const e: AppSyncError = { message: String(message) };
  if (errorType !== undefined && errorType !== null) e.errorType = String(errorType);
  if (data !== undefined) e.data = data;
  if (errorInfo !== undefined) e.errorInfo = errorInfo;
  return e;
}

const patternCache = new Map<string, RegExp>();

export const util = strict('util', {
  error(message: unknown, errorType?: unknown, data?: unknown, errorInfo?: unknown): never {
    throw new UtilError(errorOf(message, errorType, data, errorInfo));
  },
  appendError(message: unknown, errorType?: unknown, data?: unknown, errorInfo?: unknown): void {
    if (!appended) throw new Error('util.appendError called outside a resolver handler');
    appended.push(errorOf(message, errorType, data, errorInfo));
  },
  autoId(): string {
    return randomUUID();
  },
  matches(pattern: string, s: string): boolean {
    let re = patternCache.get(pattern);
    if (!re) {
      re = new RegExp(`^(?:${pattern})$`, 'u');
      patternCache.set(pattern, re);
    }
    return typeof s === 'string' && re.test(s);
  },
  time: strict('util.time', {
    nowISO8601(): string {
      return new Date().toISOString();
    },
    nowEpochMilliSeconds(): number {
      return Date.now();
    },
  }),
  dynamodb: strict('util.dynamodb', {
    toDynamoDB,
    toMapValues(obj: Record<string, unknown>) {
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
        throw new TypeError(`util.dynamodb.toMapValues takes an object, not ${Array.isArray(obj) ? 'an array' : typeof obj}`);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        if (v !== undefined) out[k] = toDynamoDB(v);
      }
      return out;
    },
  }),
});

/** The SDK's attribute value (N as a string, JS Sets as SS/NS/BS) in AppSync's documented form. */
function appsyncAttr(av: Record<string, unknown>): Record<string, unknown> {
  const [type, value] = Object.entries(av)[0];
  switch (type) {
    case 'N':
      return { N: Number(value) };
    case 'NS':
      return { L: (value as string[]).map((n) => ({ N: Number(n) })) };
    case 'SS':
      return { L: (value as string[]).map((s) => ({ S: s })) };
    case 'BS':
      return { L: (value as unknown[]).map((b) => ({ B: b })) };
    case 'L':
      return { L: (value as Record<string, unknown>[]).map(appsyncAttr) };
    case 'M':
      return { M: Object.fromEntries(Object.entries(value as Record<string, Record<string, unknown>>).map(([k, v]) => [k, appsyncAttr(v)])) };
    default:
      return { [type]: value };
  }
}

function toDynamoDB(v: unknown): Record<string, unknown> {
  return appsyncAttr(convertToAttr(v, { removeUndefinedValues: true }) as unknown as Record<string, unknown>);
}

export const runtime = strict('runtime', {
  earlyReturn(value?: unknown, returnOptions?: { skipTo?: unknown }): never {
    let skipTo: SkipTo = null;
    if (returnOptions !== undefined && returnOptions !== null) {
      const s = returnOptions.skipTo;
      if (s !== 'END' && s !== 'NEXT') {
        throw new TypeError(`runtime.earlyReturn: returnOptions.skipTo must be 'END' or 'NEXT', not ${JSON.stringify(s)}`);
      }
      skipTo = s;
    }
    throw new EarlyReturn(value === undefined ? null : value, skipTo);
  },
});

export const extensions = strict('extensions', {});

/** The module object a bundled resolver gets for `require('@aws-appsync/utils')`. */
export const appsyncUtilsModule = Object.freeze({ util, runtime, extensions });
