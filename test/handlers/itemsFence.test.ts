/**
 * The fence's bound, raced: 32 writers (4 items containers, each with its own app state cache, 8 writers each) put
 * distinct items in a loop through the real items core and its real dependencies against DynamoDB Local, and the
 * test fences the app state in the replica they write to while they run. The promise (schema/rules.ts
 * writeBoundMs): no write commits later than STATE_CACHE_MS + the longest request after the fence is visible
 * there. A write's commit comes before its answer, and the fence is visible no earlier than the moment it was sent,
 * so the test checks the stronger "every accepted write was answered within the bound after the fence was sent".
 * Writers stop when the fence refuses them; a temporary 503 (a timeout on a loaded machine) is sent again, and
 * counts as a write that may have committed at the moment it was answered. A writer that is still accepted 5 bounds
 * after the fence stops too (the guard against a broken fence hanging the test), and then fails the assertion.
 *
 * Two shapes: multi-master (the writers' own replica is fenced) and writeMode primary, where writers in AP write to
 * the primary EU and only EU's replica is fenced (DynamoDB Local does not replicate, so AP's own replica never
 * shows it): the write path must read the state of the replica it writes to.
 */
import assert from 'node:assert/strict';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { handleItems, itemsDeps } from '../../handlers/items';
import { Budget } from '../../handlers/lib/budget';
import { toRequest } from '../../handlers/lib/http';
import { APP_STATE_ID } from '../../schema/rules';
import { itemsEvent, setEnv } from '../support/apigw';
import { AP, EU, createTables, doc, scan, setState } from './helpers';

const CONTAINERS = 4;
const WRITERS_PER_CONTAINER = 8;
const STATE_CACHE_MS = 300;
/** The longest request here: each request's budget (as Budget.fromContext gives a Lambda with this much time left). */
const REQUEST_MS = 5000;
/** Temporary refusals (a loaded machine's timeouts) a writer tolerates before it gives up (and the test fails). */
const MAX_TRANSIENT = 20;
const BOUND_MS = STATE_CACHE_MS + REQUEST_MS;

interface Answered {
  id: string;
  answeredAt: number;
  errorType?: string;
}

describe('the fence under 32 racing writers: nothing commits later than the bound after it', function () {
  this.timeout(5 * (BOUND_MS + 10_000));
  let tables: { items: string; appConfig: string };
  let restore: () => void = () => undefined;
  beforeEach(async () => {
    tables = await createTables('fence');
    await setState(tables.appConfig, 'active');
  });
  afterEach(() => {
    restore();
    restore = () => undefined;
  });

  for (const shape of [
    { name: 'multi-master, writers in EU, EU fenced', region: EU, writeMode: 'multi-master', fenceIn: EU },
    { name: 'writeMode primary, writers in AP writing to EU, only EU fenced', region: AP, writeMode: 'primary', fenceIn: EU },
  ]) {
    it(`${shape.name}: every accepted write answered within ${BOUND_MS} ms of the fence, then every writer refused`, async () => {
      restore = setEnv({
        AWS_REGION: shape.region,
        ITEMS_TABLE: tables.items,
        APP_CONFIG_TABLE: tables.appConfig,
        PRIMARY_REGION: EU,
        WRITE_MODE: shape.writeMode,
        STATE_CACHE_MS: String(STATE_CACHE_MS),
      });
      const containers = Array.from({ length: CONTAINERS }, () => itemsDeps({ newContainer: true }));
      const accepted: Answered[] = [];
      /** 5xx answers other than the fence's: the write may have committed, by the time of its answer at the latest */
      const transient: Answered[] = [];
      const refusals: string[] = [];
      const perWriter = new Array<number>(CONTAINERS * WRITERS_PER_CONTAINER).fill(0);
      let fenceSentAt = Infinity;

      // resolves once every writer has had two writes accepted: the race is on before the fence
      let warm!: () => void;
      const allWarm = new Promise<void>((resolve) => (warm = resolve));

      const writer = async (w: number): Promise<void> => {
        const deps = containers[Math.floor(w / WRITERS_PER_CONTAINER)];
        for (let n = 0; ; n += 1) {
          const id = `fence-${w}-${n}`;
          const res = await handleItems(toRequest(itemsEvent('PUT', id, { body: { value: `w${w}` } })), deps, { requestId: id, budget: Budget.ofMs(REQUEST_MS) });
          const answeredAt = Date.now();
          if (res.status === 201) {
            accepted.push({ id, answeredAt });
            perWriter[w] += 1;
            if (perWriter.every((c) => c >= 2)) warm();
            if (answeredAt > fenceSentAt + 5 * BOUND_MS) return; // a broken fence: stop, the assertion below fails
            continue;
          }
          const errorType = (res.body as { errorType: string }).errorType;
          if (res.status === 503 && errorType !== 'WriteFenced' && transient.length < MAX_TRANSIENT * perWriter.length) {
            transient.push({ id, answeredAt, errorType });
            if (transient.filter((t) => t.id.startsWith(`fence-${w}-`)).length < MAX_TRANSIENT) continue;
          }
          refusals.push(errorType);
          return;
        }
      };
      const writers = Array.from({ length: CONTAINERS * WRITERS_PER_CONTAINER }, (_, w) => writer(w));

      await allWarm;
      fenceSentAt = Date.now();
      await doc(shape.fenceIn).send(
        new PutCommand({ TableName: tables.appConfig, Item: { id: APP_STATE_ID, state: 'fenced', version: 2, updatedAt: new Date(fenceSentAt).toISOString(), reason: 'race' } }),
      );
      await Promise.all(writers);

      const late = [...accepted, ...transient].filter((a) => a.answeredAt > fenceSentAt + BOUND_MS);
      const afterFence = accepted.filter((a) => a.answeredAt > fenceSentAt).length;
      assert.deepEqual(
        late.map((a) => `${a.id} answered ${a.answeredAt - fenceSentAt} ms after the fence`),
        [],
        `0 writes may commit later than ${BOUND_MS} ms after the fence (${accepted.length} accepted, ${afterFence} of them after the fence was sent)`,
      );
      assert.deepEqual([...new Set(refusals)], ['WriteFenced'], 'every writer ends refused by the fence');
      assert.equal(refusals.length, CONTAINERS * WRITERS_PER_CONTAINER);
      // every accepted write is stored, and nothing else is but writes answered with a temporary 503
      const stored = new Set((await scan(EU, tables.items)).map((i) => String(i.id)));
      assert.deepEqual(accepted.filter((a) => !stored.has(a.id)), [], 'accepted writes are stored');
      const maybe = new Set(transient.map((t) => t.id));
      assert.deepEqual([...stored].filter((id) => !accepted.some((a) => a.id === id) && !maybe.has(id)), [], 'nothing stored that was not answered');
    });
  }
});
