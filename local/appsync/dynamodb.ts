/**
 * The AppSync DynamoDB data source, locally: translates the request objects that APPSYNC_JS resolvers return
 * (AppSync's DynamoDB request reference) into @aws-sdk/client-dynamodb calls against one table in one region, and
 * the answers back into what the response handler sees: ctx.result (plain, unmarshalled) or ctx.error
 * ({message, type: 'DynamoDB:<ExceptionName>'}, e.g. 'DynamoDB:ConditionalCheckFailedException').
 *
 * | operation  | request fields supported                                            | ctx.result                      |
 * |------------|---------------------------------------------------------------------|---------------------------------|
 * | GetItem    | key, consistentRead                                                 | the item, or null               |
 * | PutItem    | key, attributeValues, condition                                     | the item as written             |
 * | UpdateItem | key, update{expression,expressionNames,expressionValues}, condition | the item after the update       |
 * | DeleteItem | key, condition                                                      | the item as it was, or null     |
 * | Scan       | limit, nextToken, consistentRead, filter, index                     | {items, nextToken, scannedCount}|
 * | Query      | query, index, limit, nextToken, scanIndexForward, consistentRead, filter | {items, nextToken, scannedCount} |
 * | TransactWriteItems | transactItems (below)                                       | {keys, cancellationReasons}     |
 * condition = {expression, expressionNames, expressionValues}; its names/values are merged with the update's, as
 * AppSync does, and like AppSync (since aws/aws-appsync-community#162, "duplicates are not allowed") a placeholder
 * defined in both the update's and the condition's maps is refused: DuplicatePlaceholderError naming each one.
 * AWS documents neither the refusal nor its wording, so the message here is this emulator's own.
 * Attribute values (key, attributeValues, expressionValues) are taken in AppSync's request form, "Type system
 * (request mapping)" (https://docs.aws.amazon.com/appsync/latest/devguide/js-aws-appsync-resolver-reference-dynamodb-typed-values-request.html):
 * one type key per value, numbers as JSON numbers or strings ({ "N" : 1234 }), which is what util.dynamodb
 * produces; they are converted to the SDK's form (N as a string) before sending. Anything else (projection, select, segments, _version, equalsIgnore, conditionalCheckFailedHandler,
 * other operations) throws an UnsupportedRequestError naming the field, so a resolver never silently gets different
 * behaviour here than in AppSync.
 *
 * TransactWriteItems, as AppSync's JS resolver reference documents it
 * (https://docs.aws.amazon.com/appsync/latest/devguide/js-aws-appsync-resolver-reference-dynamodb-transact-write-items.html and
 * "Transaction condition expressions", .../js-aws-appsync-resolver-reference-dynamodb-transaction-condition-expressions.html):
 * - request: {operation, transactItems: [{table, operation: PutItem | UpdateItem | DeleteItem | ConditionCheck, key,
 *   attributeValues (PutItem), update (UpdateItem), condition (required for ConditionCheck)}]}; a condition may
 *   carry returnValuesOnConditionCheckFailure (default true). Each `table` is a table NAME in the data source's own
 *   region and account (DynamoDB transactions never span regions or accounts). Any other field is refused.
 * - success: ctx.result = {keys: [each item's key, plain], cancellationReasons: null}.
 * - a cancelled transaction: ctx.error = {type: 'DynamoDB:TransactionCanceledException', message} AND
 *   ctx.result = {keys: null, cancellationReasons: [{type, message, item?}]}, one reason per request item in
 *   request order (type 'None' for the items that did not cause it), `item` = the stored item (plain) of an item
 *   whose condition failed, unless its returnValuesOnConditionCheckFailure is false.
 * Not emulated: AppSync's "treat a failed condition as success when the stored item already equals the desired
 * result" rule — our writes always change version and updatedAt, so it can never apply to them.
 * nextToken: AppSync's tokens are opaque and encrypted; here they are base64url(JSON(LastEvaluatedKey)). A token
 * that does not decode becomes ctx.error {type: 'DynamoDB:ValidationException'} like a bad ExclusiveStartKey.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

export interface TableRef {
  tableName: string;
  region: string;
}

export interface DataSourceError {
  message: string;
  type: string;
}

export interface DataSourceOutcome {
  result?: unknown;
  error?: DataSourceError;
}

export class UnsupportedRequestError extends Error {
  constructor(what: string) {
    super(`${what} is not supported by the local AppSync DynamoDB data source (local/appsync/dynamodb.ts)`);
    this.name = 'UnsupportedRequestError';
  }
}

/** A request AppSync refuses before calling DynamoDB (the resolver's request object is wrong). */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

type AV = Record<string, AttributeValue>;
interface Expr {
  expression: string;
  expressionNames?: Record<string, string>;
  expressionValues?: AV;
}

/** The request fields this data source understands (checked by checkShape before use). */
interface AppSyncDynamoDBRequest {
  operation: string;
  key: AV;
  attributeValues?: AV;
  consistentRead?: boolean;
  limit?: number;
  nextToken?: string | null;
  index?: string;
  scanIndexForward?: boolean;
  update?: Expr;
  condition?: Expr;
  filter?: Expr;
  query?: Expr;
}

const ALLOWED: Record<string, readonly string[]> = {
  GetItem: ['operation', 'key', 'consistentRead'],
  PutItem: ['operation', 'key', 'attributeValues', 'condition'],
  UpdateItem: ['operation', 'key', 'update', 'condition'],
  DeleteItem: ['operation', 'key', 'condition'],
  Scan: ['operation', 'limit', 'nextToken', 'consistentRead', 'filter', 'index'],
  Query: ['operation', 'query', 'index', 'limit', 'nextToken', 'scanIndexForward', 'consistentRead', 'filter'],
};
const EXPR_FIELDS = ['expression', 'expressionNames', 'expressionValues'];

function checkShape(req: Record<string, unknown>): string {
  const op = req.operation;
  if (typeof op !== 'string' || !Object.hasOwn(ALLOWED, op)) {
    throw new UnsupportedRequestError(`operation ${JSON.stringify(op)}`);
  }
  for (const key of Object.keys(req)) {
    if (!ALLOWED[op].includes(key)) throw new UnsupportedRequestError(`${op}.${key}`);
  }
  for (const key of ['update', 'condition', 'filter', 'query']) {
    const e = req[key] as Record<string, unknown> | undefined;
    if (e === undefined || e === null) continue;
    for (const k of Object.keys(e)) {
      if (!EXPR_FIELDS.includes(k)) throw new UnsupportedRequestError(`${op}.${key}.${k}`);
    }
    if (typeof e.expression !== 'string') throw new UnsupportedRequestError(`${op}.${key} without an expression`);
  }
  return op;
}

/**
 * Refuses placeholders defined in both the update's and the condition's expressionNames or expressionValues:
 * AppSync merges the two maps into one request and refuses duplicates (aws/aws-appsync-community#162).
 */
function checkNoDuplicatePlaceholders(op: string, update: Expr | undefined, condition: Expr | undefined): void {
  if (!update || !condition) return;
  const dupes: string[] = [];
  for (const field of ['expressionNames', 'expressionValues'] as const) {
    const a = update[field] ?? {};
    const b = condition[field] ?? {};
    for (const k of Object.keys(a)) if (Object.hasOwn(b, k)) dupes.push(`${field} ${k}`);
  }
  if (dupes.length) {
    throw new InvalidRequestError(
      `${op}: ${dupes.join(', ')} defined in both update and condition; AppSync merges the two maps and refuses duplicate placeholders (aws/aws-appsync-community#162): give the condition its own placeholder names`,
    );
  }
}

/** One attribute value from AppSync's request form (N as number or string) to the SDK's (N as string). */
function sdkAttr(av: unknown, where: string): AttributeValue {
  if (!av || typeof av !== 'object' || Array.isArray(av)) throw new InvalidRequestError(`${where}: an attribute value must be an object like {"S": "..."}, got ${JSON.stringify(av)}`);
  const entries = Object.entries(av);
  if (entries.length !== 1) throw new InvalidRequestError(`${where}: an attribute value has exactly one type key, got ${JSON.stringify(Object.keys(av))}`);
  const [type, value] = entries[0];
  const num = (n: unknown, w: string): string => {
    if ((typeof n === 'number' && Number.isFinite(n)) || (typeof n === 'string' && n.trim() !== '' && Number.isFinite(Number(n)))) return `${n}`;
    throw new InvalidRequestError(`${w}: N must be a finite number (or its string), got ${JSON.stringify(n)}`);
  };
  switch (type) {
    case 'N':
      return { N: num(value, where) };
    case 'NS':
      if (!Array.isArray(value)) throw new InvalidRequestError(`${where}: NS must be a list`);
      return { NS: value.map((n, i) => num(n, `${where}.NS[${i}]`)) };
    case 'L':
      if (!Array.isArray(value)) throw new InvalidRequestError(`${where}: L must be a list`);
      return { L: value.map((v, i) => sdkAttr(v, `${where}.L[${i}]`)) };
    case 'M':
      return { M: sdkMap(value, `${where}.M`) };
    case 'NULL':
      return { NULL: true };
    default:
      return { [type]: value } as unknown as AttributeValue;
  }
}

function sdkMap(map: unknown, where: string): AV {
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new InvalidRequestError(`${where} must be a map of attribute values`);
  const out: AV = {};
  for (const [k, v] of Object.entries(map)) out[k] = sdkAttr(v, `${where}.${k}`);
  return out;
}

function sdkExpr(e: Expr | undefined, where: string): Expr | undefined {
  if (!e) return e;
  return { ...e, expressionValues: e.expressionValues ? sdkMap(e.expressionValues, `${where}.expressionValues`) : undefined };
}

/** Merges the names/values of several expressions into one ExpressionAttributeNames/Values pair. */
function merged(...exprs: (Expr | undefined)[]) {
  let names: Record<string, string> | undefined;
  let values: AV | undefined;
  for (const e of exprs) {
    if (!e) continue;
    if (e.expressionNames && Object.keys(e.expressionNames).length) names = { ...names, ...e.expressionNames };
    if (e.expressionValues && Object.keys(e.expressionValues).length) values = { ...values, ...e.expressionValues };
  }
  return { ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

export function encodeNextToken(key: AV | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : null;
}

function decodeNextToken(token: unknown): AV | undefined {
  if (token === undefined || token === null) return undefined;
  let parsed: unknown;
  if (typeof token === 'string' && /^[A-Za-z0-9_-]+$/.test(token)) {
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      parsed = undefined;
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw Object.assign(new Error('The provided starting key (nextToken) is invalid: it is not a token this API issued'), { name: 'ValidationException' });
  }
  return parsed as AV;
}

const TRANSACT_ALLOWED: Record<string, readonly string[]> = {
  PutItem: ['table', 'operation', 'key', 'attributeValues', 'condition'],
  UpdateItem: ['table', 'operation', 'key', 'update', 'condition'],
  DeleteItem: ['table', 'operation', 'key', 'condition'],
  ConditionCheck: ['table', 'operation', 'key', 'condition'],
};
const TRANSACT_CONDITION_FIELDS = [...EXPR_FIELDS, 'returnValuesOnConditionCheckFailure'];
/** DynamoDB's limit on actions per TransactWriteItems (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html). */
export const MAX_TRANSACT_ITEMS = 100;

interface TransactCondition extends Expr {
  returnValuesOnConditionCheckFailure?: boolean;
}

/** Checks one transactItems entry's shape (strict, like the other operations) and turns it into the SDK's form. */
function transactItem(raw: unknown, i: number): { sdk: TransactWriteItem; key: AV } {
  const where = `TransactWriteItems.transactItems[${i}]`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidRequestError(`${where} must be an object`);
  const it = raw as Record<string, unknown>;
  const op = it.operation;
  if (typeof op !== 'string' || !Object.hasOwn(TRANSACT_ALLOWED, op)) {
    throw new UnsupportedRequestError(`${where}.operation ${JSON.stringify(op)} (allowed: ${Object.keys(TRANSACT_ALLOWED).join(', ')})`);
  }
  for (const k of Object.keys(it)) if (!TRANSACT_ALLOWED[op].includes(k)) throw new UnsupportedRequestError(`${where}.${k} (${op})`);
  if (typeof it.table !== 'string' || it.table === '') throw new InvalidRequestError(`${where}.table is required: the table name`);
  if (it.key === undefined) throw new InvalidRequestError(`${where}.key is required`);
  for (const field of ['update', 'condition']) {
    const e = it[field] as Record<string, unknown> | undefined;
    if (e === undefined || e === null) continue;
    const allowed = field === 'condition' ? TRANSACT_CONDITION_FIELDS : EXPR_FIELDS;
    for (const k of Object.keys(e)) if (!allowed.includes(k)) throw new UnsupportedRequestError(`${where}.${field}.${k}`);
    if (typeof e.expression !== 'string') throw new UnsupportedRequestError(`${where}.${field} without an expression`);
    if (field === 'condition' && e.returnValuesOnConditionCheckFailure !== undefined && typeof e.returnValuesOnConditionCheckFailure !== 'boolean') {
      throw new InvalidRequestError(`${where}.condition.returnValuesOnConditionCheckFailure must be a boolean`);
    }
  }
  const condition = it.condition as TransactCondition | undefined;
  if (op === 'ConditionCheck' && !condition) throw new InvalidRequestError(`${where}: a ConditionCheck requires a condition`);
  if (op === 'UpdateItem' && !it.update) throw new InvalidRequestError(`${where}: an UpdateItem requires an update`);
  checkNoDuplicatePlaceholders(`${where} (${op})`, it.update as Expr | undefined, condition);
  const TableName = it.table;
  const Key = sdkMap(it.key, `${where}.key`);
  const cond = sdkExpr(condition, `${where}.condition`);
  const conditionPart = cond
    ? {
        ConditionExpression: cond.expression,
        // AppSync's default is true: the stored item comes back in cancellationReasons[i].item
        ReturnValuesOnConditionCheckFailure: condition?.returnValuesOnConditionCheckFailure === false ? ('NONE' as const) : ('ALL_OLD' as const),
      }
    : {};
  switch (op) {
    case 'PutItem':
      return { sdk: { Put: { TableName, Item: { ...sdkMap(it.attributeValues ?? {}, `${where}.attributeValues`), ...Key }, ...conditionPart, ...merged(cond) } }, key: Key };
    case 'UpdateItem': {
      const update = sdkExpr(it.update as Expr, `${where}.update`) as Expr;
      return { sdk: { Update: { TableName, Key, UpdateExpression: update.expression, ...conditionPart, ...merged(update, cond) } }, key: Key };
    }
    case 'DeleteItem':
      return { sdk: { Delete: { TableName, Key, ...conditionPart, ...merged(cond) } }, key: Key };
    default:
      return { sdk: { ConditionCheck: { TableName, Key, ConditionExpression: (cond as Expr).expression, ...conditionPart, ...merged(cond) } }, key: Key } as { sdk: TransactWriteItem; key: AV };
  }
}

/** AppSync's TransactWriteItems against the data source's region (see the header for the shapes). */
async function transactWrite(client: DynamoDBClient, request: Record<string, unknown>, signal: AbortSignal | undefined): Promise<DataSourceOutcome> {
  for (const k of Object.keys(request)) if (k !== 'operation' && k !== 'transactItems') throw new UnsupportedRequestError(`TransactWriteItems.${k}`);
  const list = request.transactItems;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidRequestError('TransactWriteItems.transactItems must be a non-empty list');
  if (list.length > MAX_TRANSACT_ITEMS) throw new InvalidRequestError(`TransactWriteItems.transactItems has ${list.length} items: DynamoDB allows at most ${MAX_TRANSACT_ITEMS}`);
  const parts = list.map((raw, i) => transactItem(raw, i));
  try {
    await client.send(new TransactWriteItemsCommand({ TransactItems: parts.map((p) => p.sdk) }), { abortSignal: signal });
    return { result: { keys: parts.map((p) => unmarshall(p.key)), cancellationReasons: null } };
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const e = err as Error & { CancellationReasons?: Array<{ Code?: string; Message?: string; Item?: AV }> };
    if (e.name === 'TransactionCanceledException') {
      const reasons = parts.map((_, i) => {
        const r = e.CancellationReasons?.[i] ?? {};
        const out: Record<string, unknown> = { type: r.Code ?? 'None', message: r.Message ?? (r.Code && r.Code !== 'None' ? r.Code : 'None') };
        if (r.Item) out.item = unmarshall(r.Item);
        return out;
      });
      return { error: { message: e.message, type: 'DynamoDB:TransactionCanceledException' }, result: { keys: null, cancellationReasons: reasons } };
    }
    return { error: { message: e.message, type: `DynamoDB:${e.name || 'Error'}` } };
  }
}

const clients = new Map<string, DynamoDBClient>();

/** One client per region; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local) like every SDK client. */
export function defaultClientFor(region: string): DynamoDBClient {
  let c = clients.get(region);
  if (!c) {
    c = new DynamoDBClient({ region });
    clients.set(region, c);
  }
  return c;
}

function items(list: AV[] | undefined): unknown[] {
  return (list ?? []).map((i) => unmarshall(i));
}

/**
 * Runs one AppSync DynamoDB request against `table`. Service errors become `error`; malformed requests throw.
 * `signal` (the request's deadline, ./requestLimit.ts) aborts the call: the SDK closes its connection, and the call
 * rejects with the signal's reason instead of answering.
 */
export async function executeDynamoDBRequest(
  table: TableRef,
  request: unknown,
  clientFor: (region: string) => DynamoDBClient = defaultClientFor,
  signal?: AbortSignal,
): Promise<DataSourceOutcome> {
  if (!request || typeof request !== 'object') throw new UnsupportedRequestError(`a request of type ${typeof request}`);
  if ((request as { operation?: unknown }).operation === 'TransactWriteItems') return transactWrite(clientFor(table.region), request as Record<string, unknown>, signal);
  const op = checkShape(request as Record<string, unknown>);
  const raw = request as AppSyncDynamoDBRequest;
  checkNoDuplicatePlaceholders(op, raw.update, raw.condition);
  const req: AppSyncDynamoDBRequest = {
    ...raw,
    key: raw.key === undefined ? raw.key : sdkMap(raw.key, `${op}.key`),
    attributeValues: raw.attributeValues && sdkMap(raw.attributeValues, `${op}.attributeValues`),
    update: sdkExpr(raw.update, `${op}.update`),
    condition: sdkExpr(raw.condition, `${op}.condition`),
    filter: sdkExpr(raw.filter, `${op}.filter`),
    query: sdkExpr(raw.query, `${op}.query`),
  };
  const client = clientFor(table.region);
  const TableName = table.tableName;
  const condition = req.condition;
  const options = { abortSignal: signal };
  try {
    switch (op) {
      case 'GetItem': {
        const out = await client.send(new GetItemCommand({ TableName, Key: req.key, ConsistentRead: req.consistentRead === true }), options);
        return { result: out.Item ? unmarshall(out.Item) : null };
      }
      case 'PutItem': {
        const Item = { ...(req.attributeValues ?? {}), ...req.key };
        await client.send(new PutItemCommand({ TableName, Item, ConditionExpression: condition?.expression, ...merged(condition) }), options);
        return { result: unmarshall(Item) };
      }
      case 'UpdateItem': {
        const update = req.update;
        if (!update) throw new UnsupportedRequestError('UpdateItem without update');
        const out = await client.send(
          new UpdateItemCommand({
            TableName,
            Key: req.key,
            UpdateExpression: update.expression,
            ConditionExpression: condition?.expression,
            ReturnValues: 'ALL_NEW',
            ...merged(update, condition),
          }),
          options,
        );
        return { result: out.Attributes ? unmarshall(out.Attributes) : null };
      }
      case 'DeleteItem': {
        const out = await client.send(
          new DeleteItemCommand({ TableName, Key: req.key, ConditionExpression: condition?.expression, ReturnValues: 'ALL_OLD', ...merged(condition) }),
          options,
        );
        return { result: out.Attributes ? unmarshall(out.Attributes) : null };
      }
      case 'Scan': {
        const filter = req.filter;
        const out = await client.send(
          new ScanCommand({
            TableName,
            IndexName: req.index,
            Limit: req.limit,
            ExclusiveStartKey: decodeNextToken(req.nextToken),
            ConsistentRead: req.consistentRead === true,
            FilterExpression: filter?.expression,
            ...merged(filter),
          }),
          options,
        );
        return { result: { items: items(out.Items), nextToken: encodeNextToken(out.LastEvaluatedKey), scannedCount: out.ScannedCount ?? 0 } };
      }
      case 'Query': {
        const query = req.query;
        if (!query) throw new UnsupportedRequestError('Query without query');
        const filter = req.filter;
        const out = await client.send(
          new QueryCommand({
            TableName,
            IndexName: req.index,
            KeyConditionExpression: query.expression,
            FilterExpression: filter?.expression,
            Limit: req.limit,
            ExclusiveStartKey: decodeNextToken(req.nextToken),
            ScanIndexForward: req.scanIndexForward !== false,
            ConsistentRead: req.consistentRead === true,
            ...merged(query, filter),
          }),
          options,
        );
        return { result: { items: items(out.Items), nextToken: encodeNextToken(out.LastEvaluatedKey), scannedCount: out.ScannedCount ?? 0 } };
      }
    }
  } catch (err) {
    if (err instanceof UnsupportedRequestError || err instanceof InvalidRequestError) throw err;
    if (signal?.aborted) throw signal.reason;
    const e = err as Error;
    return { error: { message: e.message, type: `DynamoDB:${e.name || 'Error'}` } };
  }
  throw new UnsupportedRequestError(`operation ${op}`);
}
