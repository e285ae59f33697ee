/**
 * The realtime WebSocket of one region's local AppSync endpoint (`/graphql/realtime`, with `ws`), speaking the
 * protocol of https://docs.aws.amazon.com/appsync/latest/devguide/real-time-websocket-client.html as aws-amplify v6
 * speaks it:
 *
 * - Connect: subprotocols `graphql-ws` (chosen by the server; required) + `header-<base64url JSON>`, or the older
 *   query string `?header=<base64 JSON>&payload=e30=`. The JSON is the caller's auth headers: `{host, x-amz-date,
 *   x-api-key}` or SigV4 headers signed over POST <graphql path>/connect with body `{}`; ./auth.ts verifies them.
 *   A refused caller gets, in answer to its first message (normally connection_init) or after 1 s, AppSync's
 *   observed frame `{type:'connection_error', payload:{errors:[{errorType:
 *   'com.amazonaws.deepdish.graphql.auth#UnauthorizedException', message:'You are not authorized to make this
 *   call.', errorCode:400}]}}` (https://github.com/aws-amplify/amplify-android/issues/1392), then the socket closes;
 *   a header that does not decode gets `...#BadRequestException` naming the problem. Amplify treats errorCode 400
 *   as final (no reconnect loop).
 * - `connection_init` → `connection_ack {connectionTimeoutMs: 300000}`, then `ka` at once and every keepAliveMs.
 * - `start {id, payload:{data: JSON string of {query, variables}, extensions:{authorization}}}`: the authorization
 *   is verified (SigV4 over POST <graphql path> with the data string as body); then the document must parse, be a
 *   subscription (else `UnsupportedOperation`, "<operation> not supported through the realtime channel"),
 *   validate against the region's schema, have valid variables, and select only fields the caller's mode may read
 *   (field directives, else the type's, else API key: the executor's rule) → `start_ack`. Failures are
 *   `{type:'error', id, payload:{errors:[{errorType, message}]}}`.
 * - Delivery (executor.onPublish): a subscription on one of the event's subscription fields receives the event
 *   when every argument it gave equals the field of the same name in the published data (an explicit null matches
 *   only a null or missing field; an omitted argument filters nothing) —
 *   the mutation's selection, not its arguments
 *   (https://docs.aws.amazon.com/appsync/latest/devguide/aws-appsync-real-time-data.html,
 *   https://github.com/aws/aws-appsync-community/issues/109). The data frame carries the subscription's own
 *   selection projected from the published data: fields the mutation did not select are null (even non-null ones:
 *   AppSync may answer an error there instead — not verified; the project's notifier selects every field, so the
 *   case does not arise); `__typename` is filled from the schema.
 * - `stop {id}` → `complete {id}`; an unknown id → an error frame. A closed socket drops its subscriptions.
 */
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  GraphQLIncludeDirective,
  GraphQLList,
  GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getVariableValues,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { trace, tracing } from '../trace';
import { authenticate, lowerCaseHeaders, NOT_AUTHORIZED, type AuthConfig, type AuthOutcome } from './auth';
import { authModes, type CallerIdentity, type CallerMode, type GraphQLExecutor, type PublishEvent } from './graphql';

export const REALTIME_SUBPROTOCOL = 'graphql-ws';
/** What connection_ack advertises: AppSync's value (the client closes after this long without a `ka`). */
export const CONNECTION_TIMEOUT_MS = 300_000;
/** How long a refused connection waits for the client's first message before sending connection_error anyway. */
const REFUSAL_GRACE_MS = 1000;

export interface RealtimeOptions {
  executor: GraphQLExecutor;
  auth: AuthConfig;
  /** The GraphQL path SigV4 callers sign (connect: `<graphqlPath>/connect`, start: `<graphqlPath>`). */
  graphqlPath: string;
  /** Where the WebSocket lives, e.g. /graphql/realtime. */
  realtimePath: string;
  keepAliveMs: number;
}

export interface Realtime {
  /** For the HTTP server's 'upgrade' event. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Active subscriptions over all connections. */
  subscriptions(): number;
  /** Closes every socket and stops listening to publishes. */
  close(): Promise<void>;
}

interface Subscription {
  id: string;
  /** Subscription field name, e.g. onItemChange, and the key the client reads it under (its alias). */
  field: string;
  responseKey: string;
  args: Record<string, unknown>;
  selectionSet: SelectionSetNode | undefined;
  type: GraphQLOutputType;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

interface Connection {
  socket: WebSocket;
  subs: Map<string, Subscription>;
  keepAlive?: NodeJS.Timeout;
}

interface FrameError {
  errorType: string;
  message: string;
  errorCode?: number;
  locations?: readonly { line: number; column: number }[];
}

/** Decodes a base64 or base64url JSON object (the connect header), or explains why it is not one. */
function decodeHeader(encoded: string): Record<string, unknown> | string {
  if (!/^[A-Za-z0-9+/_=-]+$/.test(encoded)) return 'the header is not base64';
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return 'the header is not base64-encoded JSON';
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the header is not a JSON object';
  return parsed as Record<string, unknown>;
}

function writeHttpRefusal(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ errors: [{ errorType: 'BadRequestException', message }] });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createRealtime(o: RealtimeOptions): Realtime {
  const schema: GraphQLSchema = o.executor.schema;
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(REALTIME_SUBPROTOCOL) ? REALTIME_SUBPROTOCOL : false),
  });
  const connections = new Set<Connection>();
  const stopListening = o.executor.onPublish((event) => deliver(event));

  function send(socket: WebSocket, frame: unknown): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function sendError(c: Connection, id: string, errors: FrameError[]): void {
    send(c.socket, { type: 'error', id, payload: { errors } });
  }

  /** Verifies the connect header, from the subprotocol list or the query string. */
  async function connectAuth(req: http.IncomingMessage, protocols: string[]): Promise<AuthOutcome | { ok: false; badRequest: string }> {
    const url = new URL(req.url ?? '/', 'http://local');
    const fromProtocol = protocols.find((p) => p.startsWith('header-'))?.slice('header-'.length);
    // URLSearchParams turns a raw '+' of standard base64 into a space.
    const fromQuery = url.searchParams.get('header')?.replace(/ /g, '+');
    const encoded = fromProtocol ?? fromQuery;
    if (!encoded) return { ok: false, badRequest: 'no auth header: send a `header-<base64url JSON>` subprotocol or a `header` query parameter' };
    const decoded = decodeHeader(encoded);
    if (typeof decoded === 'string') return { ok: false, badRequest: decoded };
    const headers = lowerCaseHeaders(decoded);
    if (!headers.host) return { ok: false, badRequest: 'the header has no `host`' };
    return authenticate({ method: 'POST', path: `${o.graphqlPath}/connect`, headers, body: '{}' }, o.auth);
  }

  function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== o.realtimePath) {
      writeHttpRefusal(socket, 404, 'Not Found', `No WebSocket endpoint at ${url.pathname}; the realtime endpoint is ${o.realtimePath}`);
      return;
    }
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (!protocols.includes(REALTIME_SUBPROTOCOL)) {
      writeHttpRefusal(socket, 400, 'Bad Request', `The realtime endpoint needs the WebSocket subprotocol "${REALTIME_SUBPROTOCOL}".`);
      return;
    }
    connectAuth(req, protocols)
      .then((outcome) => {
        wss.handleUpgrade(req, socket, head, (ws) => (outcome.ok ? accept(ws, outcome.caller) : refuse(ws, outcome)));
      })
      .catch((err: unknown) => writeHttpRefusal(socket, 500, 'Internal Server Error', `realtime connect failed: ${(err as Error).message}`));
  }

  function refuse(socket: WebSocket, why: { ok: false; badRequest?: string }): void {
    const error: FrameError = why.badRequest
      ? { errorType: 'com.amazonaws.deepdish.graphql.auth#BadRequestException', message: why.badRequest, errorCode: 400 }
      : { errorType: 'com.amazonaws.deepdish.graphql.auth#UnauthorizedException', message: NOT_AUTHORIZED, errorCode: 400 };
    let done = false;
    const answer = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      send(socket, { type: 'connection_error', payload: { errors: [error] } });
      socket.close(1000, 'connection_error');
    };
    const timer = setTimeout(answer, REFUSAL_GRACE_MS);
    socket.once('message', answer);
    socket.once('close', () => clearTimeout(timer));
  }

  function accept(socket: WebSocket, _connectCaller: CallerIdentity): void {
    const c: Connection = { socket, subs: new Map() };
    connections.add(c);
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      onMessage(c, isBinary ? '' : raw.toString()).catch((err: unknown) =>
        sendError(c, '', [{ errorType: 'InternalFailure', message: `local realtime endpoint failed: ${(err as Error).message}` }]),
      );
    });
    socket.on('close', () => {
      clearInterval(c.keepAlive);
      c.subs.clear();
      connections.delete(c);
    });
    socket.on('error', () => socket.terminate());
  }

  function startKeepAlive(c: Connection): void {
    if (c.keepAlive) return;
    send(c.socket, { type: 'ka' });
    c.keepAlive = setInterval(() => send(c.socket, { type: 'ka' }), o.keepAliveMs);
  }

  async function onMessage(c: Connection, text: string): Promise<void> {
    let msg: { type?: unknown; id?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      sendError(c, '', [{ errorType: 'BadRequestException', message: 'A realtime message must be a JSON text frame.' }]);
      return;
    }
    const id = typeof msg?.id === 'string' ? msg.id : '';
    switch (msg?.type) {
      case 'connection_init':
        send(c.socket, { type: 'connection_ack', payload: { connectionTimeoutMs: CONNECTION_TIMEOUT_MS } });
        startKeepAlive(c);
        return;
      case 'start':
        return start(c, id, msg.payload);
      case 'stop':
        if (!c.subs.delete(id)) {
          sendError(c, id, [{ errorType: 'BadRequestException', message: `No subscription with id "${id}" on this connection.` }]);
          return;
        }
        send(c.socket, { type: 'complete', id });
        return;
      default:
        sendError(c, id, [{ errorType: 'UnsupportedOperation', message: `Message type ${JSON.stringify(msg?.type ?? null)} is not supported through the realtime channel.` }]);
    }
  }

  async function start(c: Connection, id: string, payload: unknown): Promise<void> {
    const fail = (...errors: FrameError[]) => sendError(c, id, errors);
    if (!id) return fail({ errorType: 'BadRequestException', message: 'A start message needs a string "id".' });
    if (c.subs.has(id)) return fail({ errorType: 'BadRequestException', message: `A subscription with id "${id}" is already active on this connection.` });
    const p = (payload ?? {}) as { data?: unknown; extensions?: { authorization?: unknown } };
    // AppSync's answer when it cannot tell the operation (e.g. no payload.data): "unknown not supported ..."
    if (typeof p.data !== 'string') return fail({ errorType: 'UnsupportedOperation', message: 'unknown not supported through the realtime channel' });
    const authHeaders = p.extensions?.authorization;
    if (!authHeaders || typeof authHeaders !== 'object') {
      return fail({ errorType: 'UnauthorizedException', message: 'payload.extensions.authorization is missing.', errorCode: 401 });
    }
    const auth = await authenticate({ method: 'POST', path: o.graphqlPath, headers: lowerCaseHeaders(authHeaders as Record<string, unknown>), body: p.data }, o.auth);
    if (!auth.ok) return fail({ errorType: auth.errorType, message: auth.message, errorCode: auth.status });

    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(p.data);
    } catch {
      return fail({ errorType: 'BadRequestException', message: 'payload.data is not JSON.' });
    }
    if (typeof request?.query !== 'string') return fail({ errorType: 'BadRequestException', message: 'payload.data has no string "query".' });
    let document: DocumentNode;
    try {
      document = parse(request.query);
    } catch (err) {
      const e = err as { message: string; locations?: { line: number; column: number }[] };
      return fail({ errorType: 'ValidationError', message: e.message, locations: e.locations });
    }
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = typeof request.operationName === 'string' ? operations.find((d) => d.name?.value === request.operationName) : operations.length === 1 ? operations[0] : undefined;
    if (!operation) return fail({ errorType: 'ValidationError', message: 'payload.data must hold exactly one operation, or name one with "operationName".' });
    if (operation.operation !== 'subscription') {
      return fail({ errorType: 'UnsupportedOperation', message: `${operation.operation} not supported through the realtime channel` });
    }
    const invalid = validate(schema, document);
    if (invalid.length) return fail(...invalid.map((e) => ({ errorType: 'ValidationError', message: e.message, locations: e.locations })));
    const rawVars = request.variables ?? {};
    if (typeof rawVars !== 'object' || Array.isArray(rawVars)) return fail({ errorType: 'ValidationError', message: '"variables" must be a JSON object.' });
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVars as Record<string, unknown>);
    if (coerced.errors) return fail(...coerced.errors.map((e) => ({ errorType: 'ValidationError', message: e.message, locations: e.locations })));

    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    const subscriptionType = schema.getSubscriptionType() as GraphQLObjectType;
    const root = operation.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value !== '__typename');
    if (!root) return fail({ errorType: 'ValidationError', message: 'The subscription selects no field.' });
    const fieldDef = subscriptionType.getFields()[root.name.value];
    const denied = firstDenied(subscriptionType, operation.selectionSet, auth.caller.mode, fragments);
    if (denied) return fail({ errorType: 'Unauthorized', message: denied });
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(fieldDef, root, coerced.coerced);
    } catch (err) {
      return fail({ errorType: 'ValidationError', message: (err as Error).message });
    }
    c.subs.set(id, {
      id,
      field: root.name.value,
      responseKey: root.alias?.value ?? root.name.value,
      args,
      selectionSet: root.selectionSet,
      type: fieldDef.type,
      fragments,
      variables: coerced.coerced,
    });
    send(c.socket, { type: 'start_ack', id });
  }

  /** The executor's field rule: a field's auth directives, else its type's, else the API key mode. */
  function firstDenied(type: GraphQLObjectType, set: SelectionSetNode, mode: CallerMode, fragments: Record<string, FragmentDefinitionNode>, seen = new Set<string>()): string | undefined {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        const field = type.getFields()[sel.name.value];
        const fieldModes = authModes(field.astNode);
        const allowed = fieldModes.length ? fieldModes : authModes(type.astNode).length ? authModes(type.astNode) : ['apiKey'];
        if (!allowed.includes(mode)) return `Not Authorized to access ${field.name} on type ${type.name}`;
        const inner = getNamedType(field.type);
        if (sel.selectionSet && inner instanceof GraphQLObjectType) {
          const d = firstDenied(inner, sel.selectionSet, mode, fragments, seen);
          if (d) return d;
        }
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const d = firstDenied(type, sel.selectionSet, mode, fragments, seen);
        if (d) return d;
      } else if (!seen.has(sel.name.value) && fragments[sel.name.value]) {
        seen.add(sel.name.value);
        const d = firstDenied(type, fragments[sel.name.value].selectionSet, mode, fragments, seen);
        if (d) return d;
      }
    }
    return undefined;
  }

  function included(node: FieldNode | { directives?: FieldNode['directives'] }, variables: Record<string, unknown>): boolean {
    const skip = getDirectiveValues(GraphQLSkipDirective, node, variables);
    if (skip?.if === true) return false;
    const include = getDirectiveValues(GraphQLIncludeDirective, node, variables);
    return include?.if !== false;
  }

  /** The subscription's selection over the published value: unselected-by-the-mutation fields are null. */
  function project(value: unknown, type: GraphQLOutputType, set: SelectionSetNode | undefined, sub: Subscription): unknown {
    if (value === null || value === undefined) return null;
    const t = getNullableType(type);
    if (t instanceof GraphQLList) return Array.isArray(value) ? value.map((v) => project(v, t.ofType, set, sub)) : null;
    if (!(t instanceof GraphQLObjectType) || !set) return value;
    const out: Record<string, unknown> = {};
    const source = value as Record<string, unknown>;
    const collect = (s: SelectionSetNode) => {
      for (const sel of s.selections) {
        if (!included(sel, sub.variables)) continue;
        if (sel.kind === Kind.FIELD) {
          const key = sel.alias?.value ?? sel.name.value;
          if (sel.name.value === '__typename') {
            out[key] = t.name;
            continue;
          }
          const field = t.getFields()[sel.name.value];
          const projected = project(source[sel.name.value], field.type, sel.selectionSet, sub);
          const prev = out[key];
          out[key] = prev && projected && typeof prev === 'object' && typeof projected === 'object' && !Array.isArray(prev) ? { ...prev, ...projected } : projected;
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          if (!sel.typeCondition || sel.typeCondition.name.value === t.name) collect(sel.selectionSet);
        } else {
          const f = sub.fragments[sel.name.value];
          if (f && f.typeCondition.name.value === t.name) collect(f.selectionSet);
        }
      }
    };
    collect(set);
    return out;
  }

  /**
   * AppSync's argument filtering: an omitted argument filters nothing; a given one must equal the published field of
   * the same name — and an explicit null is a filter too, matching only a null or missing field ("Argument null value
   * has meaning", AppSync developer guide, "Using subscriptions for real-time data applications").
   */
  function matches(sub: Subscription, data: unknown): boolean {
    const published = (data ?? {}) as Record<string, unknown>;
    return Object.entries(sub.args).every(([name, want]) => {
      if (want === undefined) return true;
      if (want === null) return published[name] === null || published[name] === undefined;
      return Object.hasOwn(published, name) && isDeepStrictEqual(published[name], want);
    });
  }

  function deliver(event: PublishEvent): void {
    // probes for the benchmark (../trace.ts): the published result arrives, then every frame is written
    const traced = tracing();
    const id = (event.data as { id?: unknown } | null)?.id;
    const ids = typeof id === 'string' ? [id] : [];
    if (traced) trace({ point: 'realtime.deliver', scope: o.executor, ids });
    let frames = 0;
    for (const c of connections) {
      for (const sub of c.subs.values()) {
        if (!event.subscriptionFields.includes(sub.field) || !matches(sub, event.data)) continue;
        send(c.socket, { type: 'data', id: sub.id, payload: { data: { [sub.responseKey]: project(event.data, sub.type, sub.selectionSet, sub) } } });
        frames += 1;
      }
    }
    if (traced) trace({ point: 'realtime.sent', scope: o.executor, ids, detail: { frames } });
  }

  return {
    handleUpgrade,
    subscriptions: () => [...connections].reduce((n, c) => n + c.subs.size, 0),
    async close() {
      stopListening();
      for (const c of connections) clearInterval(c.keepAlive);
      // wss.clients also holds refused sockets still waiting to be told so.
      for (const socket of wss.clients) socket.terminate();
      connections.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
