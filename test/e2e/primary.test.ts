/**
 * writeMode primary end to end ("read local, write global"): a write through a secondary region lands in the
 * primary's replica first — the secondary sees it only once replication (here with a 2 s lag) brings it back —
 * through GraphQL and REST alike; subscribers in both regions hear it once.
 */
import assert from 'node:assert/strict';
import { eventually, gql, rest, startTestEmulator, Subscriber, type TestEmulator } from '../support/emulator';

const EU = 'eu-west-1'; // the dev stack's primary region
const AP = 'ap-southeast-2';
const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version updatedRegion } }';
const GET = 'query Get($id: ID!) { getItem(id: $id) { id value version updatedRegion } }';

describe('emulator end to end (writeMode primary)', function () {
  this.timeout(60_000);
  let t: TestEmulator;
  const ep = (r: string) => t.endpoints.regions[r];

  before(async () => {
    t = await startTestEmulator({ writeMode: 'primary', primaryRegion: EU });
  });
  after(async () => {
    await t?.stop();
  });

  it('a GraphQL write in the secondary is in the primary replica at once, and in the secondary only after replication', async () => {
    assert.equal(t.endpoints.writeMode, 'primary');
    const subAp = await Subscriber.open(ep(AP).realtimeUrl, ep(AP).graphqlUrl, ep(AP).apiKey, { id: 'p-1' });
    try {
      t.emulator.replicator.pause(EU, AP);
      const put = await gql(ep(AP).graphqlUrl, ep(AP).apiKey, PUT, { input: { id: 'p-1', value: 'via-ap' } });
      assert.equal(put.body.data.putItem.updatedRegion, EU, 'the write was made in the primary region');
      const inPrimary = await gql(ep(EU).graphqlUrl, ep(EU).apiKey, GET, { id: 'p-1' });
      assert.equal(inPrimary.body.data.getItem.value, 'via-ap');
      const inSecondary = await gql(ep(AP).graphqlUrl, ep(AP).apiKey, GET, { id: 'p-1' });
      assert.equal(inSecondary.body.data.getItem, null, 'reads are local: the secondary has not got it yet');
      t.emulator.replicator.resume(EU, AP);
      await eventually('p-1 replicated to the secondary', async () => (await gql(ep(AP).graphqlUrl, ep(AP).apiKey, GET, { id: 'p-1' })).body.data.getItem?.value === 'via-ap');
      await eventually('the secondary subscriber heard it', () => subAp.changes('p-1').length === 1);
      assert.equal(subAp.changes('p-1')[0].kind, 'CREATED');
    } finally {
      await subAp.close();
    }
  });

  it('a REST write in the secondary answers writeRegion = primary, readRegion = secondary', async () => {
    t.emulator.replicator.pause(EU, AP);
    const put = await rest(`${ep(AP).restUrl}/items/p-2`, 'PUT', { value: 'rest-via-ap' });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.deepEqual([put.body.writeRegion, put.body.readRegion], [EU, AP]);
    assert.equal((await rest(`${ep(EU).restUrl}/items/p-2`, 'GET')).status, 200);
    assert.equal((await rest(`${ep(AP).restUrl}/items/p-2`, 'GET')).status, 404);
    t.emulator.replicator.resume(EU, AP);
    await eventually('p-2 replicated', async () => (await rest(`${ep(AP).restUrl}/items/p-2`, 'GET')).status === 200);
  });
});
