/**
 * One subscription over AppSync's realtime WebSocket, spoken as a real client does
 * (https://docs.aws.amazon.com/appsync/latest/devguide/real-time-websocket-client.html):
 *   connect to realtimeUrl with subprotocols `graphql-ws` and `header-<base64url of the auth headers>` (host = the
 *   GraphQL host, x-amz-date, and x-api-key or Authorization) → connection_init → connection_ack (its
 *   connectionTimeoutMs: without a `ka` for that long the connection is dead) → start {id, payload: {data: JSON of
 *   {query, variables}, extensions: {authorization}}} → start_ack → data frames; `stop` → complete on close.
 * A dropped connection is retried every `retryMs` (AppSync keeps nothing for a subscriber that is gone: what was
 * published meanwhile is lost, so the owner re-reads on `reconnected`). A connection_error is final, as for
 * Amplify (AppSync answers it for a refused credential).
 */

const amzDate = () => new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function newId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

const describeErrors = (payload) => (payload?.errors ?? []).map((e) => `${e.errorType ?? 'Error'}: ${e.message ?? ''}`).join('; ') || JSON.stringify(payload);

export class Subscription {
  /**
   * @param {object} o
   * @param {string} o.realtimeUrl   ws(s)://…/graphql[/realtime]
   * @param {string} o.graphqlUrl    the region's GraphQL URL (its host goes into the auth headers)
   * @param {() => Record<string,string>} o.credential   x-api-key or authorization
   * @param {string} o.query         the subscription document
   * @param {(data: object) => void} o.onData
   * @param {(s: {state: string, detail: string, downMs?: number}) => void} o.onStatus
   *        state: connecting | subscribed | reconnecting | reconnected | failed
   */
  constructor(o) {
    this.o = o;
    this.retryMs = o.retryMs ?? 1000;
    this.closed = false;
    this.everSubscribed = false;
    this.downSince = null;
    this.attempt = 0;
  }

  auth() {
    return { host: new URL(this.o.graphqlUrl).host, 'x-amz-date': amzDate(), ...this.o.credential() };
  }

  start() {
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    this.attempt += 1;
    this.id = newId();
    const header = this.auth();
    let ws;
    try {
      ws = new WebSocket(this.o.realtimeUrl, ['graphql-ws', `header-${base64url(JSON.stringify(header))}`]);
    } catch (err) {
      this.o.onStatus({ state: 'failed', detail: `cannot open ${this.o.realtimeUrl}: ${err.message}` });
      return;
    }
    this.ws = ws;
    this.o.onStatus(this.everSubscribed ? { state: 'reconnecting', detail: `reconnecting (attempt ${this.attempt})` } : { state: 'connecting', detail: 'connecting…' });
    ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init' }));
    ws.onmessage = (ev) => this.onFrame(ws, ev.data);
    ws.onclose = (ev) => {
      clearTimeout(this.kaTimer);
      if (this.ws !== ws || this.closed) return;
      if (this.failed) return;
      if (this.subscribed) {
        this.subscribed = false;
        this.downSince = Date.now();
      }
      const why = ev.code === 1006 ? 'connection lost' : `closed ${ev.code}${ev.reason ? ` ${ev.reason}` : ''}`;
      this.o.onStatus({ state: 'reconnecting', detail: `disconnected (${why}); reconnecting every ${this.retryMs / 1000} s (attempt ${this.attempt})` });
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    };
  }

  armKeepAlive(ws) {
    clearTimeout(this.kaTimer);
    this.kaTimer = setTimeout(() => {
      // no `ka` within connectionTimeoutMs: the connection is dead even if the socket has not noticed
      if (this.ws === ws) ws.close(4000, 'keep-alive timeout');
    }, this.kaTimeoutMs);
  }

  onFrame(ws, text) {
    let f;
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    switch (f.type) {
      case 'connection_ack':
        this.kaTimeoutMs = f.payload?.connectionTimeoutMs ?? 300_000;
        this.armKeepAlive(ws);
        ws.send(JSON.stringify({ id: this.id, type: 'start', payload: { data: JSON.stringify({ query: this.o.query, variables: {} }), extensions: { authorization: this.auth() } } }));
        return;
      case 'ka':
        this.armKeepAlive(ws);
        return;
      case 'start_ack': {
        if (f.id !== this.id) return;
        this.subscribed = true;
        this.attempt = 0;
        if (this.everSubscribed) {
          const downMs = this.downSince === null ? 0 : Date.now() - this.downSince;
          this.downSince = null;
          this.o.onStatus({ state: 'reconnected', detail: `reconnected after ${(downMs / 1000).toFixed(1)} s`, downMs });
        } else this.o.onStatus({ state: 'subscribed', detail: 'subscribed' });
        this.everSubscribed = true;
        return;
      }
      case 'data':
        if (f.id === this.id) this.o.onData(f.payload?.data ?? {});
        return;
      case 'error':
        this.o.onStatus({ state: 'failed', detail: `subscription refused: ${describeErrors(f.payload)}` });
        return;
      case 'connection_error':
        this.failed = true;
        this.o.onStatus({ state: 'failed', detail: `connection refused: ${describeErrors(f.payload)}` });
        ws.close(1000);
        return;
      case 'complete':
        if (this.closed && f.id === this.id) {
          clearTimeout(this.stopTimer);
          ws.close(1000);
        }
        return;
      default:
    }
  }

  /** Unsubscribes (`stop`, answered by `complete`) and closes; no reconnect. */
  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.kaTimer);
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.OPEN && this.subscribed) {
      // closed once AppSync confirms with `complete` (or after a second without it)
      ws.send(JSON.stringify({ id: this.id, type: 'stop' }));
      this.stopTimer = setTimeout(() => ws.close(1000), 1000);
    } else ws.close(1000);
  }
}
