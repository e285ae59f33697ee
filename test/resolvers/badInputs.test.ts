/**
 * Bad GraphQL inputs: each gets the documented error (type and text) and leaves every table exactly as it was.
 */
import assert from 'node:assert/strict';
import { API_KEY_CALLER, type CallerIdentity, IAM_CALLER } from '../../local/appsync/graphql';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { BAD_INPUT, MAX_VALUE_CHARS, VERSION_CONFLICT, WRITE_FENCED } from '../../schema/rules';
import { AP, createFixture, DELETE, EU, type Fixture, GET, ITEM_FIELDS, LIST, PUT, rawItems, REGIONS, seedItem, setState } from './support';

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  identity?: CallerIdentity;
  errorType: string;
  message: RegExp;
  /** The field that must come back null (absent for request-level errors, where data is null). */
  field?: string;
}

const EXISTING = { id: 'existing', value: 'keep me', version: 3, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU };
const CHANGE = {
  id: 'existing',
  kind: 'UPDATED',
  item: { ...EXISTING },
  publishedRegion: EU,
  sequenceNumber: '100',
  changedAt: '2026-01-01T00:00:00.000Z',
};
const put = (input: Record<string, unknown>) => ({ query: PUT, variables: { input } });
const VALIDATION = 'ValidationError';
const BAD_ID = /is invalid: 1-128 characters of letters, digits/;

const CASES: Case[] = [
  { name: 'putItem without id', ...put({ value: 'v' }), errorType: VALIDATION, message: /Field "id" of required type "ID!" was not provided/ },
  { name: 'putItem with an empty id', ...put({ id: '', value: 'v' }), errorType: BAD_INPUT, message: /id is required/, field: 'putItem' },
  { name: 'putItem without value', ...put({ id: 'a' }), errorType: VALIDATION, message: /Field "value" of required type "String!" was not provided/ },
  { name: 'putItem with a null value', ...put({ id: 'a', value: null }), errorType: VALIDATION, message: /value.*null|null.*value|non-null/i },
  { name: 'putItem with an empty value', ...put({ id: 'a', value: '' }), errorType: BAD_INPUT, message: /value is empty/, field: 'putItem' },
  {
    name: 'putItem with an oversized value',
    ...put({ id: 'a', value: 'x'.repeat(MAX_VALUE_CHARS + 1) }),
    errorType: BAD_INPUT,
    message: new RegExp(`value is ${MAX_VALUE_CHARS + 1} characters, over the limit`),
    field: 'putItem',
  },
  { name: 'putItem with a numeric value (variables)', ...put({ id: 'a', value: 42 }), errorType: VALIDATION, message: /String cannot represent a non string value: 42/ },
  { name: 'putItem with an object value', ...put({ id: 'a', value: { nested: true } }), errorType: VALIDATION, message: /String cannot represent a non string value/ },
  { name: 'putItem with a numeric value (literal)', query: `mutation { putItem(input: {id: "a", value: 5}) { id } }`, errorType: VALIDATION, message: /String cannot represent a non string value: 5/ },
  { name: "putItem with an injection-looking id x' OR 1=1", ...put({ id: "x' OR 1=1", value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with a <script> id', ...put({ id: '<script>alert(1)</script>', value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with a path-traversal id', ...put({ id: '../etc/passwd', value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with a space in the id', ...put({ id: 'a b', value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with an id starting with -', ...put({ id: '-abc', value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with a trailing newline in the id', ...put({ id: 'abc\n', value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with a non-ASCII id', ...put({ id: 'héllo', value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with a 129-character id', ...put({ id: 'a'.repeat(129), value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'putItem with an unknown input field', ...put({ id: 'a', value: 'v', color: 'red' }), errorType: VALIDATION, message: /Field "color" is not defined by type "PutItemInput"/ },
  { name: 'putItem with an unknown literal input field', query: `mutation { putItem(input: {id: "a", value: "v", owner: "me"}) { id } }`, errorType: VALIDATION, message: /Field "owner" is not defined by type "PutItemInput"/ },
  { name: 'putItem with an empty writeId', ...put({ id: 'a', value: 'v', writeId: '' }), errorType: BAD_INPUT, message: /writeId is invalid: 1-64 characters/, field: 'putItem' },
  { name: 'putItem with a 65-character writeId', ...put({ id: 'a', value: 'v', writeId: 'w'.repeat(65) }), errorType: BAD_INPUT, message: /writeId is invalid: 1-64 characters/, field: 'putItem' },
  { name: 'putItem with a writeId holding a space', ...put({ id: 'a', value: 'v', writeId: 'req 1' }), errorType: BAD_INPUT, message: /writeId "req 1" is invalid/, field: 'putItem' },
  { name: 'putItem with expectedVersion -1', ...put({ id: 'a', value: 'v', expectedVersion: -1 }), errorType: BAD_INPUT, message: /expectedVersion -1 is invalid/, field: 'putItem' },
  { name: 'putItem with a string expectedVersion', ...put({ id: 'a', value: 'v', expectedVersion: '1' }), errorType: VALIDATION, message: /Int cannot represent non-integer value: "1"/ },
  { name: 'putItem with expectedVersion 9007199254740991', ...put({ id: 'a', value: 'v', expectedVersion: 9007199254740991 }), errorType: VALIDATION, message: /Int cannot represent non 32-bit signed integer value: 9007199254740991/ },
  { name: 'deleteItem with expectedVersion 9007199254740991', query: DELETE, variables: { id: 'existing', expectedVersion: 9007199254740991 }, errorType: VALIDATION, message: /Int cannot represent non 32-bit signed integer value: 9007199254740991/ },
  { name: 'putItem with a lone high surrogate in the value', ...put({ id: 'a', value: 'ab\ud800c' }), errorType: BAD_INPUT, message: /value holds a lone UTF-16 surrogate \(\\ud800 at character 2\), which cannot be stored as UTF-8/, field: 'putItem' },
  { name: 'putItem with a lone low surrogate in the value', ...put({ id: 'a', value: '\udfff' }), errorType: BAD_INPUT, message: /lone UTF-16 surrogate \(\\udfff at character 0\)/, field: 'putItem' },
  { name: 'putItem with a value ending in a high surrogate', ...put({ id: 'a', value: `${'x'.repeat(MAX_VALUE_CHARS - 1)}\ud83d` }), errorType: BAD_INPUT, message: /lone UTF-16 surrogate \(\\ud83d at character 16383\)/, field: 'putItem' },
  { name: 'putItem with a lone surrogate in the id', ...put({ id: 'a\ud800', value: 'v' }), errorType: BAD_INPUT, message: BAD_ID, field: 'putItem' },
  { name: 'getItem with a lone surrogate in the id', query: GET, variables: { id: '\udc00x' }, errorType: BAD_INPUT, message: BAD_ID, field: 'getItem' },
  { name: 'putItem with a stale expectedVersion', ...put({ id: 'existing', value: 'v', expectedVersion: 2 }), errorType: VERSION_CONFLICT, message: /"existing" is not at version 2/, field: 'putItem' },
  { name: 'putItem with expectedVersion 0 on an existing item', ...put({ id: 'existing', value: 'v', expectedVersion: 0 }), errorType: VERSION_CONFLICT, message: /"existing" already exists/, field: 'putItem' },
  { name: 'putItem with expectedVersion 1 on a missing item', ...put({ id: 'not-there', value: 'v', expectedVersion: 1 }), errorType: VERSION_CONFLICT, message: /"not-there" is not at version 1/, field: 'putItem' },
  { name: 'deleteItem with a stale expectedVersion', query: DELETE, variables: { id: 'existing', expectedVersion: 1 }, errorType: VERSION_CONFLICT, message: /"existing" is not at version 1.*nothing was deleted/, field: 'deleteItem' },
  { name: 'deleteItem with a bad id', query: DELETE, variables: { id: "existing' OR 'a'='a" }, errorType: BAD_INPUT, message: BAD_ID, field: 'deleteItem' },
  { name: 'deleteItem without id', query: `mutation { deleteItem { id } }`, errorType: VALIDATION, message: /argument "id" of type "ID!" is required/ },
  { name: 'getItem with an injection-looking id', query: GET, variables: { id: "x' OR 1=1" }, errorType: BAD_INPUT, message: BAD_ID, field: 'getItem' },
  { name: 'getItem selecting an unknown field', query: `query { getItem(id: "existing") { id color } }`, errorType: VALIDATION, message: /Cannot query field "color" on type "Item"/ },
  { name: 'listItems limit 0', query: LIST, variables: { limit: 0 }, errorType: BAD_INPUT, message: /limit 0 is out of range: give 1 to 100/, field: 'listItems' },
  { name: 'listItems limit -1', query: LIST, variables: { limit: -1 }, errorType: BAD_INPUT, message: /limit -1 is out of range/, field: 'listItems' },
  { name: 'listItems limit 1000', query: LIST, variables: { limit: 1000 }, errorType: BAD_INPUT, message: /limit 1000 is out of range/, field: 'listItems' },
  { name: 'listItems limit 2.5', query: LIST, variables: { limit: 2.5 }, errorType: VALIDATION, message: /Int cannot represent non-integer value: 2.5/ },
  { name: 'listItems with a made-up nextToken', query: LIST, variables: { limit: 2, nextToken: 'not a token!' }, errorType: BAD_INPUT, message: /nextToken is invalid/, field: 'listItems' },
  {
    name: 'listItems with a well-formed but foreign nextToken',
    query: LIST,
    variables: { limit: 2, nextToken: Buffer.from(JSON.stringify({ id: { N: '1' } })).toString('base64url') },
    errorType: BAD_INPUT,
    message: /nextToken is invalid/,
    field: 'listItems',
  },
  { name: 'listItems with an empty nextToken', query: LIST, variables: { nextToken: '' }, errorType: BAD_INPUT, message: /nextToken is invalid/, field: 'listItems' },
  { name: 'publishItemChange with an API key (IAM only)', query: PUBLISH_ITEM_CHANGE, variables: { input: CHANGE }, identity: API_KEY_CALLER, errorType: 'Unauthorized', message: /Not Authorized to access publishItemChange on type Mutation/, field: 'publishItemChange' },
  { name: 'publishItemChange with an unknown kind', query: PUBLISH_ITEM_CHANGE, variables: { input: { ...CHANGE, kind: 'MOVED' } }, identity: IAM_CALLER, errorType: VALIDATION, message: /Value "MOVED" does not exist in "ChangeKind" enum/ },
  { name: 'publishItemChange with a bad changedAt', query: PUBLISH_ITEM_CHANGE, variables: { input: { ...CHANGE, changedAt: 'yesterday' } }, identity: IAM_CALLER, errorType: VALIDATION, message: /valid DateTime/ },
  { name: 'publishItemChange with a bad id', query: PUBLISH_ITEM_CHANGE, variables: { input: { ...CHANGE, id: '<b>', item: null } }, identity: IAM_CALLER, errorType: BAD_INPUT, message: BAD_ID, field: 'publishItemChange' },
  { name: 'publishItemChange whose item has another id', query: PUBLISH_ITEM_CHANGE, variables: { input: { ...CHANGE, item: { ...EXISTING, id: 'other' } } }, identity: IAM_CALLER, errorType: BAD_INPUT, message: /item.id "other" differs from id "existing"/, field: 'publishItemChange' },
  { name: 'a query that does not parse', query: `query { getItem(id: "a") { ${ITEM_FIELDS} }`, errorType: VALIDATION, message: /Syntax Error/ },
];

describe('bad inputs are rejected with a clear error and change nothing', () => {
  let fx: Fixture;
  let snapshot: Record<string, Record<string, unknown>[]>;

  async function tables() {
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const r of REGIONS) out[r] = await rawItems(fx, r);
    return out;
  }

  before(async () => {
    fx = await createFixture('multi-master');
    await setState(fx, 'active');
    await seedItem(fx, EU, EXISTING);
    await seedItem(fx, EU, { ...EXISTING, id: 'other-item', value: 'also kept', version: 1 });
    snapshot = await tables();
    assert.equal(snapshot[EU].length, 2);
  });

  it(`has at least 25 cases (${CASES.length})`, () => assert.ok(CASES.length >= 25));

  for (const c of CASES) {
    it(c.name, async () => {
      const res = await fx.api(EU).execute({ query: c.query, variables: c.variables, identity: c.identity });
      assert.equal(res.errors?.length, 1, JSON.stringify(res));
      const err = res.errors![0];
      assert.equal(err.errorType, c.errorType, err.message);
      assert.match(err.message, c.message);
      if (c.field) {
        assert.deepEqual(err.path, [c.field]);
        // Non-null putItem nulls the whole data; the nullable fields come back null.
        if (res.data !== null) assert.equal(res.data[c.field], null);
      } else {
        assert.equal(res.data, null, 'request-level errors return no data');
      }
      assert.deepEqual(await tables(), snapshot, 'tables unchanged');
    });
  }

  it('a fenced application rejects putItem and deleteItem with WriteFenced, tables unchanged', async () => {
    await setState(fx, 'fenced');
    try {
      const p = await fx.api(AP).execute({ query: PUT, variables: { input: { id: 'existing', value: 'nope', expectedVersion: 3 } } });
      assert.equal(p.errors?.[0].errorType, WRITE_FENCED);
      const d = await fx.api(EU).execute({ query: DELETE, variables: { id: 'existing' } });
      assert.equal(d.errors?.[0].errorType, WRITE_FENCED);
      assert.match(d.errors![0].message, /fenced \(read-only\)/);
      assert.deepEqual(await tables(), snapshot);
      const read = await fx.api(EU).execute({ query: GET, variables: { id: 'existing' } });
      assert.deepEqual(read, { data: { getItem: EXISTING } }, 'reads are still served while fenced');
    } finally {
      await setState(fx, 'active');
    }
  });
});
