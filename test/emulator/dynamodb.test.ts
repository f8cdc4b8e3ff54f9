import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  TagResourceCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactGetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InputError } from '../../src/errors';
import { manualClock, startEmulator, type Emulator, type EmulatorState } from '../../src/emulator';
import { ALICE, BOB, PROD, SANDBOX, documentClient, dynamoClient, rejectionOf } from './helpers';

const TABLE = 'guard-ledger';
const PROD_API = { pk: 'cluster#prod-api', version: 3, lease: null, changes: [{ eventId: 'e-1', actor: { arn: `arn:aws:iam::${PROD}:user/alice` } }], expiresAt: 1_900_000_000 };
const PROD_PAYMENTS = { pk: 'cluster#prod-payments', version: 1, escalated: false };

const STATE: EmulatorState = {
  defaultAccount: PROD,
  accounts: [
    { id: PROD, accessKeys: [{ accessKeyId: ALICE.accessKeyId, user: 'alice' }] },
    { id: SANDBOX, accessKeys: [{ accessKeyId: BOB.accessKeyId, user: 'bob' }] },
  ],
  dynamodb: {
    tables: [
      {
        name: TABLE,
        account: PROD,
        region: 'us-east-1',
        ttlAttribute: 'expiresAt',
        items: [PROD_API, PROD_PAYMENTS],
      },
      { name: 'events', account: PROD, region: 'eu-west-1', partitionKey: 'cluster', sortKey: 'at', sortKeyType: 'N', items: [{ cluster: 'legacy', at: 2 }, { cluster: 'legacy', at: 1 }] },
    ],
  },
};

let emulator: Emulator;
let docs: DynamoDBDocumentClient;
let ddb: DynamoDBClient;

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state: STATE });
  docs = documentClient(emulator);
  ddb = dynamoClient(emulator);
});
afterAll(async () => {
  docs.destroy();
  ddb.destroy();
  await emulator.close();
});
beforeEach(() => emulator.reset());

const tableSpec = (name: string) => ({
  TableName: name,
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }],
  BillingMode: 'PAY_PER_REQUEST' as const,
});

const itemsOf = (account: string, region: string, name: string) =>
  emulator.snapshot().dynamodb.tables.find((t) => t.account === account && t.region === region && t.name === name)?.items;

describe('tables', () => {
  it('creates a table that is ACTIVE at once, with an ARN in the caller account and region', async () => {
    const { TableDescription } = await ddb.send(new CreateTableCommand(tableSpec('fresh')));
    expect(TableDescription?.TableArn).toBe(`arn:aws:dynamodb:us-east-1:${PROD}:table/fresh`);
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: 'fresh' }));
    expect(Table).toMatchObject({ TableStatus: 'ACTIVE', TableArn: `arn:aws:dynamodb:us-east-1:${PROD}:table/fresh`, BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' } });
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual(['fresh', TABLE]);
    expect(itemsOf(PROD, 'us-east-1', 'fresh')).toEqual([]);
  });

  it('refuses a table that exists, as DynamoDB does', async () => {
    const err = await rejectionOf(ddb.send(new CreateTableCommand(tableSpec(TABLE))));
    expect(err.name).toBe('ResourceInUseException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('keeps time to live settings (seeded, enabled, refused twice)', async () => {
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    await ddb.send(new CreateTableCommand(tableSpec('fresh')));
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'fresh' }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'DISABLED' });
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: 'fresh', TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } }));
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'fresh' }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    const again = await rejectionOf(ddb.send(new UpdateTimeToLiveCommand({ TableName: 'fresh', TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } })));
    expect(again).toMatchObject({ name: 'ValidationException', message: 'TimeToLive is already enabled' });
    const missing = await rejectionOf(ddb.send(new DescribeTimeToLiveCommand({ TableName: 'ghost' })));
    expect(missing.name).toBe('ResourceNotFoundException');
  });
});

describe('items through the document client', () => {
  const key = { pk: 'cluster#prod-api' };

  it('reads a seeded item as plain JSON', async () => {
    const { Item } = await docs.send(new GetCommand({ TableName: TABLE, Key: key }));
    expect(Item).toEqual(PROD_API);
  });

  it('writes conditionally: a second create of the same key fails, and can return the item that won', async () => {
    const put = () =>
      docs.send(
        new PutCommand({ TableName: TABLE, Item: { pk: 'cluster#new', version: 1 }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      );
    await put();
    const err = await rejectionOf(put());
    expect(err).toMatchObject({ name: 'ConditionalCheckFailedException', message: 'The conditional request failed' });
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.Item).toEqual({ pk: { S: 'cluster#new' }, version: { N: '1' } });
  });

  it('compares and sets with UpdateItem: ADD under a version condition, refused once the version moved', async () => {
    const bump = (expected: number) =>
      docs.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'ADD version :one SET lease = :lease',
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':one': 1, ':expected': expected, ':lease': { holder: 'exec-1', expiresAt: 60 } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    const { Attributes } = await bump(3);
    expect(Attributes).toMatchObject({ version: 4, lease: { holder: 'exec-1', expiresAt: 60 } });
    expect((await rejectionOf(bump(3))).name).toBe('ConditionalCheckFailedException');
    expect((await docs.send(new GetCommand({ TableName: TABLE, Key: key }))).Item?.version).toBe(4);
  });

  it('lets exactly one of many concurrent compare-and-set writers win', async () => {
    const writers = Array.from({ length: 8 }, (_, i) =>
      docs.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'SET version = :next, holder = :me',
          ConditionExpression: 'version = :seen',
          ExpressionAttributeValues: { ':seen': 3, ':next': 4, ':me': `exec-${i}` },
        }),
      ).then(
        () => 'won',
        (err: Error) => err.name,
      ),
    );
    const outcomes = await Promise.all(writers);
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'won')).toEqual(Array(7).fill('ConditionalCheckFailedException'));
    expect(itemsOf(PROD, 'us-east-1', TABLE)?.find((i) => i.pk === key.pk)).toMatchObject({ version: 4, holder: `exec-${outcomes.indexOf('won')}` });
  });

  it('answers a missing item with no Item, and a missing table with ResourceNotFoundException', async () => {
    expect((await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: 'nope' } }))).Item).toBeUndefined();
    const err = await rejectionOf(docs.send(new GetCommand({ TableName: 'ghost', Key: { pk: 'x' } })));
    expect(err.name).toBe('ResourceNotFoundException');
  });
});

describe('transactions (which dynalite lacks)', () => {
  it('applies every action of TransactWriteItems, and reads them back with TransactGetItems', async () => {
    await docs.send(
      new TransactWriteCommand({
        TransactItems: [
          { ConditionCheck: { TableName: TABLE, Key: { pk: 'cluster#prod-payments' }, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': 1 } } },
          { Put: { TableName: TABLE, Item: { pk: 'cluster#a', n: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Update: { TableName: TABLE, Key: { pk: 'cluster#prod-api' }, UpdateExpression: 'ADD version :one', ExpressionAttributeValues: { ':one': 1 } } },
        ],
      }),
    );
    const { Responses } = await docs.send(
      new TransactGetCommand({ TransactItems: [{ Get: { TableName: TABLE, Key: { pk: 'cluster#a' } } }, { Get: { TableName: TABLE, Key: { pk: 'cluster#prod-api' } } }, { Get: { TableName: TABLE, Key: { pk: 'ghost' } } }] }),
    );
    expect(Responses?.map((r) => r.Item)).toEqual([{ pk: 'cluster#a', n: 1 }, expect.objectContaining({ version: 4 }), undefined]);
    expect(itemsOf(PROD, 'us-east-1', TABLE)?.map((i) => i.pk)).toEqual(['cluster#a', 'cluster#prod-api', 'cluster#prod-payments']);
  });

  it('cancels the whole transaction when one condition fails, naming the reason per action', async () => {
    const before = itemsOf(PROD, 'us-east-1', TABLE);
    const err = await rejectionOf(
      docs.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk: 'cluster#a', n: 1 } } },
            { Update: { TableName: TABLE, Key: { pk: 'cluster#prod-api' }, UpdateExpression: 'ADD version :one', ExpressionAttributeValues: { ':one': 1 } } },
            { Delete: { TableName: TABLE, Key: { pk: 'cluster#prod-payments' }, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': 99 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
          ],
        }),
      ),
    );
    expect(err.name).toBe('TransactionCanceledException');
    expect(err.message).toContain('[None, None, ConditionalCheckFailed]');
    expect(err.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'None' },
      // The document client leaves cancellation reasons marshalled, as it does against AWS.
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: { pk: { S: 'cluster#prod-payments' }, version: { N: '1' }, escalated: { BOOL: false } } },
    ]);
    expect(itemsOf(PROD, 'us-east-1', TABLE)).toEqual(before);
    expect((await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#a' } }))).Item).toBeUndefined();
    expect((await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' } }))).Item?.version).toBe(3);
  });

  it('refuses two actions on one item', async () => {
    const err = await rejectionOf(
      docs.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { pk: 'x' } } }, { Delete: { TableName: TABLE, Key: { pk: 'x' } } }] })),
    );
    expect(err).toMatchObject({ name: 'ValidationException', message: 'Transaction request cannot include multiple operations on one item' });
  });
});

describe('accounts and regions', () => {
  it('keeps each account and region apart, even under the same table name', async () => {
    const bob = documentClient(emulator, { credentials: BOB });
    const bobTables = dynamoClient(emulator, { credentials: BOB });
    const west = dynamoClient(emulator, { region: 'eu-west-1' });
    try {
      const err = await rejectionOf(bob.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' } })));
      expect(err.name).toBe('ResourceNotFoundException');
      await bobTables.send(new CreateTableCommand(tableSpec(TABLE)));
      await bob.send(new PutCommand({ TableName: TABLE, Item: { pk: 'cluster#prod-api', owner: 'bob' } }));
      expect((await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' } }))).Item).toEqual(PROD_API);
      expect((await bob.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' } }))).Item).toEqual({ pk: 'cluster#prod-api', owner: 'bob' });
      expect((await west.send(new ListTablesCommand({}))).TableNames).toEqual(['events']);
      expect(emulator.snapshot().dynamodb.tables.map((t) => `${t.account}/${t.region}/${t.name}`)).toEqual([
        `${PROD}/eu-west-1/events`,
        `${PROD}/us-east-1/${TABLE}`,
        `${SANDBOX}/us-east-1/${TABLE}`,
      ]);
    } finally {
      bob.destroy();
      bobTables.destroy();
      west.destroy();
    }
  });
});

describe('snapshot, reset and loadState', () => {
  it('shows every table with its items as plain JSON, sorted by key, in the snapshot and the control API', async () => {
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'cluster#b' }, roles: { SS: ['x', 'y'] }, big: { N: '12345678901234567890' } } }));
    const expected = [
      { name: 'events', account: PROD, region: 'eu-west-1', items: [{ cluster: 'legacy', at: 1 }, { cluster: 'legacy', at: 2 }] },
      {
        name: TABLE,
        account: PROD,
        region: 'us-east-1',
        items: [{ pk: 'cluster#b', roles: ['x', 'y'], big: '12345678901234567890' }, PROD_API, PROD_PAYMENTS],
      },
    ];
    expect(emulator.snapshot().dynamodb.tables).toEqual(expected);
    expect(emulator.dynamodbTables()).toEqual(expected);
    const res = await fetch(`${emulator.url}/_emulator/dynamodb`);
    expect(await res.json()).toEqual({ tables: expected });
  });

  it('reset drops written items and created tables and brings back the seeded ones', async () => {
    await ddb.send(new CreateTableCommand(tableSpec('fresh')));
    await docs.send(new PutCommand({ TableName: TABLE, Item: { pk: 'cluster#prod-api', version: 100 } }));
    emulator.reset();
    expect(itemsOf(PROD, 'us-east-1', TABLE)).toHaveLength(2);
    expect((await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' } }))).Item?.version).toBe(3);
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual([TABLE]);
  });

  it('loadState replaces every table, and an empty state has none', async () => {
    emulator.loadState({ accounts: [{ id: PROD }], defaultAccount: PROD, dynamodb: { tables: [{ name: 'other', account: PROD, region: 'us-east-1', items: [{ pk: 'only' }] }] } });
    try {
      expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual(['other']);
      expect((await docs.send(new GetCommand({ TableName: 'other', Key: { pk: 'only' } }))).Item).toEqual({ pk: 'only' });
      emulator.loadState({});
      expect(emulator.snapshot().dynamodb.tables).toEqual([]);
      expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    } finally {
      emulator.loadState(STATE);
    }
  });
});

describe('state validation', () => {
  it('names every problem of shape with its path', async () => {
    const bad = {
      accounts: [{ id: PROD }],
      dynamodb: {
        tables: [
          { name: 'ab', account: PROD, region: 'us-east-1' },
          { name: 'typed', account: PROD, region: 'us-east-1', items: [{ pk: 'a', when: undefined }], unknown: true },
        ],
      },
    };
    const err = await rejectionOf(startEmulator({ state: bad as never }));
    expect(err).toBeInstanceOf(InputError);
    expect((err as unknown as InputError).problems).toEqual([
      'state: dynamodb.tables[0].name: must be a DynamoDB table name (3-255 letters, digits, _ . and -)',
      expect.stringMatching(/^state: dynamodb\.tables\[1\]\.items\[0\]\.when: /),
      'state: dynamodb.tables[1]: unknown key "unknown"',
    ]);
  });

  it('checks keys and references once the shape is right', async () => {
    const bad: EmulatorState = {
      accounts: [{ id: PROD }],
      dynamodb: {
        tables: [
          { name: 'dup', account: '999999999999', region: 'us-east-1', items: [{ pk: 'a' }, { pk: 'a' }, { id: 1 }] },
          { name: 'dup', account: '999999999999', region: 'us-east-1', sortKey: 'sk', sortKeyType: 'N', items: [{ pk: 'a', sk: 'one' }] },
          { name: 'typed', account: PROD, region: 'us-east-1', sortKeyType: 'N' },
        ],
      },
    };
    const err = await rejectionOf(startEmulator({ state: bad }));
    expect(err).toBeInstanceOf(InputError);
    expect((err as unknown as InputError).problems).toEqual([
      'state: dynamodb.tables[0].account: account 999999999999 is not declared in accounts',
      'state: dynamodb.tables[0].items[1]: an item with the key ["a"] is declared twice',
      'state: dynamodb.tables[0].items[2].pk: the key attribute must be a non-empty string',
      'state: dynamodb.tables[1].account: account 999999999999 is not declared in accounts',
      'state: dynamodb.tables[1].name: table dup is declared twice in 999999999999 us-east-1',
      'state: dynamodb.tables[1].items[0].sk: the key attribute must be a number',
      'state: dynamodb.tables[2].sortKeyType: give sortKey too',
    ]);
  });
});

describe('state DynamoDB itself refuses', () => {
  const oversized = (): EmulatorState => ({
    defaultAccount: PROD,
    accounts: [{ id: PROD }],
    dynamodb: { tables: [{ name: 'big-items', account: PROD, region: 'us-east-1', items: [{ pk: 'ok' }, { pk: 'huge', blob: 'x'.repeat(410 * 1024) }] }] },
  });

  it('makes startEmulator fail with the item named', async () => {
    const err = await rejectionOf(startEmulator({ state: oversized() }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^state: dynamodb\.tables\[0\]\.items\[1\]: DynamoDB refused the item: .*size/);
  });

  it('after loadState, makes DynamoDB calls answer InternalFailure with the reason', async () => {
    emulator.loadState(oversized());
    try {
      const err = await rejectionOf(docs.send(new GetCommand({ TableName: 'big-items', Key: { pk: 'ok' } })));
      expect(err.name).toBe('InternalFailure');
      expect(err.$metadata?.httpStatusCode).toBe(500);
      expect(err.message).toContain('items[1]: DynamoDB refused the item');
    } finally {
      emulator.loadState(STATE);
    }
  });
});

describe('faults', () => {
  it('throttles item calls with ProvisionedThroughputExceededException and leaves the item alone', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'PutItem', table: TABLE, times: 1 });
    const err = await rejectionOf(docs.send(new PutCommand({ TableName: TABLE, Item: { pk: 'cluster#prod-api', version: 100 } })));
    expect(err.name).toBe('ProvisionedThroughputExceededException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect((await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' } }))).Item?.version).toBe(3);
    expect(emulator.snapshot().faults).toEqual([]);
  });

  it('throttles table calls with ThrottlingException, and only the named table', async () => {
    emulator.setFault({ kind: 'throttle', service: 'dynamodb', table: 'fresh' });
    await expect(ddb.send(new DescribeTableCommand({ TableName: TABLE }))).resolves.toBeDefined();
    const err = await rejectionOf(ddb.send(new CreateTableCommand(tableSpec('fresh'))));
    expect(err).toMatchObject({ name: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' });
  });

  it('answers a server-error fault with a 500 InternalServerError, which the SDK retries through', async () => {
    emulator.setFault({ kind: 'server-error', operation: 'UpdateItem', times: 2 });
    const update = new UpdateCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' }, UpdateExpression: 'ADD version :one', ExpressionAttributeValues: { ':one': 1 } });
    const err = await rejectionOf(docs.send(update));
    expect(err.name).toBe('InternalServerError');
    expect(err.$metadata?.httpStatusCode).toBe(500);
    const patient = documentClient(emulator, { maxAttempts: 2 });
    try {
      const result = await patient.send(update);
      expect(result.$metadata.attempts).toBe(2);
    } finally {
      patient.destroy();
    }
    expect((await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: 'cluster#prod-api' } }))).Item?.version).toBe(4);
  });

  it('keeps a fault aimed at EKS TagResource off the DynamoDB call of the same name, and at another region off this one', async () => {
    emulator.setFault({ kind: 'server-error', operation: 'TagResource', service: 'eks' });
    emulator.setFault({ kind: 'server-error', operation: 'ListTagsOfResource', region: 'eu-west-1' });
    const ResourceArn = `arn:aws:dynamodb:us-east-1:${PROD}:table/${TABLE}`;
    await ddb.send(new TagResourceCommand({ ResourceArn, Tags: [{ Key: 'owner', Value: 'guard' }] }));
    expect((await ddb.send(new ListTagsOfResourceCommand({ ResourceArn }))).Tags).toEqual([{ Key: 'owner', Value: 'guard' }]);
    emulator.setFault({ kind: 'server-error', operation: 'TagResource', service: 'dynamodb', times: 1 });
    expect((await rejectionOf(ddb.send(new TagResourceCommand({ ResourceArn, Tags: [{ Key: 'k', Value: 'v' }] })))).name).toBe('InternalServerError');
  });
});

describe('bad requests', () => {
  const signed = `AWS4-HMAC-SHA256 Credential=${ALICE.accessKeyId}/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`;
  async function raw(headers: Record<string, string>, body: string) {
    const res = await fetch(emulator.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-date': '20260101T000000Z', ...headers }, body });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  it.each([
    ['an unsigned call', { 'x-amz-target': 'DynamoDB_20120810.ListTables' }, '{}', 'com.amazon.coral.service#MissingAuthenticationTokenException', 'Request is missing Authentication Token'],
    ['malformed JSON', { 'x-amz-target': 'DynamoDB_20120810.GetItem', authorization: signed }, '{"TableName":', 'com.amazon.coral.service#SerializationException', undefined],
    ['an operation dynalite lacks', { 'x-amz-target': 'DynamoDB_20120810.ExecuteStatement', authorization: signed }, '{}', 'com.amazon.coral.service#UnknownOperationException', 'does not implement ExecuteStatement'],
    ['an invalid table name', { 'x-amz-target': 'DynamoDB_20120810.GetItem', authorization: signed }, '{"TableName":"x","Key":{"pk":{"S":"a"}}}', 'com.amazon.coral.validate#ValidationException', "at 'tableName' failed to satisfy constraint"],
  ])('%s gets DynamoDB JSON error', async (_what, headers, body, type, message) => {
    const res = await raw(headers, body);
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe(type);
    if (message) expect(res.body.message ?? res.body.Message).toContain(message);
    await expect(ddb.send(new ListTablesCommand({}))).resolves.toBeDefined();
  });
});
