/**
 * A real client against the local AppSync endpoint: aws-amplify v6 (Amplify.configure with API key auth +
 * generateClient from 'aws-amplify/api') in Node, with `ws` as the global WebSocket (test/support/amplify.ts),
 * queries and mutates over HTTP and receives subscription data over the realtime WebSocket, published as the
 * notifier publishes: a SigV4-signed publishItemChange from handlers/lib/publish.ts.
 */
import assert from 'node:assert/strict';
import { Publisher } from '../../handlers/lib/publish';
import { amplifyClient } from '../support/amplify';
import { GET, PUT } from '../resolvers/support';
import { API_KEY, change, CREDS, ON_CHANGE, REGION, type Region, startRegion } from './support';

interface Received {
  data: { onItemChange: Record<string, unknown> };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('aws-amplify v6 against the local AppSync endpoint', function () {
  this.timeout(30_000);
  let r: Region;
  let publisher: Publisher;
  before(async () => {
    r = await startRegion();
    publisher = new Publisher({ url: r.server.graphqlUrl, region: REGION, credentials: CREDS, maxAttempts: 1 });
  });
  after(async () => {
    await r.server.close();
  });

  it('(first, while Amplify has no socket open) a wrong API key is refused at connect: the subscription errors at once, no reconnect loop', async () => {
    const client = amplifyClient({ graphqlUrl: r.server.graphqlUrl, apiKey: 'da2-wrongkey', region: REGION });
    const t0 = Date.now();
    const error = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no subscription error within 5 s')), 5000);
      (client.graphql({ query: ON_CHANGE }) as unknown as { subscribe: (o: object) => unknown }).subscribe({
        next: (v: unknown) => reject(new Error(`unexpected data ${JSON.stringify(v)}`)),
        error: (e: unknown) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
    // Amplify's words for AppSync's connection_error (a non-retryable errorCode 400: it does not reconnect)
    assert.deepEqual(JSON.parse(JSON.stringify(error)), { errors: [{ message: 'Connection failed: com.amazonaws.deepdish.graphql.auth#UnauthorizedException' }] });
    assert.ok(Date.now() - t0 < 3000, `refused after ${Date.now() - t0} ms`);
    assert.equal(r.server.subscriptions(), 0);
  });

  it('mutates and queries over HTTP with the API key', async () => {
    const client = amplifyClient({ graphqlUrl: r.server.graphqlUrl, apiKey: API_KEY, region: REGION });
    const put = (await client.graphql({ query: PUT, variables: { input: { id: 'amp-1', value: 'from amplify' } } })) as { data: { putItem: Record<string, unknown> } };
    assert.equal(put.data.putItem.id, 'amp-1');
    assert.equal(put.data.putItem.version, 1);
    assert.equal(put.data.putItem.updatedRegion, REGION);
    const got = (await client.graphql({ query: GET, variables: { id: 'amp-1' } })) as { data: { getItem: Record<string, unknown> } };
    assert.equal(got.data.getItem.value, 'from amplify');
  });

  it('subscribes over the realtime WebSocket and receives the notifier\'s publishes, filtered by id; unsubscribe stops them', async () => {
    const client = amplifyClient({ graphqlUrl: r.server.graphqlUrl, apiKey: API_KEY, region: REGION });
    const forOne: Received[] = [];
    const forAll: Received[] = [];
    const errors: unknown[] = [];
    const one = (client.graphql({ query: ON_CHANGE, variables: { id: 'amp-sub' } }) as unknown as { subscribe: (o: object) => { unsubscribe(): void } }).subscribe({
      next: (v: Received) => forOne.push(v),
      error: (e: unknown) => errors.push(e),
    });
    const all = (client.graphql({ query: ON_CHANGE }) as unknown as { subscribe: (o: object) => { unsubscribe(): void } }).subscribe({
      next: (v: Received) => forAll.push(v),
      error: (e: unknown) => errors.push(e),
    });
    await until('both subscriptions acknowledged', () => r.server.subscriptions() === 2);

    const other = change('amp-other', 'not for one');
    const mine = change('amp-sub', 'for one');
    assert.deepEqual(await publisher.publish(other), { ok: true, attempts: 1 });
    assert.deepEqual(await publisher.publish(mine), { ok: true, attempts: 1 });
    await until('deliveries', () => forAll.length === 2 && forOne.length === 1);
    assert.deepEqual(errors, []);
    assert.deepEqual(forOne.map((v) => v.data.onItemChange), [mine]);
    assert.deepEqual(forAll.map((v) => v.data.onItemChange).sort((a, b) => String(a.id).localeCompare(String(b.id))), [other, mine]);

    one.unsubscribe();
    await until('one subscription stopped', () => r.server.subscriptions() === 1);
    const after = change('amp-sub', 'after');
    assert.deepEqual(await publisher.publish(after), { ok: true, attempts: 1 });
    // `all` hears it on the same socket: anything still owed to `one` would have come before that
    await until('the change after unsubscribe reached the other subscription', () => forAll.length === 3);
    assert.deepEqual(forAll[2].data.onItemChange, after);
    assert.equal(forOne.length, 1, 'nothing after unsubscribe');
    all.unsubscribe();
    await until('both subscriptions stopped', () => r.server.subscriptions() === 0);
  });

  it('a wrong API key is refused over HTTP: Amplify reports UnauthorizedException (from x-amzn-ErrorType, as with AppSync)', async () => {
    const client = amplifyClient({ graphqlUrl: r.server.graphqlUrl, apiKey: 'da2-wrongkey', region: REGION });
    await assert.rejects(client.graphql({ query: GET, variables: { id: 'amp-1' } }) as Promise<unknown>, (e: { errors?: { originalError?: { name?: string } }[] }) => {
      assert.equal(e.errors?.[0]?.originalError?.name, 'UnauthorizedException');
      return true;
    });
  });
});
