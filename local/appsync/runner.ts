/**
 * Runs the resolvers of schema/resolvers/manifest.ts the way AppSync runs APPSYNC_JS resolvers, so the resolver
 * tests and the local emulator execute the very code `pulumi up` deploys:
 *
 * - code: components/bundle.ts bundles each file per region settings (ESM, `@aws-appsync/utils` external); here it
 *   is evaluated once per (file, settings) in the APPSYNC_JS sandbox (./sandbox.ts: a vm context holding only what
 *   AWS's "Supported runtime features" page lists), with `@aws-appsync/utils` bound to the documented stand-in
 *   (./util.ts). Compiled modules are cached. The same bundles pass the AST check of ./runtimeCheck.ts.
 * - data sources: localItems / primaryItems / appConfig → ./dynamodb.ts against {tableName, region};
 *   none → ctx.result = the request's `payload` (AppSync's NONE data source).
 * - unit resolver: request → data source → response.
 * - pipeline resolver: before (request) → each function (request → data source → response; ctx.stash shared,
 *   ctx.prev.result = the previous step's result) → after (response, with ctx.prev.result).
 * - runtime.earlyReturn(obj, {skipTo}?), as AWS's "Runtime utilities" page documents it
 *   (https://docs.aws.amazon.com/appsync/latest/devguide/runtime-utils-js.html):
 *   in a function's request handler: its data source and response handler are skipped and the next function (or,
 *   after the last, the pipeline's response handler) runs with ctx.prev.result = obj; skipTo 'END' goes straight to
 *   the pipeline's response handler instead. In the pipeline's request (before) handler: the functions are skipped
 *   and the pipeline's response handler IS called, with ctx.prev.result = obj; skipTo 'NEXT' there runs the
 *   functions after all (the next pipeline handler), obj being the before handler's result. In a function's
 *   response handler: obj is the function's result (skipTo 'END' skips the remaining functions). In a unit
 *   resolver's request handler: data source and response are skipped, obj is the field's value; in any final
 *   response handler: obj is the value.
 * - util.error aborts the whole resolver: the field's data is null and the error is reported; errors appended with
 *   util.appendError are reported too, but the field keeps its value.
 * - like AppSync, a data source error is NOT raised by itself: it is in ctx.error for the response handler to raise.
 * - arguments, requests and results pass through JSON like they do in AppSync (no undefined, no prototypes); what a
 *   handler sees is rebuilt inside the sandbox realm.
 * - the request's deadline (./requestLimit.ts), when given: no data-source call starts after it (RequestTimedOut),
 *   and one in flight then is aborted.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { bundleResolver, type ResolverSettings } from '../../components/bundle';
import { type DataSourceKey, FUNCTIONS, type FunctionSpec, RESOLVERS, type ResolverSpec } from '../../schema/resolvers/manifest';
import { defaultClientFor, executeDynamoDBRequest, type TableRef } from './dynamodb';
import type { RequestDeadline } from './requestLimit';
import { unemulatedModuleMessage } from './runtimeFeatures';
import { createSandbox, type Sandbox } from './sandbox';
import { type AppSyncError, appsyncUtilsModule, EarlyReturn, type SkipTo, UnsupportedUtilError, UtilError, withAppendedErrors } from './util';

export type { AppSyncError } from './util';
export type { TableRef } from './dynamodb';

/**
 * The tables behind the region's DynamoDB data sources. primaryAppConfig, when not given, is the appConfig table's
 * replica in the primary region (a global table: same name in every region), as components/appsyncApi.ts deploys it.
 */
export type DataSourceTables = Record<Exclude<DataSourceKey, 'none' | 'primaryAppConfig'>, TableRef> & { primaryAppConfig?: TableRef };

export interface ResolverEnvironment {
  /** The region's baked-in settings (what bundleResolver defines as __SETTINGS__). */
  settings: ResolverSettings;
  dataSources: DataSourceTables;
  /** DynamoDB client per region; default: one SDK client per region (endpoint from AWS_ENDPOINT_URL_DYNAMODB). */
  clientFor?: (region: string) => DynamoDBClient;
  /** Resolvers and functions to run; default: schema/resolvers/manifest.ts (tests give their own fixtures). */
  manifest?: { resolvers: readonly ResolverSpec[]; functions: Readonly<Record<string, FunctionSpec>> };
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
let sandbox: Sandbox | undefined;

/** The one APPSYNC_JS realm every resolver runs in (one realm, so ctx objects keep one set of prototypes). */
function appsyncRealm(): Sandbox {
  sandbox ??= createSandbox(appsyncUtilsModule as unknown as Record<string, object>);
  return sandbox;
}

function requireForResolver(id: string): void {
  if (id === '@aws-appsync/utils') return;
  // A real AppSync module ("Built-in modules") the stand-in does not emulate: refused, and said so.
  const unemulated = unemulatedModuleMessage(id);
  if (unemulated) throw new Error(`a resolver imports ${unemulated}`);
  if (id.startsWith('@aws-appsync/utils/')) throw new UnsupportedUtilError(`the module ${id}`);
  throw new Error(`a resolver may import only @aws-appsync/utils (AppSync provides nothing else), not ${id}`);
}

/** Bundles (components/bundle.ts) and evaluates one resolver file for the given settings; cached. */
export function loadResolverModule(file: string, settings: ResolverSettings): ResolverModule {
  const cacheKey = `${file}\u0000${JSON.stringify(settings)}`;
  const cached = moduleCache.get(cacheKey);
  if (cached) return cached;
  const esm = bundleResolver(file, settings);
  const mod = appsyncRealm().evaluate(esm, `schema/resolvers/${file}.js (bundled)`, appsyncUtilsModule as unknown as Record<string, object>, requireForResolver);
  moduleCache.set(cacheKey, mod);
  return mod;
}

/** A handler's outcome: its value, and whether (and where to) it returned early. */
type HandlerOutcome = { early: boolean; skipTo: SkipTo; value: unknown };

function callHandler(mod: ResolverModule, name: 'request' | 'response', file: string, ctx: unknown, errors: AppSyncError[]): HandlerOutcome {
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`schema/resolvers/${file}.ts exports no ${name} handler`);
  try {
    const value = withAppendedErrors(errors, () => fn(ctx));
    if (value && typeof (value as Promise<unknown>).then === 'function') {
      throw new Error(`schema/resolvers/${file}.ts ${name} returned a promise: APPSYNC_JS handlers are synchronous`);
    }
    return { early: false, skipTo: null, value: json(value) };
  } catch (err) {
    if (err instanceof EarlyReturn) return { early: true, skipTo: err.skipTo, value: json(err.value) };
    throw err;
  }
}

function json(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}

/** A value handed to resolver code: JSON, rebuilt in the APPSYNC_JS realm. */
function inRealm<T>(v: T): T {
  return appsyncRealm().toSandbox(v === undefined ? (null as T) : v);
}

export interface ResolverRunner {
  readonly env: ResolverEnvironment;
  /** The manifest entry for a field, if it has a resolver. */
  spec(typeName: string, fieldName: string): ResolverSpec | undefined;
  /** Runs the field's resolver (unit or pipeline) with real data sources, none of them called after `deadline`. */
  resolve(typeName: string, fieldName: string, input: ResolveInput, deadline?: RequestDeadline): Promise<ResolveOutcome>;
}

export function createResolverRunner(env: ResolverEnvironment): ResolverRunner {
  const clientFor = env.clientFor ?? defaultClientFor;
  const settings = env.settings;
  const resolvers = env.manifest?.resolvers ?? RESOLVERS;
  const functions = env.manifest?.functions ?? FUNCTIONS;

  async function dataSource(key: DataSourceKey, request: unknown, ctx: Record<string, unknown>, deadline: RequestDeadline | undefined): Promise<void> {
    delete ctx.error;
    // AppSync's request limit: past the deadline no data source is called (the request has been answered already)
    deadline?.assertOpen();
    if (key === 'none') {
      ctx.result = inRealm((request as { payload?: unknown } | null)?.payload ?? null);
      return;
    }
    const table =
      env.dataSources[key] ?? (key === 'primaryAppConfig' && env.dataSources.appConfig ? { tableName: env.dataSources.appConfig.tableName, region: env.settings.primaryRegion } : undefined);
    if (!table) throw new Error(`data source ${key} is not configured for region ${env.settings.region}`);
    // the deadline's signal aborts the call if it is still in flight then (./requestLimit.ts)
    const out = await executeDynamoDBRequest(table, request, clientFor, deadline?.signal);
    // An error usually leaves ctx.result null; a cancelled TransactWriteItems also fills it (cancellationReasons).
    ctx.result = out.result === undefined ? null : inRealm(out.result);
    if (out.error) ctx.error = inRealm(out.error);
  }

  /** request → data source → response for one unit resolver or pipeline function; `end`: skipTo 'END' was asked. */
  async function step(file: string, key: DataSourceKey, ctx: Record<string, unknown>, errors: AppSyncError[], deadline: RequestDeadline | undefined): Promise<{ value: unknown; end: boolean }> {
    const mod = loadResolverModule(file, settings);
    const req = callHandler(mod, 'request', file, ctx, errors);
    if (req.early) return { value: req.value, end: req.skipTo === 'END' };
    await dataSource(key, req.value, ctx, deadline);
    const res = callHandler(mod, 'response', file, ctx, errors);
    return { value: res.value, end: res.early && res.skipTo === 'END' };
  }

  async function resolve(typeName: string, fieldName: string, input: ResolveInput, deadline?: RequestDeadline): Promise<ResolveOutcome> {
    const spec = resolvers.find((r) => r.typeName === typeName && r.fieldName === fieldName);
    if (!spec) throw new Error(`no resolver for ${typeName}.${fieldName} in schema/resolvers/manifest.ts`);
    const args = json(input.arguments ?? {}) as Record<string, unknown>;
    const ctx = inRealm({
      arguments: args,
      identity: input.identity ?? null,
      source: input.source ?? null,
      stash: {},
      info: input.info ?? { fieldName, parentTypeName: typeName, variables: {}, selectionSetList: [], selectionSetGraphQL: '' },
      request: input.request ?? { headers: {}, domainName: null },
      env: {},
    }) as Record<string, unknown>;
    ctx.args = ctx.arguments;
    ctx.prev = undefined;
    const errors: AppSyncError[] = [];
    try {
      if (spec.kind === 'unit') {
        return { data: (await step(spec.file, spec.dataSource, ctx, errors, deadline)).value, errors, aborted: false };
      }
      const mod = loadResolverModule(spec.file, settings);
      const before = callHandler(mod, 'request', spec.file, ctx, errors);
      ctx.prev = inRealm({ result: before.value });
      // earlyReturn in the before handler skips the functions unless it asked for the NEXT handler.
      if (!before.early || before.skipTo === 'NEXT') {
        for (const name of spec.functions) {
          const fn = functions[name];
          if (!fn) throw new Error(`pipeline ${typeName}.${fieldName} names unknown function ${name}`);
          delete ctx.result;
          delete ctx.error;
          const out = await step(fn.file, fn.dataSource, ctx, errors, deadline);
          ctx.prev = inRealm({ result: out.value });
          if (out.end) break;
        }
      }
      delete ctx.error;
      ctx.result = inRealm((ctx.prev as { result: unknown }).result);
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
    spec: (typeName, fieldName) => resolvers.find((r) => r.typeName === typeName && r.fieldName === fieldName),
    resolve,
  };
}
