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
 * | util.isNull(v)                   | v === null or undefined                                                       |
 * | util.isNullOrEmpty(v)            | isNull(v) or v is ''                                                          |
 * | util.time.nowISO8601()           | UTC ISO-8601 with milliseconds, e.g. 2026-01-02T03:04:05.678Z                 |
 * | util.time.nowEpochMilliSeconds() | Date.now()                                                                    |
 * | util.dynamodb.toDynamoDB(v)      | one attribute value ({S}, {N}, {M}...) via @aws-sdk/util-dynamodb            |
 * | util.dynamodb.toMapValues(obj)   | map of attribute values via @aws-sdk/util-dynamodb marshall (undefined dropped)|
 * | runtime.earlyReturn(obj?)        | in a request handler: skip the data source and the response handler, the     |
 * |                                  | function/resolver result is obj; in a pipeline's before handler: skip every  |
 * |                                  | function and the after handler; in a response handler: return obj            |
 *
 * Not covered (throws): every other member, e.g. util.unauthorized, util.str.*, util.transform.*,
 * util.dynamodb.toS..., util.http.*, runtime.* other than earlyReturn, extensions.*, the
 * `@aws-appsync/utils/dynamodb` helper module.
 */
import { randomUUID } from 'node:crypto';
import { convertToAttr, marshall } from '@aws-sdk/util-dynamodb';

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

/** Thrown by runtime.earlyReturn: caught by the runner at the handler boundary. */
export class EarlyReturn extends Error {
  constructor(readonly value: unknown) {
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
  isNull(v: unknown): boolean {
    return v === null || v === undefined;
  },
  isNullOrEmpty(v: unknown): boolean {
    return v === null || v === undefined || v === '';
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
    toDynamoDB(v: unknown) {
      return convertToAttr(v, { removeUndefinedValues: true });
    },
    toMapValues(obj: Record<string, unknown>) {
      return marshall(obj, { removeUndefinedValues: true });
    },
  }),
});

export const runtime = strict('runtime', {
  earlyReturn(value?: unknown): never {
    throw new EarlyReturn(value === undefined ? null : value);
  },
});

export const extensions = strict('extensions', {});

/** The module object a bundled resolver gets for `require('@aws-appsync/utils')`. */
export const appsyncUtilsModule = Object.freeze({ util, runtime, extensions });
