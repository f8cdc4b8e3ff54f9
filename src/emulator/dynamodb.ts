import { InputError } from '../errors';
import { dynamoReply, type DynamoScope, type RawReply } from './dynamodb-store';
import { dynamoError, transactGetItems, transactWriteItems } from './dynamodb-transact';
import { AwsError, type CallContext, type Service } from './protocol';
import { credentialScope } from './sigv4';

/** The X-Amz-Target of a DynamoDB call (the JSON 1.0 protocol): `DynamoDB_20120810.<Operation>`. */
export const DYNAMODB_TARGET = /^DynamoDB_20120810\.\w+$/;

type Doc = Record<string, any>;

/** Served by dynalite as they are. */
const FORWARDED = new Set([
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
]);
/** Calls after which the tables they name are re-read into the mirror behind `snapshot()`. */
const ITEM_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
/** Data-plane calls: DynamoDB throttles these with ProvisionedThroughputExceededException. */
const ITEM_CALLS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem', 'TransactGetItems', 'TransactWriteItems']);

/** Error types outside DynamoDB's own namespace, as DynamoDB names them. */
const NAMESPACES: Record<string, string> = {
  MissingAuthenticationTokenException: 'com.amazon.coral.service',
  UnknownOperationException: 'com.amazon.coral.service',
  SerializationException: 'com.amazon.coral.service',
  InternalFailure: 'com.amazon.coral.service',
  ValidationException: 'com.amazon.coral.validate',
};

function parse(body: Buffer): Doc | undefined {
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'));
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Doc) : undefined;
  } catch {
    return undefined;
  }
}

/** Every table a call names, for faults aimed at one table. */
function tablesOf(doc: Doc | undefined): string[] {
  if (!doc) return [];
  const names = new Set<string>();
  if (typeof doc.TableName === 'string') names.add(doc.TableName);
  if (typeof doc.ResourceArn === 'string') names.add(doc.ResourceArn.split('/').pop()!);
  if (doc.RequestItems && typeof doc.RequestItems === 'object') for (const name of Object.keys(doc.RequestItems)) names.add(name);
  if (Array.isArray(doc.TransactItems)) {
    for (const entry of doc.TransactItems as Doc[]) {
      for (const spec of Object.values(entry ?? {}) as Doc[]) if (typeof spec?.TableName === 'string') names.add(spec.TableName);
    }
  }
  return [...names];
}

function forwardedHeaders(ctx: CallContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'x-amz-target', 'authorization', 'x-amz-date', 'date', 'x-amz-security-token']) {
    const value = ctx.headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/** DynamoDB returns the old item on a failed condition when asked to; dynalite does not, so it is read here. */
async function withOldItem(scope: DynamoScope, operation: string, doc: Doc, reply: RawReply): Promise<RawReply> {
  const keys = await scope.keyNames(doc.TableName);
  const source: Doc | undefined = operation === 'PutItem' ? doc.Item : doc.Key;
  if (!keys || !source) return reply;
  const key = Object.fromEntries([keys.partitionKey, ...(keys.sortKey ? [keys.sortKey] : [])].map((k) => [k, source[k]]));
  const old = (await scope.call('GetItem', { TableName: doc.TableName, Key: key, ConsistentRead: true })).body.Item;
  return old ? dynamoReply(reply.status, JSON.stringify({ ...(JSON.parse(reply.body) as Doc), Item: old })) : reply;
}

async function forward(scope: DynamoScope, operation: string, ctx: CallContext, doc: Doc | undefined): Promise<RawReply> {
  const query = ctx.query.toString();
  let reply = await scope.send(forwardedHeaders(ctx), ctx.body, query ? `/?${query}` : '/');
  if (reply.status === 200 && operation === 'CreateTable') scope.tableCreated((parse(Buffer.from(reply.body)) ?? {}).TableDescription);
  else if (reply.status === 200 && operation === 'DeleteTable') scope.tableDeleted(String(doc?.TableName));
  else if (reply.status === 200 && ITEM_WRITES.has(operation)) await scope.refresh(tablesOf(doc));
  if (
    reply.status === 400 &&
    doc?.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' &&
    ['PutItem', 'UpdateItem', 'DeleteItem'].includes(operation) &&
    String(parse(Buffer.from(reply.body))?.__type ?? '').endsWith('#ConditionalCheckFailedException')
  ) {
    reply = await withOldItem(scope, operation, doc, reply);
  }
  return reply;
}

async function describeTimeToLive(scope: DynamoScope, doc: Doc): Promise<RawReply> {
  const described = await scope.call('DescribeTable', { TableName: doc.TableName });
  if (described.status !== 200) return described.raw;
  const attribute = scope.ttl.get(doc.TableName);
  const description = attribute ? { TimeToLiveStatus: 'ENABLED', AttributeName: attribute } : { TimeToLiveStatus: 'DISABLED' };
  return dynamoReply(200, JSON.stringify({ TimeToLiveDescription: description }));
}

async function updateTimeToLive(scope: DynamoScope, doc: Doc): Promise<RawReply> {
  const spec = doc.TimeToLiveSpecification as Doc | undefined;
  if (typeof spec?.Enabled !== 'boolean' || typeof spec.AttributeName !== 'string' || spec.AttributeName === '') {
    return dynamoError(400, 'com.amazon.coral.validate#ValidationException', 'TimeToLiveSpecification needs Enabled (a boolean) and AttributeName');
  }
  const described = await scope.call('DescribeTable', { TableName: doc.TableName });
  if (described.status !== 200) return described.raw;
  const current = scope.ttl.get(doc.TableName);
  if (spec.Enabled === Boolean(current)) {
    return dynamoError(400, 'com.amazon.coral.validate#ValidationException', `TimeToLive is already ${spec.Enabled ? 'enabled' : 'disabled'}`);
  }
  if (spec.Enabled) scope.ttl.set(doc.TableName, spec.AttributeName);
  else scope.ttl.delete(doc.TableName);
  return dynamoReply(200, JSON.stringify({ TimeToLiveSpecification: { Enabled: spec.Enabled, AttributeName: spec.AttributeName } }));
}

type Emulated = (scope: DynamoScope, doc: Doc) => Promise<RawReply>;
/** What dynalite 4 lacks, built on its single-item calls. */
const EMULATED: Record<string, Emulated> = {
  TransactWriteItems: transactWriteItems,
  TransactGetItems: transactGetItems,
  DescribeTimeToLive: describeTimeToLive,
  UpdateTimeToLive: updateTimeToLive,
};

function render(err: AwsError): RawReply {
  return dynamoError(err.status, `${NAMESPACES[err.code] ?? 'com.amazonaws.dynamodb.v20120810'}#${err.code}`, err.message);
}

/**
 * DynamoDB: the JSON 1.0 protocol, answered by dynalite (one instance per account and region, see
 * DynamoScope), with transactions and time to live added here. Calls are not recorded in CloudTrail: data
 * events are not management events, and the product does not watch DynamoDB.
 */
export const dynamodbService: Service = {
  resolve: (ctx, env) => {
    // Real DynamoDB refuses unsigned calls; unlike the other services here, the emulator does too.
    if (!credentialScope(ctx.headers.authorization, ctx.query)) throw new AwsError('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    const target = String(ctx.headers['x-amz-target'] ?? '');
    if (!DYNAMODB_TARGET.test(target)) {
      throw new AwsError('UnknownOperationException', target ? `Unknown X-Amz-Target ${target}; DynamoDB's look like DynamoDB_20120810.GetItem.` : 'The request has no X-Amz-Target header.');
    }
    const operation = target.split('.')[1]!;
    const emulated = Object.hasOwn(EMULATED, operation) ? EMULATED[operation] : undefined;
    if (!FORWARDED.has(operation) && !emulated) throw new AwsError('UnknownOperationException', `The emulator's DynamoDB (dynalite 4) does not implement ${operation}.`);
    const doc = parse(ctx.body);
    return {
      name: operation,
      tables: tablesOf(doc),
      run: () => {
        if (emulated && !doc) throw new AwsError('SerializationException', 'The request body is not a JSON object.');
        const scope = env.dynamo.scope(ctx.account, ctx.region);
        return scope.exclusive(() => (emulated ? emulated(scope, doc!) : forward(scope, operation, ctx, doc))).catch((err: unknown) => {
          if (err instanceof InputError) throw new AwsError('InternalFailure', `The emulator could not load DynamoDB from its state: ${err.message}`, 500);
          throw err;
        });
      },
    };
  },
  success: (_op, payload, ctx) => {
    const reply = payload as RawReply;
    return { ...reply, headers: { ...reply.headers, 'x-amzn-requestid': ctx.requestId } };
  },
  error: (err, ctx) => {
    const reply = render(err);
    return { ...reply, headers: { ...reply.headers, 'x-amzn-requestid': ctx.requestId } };
  },
  throttled: (op) =>
    ITEM_CALLS.has(op.name)
      ? new AwsError(
          'ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        )
      : new AwsError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.'),
  serverError: () => new AwsError('InternalServerError', 'Internal server error', 500),
};
