import assert from 'node:assert/strict';
import { handler } from '../../handlers/items';
import { MAX_ITEM_BODY_BYTES } from '../../handlers/lib/http';
import { MAX_VALUE_CHARS, MAX_VERSION } from '../../schema/rules';
import { call, itemsEvent, setEnv } from '../support/apigw';
import { AP, EU, createTables, getItem, putItem, scan, setState } from './helpers';

describe('items handler (REST, DynamoDB Local)', () => {
  let tables: { items: string; appConfig: string };
  let restore: () => void = () => undefined;

  /**
   * The environment the Pulumi component sets, for one region; STATE_CACHE_MS 0 so that each request reads the app
   * state these tests set (the cache and the bound it gives are tested in itemsFence.test.ts).
   */
  function env(region: string, extra: Record<string, string | undefined> = {}): void {
    restore();
    restore = setEnv({
      AWS_REGION: region,
      ITEMS_TABLE: tables.items,
      APP_CONFIG_TABLE: tables.appConfig,
      PRIMARY_REGION: EU,
      WRITE_MODE: 'multi-master',
      STATE_CACHE_MS: '0',
      ...extra,
    });
  }

  before(async () => {
    tables = await createTables('items');
    await setState(tables.appConfig, 'active');
  });
  afterEach(() => {
    restore();
    restore = () => undefined;
  });

  describe('happy paths', () => {
    it('creates, reads, updates (also conditionally, also via If-Match) and deletes an item', async () => {
      env(AP);
      const created = await call(handler, itemsEvent('PUT', 'user-1', { body: { value: 'hello' } }));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.version, 1);
      assert.equal(created.body.created, true);
      assert.equal(created.body.writeRegion, AP);
      assert.equal(created.body.readRegion, AP);
      assert.equal(created.headers.etag, '"1"');
      assert.match(created.body.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const stored = await getItem(AP, tables.items, 'user-1');
      assert.match(String(stored?.writeId), /^[0-9a-f-]{36}$/, 'the request\'s write id is stored with the item');
      assert.deepEqual(stored, { id: 'user-1', value: 'hello', version: 1, updatedAt: created.body.updatedAt, updatedRegion: AP, writeId: stored?.writeId });
      assert.equal(await getItem(EU, tables.items, 'user-1'), undefined, 'multi-master writes the local replica only');

      const read = await call(handler, itemsEvent('GET', 'user-1'));
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, { id: 'user-1', value: 'hello', version: 1, updatedAt: created.body.updatedAt, writeRegion: AP, readRegion: AP, updatedBy: null });

      const updated = await call(handler, itemsEvent('PUT', 'user-1', { body: { value: 'world' } }));
      assert.equal(updated.status, 200);
      assert.equal(updated.body.version, 2);
      assert.equal(updated.body.previousVersion, 1);

      const cond = await call(handler, itemsEvent('PUT', 'user-1', { body: { value: 'three', expectedVersion: 2 } }));
      assert.equal(cond.status, 200);
      assert.equal(cond.body.version, 3);

      const viaHeader = await call(handler, itemsEvent('PUT', 'user-1', { body: { value: 'four' }, headers: { 'If-Match': '"3"' } }));
      assert.equal(viaHeader.status, 200);
      assert.equal(viaHeader.body.version, 4);
      assert.equal((await getItem(AP, tables.items, 'user-1'))?.value, 'four');

      const del = await call(handler, itemsEvent('DELETE', 'user-1', { query: { expectedVersion: '4' } }));
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
      assert.equal(del.body.value, 'four');
      assert.equal(await getItem(AP, tables.items, 'user-1'), undefined);

      const gone = await call(handler, itemsEvent('GET', 'user-1'));
      assert.equal(gone.status, 404);
      assert.match(gone.body.error, /item "user-1" not found in ap-southeast-2/);
    });

    it('accepts base64 bodies, create-only writes (expectedVersion 0) and a value at the size limit', async () => {
      env(EU);
      const big = 'é'.repeat(MAX_VALUE_CHARS);
      const res = await call(handler, itemsEvent('PUT', 'b64:item_1.x', { body: { value: big, expectedVersion: 0 }, base64: true }));
      assert.equal(res.status, 201, JSON.stringify(res.body).slice(0, 200));
      assert.equal((await getItem(EU, tables.items, 'b64:item_1.x'))?.value, big);
    });

    it('accepts the largest valid body: a value at the limit written as \\u escapes, expectedVersion at its limit, pretty-printed', async () => {
      env(EU);
      const escaped = '\\u00e9'.repeat(MAX_VALUE_CHARS);
      const body = `{\n  "value": "${escaped}",\n  "expectedVersion": ${MAX_VERSION}\n}`;
      assert.ok(Buffer.byteLength(body) > 6 * MAX_VALUE_CHARS && Buffer.byteLength(body) <= MAX_ITEM_BODY_BYTES, `${Buffer.byteLength(body)} bytes`);
      const res = await call(handler, itemsEvent('PUT', 'largest-body', { rawBody: body }));
      // parsed and validated: the only thing wrong is that no item has that version
      assert.equal(res.status, 409, JSON.stringify(res.body).slice(0, 300));
      assert.match(res.body.error, new RegExp(`expected version ${MAX_VERSION}, found no item`));
      const created = await call(handler, itemsEvent('PUT', 'largest-body', { rawBody: body.replace(String(MAX_VERSION), '0') }));
      assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
      assert.equal((await getItem(EU, tables.items, 'largest-body'))?.value, 'é'.repeat(MAX_VALUE_CHARS));
    });

    it('accepts a value holding well-formed surrogate pairs (emoji), stored as written', async () => {
      env(EU);
      const res = await call(handler, itemsEvent('PUT', 'emoji', { rawBody: '{"value":"a\\ud83d\\ude00b\\ud83c\\udf0d"}' }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal((await getItem(EU, tables.items, 'emoji'))?.value, 'a😀b🌍');
    });

    it('in primary write mode writes the primary region\'s table and answers writeRegion=primary, readRegion=local', async () => {
      env(AP, { WRITE_MODE: 'primary' });
      const res = await call(handler, itemsEvent('PUT', 'prim-1', { body: { value: 'global write' } }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.writeRegion, EU);
      assert.equal(res.body.readRegion, AP);
      assert.equal((await getItem(EU, tables.items, 'prim-1'))?.updatedRegion, EU);
      assert.equal(await getItem(AP, tables.items, 'prim-1'), undefined, 'nothing in the local replica until replication');

      // read local: once "replicated", the local replica answers with writeRegion = primary
      await putItem(AP, tables.items, (await getItem(EU, tables.items, 'prim-1'))!);
      const read = await call(handler, itemsEvent('GET', 'prim-1'));
      assert.equal(read.status, 200);
      assert.equal(read.body.writeRegion, EU);
      assert.equal(read.body.readRegion, AP);

      const del = await call(handler, itemsEvent('DELETE', 'prim-1'));
      assert.equal(del.status, 200);
      assert.equal(del.body.deletedRegion, EU);
      assert.equal(await getItem(EU, tables.items, 'prim-1'), undefined);
    });

    it('during failover writes locally outside the primary, in both write modes', async () => {
      await setState(tables.appConfig, 'failover');
      try {
        for (const mode of ['multi-master', 'primary']) {
          env(AP, { WRITE_MODE: mode });
          const res = await call(handler, itemsEvent('PUT', `fo-${mode}`, { body: { value: 'x' } }));
          assert.equal(res.status, 201, JSON.stringify(res.body));
          assert.equal(res.body.writeRegion, AP);
          assert.ok(await getItem(AP, tables.items, `fo-${mode}`));
        }
      } finally {
        await setState(tables.appConfig, 'active');
      }
    });

    it('fenced: reads are still served', async () => {
      env(EU);
      await call(handler, itemsEvent('PUT', 'fenced-read', { body: { value: 'v' } }));
      await setState(tables.appConfig, 'fenced');
      try {
        const res = await call(handler, itemsEvent('GET', 'fenced-read'));
        assert.equal(res.status, 200);
        assert.equal(res.body.value, 'v');
      } finally {
        await setState(tables.appConfig, 'active');
      }
    });

    it('concurrent unconditional PUTs in one region never overwrite silently: each one lands with its own version, the last one stored', async () => {
      env(EU);
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => call(handler, itemsEvent('PUT', 'race-1', { body: { value: `w${n}` } }))));
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 201], JSON.stringify(results.map((r) => r.body)));
      assert.deepEqual(results.map((r) => r.body.version).sort(), [1, 2, 3, 4, 5], 'no two writes share a version');
      for (const r of results) assert.equal(r.body.previousVersion, r.body.version === 1 ? null : r.body.version - 1);
      const stored = await getItem(EU, tables.items, 'race-1');
      assert.equal(stored?.version, 5);
      assert.equal(stored?.value, results.find((r) => r.body.version === 5)?.body.value);
    });

    it('across regions in multi-master each replica checks expectedVersion alone: both regions accept version 1 → 2', async () => {
      // DynamoDB Local does not replicate, which is exactly the window in which two regions race: each
      // conditional write sees only its own replica, so both succeed and replication would keep the last one.
      for (const r of [EU, AP]) await putItem(r, tables.items, { id: 'race-x', value: 'base', version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
      env(EU);
      const eu = await call(handler, itemsEvent('PUT', 'race-x', { body: { value: 'from-eu', expectedVersion: 1 } }));
      env(AP);
      const ap = await call(handler, itemsEvent('PUT', 'race-x', { body: { value: 'from-ap', expectedVersion: 1 } }));
      assert.deepEqual([eu.status, ap.status], [200, 200]);
      assert.deepEqual([eu.body.version, ap.body.version], [2, 2]);
    });

    it('in primary writeMode expectedVersion orders writes from every region: the second region gets 409', async () => {
      for (const r of [EU, AP]) await putItem(r, tables.items, { id: 'race-p', value: 'base', version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
      env(EU, { WRITE_MODE: 'primary' });
      const eu = await call(handler, itemsEvent('PUT', 'race-p', { body: { value: 'from-eu', expectedVersion: 1 } }));
      env(AP, { WRITE_MODE: 'primary' });
      const ap = await call(handler, itemsEvent('PUT', 'race-p', { body: { value: 'from-ap', expectedVersion: 1 } }));
      assert.deepEqual([eu.status, ap.status], [200, 409], JSON.stringify(ap.body));
      assert.match(ap.body.error, /expected version 1, found version 2/);
      assert.deepEqual({ value: (await getItem(EU, tables.items, 'race-p'))?.value, version: (await getItem(EU, tables.items, 'race-p'))?.version }, { value: 'from-eu', version: 2 });
    });

    it('concurrent PUTs in one region with the same expectedVersion: exactly one wins, the others get 409', async () => {
      env(EU);
      await call(handler, itemsEvent('PUT', 'race-2', { body: { value: 'base' } }));
      const results = await Promise.all([1, 2, 3].map((n) => call(handler, itemsEvent('PUT', 'race-2', { body: { value: `c${n}`, expectedVersion: 1 } }))));
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) assert.match(r.body.error, /expected version 1, found version 2/);
      assert.equal((await getItem(EU, tables.items, 'race-2'))?.version, 2);
    });
  });

  describe('bad input: status, error text, nothing written', () => {
    interface Case {
      name: string;
      method?: string;
      id?: string;
      body?: unknown;
      rawBody?: string | null;
      query?: Record<string, string>;
      headers?: Record<string, string>;
      region?: string;
      env?: Record<string, string | undefined>;
      state?: string | null;
      status: number;
      errorType: string;
      error: RegExp;
    }
    const put = (body: unknown, extra: Partial<Case> = {}) => ({ method: 'PUT', id: 'existing', body, ...extra });
    const cases: Case[] = [
      { name: 'malformed JSON', ...put(undefined), rawBody: '{"value": "x"', status: 400, errorType: 'BadInput', error: /body is not valid JSON/ },
      { name: 'no body', ...put(undefined), rawBody: null, status: 400, errorType: 'BadInput', error: /body is required/ },
      { name: 'blank body', ...put(undefined), rawBody: '   ', status: 400, errorType: 'BadInput', error: /body is required/ },
      { name: 'body is an array', ...put(['x']), status: 400, errorType: 'BadInput', error: /body must be a JSON object, got an array/ },
      { name: 'body is a string', ...put('x'), status: 400, errorType: 'BadInput', error: /body must be a JSON object, got a string/ },
      { name: 'body is null', ...put(undefined), rawBody: 'null', status: 400, errorType: 'BadInput', error: /got null/ },
      { name: 'value missing', ...put({}), status: 400, errorType: 'BadInput', error: /value is required/ },
      { name: 'value null', ...put({ value: null }), status: 400, errorType: 'BadInput', error: /value is required/ },
      { name: 'value empty', ...put({ value: '' }), status: 400, errorType: 'BadInput', error: /value is empty/ },
      { name: 'value oversized', ...put({ value: 'x'.repeat(MAX_VALUE_CHARS + 1) }), status: 400, errorType: 'BadInput', error: /value is 16385 characters, over the limit/ },
      { name: 'value a number', ...put({ value: 42 }), status: 400, errorType: 'BadInput', error: /value must be a string \(got number\)/ },
      { name: 'value an object', ...put({ value: { a: 1 } }), status: 400, errorType: 'BadInput', error: /value must be a string \(got object\)/ },
      { name: 'value a boolean', ...put({ value: true }), status: 400, errorType: 'BadInput', error: /value must be a string \(got boolean\)/ },
      { name: 'unknown field', ...put({ value: 'x', colour: 'red' }), status: 400, errorType: 'BadInput', error: /unknown field "colour" in body: allowed are value, expectedVersion/ },
      { name: 'id in the body', ...put({ value: 'x', id: 'other' }), status: 400, errorType: 'BadInput', error: /unknown field "id".*the id comes from the path/ },
      { name: 'no id path parameter', ...put({ value: 'x' }), id: undefined, status: 400, errorType: 'BadInput', error: /id is required/ },
      { name: 'empty id', ...put({ value: 'x' }), id: '', status: 400, errorType: 'BadInput', error: /id is required/ },
      { name: 'SQL-injection-looking id', ...put({ value: 'x' }), id: "x' OR '1'='1", status: 400, errorType: 'BadInput', error: /id "x' OR '1'='1" is invalid/ },
      { name: 'path traversal id', ...put({ value: 'x' }), id: '../etc/passwd', status: 400, errorType: 'BadInput', error: /is invalid: 1-128 characters/ },
      { name: 'script id', ...put({ value: 'x' }), id: '<script>alert(1)</script>', status: 400, errorType: 'BadInput', error: /is invalid/ },
      { name: 'expression-injection id', ...put({ value: 'x' }), id: 'a) OR attribute_exists(id', status: 400, errorType: 'BadInput', error: /is invalid/ },
      { name: 'id with a space', ...put({ value: 'x' }), id: 'a b', status: 400, errorType: 'BadInput', error: /id "a b" is invalid/ },
      { name: 'id too long', ...put({ value: 'x' }), id: 'a'.repeat(129), status: 400, errorType: 'BadInput', error: /is invalid: 1-128 characters/ },
      { name: 'id starting with -', ...put({ value: 'x' }), id: '-x', status: 400, errorType: 'BadInput', error: /is invalid/ },
      { name: 'bad id on DELETE', method: 'DELETE', id: '$where', status: 400, errorType: 'BadInput', error: /id "\$where" is invalid/ },
      { name: 'expectedVersion a string', ...put({ value: 'x', expectedVersion: '2' }), status: 400, errorType: 'BadInput', error: /expectedVersion must be a whole number ≥ 0.*got "2"/ },
      { name: 'expectedVersion negative', ...put({ value: 'x', expectedVersion: -1 }), status: 400, errorType: 'BadInput', error: /expectedVersion must be a whole number ≥ 0.*got -1/ },
      { name: 'expectedVersion fractional', ...put({ value: 'x', expectedVersion: 1.5 }), status: 400, errorType: 'BadInput', error: /got 1.5/ },
      { name: 'expectedVersion the largest safe integer', ...put({ value: 'x', expectedVersion: 9007199254740991 }), status: 400, errorType: 'BadInput', error: /expectedVersion 9007199254740991 is over the limit: versions go up to 9007199254740989/ },
      { name: 'expectedVersion one over the limit', ...put({ value: 'x', expectedVersion: MAX_VERSION + 1 }), status: 400, errorType: 'BadInput', error: /expectedVersion 9007199254740990 is over the limit/ },
      { name: 'expectedVersion 1e21', ...put({ value: 'x', expectedVersion: 1e21 }), status: 400, errorType: 'BadInput', error: /expectedVersion 1e\+21 is over the limit/ },
      { name: 'If-Match the largest safe integer', ...put({ value: 'x' }), headers: { 'If-Match': '"9007199254740991"' }, status: 400, errorType: 'BadInput', error: /If-Match 9007199254740991 is over the limit: versions go up to 9007199254740989/ },
      { name: 'If-Match of 20 digits', ...put({ value: 'x' }), headers: { 'If-Match': '12345678901234567890' }, status: 400, errorType: 'BadInput', error: /If-Match 12345678901234567890 is over the limit/ },
      { name: 'DELETE expectedVersion the largest safe integer', method: 'DELETE', id: 'existing', query: { expectedVersion: '9007199254740991' }, status: 400, errorType: 'BadInput', error: /expectedVersion 9007199254740991 is over the limit/ },
      { name: '12 unknown fields: ten named, then how many more', ...put({ value: 'x', ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, i])) }), status: 400, errorType: 'BadInput', error: /^unknown fields "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9" and 2 more in body: allowed are value, expectedVersion/ },
      { name: '5,000 unknown fields: a short answer', ...put(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`field-${i}`, 1]))), status: 400, errorType: 'BadInput', error: /^unknown fields "field-0", .*"field-9" and 4990 more in body: allowed are value, expectedVersion \(the id comes from the path\)$/ },
      { name: 'an unknown field with a 10,000-character name', ...put({ value: 'x', ['k'.repeat(10_000)]: 1 }), status: 400, errorType: 'BadInput', error: /^unknown field "k{40}…" in body/ },
      { name: 'a body one byte over the largest valid one', ...put(undefined), rawBody: `{"value":"${'x'.repeat(MAX_ITEM_BODY_BYTES - 11)}"}`, status: 413, errorType: 'PayloadTooLarge', error: new RegExp(`body is ${MAX_ITEM_BODY_BYTES + 1} bytes, over the limit of ${MAX_ITEM_BODY_BYTES} bytes`) },
      { name: 'a 5 MB body of 100,000 unknown fields', ...put(undefined), rawBody: JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`f${i}`.padEnd(40, 'x'), 1]))), status: 413, errorType: 'PayloadTooLarge', error: /over the limit of \d+ bytes/ },
      { name: 'value with a lone high surrogate', ...put(undefined), rawBody: '{"value":"ab\\ud800c"}', status: 400, errorType: 'BadInput', error: /value holds a lone UTF-16 surrogate \(\\ud800 at character 2\)/ },
      { name: 'value ending in a high surrogate', ...put(undefined), rawBody: '{"value":"abc\\udbff"}', status: 400, errorType: 'BadInput', error: /lone UTF-16 surrogate \(\\udbff at character 3\)/ },
      { name: 'value with a lone low surrogate', ...put(undefined), rawBody: '{"value":"\\udc00"}', status: 400, errorType: 'BadInput', error: /lone UTF-16 surrogate \(\\udc00 at character 0\)/ },
      { name: 'value with a pair in the wrong order', ...put(undefined), rawBody: '{"value":"x\\ude00\\ud83d"}', status: 400, errorType: 'BadInput', error: /lone UTF-16 surrogate \(\\ude00 at character 1\)/ },
      { name: 'If-Match garbage', ...put({ value: 'x' }), headers: { 'If-Match': 'abc' }, status: 400, errorType: 'BadInput', error: /If-Match "abc" is invalid/ },
      { name: 'If-Match disagrees with body', ...put({ value: 'x', expectedVersion: 2 }), headers: { 'If-Match': '3' }, status: 400, errorType: 'BadInput', error: /expectedVersion 2 \(body\) and If-Match 3 disagree/ },
      { name: 'PUT version conflict', ...put({ value: 'x', expectedVersion: 1 }), status: 409, errorType: 'VersionConflict', error: /expected version 1, found version 2; nothing was written/ },
      { name: 'PUT create-only on an existing item', ...put({ value: 'x', expectedVersion: 0 }), status: 409, errorType: 'VersionConflict', error: /expected no item \(expectedVersion 0\), found version 2/ },
      { name: 'PUT expectedVersion on a missing item', ...put({ value: 'x', expectedVersion: 3 }), id: 'missing', status: 409, errorType: 'VersionConflict', error: /expected version 3, found no item/ },
      { name: 'DELETE version conflict', method: 'DELETE', id: 'existing', query: { expectedVersion: '1' }, status: 409, errorType: 'VersionConflict', error: /expected version 1, found version 2/ },
      { name: 'DELETE If-Match conflict', method: 'DELETE', id: 'existing', headers: { 'If-Match': '"7"' }, status: 409, errorType: 'VersionConflict', error: /expected version 7, found version 2/ },
      { name: 'DELETE expectedVersion not a number', method: 'DELETE', id: 'existing', query: { expectedVersion: 'abc' }, status: 400, errorType: 'BadInput', error: /expectedVersion "abc" is invalid/ },
      { name: 'DELETE expectedVersion negative', method: 'DELETE', id: 'existing', query: { expectedVersion: '-2' }, status: 400, errorType: 'BadInput', error: /expectedVersion "-2" is invalid/ },
      { name: 'DELETE expectedVersion 0', method: 'DELETE', id: 'existing', query: { expectedVersion: '0' }, status: 400, errorType: 'BadInput', error: /cannot be used with DELETE/ },
      { name: 'DELETE a missing item', method: 'DELETE', id: 'missing', status: 404, errorType: 'NotFound', error: /item "missing" not found in eu-west-1; nothing was deleted/ },
      { name: 'GET a missing item', method: 'GET', id: 'missing', status: 404, errorType: 'NotFound', error: /item "missing" not found/ },
      { name: 'POST', method: 'POST', id: 'existing', body: { value: 'x' }, status: 405, errorType: 'MethodNotAllowed', error: /method POST is not allowed here: allowed are GET, PUT, DELETE/ },
      { name: 'PATCH', method: 'PATCH', id: 'existing', body: { value: 'x' }, status: 405, errorType: 'MethodNotAllowed', error: /method PATCH/ },
      { name: 'PUT while fenced', ...put({ value: 'x' }), state: 'fenced', status: 503, errorType: 'WriteFenced', error: /fenced \(read-only\)/ },
      { name: 'DELETE while fenced', method: 'DELETE', id: 'existing', state: 'fenced', status: 503, errorType: 'WriteFenced', error: /fenced/ },
      { name: 'PUT in the primary during failover', ...put({ value: 'x' }), state: 'failover', status: 503, errorType: 'WriteRejectedInPrimary', error: /rejected in the primary region eu-west-1 during failover/ },
      { name: 'PUT in the primary during failover, primary mode', ...put({ value: 'x' }), env: { WRITE_MODE: 'primary' }, state: 'failover', status: 503, errorType: 'WriteRejectedInPrimary', error: /during failover/ },
      { name: 'PUT from another region while fenced, primary mode', ...put({ value: 'x' }), region: AP, env: { WRITE_MODE: 'primary' }, state: 'fenced', status: 503, errorType: 'WriteFenced', error: /fenced/ },
      { name: 'PUT with no state item', ...put({ value: 'x' }), state: null, status: 503, errorType: 'WriteFenced', error: /app state is missing/ },
      { name: 'PUT with an unknown state', ...put({ value: 'x' }), state: 'paused', status: 503, errorType: 'WriteFenced', error: /unknown \("paused"\)/ },
      { name: 'ITEMS_TABLE unset', ...put({ value: 'x' }), env: { ITEMS_TABLE: undefined }, status: 500, errorType: 'ConfigError', error: /environment variable ITEMS_TABLE is not set/ },
      { name: 'WRITE_MODE bogus', ...put({ value: 'x' }), env: { WRITE_MODE: 'sideways' }, status: 500, errorType: 'ConfigError', error: /WRITE_MODE is "sideways": allowed are multi-master, primary/ },
    ];

    let existing: Record<string, unknown>;
    before(async () => {
      existing = { id: 'existing', value: 'keep me', version: 2, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU };
      await putItem(EU, tables.items, existing);
      await putItem(AP, tables.items, { ...existing });
    });

    it(`has at least 25 cases (${cases.length})`, () => assert.ok(cases.length >= 25));

    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.errorType}`, async () => {
        const before = { eu: await scan(EU, tables.items), ap: await scan(AP, tables.items) };
        if (c.state !== undefined) await setState(tables.appConfig, c.state);
        try {
          env(c.region ?? EU, c.env);
          const res = await call(handler, itemsEvent(c.method ?? 'PUT', c.id, { body: c.body, rawBody: c.rawBody, query: c.query, headers: c.headers }));
          assert.equal(res.status, c.status, JSON.stringify(res.body));
          assert.equal(res.body.errorType, c.errorType);
          assert.match(res.body.error, c.error);
          assert.equal(Object.keys(res.body).includes('value'), false, 'an error answer carries no item');
          if (c.status === 503) assert.equal(res.headers['retry-after'], '30');
          if (c.status === 405) assert.equal(res.headers.allow, 'GET, PUT, DELETE');
        } finally {
          if (c.state !== undefined) await setState(tables.appConfig, 'active');
        }
        assert.deepEqual({ eu: await scan(EU, tables.items), ap: await scan(AP, tables.items) }, before, 'nothing was written');
      });
    }
  });
});
