/**
 * Runs the resolvers of schema/resolvers/manifest.ts the way AppSync runs APPSYNC_JS resolvers, so the resolver
 * tests and the local emulator execute the very code `pulumi up` deploys:
 *
 * - code: components/bundle.ts bundles each file per region settings (ESM, `@aws-appsync/utils` external); here it
 *   is transformed to CommonJS and evaluated once per (file, settings) with `require('@aws-appsync/utils')` bound to
 *   the documented stand-in (./util.ts). Compiled modules are cached.
 * - data sources: localItems / primaryItems / appConfig → ./dynamodb.ts against {tableName, region};
 *   none → ctx.result = the request's `payload` (AppSync's NONE data source).
 * - unit resolver: request → data source → response.
 * - pipeline resolver: before (request) → each function (request → data source → response; ctx.stash shared,
 *   ctx.prev.result = the previous step's result) → after (response, with ctx.prev.result).
 *   runtime.earlyReturn(v): in a function's request skips its data source and response (its result is v); in the
 *   before handler skips every function and the after handler; in a unit resolver's request skips data source and
 *   response; in any response handler it just returns v.
 * - util.error aborts the whole resolver: the field's data is null and the error is reported; errors appended with
 *   util.appendError are reported too, but the field keeps its value.
 * - like AppSync, a data source error is NOT raised by itself: it is in ctx.error for the response handler to raise.
 * - arguments, requests and results pass through JSON like they do in AppSync (no undefined, no prototypes).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { transformSync } from 'esbuild';
import vm from 'node:vm';
import { bundleResolver, type ResolverSettings } from '../../components/bundle';
import { type DataSourceKey, FUNCTIONS, RESOLVERS, type ResolverSpec } from '../../schema/resolvers/manifest';
import { defaultClientFor, executeDynamoDBRequest, type TableRef } from './dynamodb';
import { type AppSyncError, appsyncUtilsModule, EarlyReturn, UnsupportedUtilError, UtilError, withAppendedErrors } from './util';

export type { AppSyncError } from './util';
export type { TableRef } from './dynamodb';

/** The tables behind the region's DynamoDB data sources. */
export type DataSourceTables = Record<Exclude<DataSourceKey, 'none'>, TableRef>;

export interface ResolverEnvironment {
  /** The region's baked-in settings (what bundleResolver defines as __SETTINGS__). */
  settings: ResolverSettings;
  dataSources: DataSourceTables;
  /** DynamoDB client per region; default: one SDK client per region (endpoint from AWS_ENDPOINT_URL_DYNAMODB). */
  clientFor?: (region: string) => DynamoDBClient;
}

export interface ResolveInput {
  arguments: Record<string, unknown>;
  /** ctx.identity: null for API key callers, AppSync's identity object otherwise. */
  identity?: unknown;
  source?: unknown;
  info?: { fieldName: string; parentTypeName: string; variables: Record<string, unknown>; selectionSetList: string[]; selectionSetGraphQL: string };
  request?: { headers: Record<string, string>; domainName: string | null };
}

export interface ResolveOutcome {
  /** The field's value; null when the resolver aborted with util.error. */
  data: unknown;
  /** util.error (at most one, last) and util.appendError errors, in order. */
  errors: AppSyncError[];
  /** True when util.error aborted the resolver. */
  aborted: boolean;
}

interface ResolverModule {
  request?: (ctx: unknown) => unknown;
  response?: (ctx: unknown) => unknown;
}

const moduleCache = new Map<string, ResolverModule>();

function requireForResolver(id: string): unknown {
  if (id === '@aws-appsync/utils') return appsyncUtilsModule;
  if (id.startsWith('@aws-appsync/utils/')) throw new UnsupportedUtilError(`the module ${id}`);
  throw new Error(`a resolver may import only @aws-appsync/utils (AppSync provides nothing else), not ${id}`);
}

/** Bundles (components/bundle.ts) and evaluates one resolver file for the given settings; cached. */
export function loadResolverModule(file: string, settings: ResolverSettings): ResolverModule {
  const cacheKey = `${file}\u0000${JSON.stringify(settings)}`;
  const cached = moduleCache.get(cacheKey);
  if (cached) return cached;
  const esm = bundleResolver(file, settings);
  const cjs = transformSync(esm, { format: 'cjs', loader: 'js', target: 'es2020', sourcefile: `${file}.js` }).code;
  const wrapper = vm.runInThisContext(`(function (exports, require, module) {${cjs}\n})`, { filename: `schema/resolvers/${file}.js (bundled)` });
  const mod: { exports: ResolverModule } = { exports: {} };
  wrapper(mod.exports, requireForResolver, mod);
  moduleCache.set(cacheKey, mod.exports);
  return mod.exports;
}

type HandlerOutcome = { early: boolean; value: unknown };

function callHandler(mod: ResolverModule, name: 'request' | 'response', file: string, ctx: unknown, errors: AppSyncError[]): HandlerOutcome {
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`schema/resolvers/${file}.ts exports no ${name} handler`);
  try {
    const value = withAppendedErrors(errors, () => fn(ctx));
    if (value && typeof (value as Promise<unknown>).then === 'function') {
      throw new Error(`schema/resolvers/${file}.ts ${name} returned a promise: APPSYNC_JS handlers are synchronous`);
    }
    return { early: false, value: json(value) };
  } catch (err) {
    if (err instanceof EarlyReturn) return { early: true, value: json(err.value) };
    throw err;
  }
}

function json(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}

export interface ResolverRunner {
  readonly env: ResolverEnvironment;
  /** The manifest entry for a field, if it has a resolver. */
  spec(typeName: string, fieldName: string): ResolverSpec | undefined;
  /** Runs the field's resolver (unit or pipeline) with real data sources. */
  resolve(typeName: string, fieldName: string, input: ResolveInput): Promise<ResolveOutcome>;
}

export function createResolverRunner(env: ResolverEnvironment): ResolverRunner {
  const clientFor = env.clientFor ?? defaultClientFor;

  async function dataSource(key: DataSourceKey, request: unknown, ctx: Record<string, unknown>): Promise<void> {
    delete ctx.error;
    if (key === 'none') {
      ctx.result = json((request as { payload?: unknown } | null)?.payload ?? null);
      return;
    }
    const table = env.dataSources[key];
    if (!table) throw new Error(`data source ${key} is not configured for region ${env.settings.region}`);
    const out = await executeDynamoDBRequest(table, request, clientFor);
    ctx.result = out.error ? null : json(out.result);
    if (out.error) ctx.error = out.error;
  }

  /** request → data source → response for one unit resolver or pipeline function. */
  async function step(file: string, key: DataSourceKey, ctx: Record<string, unknown>, errors: AppSyncError[]): Promise<unknown> {
    const mod = loadResolverModule(file, env.settings);
    const req = callHandler(mod, 'request', file, ctx, errors);
    if (req.early) return req.value;
    await dataSource(key, req.value, ctx);
    return callHandler(mod, 'response', file, ctx, errors).value;
  }

  async function resolve(typeName: string, fieldName: string, input: ResolveInput): Promise<ResolveOutcome> {
    const spec = RESOLVERS.find((r) => r.typeName === typeName && r.fieldName === fieldName);
    if (!spec) throw new Error(`no resolver for ${typeName}.${fieldName} in schema/resolvers/manifest.ts`);
    const args = json(input.arguments ?? {}) as Record<string, unknown>;
    const ctx: Record<string, unknown> = {
      arguments: args,
      args,
      identity: input.identity ?? null,
      source: input.source ?? null,
      stash: {},
      prev: undefined,
      info: input.info ?? { fieldName, parentTypeName: typeName, variables: {}, selectionSetList: [], selectionSetGraphQL: '' },
      request: input.request ?? { headers: {}, domainName: null },
      env: {},
    };
    const errors: AppSyncError[] = [];
    try {
      if (spec.kind === 'unit') {
        return { data: await step(spec.file, spec.dataSource, ctx, errors), errors, aborted: false };
      }
      const mod = loadResolverModule(spec.file, env.settings);
      const before = callHandler(mod, 'request', spec.file, ctx, errors);
      if (before.early) return { data: before.value, errors, aborted: false };
      ctx.prev = { result: before.value };
      for (const name of spec.functions) {
        const fn = FUNCTIONS[name];
        if (!fn) throw new Error(`pipeline ${typeName}.${fieldName} names unknown function ${name}`);
        delete ctx.result;
        delete ctx.error;
        const result = await step(fn.file, fn.dataSource, ctx, errors);
        ctx.prev = { result };
      }
      delete ctx.error;
      ctx.result = (ctx.prev as { result: unknown }).result;
      return { data: callHandler(mod, 'response', spec.file, ctx, errors).value, errors, aborted: false };
    } catch (err) {
      if (err instanceof UtilError) {
        errors.push(err.error);
        return { data: null, errors, aborted: true };
      }
      throw err;
    }
  }

  return {
    env,
    spec: (typeName, fieldName) => RESOLVERS.find((r) => r.typeName === typeName && r.fieldName === fieldName),
    resolve,
  };
}
