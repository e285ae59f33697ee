/**
 * The notifier's pure core: one DynamoDB stream record of the items table → the ItemChangeInput of one
 * `publishItemChange` call (schema/schema.graphql), a deliberate skip, or a typed parse failure.
 *
 * - INSERT → CREATED (item = NewImage), MODIFY → UPDATED (item = NewImage), REMOVE → DELETED (item = OldImage).
 * - A MODIFY whose old and new images are identical changes nothing a subscriber can see → skipped.
 * - changedAt is the item's updatedAt for CREATED/UPDATED; for DELETED (the old image's updatedAt is when the item
 *   was last written, not when it was deleted) it is the record's ApproximateCreationDateTime ("when the stream
 *   saw it"), or the time of processing if the record carries none.
 * - Anything else — unknown eventName, no sequence number, no `id` key or one outside the id rule, a missing
 *   image, an image field missing or of the wrong type, an undecodable attribute — is a `ParseFailure` carrying
 *   the reason. It never throws: the caller reports it (see handlers/notifier.ts for what that means for the
 *   event source mapping).
 *
 * No I/O, no environment: plain data in, plain data out.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { isDeepStrictEqual } from 'node:util';
import { idProblem } from '../../schema/rules';
import { HASH_KEY } from '../../schema/tables';

export type ChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

/** schema.graphql `input ItemInput`. */
export interface ItemInput {
  id: string;
  value: string;
  version: number;
  updatedAt: string;
  updatedRegion: string;
  /** who wrote it (the caller's `sub` under token, Cognito or OIDC auth); null when the write had no caller identity */
  updatedBy?: string | null;
}

/** schema.graphql `input ItemChangeInput`. */
export interface ItemChangeInput {
  id: string;
  kind: ChangeKind;
  item: ItemInput | null;
  publishedRegion: string;
  sequenceNumber: string;
  changedAt: string;
}

export interface ParsedChange {
  status: 'change';
  sequenceNumber: string;
  input: ItemChangeInput;
}

export interface SkippedRecord {
  status: 'skip';
  sequenceNumber: string;
  reason: string;
}

/** A record the notifier cannot turn into a change. `sequenceNumber` is undefined only if the record has none. */
export interface ParseFailure {
  status: 'invalid';
  sequenceNumber: string | undefined;
  reason: string;
}

export type RecordOutcome = ParsedChange | SkippedRecord | ParseFailure;

const KIND_OF_EVENT: Readonly<Record<string, ChangeKind>> = { INSERT: 'CREATED', MODIFY: 'UPDATED', REMOVE: 'DELETED' };

/** AWSDateTime: an extended ISO 8601 date-time with a Z or ±hh:mm offset (seconds and fractions optional). */
const AWS_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)$/;
const INT32_MAX = 2 ** 31 - 1;

type Image = Record<string, AttributeValue>;

/**
 * Turns one stream record into what to publish as `region` (the notifier's own region: the replica whose stream
 * this is). `now` is used only for a REMOVE record without ApproximateCreationDateTime.
 */
export function toItemChange(record: DynamoDBRecord, region: string, now: () => Date = () => new Date()): RecordOutcome {
  try {
    return parseRecord(record, region, now);
  } catch (err) {
    // Defence in depth: whatever a malformed record makes the code below trip over is a parse failure too.
    const seq = record?.dynamodb?.SequenceNumber;
    return { status: 'invalid', sequenceNumber: typeof seq === 'string' && seq ? seq : undefined, reason: `cannot be parsed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function parseRecord(record: DynamoDBRecord, region: string, now: () => Date): RecordOutcome {
  const ddb = record?.dynamodb;
  const rawSeq = ddb?.SequenceNumber;
  const sequenceNumber = typeof rawSeq === 'string' && rawSeq.length > 0 ? rawSeq : undefined;
  const fail = (reason: string): ParseFailure => ({ status: 'invalid', sequenceNumber, reason });

  if (!ddb || typeof ddb !== 'object') return fail('record has no dynamodb section');
  if (sequenceNumber === undefined) return fail('record has no dynamodb.SequenceNumber');
  const eventName = record.eventName;
  const kind = typeof eventName === 'string' && Object.hasOwn(KIND_OF_EVENT, eventName) ? KIND_OF_EVENT[eventName] : undefined;
  if (!kind) return fail(`unknown eventName ${JSON.stringify(eventName)} (expected INSERT, MODIFY or REMOVE)`);

  const keyAttr = (ddb.Keys as Image | undefined)?.[HASH_KEY];
  const id = keyAttr && typeof keyAttr.S === 'string' && keyAttr.S.length > 0 ? keyAttr.S : undefined;
  if (id === undefined) return fail(`record has no string key dynamodb.Keys.${HASH_KEY}.S`);
  // publishItemChange rejects ids outside the contract (schema/rules.ts); no point sending one.
  const idBad = idProblem(id);
  if (idBad !== null) return fail(idBad);

  const newImage = ddb.NewImage as Image | undefined;
  const oldImage = ddb.OldImage as Image | undefined;
  if (kind === 'UPDATED' && newImage && oldImage && isDeepStrictEqual(newImage, oldImage)) {
    return { status: 'skip', sequenceNumber, reason: `MODIFY of ${id} with identical old and new images` };
  }

  const imageName = kind === 'DELETED' ? 'OldImage' : 'NewImage';
  const image = kind === 'DELETED' ? oldImage : newImage;
  if (!image || typeof image !== 'object') {
    return fail(`${eventName} record of ${id} has no ${imageName} (the stream must be NEW_AND_OLD_IMAGES)`);
  }
  const item = toItem(image, id);
  if (typeof item === 'string') return fail(`${eventName} record of ${id}: ${imageName} ${item}`);

  let changedAt = item.updatedAt;
  if (kind === 'DELETED') {
    const seen = approximateCreation(ddb.ApproximateCreationDateTime);
    changedAt = (seen ?? now()).toISOString();
  }
  return {
    status: 'change',
    sequenceNumber,
    input: { id, kind, item, publishedRegion: region, sequenceNumber, changedAt },
  };
}

/** The image as an ItemInput, or a string saying what is wrong with it. */
function toItem(image: Image, keyId: string): ItemInput | string {
  let plain: Record<string, unknown>;
  try {
    plain = unmarshall(image);
  } catch (err) {
    return `cannot be decoded: ${err instanceof Error ? err.message : String(err)}`;
  }
  const { id, value, version, updatedAt, updatedRegion, updatedBy } = plain;
  if (id !== keyId) return `has id ${JSON.stringify(id)}, not the record key ${JSON.stringify(keyId)}`;
  if (typeof value !== 'string') return `has no string value (got ${describe(value)})`;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > INT32_MAX) {
    return `has no valid version (a GraphQL Int ≥ 0; got ${describe(version)})`;
  }
  if (typeof updatedAt !== 'string' || !AWS_DATE_TIME.test(updatedAt) || Number.isNaN(Date.parse(updatedAt))) {
    return `has no valid updatedAt (an AWSDateTime; got ${describe(updatedAt)})`;
  }
  if (typeof updatedRegion !== 'string' || updatedRegion.length === 0) {
    return `has no updatedRegion (got ${describe(updatedRegion)})`;
  }
  if (updatedBy !== undefined && updatedBy !== null && typeof updatedBy !== 'string') return `has a non-string updatedBy (got ${describe(updatedBy)})`;
  return { id, value, version, updatedAt, updatedRegion, updatedBy: typeof updatedBy === 'string' ? updatedBy : null };
}

/**
 * ApproximateCreationDateTime as a Date. Lambda's stream events carry epoch seconds; an SDK streams client gives
 * a Date; microsecond/millisecond epochs are recognised by magnitude. Undefined when absent or unusable.
 */
export function approximateCreation(value: unknown): Date | undefined {
  let ms: number | undefined;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    ms = value < 1e11 ? value * 1000 : value < 1e14 ? value : value / 1000;
  } else if (typeof value === 'string' && value.length > 0) {
    ms = /^\d+(\.\d+)?$/.test(value) ? approximateCreation(Number(value))?.getTime() : Date.parse(value);
  }
  return ms === undefined || Number.isNaN(ms) ? undefined : new Date(ms);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = typeof v === 'bigint' ? `${v} (beyond a safe integer)` : (JSON.stringify(v) ?? String(v));
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
