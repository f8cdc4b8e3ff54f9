import { dynamoReply, errorCode, type DynamoScope, type JsonReply, type KeyNames, type RawReply } from './dynamodb-store';

/**
 * TransactWriteItems and TransactGetItems, which dynalite does not implement, built from its single-item
 * calls. They run inside the scope's `exclusive`, so nothing else sees a half-applied transaction: every
 * action is applied in turn, and when one fails its condition all are undone and the call is cancelled.
 */

type Doc = Record<string, any>;
const WRITE_KINDS = ['ConditionCheck', 'Put', 'Update', 'Delete'] as const;
type WriteKind = (typeof WRITE_KINDS)[number];
type Action = { kind: WriteKind; spec: Doc; key: Doc; before: Doc | undefined };

const MAX_ACTIONS = 100;

export function dynamoError(status: number, type: string, message: string, extra: Doc = {}): RawReply {
  return dynamoReply(status, JSON.stringify({ __type: type, message, ...extra }));
}

const validation = (message: string) => dynamoError(400, 'com.amazon.coral.validate#ValidationException', message);
const notFound = () => dynamoError(400, 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', 'Requested resource not found');

function keyOf(item: Doc | undefined, keys: KeyNames): Doc | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const names = [keys.partitionKey, ...(keys.sortKey ? [keys.sortKey] : [])];
  if (!names.every((n) => item[n] !== undefined)) return undefined;
  return Object.fromEntries(names.map((n) => [n, item[n]]));
}

function items(doc: Doc | undefined): unknown[] | RawReply {
  const list = doc?.TransactItems;
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_ACTIONS) {
    return validation(`1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and ${MAX_ACTIONS}`);
  }
  return list;
}

function expressionFields(spec: Doc): Doc {
  return Object.fromEntries(['ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'].filter((k) => spec[k] !== undefined).map((k) => [k, spec[k]]));
}

function ensureOk(reply: JsonReply, what: string): void {
  if (reply.status !== 200) throw new Error(`${what} failed while undoing a transaction: ${reply.raw.body}`);
}

async function undo(scope: DynamoScope, action: Action): Promise<void> {
  const TableName = action.spec.TableName as string;
  if (action.before) ensureOk(await scope.call('PutItem', { TableName, Item: action.before }), 'PutItem');
  else ensureOk(await scope.call('DeleteItem', { TableName, Key: action.key }), 'DeleteItem');
}

async function apply(scope: DynamoScope, action: Action): Promise<JsonReply> {
  const { spec, key } = action;
  const base = { TableName: spec.TableName, ...expressionFields(spec) };
  switch (action.kind) {
    case 'Put':
      return scope.call('PutItem', { ...base, Item: spec.Item });
    case 'Update':
      return scope.call('UpdateItem', { ...base, Key: key, UpdateExpression: spec.UpdateExpression });
    case 'Delete':
      return scope.call('DeleteItem', { ...base, Key: key });
    case 'ConditionCheck':
      // Rewriting the item as it is evaluates the condition; the write is undone afterwards.
      return scope.call('PutItem', { ...base, Item: action.before ?? key });
  }
}

/** Parses and checks the actions: one per entry, existing tables, full keys, no item twice. */
async function actionsOf(scope: DynamoScope, list: unknown[]): Promise<Action[] | RawReply> {
  const schemas = new Map<string, KeyNames | undefined>();
  const seen = new Set<string>();
  const actions: Action[] = [];
  for (const [i, entry] of list.entries()) {
    const kinds = WRITE_KINDS.filter((k) => entry && typeof entry === 'object' && (entry as Doc)[k] !== undefined);
    const spec = kinds.length === 1 ? ((entry as Doc)[kinds[0]!] as Doc) : undefined;
    if (!spec || typeof spec.TableName !== 'string') {
      return validation(`TransactItems[${i}] must hold exactly one of ConditionCheck, Put, Update or Delete, with a TableName`);
    }
    const kind = kinds[0]!;
    if (kind === 'ConditionCheck' && typeof spec.ConditionExpression !== 'string') return validation(`TransactItems[${i}].ConditionCheck needs a ConditionExpression`);
    if (kind === 'Update' && typeof spec.UpdateExpression !== 'string') return validation(`TransactItems[${i}].Update needs an UpdateExpression`);
    if (!schemas.has(spec.TableName)) schemas.set(spec.TableName, await scope.keyNames(spec.TableName));
    const keys = schemas.get(spec.TableName);
    if (!keys) return notFound();
    const key = keyOf(kind === 'Put' ? spec.Item : spec.Key, keys);
    if (!key) return validation('The provided key element does not match the schema');
    const id = `${spec.TableName}\u0000${JSON.stringify([key[keys.partitionKey], keys.sortKey ? key[keys.sortKey] : null])}`;
    if (seen.has(id)) return validation('Transaction request cannot include multiple operations on one item');
    seen.add(id);
    const before = (await scope.call('GetItem', { TableName: spec.TableName, Key: key, ConsistentRead: true })).body.Item as Doc | undefined;
    actions.push({ kind, spec, key, before });
  }
  return actions;
}

export async function transactWriteItems(scope: DynamoScope, doc: Doc | undefined): Promise<RawReply> {
  const list = items(doc);
  if (!Array.isArray(list)) return list;
  const actions = await actionsOf(scope, list);
  if (!Array.isArray(actions)) return actions;

  const applied: Action[] = [];
  const reasons: Doc[] = [];
  for (const action of actions) {
    const reply = await apply(scope, action);
    if (reply.status === 200) {
      applied.push(action);
      reasons.push({ Code: 'None' });
    } else if (errorCode(reply) === 'ConditionalCheckFailedException') {
      const withItem = action.spec.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && action.before;
      reasons.push({ Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(withItem ? { Item: action.before } : {}) });
    } else {
      // A malformed action refuses the whole call, as DynamoDB's validation would before applying anything.
      for (const done of applied.reverse()) await undo(scope, done);
      return reply.raw;
    }
  }
  if (reasons.some((r) => r.Code !== 'None')) {
    for (const done of applied.reverse()) await undo(scope, done);
    return dynamoError(
      400,
      'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    );
  }
  for (const check of applied.filter((a) => a.kind === 'ConditionCheck')) await undo(scope, check);
  await scope.refresh(actions.map((a) => a.spec.TableName as string));
  return dynamoReply(200, '{}');
}

export async function transactGetItems(scope: DynamoScope, doc: Doc | undefined): Promise<RawReply> {
  const list = items(doc);
  if (!Array.isArray(list)) return list;
  const responses: Doc[] = [];
  for (const [i, entry] of list.entries()) {
    const get = (entry as Doc | undefined)?.Get as Doc | undefined;
    if (!get || typeof get.TableName !== 'string' || !get.Key) return validation(`TransactItems[${i}] must hold a Get with a TableName and a Key`);
    const { TableName, Key, ProjectionExpression, ExpressionAttributeNames } = get;
    const reply = await scope.call('GetItem', {
      TableName,
      Key,
      ConsistentRead: true,
      ...(ProjectionExpression !== undefined ? { ProjectionExpression } : {}),
      ...(ExpressionAttributeNames !== undefined ? { ExpressionAttributeNames } : {}),
    });
    if (reply.status !== 200) return reply.raw;
    responses.push(reply.body.Item ? { Item: reply.body.Item } : {});
  }
  return dynamoReply(200, JSON.stringify({ Responses: responses }));
}
