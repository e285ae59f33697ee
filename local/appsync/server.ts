/**
 * One region's local AppSync endpoint on one port of 127.0.0.1: GraphQL over HTTP at /graphql (./http.ts) and the
 * realtime WebSocket at /graphql/realtime (./realtime.ts), both verifying callers with ./auth.ts (the region's API
 * key or, in token mode, the region's authorizer function; or SigV4 with the region's known credentials) and running the region's executor (./graphql.ts). The local
 * emulator starts one per region; tests start their own.
 *
 * The realtime URL is the GraphQL URL + '/realtime' (ws scheme): what aws-amplify v6 derives for a non-AWS host,
 * so a client configured with graphqlUrl finds the WebSocket by itself.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaAuthorizer, StaticCredentials } from './auth';
import type { GraphQLExecutor } from './graphql';
import { createGraphQLHandler, GRAPHQL_PATH } from './http';
import { createRealtime } from './realtime';
import { listen } from '../listen';

export const REALTIME_PATH = `${GRAPHQL_PATH}/realtime`;
export const DEFAULT_KEEP_ALIVE_MS = 60_000;

export interface AppSyncServerOptions {
  region: string;
  /** From createGraphQLExecutor, already wired to the region's tables. */
  executor: GraphQLExecutor;
  /** This region's API key; any other key is refused. Absent in token mode (`lambda` instead). */
  apiKey?: string;
  /** Token mode: AWS_LAMBDA authorization through the region's authorizer function (./auth.ts). */
  lambda?: LambdaAuthorizer;
  /** The identity IAM callers (SigV4, e.g. the notifier) sign with. */
  credentials: StaticCredentials;
  /** 0/undefined = a free port. */
  port?: number;
  /** Realtime `ka` interval (default 60000; connection_ack advertises AppSync's connectionTimeoutMs 300000). */
  keepAliveMs?: number;
}

export interface AppSyncServer {
  /** http://127.0.0.1:<port>/graphql */
  readonly graphqlUrl: string;
  /** ws://127.0.0.1:<port>/graphql/realtime */
  readonly realtimeUrl: string;
  readonly port: number;
  /** Active subscriptions (for stats). */
  subscriptions(): number;
  /** Closes sockets and the server; nothing is left listening. */
  close(): Promise<void>;
}

function checkOptions(o: AppSyncServerOptions): void {
  const problems: string[] = [];
  if (typeof o.region !== 'string' || !o.region) problems.push('region must be a non-empty string');
  if (!o.executor || typeof o.executor.execute !== 'function') problems.push('executor must come from createGraphQLExecutor');
  if (o.lambda === undefined && (typeof o.apiKey !== 'string' || !o.apiKey)) problems.push('apiKey must be a non-empty string (or give lambda, the token authorizer)');
  if (!o.credentials?.accessKeyId || !o.credentials?.secretAccessKey) problems.push('credentials need accessKeyId and secretAccessKey');
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) problems.push(`port must be an integer 0-65535, got ${o.port}`);
  if (o.keepAliveMs !== undefined && (!Number.isFinite(o.keepAliveMs) || o.keepAliveMs < 1)) problems.push(`keepAliveMs must be ≥ 1, got ${o.keepAliveMs}`);
  if (problems.length) throw new Error(`startAppSyncServer: ${problems.join('; ')}`);
}

export async function startAppSyncServer(o: AppSyncServerOptions): Promise<AppSyncServer> {
  checkOptions(o);
  const auth = { region: o.region, apiKey: o.apiKey, credentials: o.credentials, ...(o.lambda ? { lambda: o.lambda } : {}) };
  const realtime = createRealtime({
    executor: o.executor,
    auth,
    graphqlPath: GRAPHQL_PATH,
    realtimePath: REALTIME_PATH,
    keepAliveMs: o.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
  });
  const server = http.createServer(createGraphQLHandler({ executor: o.executor, auth }));
  server.on('upgrade', (req, socket, head) => realtime.handleUpgrade(req, socket, head));

  try {
    await listen(server, o.port ?? 0); // a port in use is a PortInUseError naming it
  } catch (err) {
    await realtime.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new Error(`port ${o.port} needs privileges this process does not have`);
    throw err;
  }

  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    graphqlUrl: `http://127.0.0.1:${port}${GRAPHQL_PATH}`,
    realtimeUrl: `ws://127.0.0.1:${port}${REALTIME_PATH}`,
    port,
    subscriptions: () => realtime.subscriptions(),
    close() {
      closing ??= (async () => {
        await realtime.close();
        server.closeAllConnections();
        await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      })();
      return closing;
    },
  };
}
