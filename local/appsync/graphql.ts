/**
 * The AppSync GraphQL endpoint of one region, locally: graphql-js executing schema/schema.graphql (as deployed,
 * schemaSource(authMode)) with the manifest's resolvers run by ./runner.ts. Used by test/resolvers and the local
 * emulator (which adds HTTP, WebSocket realtime and routing around it).
 *
 * AppSync behaviour reproduced:
 * - the schema is built with APPSYNC_PRELUDE: AppSync's scalars and @aws_* directives declared as SDL, so the real
 *   file validates as AppSync would see it.
 * - auth per field: a field's @aws_* auth directives, else its type's, else the API's default mode (the configured
 *   client auth). The API's modes are the client auth + AWS_IAM. A caller whose mode is not allowed gets
 *   the field as null and {errorType: 'Unauthorized', message: 'Not Authorized to access <field> on type <Type>'}.
 * - ctx.identity: null for API key callers; the given identity object otherwise (IAM: {accountId, userArn, ...}).
 * - errors: [{message, errorType, path, locations, data, errorInfo}], data and errorInfo always present (null when
 *   util.error/appendError gave none), as AppSync answers: its errors carry "data": null, "errorInfo": null (the
 *   error shape of AWS's util.error(message, errorType, data, errorInfo), built-in-util-js.html "Error utils").
 *   util.error nulls the field (null propagates up through non-null fields like graphql-js/AppSync do). Not
 *   emulated: AppSync filters an error's `data` by the query's selection set; here it is passed as given (no resolver
 *   of this project passes data to util.error).
 * - requests that fail to parse, validate or coerce variables: {data: null, errors: [{errorType: 'ValidationError'}]}
 *   (the errorType label is this emulator's; AppSync's wording differs per case).
 * - scalars: AWSDateTime (ISO 8601 with time zone), AWSTimestamp (integer seconds) and AWSJSON (JSON text) are checked
 *   on input; AWSDate, AWSTime, AWSEmail, AWSURL, AWSPhone, AWSIPAddress pass through as strings.
 * - the request limit (./requestLimit.ts; 30 s as AppSync's, shorter with `requestLimitMs`): at the deadline every
 *   resolver still running answers its field null with errorType ExecutionTimeout, its data-source calls in flight
 *   are aborted, and no data source is called for the request any more. `settled()` resolves once the resolvers of
 *   every request have stopped, those of requests already answered included.
 *
 * Subscriptions are not executed here. For the realtime layer: after every mutation operation, each root field that
 * some Subscription field lists in @aws_subscribe(mutations: [...]) and that resolved to non-null is handed to the
 * onPublish listeners with the data exactly as the mutation selected it (AppSync delivers only those fields).
 */
import {
  buildSchema,
  execute as gqlExecute,
  GraphQLError,
  type GraphQLField,
  GraphQLObjectType,
  type GraphQLResolveInfo,
  GraphQLScalarType,
  type GraphQLSchema,
  Kind,
  parse,
  print,
  responsePathAsArray,
  type SelectionSetNode,
  validate,
  valueFromASTUntyped,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import { type AuthMode, schemaSource } from '../../schema/source';
import { checkRequestLimit, type DeadlineClock, DEFAULT_REQUEST_LIMIT_MS, EXECUTION_TIMED_OUT, EXECUTION_TIMEOUT, MACHINE_CLOCK, RequestDeadline, RequestTimedOut } from './requestLimit';
import { createResolverRunner, type AppSyncError, type ResolverEnvironment, type ResolverRunner } from './runner';

/** How many distinct query texts an endpoint keeps parsed and validated (see parsedAndValidated). */
export const DOCUMENT_CACHE_SIZE = 500;

export const APPSYNC_PRELUDE = `
scalar AWSDate
scalar AWSTime
scalar AWSDateTime
scalar AWSTimestamp
scalar AWSEmail
scalar AWSJSON
scalar AWSURL
scalar AWSPhone
scalar AWSIPAddress
directive @aws_api_key on OBJECT | FIELD_DEFINITION
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_lambda on OBJECT | FIELD_DEFINITION
directive @aws_oidc on OBJECT | FIELD_DEFINITION
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
directive @aws_publish(subscriptions: [String]) on FIELD_DEFINITION
`;

/** Caller auth modes: the four client modes of schema/source.ts plus AWS_IAM. */
export type CallerMode = AuthMode | 'iam';

export interface CallerIdentity {
  mode: CallerMode;
  /** ctx.identity for non-API-key callers (e.g. IAM: {accountId, userArn, username, sourceIp}). */
  identity?: Record<string, unknown>;
}

export const API_KEY_CALLER: CallerIdentity = { mode: 'apiKey' };
export const IAM_CALLER: CallerIdentity = {
  mode: 'iam',
  identity: { accountId: '000000000000', userArn: 'arn:aws:sts::000000000000:assumed-role/notifier/local', username: 'notifier', sourceIp: ['127.0.0.1'] },
};

const AUTH_DIRECTIVES: Record<string, CallerMode> = {
  aws_api_key: 'apiKey',
  aws_iam: 'iam',
  aws_lambda: 'lambda',
  aws_cognito_user_pools: 'cognito',
  aws_oidc: 'oidc',
};

export interface GraphQLResponse {
  data: Record<string, unknown> | null;
  errors?: GraphQLErrorOut[];
}

export interface GraphQLErrorOut {
  message: string;
  errorType?: string;
  path: (string | number)[] | null;
  locations?: { line: number; column: number }[];
  /** util.error's data argument; null when none was given (always present, as in AppSync's answers). */
  data?: unknown;
  /** util.error's errorInfo argument; null when none was given (always present, as in AppSync's answers). */
  errorInfo?: unknown;
}

/** An AppSync-shaped error: data and errorInfo always present, null when not given. */
function errorOut(e: Omit<GraphQLErrorOut, 'data' | 'errorInfo'> & { data?: unknown; errorInfo?: unknown }): GraphQLErrorOut {
  return { ...e, data: e.data ?? null, errorInfo: e.errorInfo ?? null };
}

export interface PublishEvent {
  /** The mutation field, e.g. 'publishItemChange'. */
  mutationField: string;
  /** Subscription fields bound to it by @aws_subscribe, e.g. ['onItemChange']. */
  subscriptionFields: string[];
  /** The mutation's arguments (variables resolved). */
  args: Record<string, unknown>;
  /** The field's result exactly as the mutation selected it (what AppSync delivers to subscribers). */
  data: unknown;
  /** The mutation's selection set as GraphQL text. */
  selectionSet: string;
}

export interface GraphQLExecutorOptions extends ResolverEnvironment {
  /** The API's client auth mode (default apiKey); AWS_IAM is always an additional mode. */
  authMode?: AuthMode;
  /** Caller when execute() is given none (default: an API key caller). */
  identity?: CallerIdentity;
  /** Each request's time limit, 1 to 30000 ms (default AppSync's 30000; the emulator's scaled write bound is shorter). */
  requestLimitMs?: number;
  /** The clock request deadlines run on (default the machine's; tests move one by hand). */
  requestClock?: DeadlineClock;
}

export interface ExecuteRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  identity?: CallerIdentity;
}

export interface GraphQLExecutor {
  readonly schema: GraphQLSchema;
  readonly runner: ResolverRunner;
  /** Each request's time limit in ms (./requestLimit.ts). */
  readonly requestLimitMs: number;
  execute(req: ExecuteRequest): Promise<GraphQLResponse>;
  /** Resolves once no resolver runs any more, including those of requests answered at their deadline. */
  settled(): Promise<void>;
  /** Registers a listener for published mutation results; returns an unsubscribe function. */
  onPublish(listener: (event: PublishEvent) => void | Promise<void>): () => void;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)$/;

function checkedScalar(name: string, check: (v: unknown) => unknown): GraphQLScalarType {
  return new GraphQLScalarType({
    name,
    serialize: (v) => v,
    parseValue: check,
    parseLiteral: (ast) => check(valueFromASTUntyped(ast)),
  });
}

const SCALARS: Record<string, GraphQLScalarType> = {
  AWSDateTime: checkedScalar('AWSDateTime', (v) => {
    if (typeof v !== 'string' || !ISO_DATETIME.test(v) || Number.isNaN(Date.parse(v))) {
      throw new TypeError(`Can't serialize value: Unable to serialize \`${String(v)}\` as a valid DateTime Object.`);
    }
    return v;
  }),
  AWSTimestamp: checkedScalar('AWSTimestamp', (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${String(v)} is not an AWSTimestamp (integer seconds)`);
    return v;
  }),
  AWSJSON: new GraphQLScalarType({
    name: 'AWSJSON',
    serialize: (v) => (typeof v === 'string' ? v : JSON.stringify(v)),
    parseValue: (v) => {
      if (typeof v !== 'string') throw new TypeError('AWSJSON must be a JSON string');
      return JSON.parse(v);
    },
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING) throw new TypeError('AWSJSON must be a JSON string');
      return JSON.parse(ast.value);
    },
  }),
};

/** schema.graphql as deployed for `mode`, with AppSync's prelude, validated by graphql-js. */
export function buildAppSyncSchema(mode: AuthMode = 'apiKey'): GraphQLSchema {
  const schema = buildSchema(APPSYNC_PRELUDE + schemaSource(mode));
  for (const [name, impl] of Object.entries(SCALARS)) {
    const t = schema.getType(name) as GraphQLScalarType | undefined;
    if (t) Object.assign(t, { serialize: impl.serialize, parseValue: impl.parseValue, parseLiteral: impl.parseLiteral });
  }
  return schema;
}

/** The caller modes a type's or field's @aws_* directives allow (shared with the realtime layer). */
export function authModes(node: { directives?: readonly { name: { value: string } }[] } | undefined | null): CallerMode[] {
  return (node?.directives ?? []).map((d) => AUTH_DIRECTIVES[d.name.value]).filter((m): m is CallerMode => m !== undefined);
}

/** Mutation field → subscription fields that list it in @aws_subscribe(mutations). */
export function subscriptionBindings(schema: GraphQLSchema): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const d = field.astNode?.directives?.find((x) => x.name.value === 'aws_subscribe');
    const arg = d?.arguments?.find((a) => a.name.value === 'mutations');
    const mutations = arg ? (valueFromASTUntyped(arg.value) as string[]) : [];
    for (const m of mutations ?? []) out.set(m, [...(out.get(m) ?? []), field.name]);
  }
  return out;
}

class FieldError extends Error {
  constructor(readonly appsync: AppSyncError) {
    super(appsync.message);
  }
}

interface ExecContext {
  caller: CallerIdentity;
  extraErrors: GraphQLErrorOut[];
  deadline: RequestDeadline;
}

const TIMED_OUT: AppSyncError = { message: EXECUTION_TIMED_OUT, errorType: EXECUTION_TIMEOUT };

function selectionList(info: GraphQLResolveInfo): { list: string[]; text: string } {
  const list: string[] = [];
  const walk = (set: SelectionSetNode | undefined, prefix: string) => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.FIELD && sel.name.value !== '__typename') {
        list.push(prefix + sel.name.value);
        walk(sel.selectionSet, `${prefix}${sel.name.value}/`);
      }
    }
  };
  const set = info.fieldNodes[0]?.selectionSet;
  walk(set, '');
  return { list, text: set ? print(set) : '' };
}

export function createGraphQLExecutor(opts: GraphQLExecutorOptions): GraphQLExecutor {
  const defaultMode: AuthMode = opts.authMode ?? 'apiKey';
  const apiModes: CallerMode[] = [defaultMode, 'iam'];
  const schema = buildAppSyncSchema(defaultMode);
  const runner = createResolverRunner(opts);
  const requestLimitMs = checkRequestLimit(opts.requestLimitMs ?? DEFAULT_REQUEST_LIMIT_MS);
  /** Resolver runs not finished yet (a request answered at its deadline leaves its own running). */
  const running = new Set<Promise<unknown>>();
  const listeners = new Set<(event: PublishEvent) => void | Promise<void>>();
  const bindings = subscriptionBindings(schema);

  // Wrap every field: auth check, then the manifest resolver (root fields) or the default property resolver.
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
    const typeModes = authModes(type.astNode);
    for (const field of Object.values(type.getFields()) as GraphQLField<unknown, ExecContext>[]) {
      const fieldModes = authModes(field.astNode);
      const allowed = fieldModes.length ? fieldModes : typeModes.length ? typeModes : [defaultMode];
      const spec = runner.spec(type.name, field.name);
      field.resolve = async (source, args, context, info) => {
        if (!allowed.includes(context.caller.mode)) {
          throw new FieldError({ message: `Not Authorized to access ${field.name} on type ${type.name}`, errorType: 'Unauthorized' });
        }
        if (!spec) {
          return source && typeof source === 'object' ? (source as Record<string, unknown>)[field.name] : undefined;
        }
        if (context.deadline.expired) throw new FieldError(TIMED_OUT);
        const sel = selectionList(info);
        const run = runner.resolve(
          type.name,
          field.name,
          {
            arguments: args,
            identity: context.caller.mode === 'apiKey' ? null : (context.caller.identity ?? {}),
            source: source ?? null,
            info: { fieldName: field.name, parentTypeName: type.name, variables: info.variableValues, selectionSetList: sel.list, selectionSetGraphQL: sel.text },
          },
          context.deadline,
        );
        running.add(run);
        const forget = () => void running.delete(run);
        run.then(forget, forget);
        let out: Awaited<typeof run>;
        try {
          out = await context.deadline.race(run);
        } catch (err) {
          if (err instanceof RequestTimedOut) throw new FieldError(TIMED_OUT);
          throw err;
        }
        const path = responsePathAsArray(info.path);
        if (out.aborted) {
          const last = out.errors[out.errors.length - 1];
          for (const e of out.errors.slice(0, -1)) context.extraErrors.push(errorOut({ ...e, path }));
          throw new FieldError(last);
        }
        for (const e of out.errors) context.extraErrors.push(errorOut({ ...e, path }));
        return out.data;
      };
    }
  }

  function requestError(errors: readonly GraphQLError[]): GraphQLResponse {
    return {
      data: null,
      errors: errors.map((e) => errorOut({ message: e.message, errorType: 'ValidationError', path: null, locations: e.locations ? [...e.locations] : undefined })),
    };
  }

  function publish(operation: OperationDefinitionNode, data: Record<string, unknown>, variables: Record<string, unknown>) {
    for (const sel of operation.selectionSet.selections) {
      if (sel.kind !== Kind.FIELD) continue;
      const subs = bindings.get(sel.name.value);
      const value = data[sel.alias?.value ?? sel.name.value];
      if (!subs || value === null || value === undefined) continue;
      const args: Record<string, unknown> = {};
      for (const a of sel.arguments ?? []) args[a.name.value] = valueFromASTUntyped(a.value, variables);
      const event: PublishEvent = { mutationField: sel.name.value, subscriptionFields: subs, args, data: value, selectionSet: sel.selectionSet ? print(sel.selectionSet) : '' };
      for (const l of listeners) {
        Promise.resolve()
          .then(() => l(event))
          .catch((err) => console.error(`onPublish listener failed for ${event.mutationField}:`, err));
      }
    }
  }

  // Parsed and validated documents by query text: clients send the same few operations over and over (with other
  // variables), and parsing plus validating each anew was a visible share of the emulator's CPU under load. What a
  // document means never changes for a given schema; the oldest entries go first past DOCUMENT_CACHE_SIZE.
  const documents = new Map<string, { document: DocumentNode; invalid: readonly GraphQLError[] }>();
  function parsedAndValidated(query: string): { document: DocumentNode; invalid: readonly GraphQLError[] } {
    const cached = documents.get(query);
    if (cached) return cached;
    const document = parse(query);
    const entry = { document, invalid: validate(schema, document) };
    if (documents.size >= DOCUMENT_CACHE_SIZE) documents.delete(documents.keys().next().value as string);
    documents.set(query, entry);
    return entry;
  }

  async function execute(req: ExecuteRequest): Promise<GraphQLResponse> {
    let document: DocumentNode;
    let invalid: readonly GraphQLError[];
    try {
      ({ document, invalid } = parsedAndValidated(req.query));
    } catch (err) {
      return requestError([err as GraphQLError]);
    }
    if (invalid.length) return requestError(invalid);
    const caller = req.identity ?? opts.identity ?? API_KEY_CALLER;
    if (!apiModes.includes(caller.mode)) {
      return { data: null, errors: [errorOut({ message: `Unauthorized: this API accepts ${apiModes.join(' and ')} callers`, errorType: 'UnauthorizedException', path: null })] };
    }
    const context: ExecContext = { caller, extraErrors: [], deadline: new RequestDeadline(requestLimitMs, opts.requestClock ?? MACHINE_CLOCK) };
    let result: Awaited<ReturnType<typeof gqlExecute>>;
    try {
      result = await gqlExecute({ schema, document, variableValues: req.variables ?? undefined, operationName: req.operationName ?? undefined, contextValue: context });
    } finally {
      context.deadline.end();
    }
    if (result.data === undefined) return requestError(result.errors ?? []);
    const errors: GraphQLErrorOut[] = [...context.extraErrors];
    for (const e of result.errors ?? []) {
      const original = e.originalError instanceof FieldError ? e.originalError.appsync : undefined;
      errors.push(
        errorOut({
          message: e.message,
          errorType: original ? original.errorType : e.originalError ? 'InternalFailure' : 'ValidationError',
          path: e.path ? [...e.path] : null,
          locations: e.locations ? [...e.locations] : undefined,
          data: original?.data,
          errorInfo: original?.errorInfo,
        }),
      );
    }
    // Plain JSON, as AppSync answers over HTTP (graphql-js builds null-prototype objects).
    const data = (result.data ? JSON.parse(JSON.stringify(result.data)) : null) as Record<string, unknown> | null;
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!req.operationName || d.name?.value === req.operationName),
    );
    if (operation?.operation === 'mutation' && data && listeners.size) publish(operation, data, req.variables ?? {});
    return errors.length ? { data, errors } : { data };
  }

  async function settled(): Promise<void> {
    while (running.size > 0) await Promise.allSettled([...running]);
  }

  return {
    schema,
    runner,
    requestLimitMs,
    execute,
    settled,
    onPublish(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
