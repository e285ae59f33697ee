/**
 * aws-amplify v6 in Node against a local AppSync endpoint (local/appsync/server.ts), unchanged but for one shim.
 *
 * Why a shim: Amplify's realtime provider opens `new WebSocket(url, ['graphql-ws', 'header-…'])` with the global
 * WebSocket, which Node 20 does not have, and for any endpoint that is not an AWS AppSync host it derives the
 * realtime URL as the GraphQL URL + '/realtime' with the scheme rewritten to wss:// — also from http://
 * (@aws-amplify/api-graphql, AWSWebSocketProvider/appsyncUrl.ts). The local endpoint speaks plain ws:// on
 * 127.0.0.1, so the global WebSocket is `ws` with that one rewrite, the usual `globalThis.WebSocket = ws` polyfill
 * plus a line:
 *
 *   globalThis.WebSocket = class extends WebSocket { constructor(url, protocols) {
 *     super(String(url).replace(/^wss:\/\/127\.0\.0\.1([:/])/, 'ws://127.0.0.1$1'), protocols); } };
 *
 * Queries and mutations go over Node's fetch to the http:// GraphQL URL as configured; nothing else is patched.
 * `amplifyClient({graphqlUrl, apiKey, region})` installs the shim, configures Amplify (API key auth) and returns
 * generateClient()'s client.
 */
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';
import WebSocket from 'ws';

/** `ws`, but a wss:// URL to 127.0.0.1 is opened as ws:// (the local endpoint has no TLS). */
export class LoopbackWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[], options?: WebSocket.ClientOptions) {
    super(String(address).replace(/^wss:\/\/127\.0\.0\.1([:/])/, 'ws://127.0.0.1$1'), protocols, options);
  }
}

export function installWebSocketShim(): void {
  (globalThis as { WebSocket?: unknown }).WebSocket = LoopbackWebSocket;
}

export interface AmplifyTarget {
  graphqlUrl: string;
  apiKey: string;
  region: string;
}

/**
 * generateClient()'s client, typed only as far as these tests use it: `graphql` answers a Promise of
 * `{data, errors}` for queries and mutations, an Observable for subscriptions (Amplify's full types are too deep
 * for tsc to compare here).
 */
export interface AmplifyClient {
  graphql(options: { query: string; variables?: Record<string, unknown> }): unknown;
}

/** A generateClient() client for the local endpoint, with API key auth (Amplify is configured process-wide). */
export function amplifyClient(t: AmplifyTarget): AmplifyClient {
  if (!/^http:\/\/127\.0\.0\.1:\d+\/graphql$/.test(t.graphqlUrl)) {
    throw new Error(`amplifyClient: graphqlUrl must be a local endpoint http://127.0.0.1:<port>/graphql, got ${JSON.stringify(t.graphqlUrl)}`);
  }
  installWebSocketShim();
  Amplify.configure({ API: { GraphQL: { endpoint: t.graphqlUrl, region: t.region, defaultAuthMode: 'apiKey', apiKey: t.apiKey } } });
  return generateClient() as unknown as AmplifyClient;
}
