/**
 * Reading the app-config table: the app state item (id APP_STATE_ID) and the per-region drain flags
 * (id drainFlagId(region)). Always strongly consistent reads of the local replica, so a region acts on the
 * newest state it holds.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { APP_STATE_ID, drainFlagId } from '../../schema/rules';

/** The state item as stored: {id, state, updatedAt, reason, version, previousState?, updatedRegion?, writesFromMs?}. */
export interface AppStateItem {
  state: string;
  updatedAt?: string;
  reason?: string;
  version?: number;
  previousState?: string | null;
  updatedRegion?: string;
  /** failover only: regions newly writing locally wait until then (epoch ms; schema/rules.ts decideWrite) */
  writesFromMs?: number;
}

export async function readAppState(doc: DynamoDBDocumentClient, table: string, abortSignal?: AbortSignal): Promise<AppStateItem | null> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: { id: APP_STATE_ID }, ConsistentRead: true }), { abortSignal });
  if (!out.Item) return null;
  const it = out.Item;
  return {
    state: typeof it.state === 'string' ? it.state : String(it.state),
    updatedAt: typeof it.updatedAt === 'string' ? it.updatedAt : undefined,
    reason: typeof it.reason === 'string' ? it.reason : undefined,
    version: typeof it.version === 'number' ? it.version : undefined,
    previousState: typeof it.previousState === 'string' ? it.previousState : null,
    updatedRegion: typeof it.updatedRegion === 'string' ? it.updatedRegion : undefined,
    ...(typeof it.writesFromMs === 'number' ? { writesFromMs: it.writesFromMs } : {}),
  };
}

/** A drain flag item {id: drainFlagId(region), drained: true, reason}; null when absent or not drained. */
export async function readDrainFlag(
  doc: DynamoDBDocumentClient,
  table: string,
  region: string,
  abortSignal?: AbortSignal,
): Promise<{ reason: string } | null> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: { id: drainFlagId(region) }, ConsistentRead: true }), { abortSignal });
  if (!out.Item || out.Item.drained !== true) return null;
  return { reason: typeof out.Item.reason === 'string' ? out.Item.reason : 'no reason given' };
}
