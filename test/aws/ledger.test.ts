import { readFileSync } from 'node:fs';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, UpdateTimeToLiveCommand, waitUntilTableExists, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parse as parseYaml, type Tags } from 'yaml';
import { createClientFactory, type ClientFactory } from '../../src/aws/clients';
import { createLedgerPort, ledgerKey, ledgerWiring } from '../../src/aws/ledger';
import { loadConfig } from '../../src/config';
import { AwsRequestRejectedError, ClusterNotFoundError, InputError, TransientAwsError } from '../../src/errors';
import { emptyLedger, tryLease, withChange } from '../../src/ledger/rules';
import { LEDGER_LIMITS, LEDGER_RETENTION_DAYS, type ChangeRecord, type ClusterLedger, type LedgerPort } from '../../src/ledger/types';
import type { Emulator } from '../../src/emulator';
import type { ClusterRef } from '../../src/policy/types';
import { MAX_CONFLICTS } from '../unit/fakes/ledger';
import { documentClient, dynamoClient } from '../emulator/helpers';
import { GUARD_ROLE_ARN, PROD, REGION, SANDBOX, cluster, rejectionOf, useAdapterEmulator } from './helpers';

const TABLE = 'eks-endpoint-guard-test-ledger';
const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;
const PROD_API = cluster('prod-api');

// serverless.yml is CloudFormation YAML: its intrinsic-function tags are read as plain JSON here.
const CFN_TAGS: Tags = ['Ref', 'GetAtt', 'Sub', 'If', 'Not', 'Equals'].flatMap((fn) => {
  const key = fn === 'Ref' ? 'Ref' : `Fn::${fn}`;
  return [
    { tag: `!${fn}`, resolve: (value: string) => ({ [key]: value }) },
    { tag: `!${fn}`, collection: 'seq' as const, resolve: (seq: { toJSON(): unknown }) => ({ [key]: seq.toJSON() }) },
  ];
}) as Tags;

type TableProperties = Pick<CreateTableCommandInput, 'AttributeDefinitions' | 'KeySchema' | 'BillingMode'> & { TimeToLiveSpecification: { AttributeName: string; Enabled: boolean } };

/** The ledger table's properties as serverless.yml deploys them. */
const LEDGER_TABLE = (
  parseYaml(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'), { customTags: CFN_TAGS }) as {
    resources: { Resources: { LedgerTable: { Properties: TableProperties } } };
  }
).resources.Resources.LedgerTable.Properties;

let emulator: Emulator;
let admin: DynamoDBClient;
let rival: DynamoDBDocumentClient;
let now: number;

useAdapterEmulator((e) => (emulator = e));
beforeAll(() => {
  admin = dynamoClient(emulator);
  rival = documentClient(emulator);
});
afterAll(() => {
  admin.destroy();
  rival.destroy();
});
// The demo state has no tables, and loading it (before each test) starts DynamoDB over.
beforeEach(async () => {
  now = NOW;
  const { AttributeDefinitions, KeySchema, BillingMode, TimeToLiveSpecification } = LEDGER_TABLE;
  await admin.send(new CreateTableCommand({ TableName: TABLE, AttributeDefinitions, KeySchema, BillingMode }));
  await waitUntilTableExists({ client: admin, maxWaitTime: 10, minDelay: 1 }, { TableName: TABLE });
  await admin.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification }));
});

function factory(maxAttempts = 1): ClientFactory {
  return createClientFactory({ endpoint: emulator.url, credentials: emulator.credentialsFor(GUARD_ROLE_ARN), homeAccount: PROD, maxAttempts });
}

/** The port as the handlers are wired with it (five SDK attempts for DynamoDB). */
function wiredLedger(): LedgerPort {
  return ledgerWiring({ clients: factory(), config: loadConfig({ LEDGER_TABLE: TABLE, AWS_REGION: REGION }), now: () => now });
}

/** The port on a client of one attempt, so an injected fault reaches the assertion. */
function bareLedger(options: { tableName?: string; client?: DynamoDBClient } = {}): LedgerPort {
  return createLedgerPort(options.client ?? factory().home(DynamoDBClient, REGION), { tableName: options.tableName ?? TABLE, now: () => now });
}

type StoredItem = { pk: string; version: number; expiresAt: number; doc: ClusterLedger };

/** The stored items of the ledger table, as the emulator's DynamoDB holds them. */
function storedItems(): StoredItem[] {
  return (emulator.dynamodbTables().find((t) => t.name === TABLE && t.account === PROD && t.region === REGION)?.items ?? []) as StoredItem[];
}

function storedItem(c: ClusterRef): StoredItem | undefined {
  return storedItems().find((item) => item.pk === ledgerKey(c));
}

function change(i: number, overrides: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    eventName: 'UpdateClusterConfig',
    eventTime: new Date(NOW + i * 1000).toISOString(),
    actor: { arn: `arn:aws:iam::${PROD}:user/alice`, type: 'IAMUser', sourceIPAddress: '198.51.100.7', userAgent: 'aws-cli/2.15.0' },
    requested: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
    updateId: `update-${i}`,
    tags: null,
    guardRoleMisuse: false,
    seenAt: NOW,
    handledBy: null,
    ...overrides,
  };
}

const addChange = (c: ChangeRecord) => (current: ClusterLedger) => ({ next: withChange(current, c), result: c.eventId });

/**
 * The size DynamoDB counts for a value as the document client stores it: strings in UTF-8 bytes, numbers
 * by their significant digits, booleans and nulls one byte, lists and maps 3 bytes plus 1 per element
 * (and a map's attribute names); an item is the sum of its attribute names and values.
 */
function dynamoBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return Math.ceil(String(value).replace(/[-.]|e.*$/g, '').replace(/^0+/, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, e) => sum + 1 + dynamoBytes(e), 0);
  return 3 + attributesBytes(value as Record<string, unknown>) + Object.keys(value as object).length;
}

function attributesBytes(item: Record<string, unknown>): number {
  return Object.entries(item)
    .filter(([, v]) => v !== undefined)
    .reduce((sum, [name, v]) => sum + Buffer.byteLength(name, 'utf8') + dynamoBytes(v), 0);
}

const itemBytes = (item: StoredItem) => attributesBytes(item);

describe('read', () => {
  it('reads a cluster the guard never wrote about as the empty ledger, writing nothing', async () => {
    const ledger = await wiredLedger().read(PROD_API);

    expect(ledger).toEqual(emptyLedger(PROD_API));
    expect(storedItems()).toEqual([]);
  });

  it('fills in fields a record written by an earlier guard version lacks', async () => {
    const old = { cluster: PROD_API, lease: null, ownUpdates: [], reverts: [], changes: [change(1)] };
    await rival.send(new PutCommand({ TableName: TABLE, Item: { pk: ledgerKey(PROD_API), version: 4, expiresAt: 1, doc: old } }));

    const ledger = await wiredLedger().read(PROD_API);

    expect(ledger).toEqual({ ...emptyLedger(PROD_API), changes: [change(1)] });
  });

  it('keeps clusters of the same name in other accounts and regions apart', async () => {
    const ledger = wiredLedger();
    await ledger.mutate(PROD_API, addChange(change(1)));

    expect((await ledger.read(cluster('prod-api', SANDBOX))).changes).toEqual([]);
    expect((await ledger.read(cluster('prod-api', PROD, 'eu-west-1'))).changes).toEqual([]);
    expect((await ledger.read(PROD_API)).changes).toEqual([change(1)]);
  });
});

describe('mutate', () => {
  it('writes the changed record under pk ACCOUNT#REGION#NAME and bumps the version on every write', async () => {
    const ledger = wiredLedger();
    expect(LEDGER_TABLE.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(LEDGER_TABLE.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);

    expect(await ledger.mutate(PROD_API, addChange(change(1)))).toBe(change(1).eventId);
    expect(storedItem(PROD_API)).toMatchObject({ pk: `${PROD}#${REGION}#prod-api`, version: 1, doc: { ...emptyLedger(PROD_API), changes: [change(1)] } });

    await ledger.mutate(PROD_API, addChange(change(2)));

    expect(storedItem(PROD_API)!.version).toBe(2);
    expect(await ledger.read(PROD_API)).toEqual({ ...emptyLedger(PROD_API), changes: [change(1), change(2)] });
  });

  it('writes nothing when the change function returns next: null, and returns its result', async () => {
    const ledger = wiredLedger();
    await ledger.mutate(PROD_API, addChange(change(1)));
    const before = storedItem(PROD_API);

    const result = await ledger.mutate(PROD_API, (current) => ({ next: null, result: current.changes.length }));
    // A redelivered event: withChange finds its event id and changes nothing.
    await ledger.mutate(PROD_API, addChange(change(1)));

    expect(result).toBe(1);
    expect(storedItem(PROD_API)).toEqual(before);
  });

  it('writes nothing for a cluster with no record when the change function returns next: null', async () => {
    const result = await wiredLedger().mutate(PROD_API, () => ({ next: null, result: 'unchanged' }));

    expect(result).toBe('unchanged');
    expect(storedItems()).toEqual([]);
  });

  it('lands both of two concurrent writes to one cluster', async () => {
    const ledger = wiredLedger();

    await Promise.all([ledger.mutate(PROD_API, addChange(change(1))), ledger.mutate(PROD_API, addChange(change(2)))]);

    expect((await ledger.read(PROD_API)).changes).toEqual([change(1), change(2)]);
    expect(storedItem(PROD_API)!.version).toBe(2);
  });

  it('never loses a write it reported done, however many writers meet', async () => {
    const ledger = wiredLedger();
    const changes = Array.from({ length: 20 }, (_, i) => change(i + 1));

    const settled = await Promise.allSettled(changes.map((c) => ledger.mutate(PROD_API, addChange(c))));

    const landed = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of settled) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TransientAwsError);
    expect((await ledger.read(PROD_API)).changes.map((c) => c.eventId).sort()).toEqual(landed.sort());
    expect(storedItem(PROD_API)!.version).toBe(landed.length);
  });

  it('lands every one of 20 concurrent writes to one cluster (a burst of events)', async () => {
    const ledger = wiredLedger();
    const changes = Array.from({ length: 20 }, (_, i) => change(i + 1));

    const results = await Promise.all(changes.map((c) => ledger.mutate(PROD_API, addChange(c))));

    expect(results).toEqual(changes.map((c) => c.eventId));
    expect((await ledger.read(PROD_API)).changes.map((c) => c.eventId)).toEqual(changes.map((c) => c.eventId));
    expect(storedItem(PROD_API)!.version).toBe(20);
  });

  it('gives a lease to exactly one of two executions asking at once', async () => {
    const ledger = wiredLedger();

    const [a, b] = await Promise.all(['exec-a', 'exec-b'].map((holder) => ledger.mutate(PROD_API, (current) => tryLease(current, holder, NOW, 60_000))));

    expect([a!.acquired, b!.acquired].sort()).toEqual([false, true]);
    const winner = a!.acquired ? 'exec-a' : 'exec-b';
    expect((await ledger.read(PROD_API)).lease).toEqual({ holder: winner, acquiredAt: NOW, expiresAt: NOW + 60_000 });
    expect(a!.acquired ? b!.holder : a!.holder).toBe(winner);
  });

  it('reports a record that keeps changing under every attempt as TransientAwsError, leaving the other writer\'s record', async () => {
    const client = factory().home(DynamoDBClient, REGION);
    let puts = 0;
    // Another writer gets in between every read and write of the adapter.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if ((context as { commandName?: string }).commandName === 'PutItemCommand') {
          puts += 1;
          await rival.send(
            new UpdateCommand({ TableName: TABLE, Key: { pk: ledgerKey(PROD_API) }, UpdateExpression: 'SET #v = #v + :one', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':one': 1 } }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'rivalWriter' },
    );
    await wiredLedger().mutate(PROD_API, addChange(change(1)));

    const err = await rejectionOf(bareLedger({ client }).mutate(PROD_API, addChange(change(2))));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toContain(`ledger record of cluster prod-api (${PROD}/${REGION})`);
    expect(puts).toBe(MAX_CONFLICTS);
    expect(storedItem(PROD_API)).toMatchObject({ version: 1 + MAX_CONFLICTS, doc: { changes: [change(1)] } });
  });

  it('pushes expiresAt (epoch seconds, the table\'s TTL attribute) 90 days past every write', async () => {
    const ledger = wiredLedger();

    await ledger.mutate(PROD_API, addChange(change(1)));
    const first = storedItem(PROD_API)!;
    now = NOW + 86_400_000;
    await ledger.mutate(PROD_API, addChange(change(2)));
    const second = storedItem(PROD_API)!;

    expect(LEDGER_TABLE.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(LEDGER_RETENTION_DAYS).toBe(90);
    expect(first.expiresAt).toBe(NOW / 1000 + 90 * 86_400);
    expect(Number.isInteger(first.expiresAt)).toBe(true);
    expect(second.expiresAt).toBe(first.expiresAt + 86_400);
  });

  it('stores a record with every list full (LEDGER_LIMITS) within DynamoDB\'s 400 KB', async () => {
    const cidrs = Array.from({ length: 40 }, (_, i) => `203.0.${i}.0/24`);
    const target = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: cidrs };
    const execution = `sweep-${'0'.repeat(12)}-${'f'.repeat(32)}-attempt-12`;
    const actor = (i: number) => ({
      arn: `arn:aws:sts::${PROD}:assumed-role/${'DeploymentPipelineRole'.padEnd(64, 'x')}/${`session-${i}`.padEnd(64, 's')}`,
      type: 'AssumedRole',
      sourceIPAddress: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
      userAgent: `aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64.amzn.2023 prompt/off command/eks.update-cluster-config ${i}`.padEnd(512, ' '),
    });
    const full: ClusterLedger = {
      ...emptyLedger(cluster('c'.repeat(100))),
      lease: { holder: execution, acquiredAt: NOW, expiresAt: NOW + 900_000 },
      ownUpdates: Array.from({ length: LEDGER_LIMITS.ownUpdates }, (_, i) => ({ token: `${execution}-${i}`, updateId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, execution, at: NOW, target })),
      reverts: Array.from({ length: LEDGER_LIMITS.reverts }, (_, i) => ({ at: NOW + i, execution, updateId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, actors: [actor(i), actor(i + 1), actor(i + 2)] })),
      changes: Array.from({ length: LEDGER_LIMITS.changes }, (_, i) =>
        change(i, {
          actor: actor(i),
          requested: target,
          // A tag change as a pipeline makes it: a handful of tags, keys and values of ordinary length.
          tags: { set: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`team.example.com/key-${k}`, `value-${i}-${k}`.padEnd(64, 'v')])), removed: ['owner'] },
          handledBy: execution,
        }),
      ),
      lastJudged: { at: NOW, rule: 'r'.repeat(64), mode: 'enforce', publicAccess: 'restricted', privateAccess: 'required', allowedPublicCidrs: cidrs, maxPublicCidrs: 40, exempt: false, tags: { team: 'platform' } },
      recheck: { incident: execution, startedAt: NOW, attempts: 12, nextAt: NOW, pending: execution, reason: 'x'.repeat(500), lastExecution: execution, lastAlerted: true, alertedAt: NOW, alertedStage: 3 },
      escalatedAt: NOW,
    };
    const c = full.cluster;

    await wiredLedger().mutate(c, () => ({ next: full, result: null }));

    const stored = storedItem(c)!;
    expect(stored.doc).toEqual(full);
    expect(itemBytes(stored)).toBeLessThanOrEqual(DYNAMODB_MAX_ITEM_BYTES);
  });

  it('keeps the record writable through 50 tag changes of as many tags as EKS allows (50 tags, keys 128, values 256 characters)', async () => {
    const ledger = wiredLedger();
    const tags = (i: number) => Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`${i}-${k}-`.padEnd(128, 'k'), 'v'.repeat(256)]));

    // Each TagResource event is recorded as triage sees it; what one may carry is bounded by EKS, not by the guard.
    for (let i = 0; i < LEDGER_LIMITS.changes; i++) {
      await ledger.mutate(PROD_API, addChange(change(i, { eventName: 'TagResource', requested: null, updateId: null, tags: { set: tags(i), removed: [] } })));
    }

    const stored = storedItem(PROD_API)!;
    expect(stored.version).toBe(LEDGER_LIMITS.changes);
    expect(itemBytes(stored)).toBeLessThanOrEqual(DYNAMODB_MAX_ITEM_BYTES);
  });
});

describe('AWS errors', () => {
  it('reports a missing table as AwsRequestRejectedError naming it, never as a deleted cluster', async () => {
    const ledger = bareLedger({ tableName: 'no-such-ledger' });

    for (const call of [ledger.read(PROD_API), ledger.mutate(PROD_API, addChange(change(1)))]) {
      const err = await rejectionOf(call);
      expect(err).toBeInstanceOf(AwsRequestRejectedError);
      expect(err).not.toBeInstanceOf(ClusterNotFoundError);
      expect((err as unknown as AwsRequestRejectedError).awsErrorName).toBe('ResourceNotFoundException');
      expect(err.message).toContain('no-such-ledger');
    }
  });

  it('reports a table deleted between the read and the write as AwsRequestRejectedError naming it', async () => {
    const client = factory().home(DynamoDBClient, REGION);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if ((context as { commandName?: string }).commandName === 'PutItemCommand') await admin.send(new DeleteTableCommand({ TableName: TABLE }));
        return next(args);
      },
      { step: 'initialize', name: 'tableDeleter' },
    );

    const err = await rejectionOf(bareLedger({ client }).mutate(PROD_API, addChange(change(1))));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect(err).not.toBeInstanceOf(ClusterNotFoundError);
    expect(err.message).toContain(`PutItem on ledger table ${TABLE}`);
  });

  it.each(['GetItem', 'PutItem'] as const)('retries a throttled %s within the SDK attempts of the wired port', async (operation) => {
    emulator.setFault({ kind: 'throttle', operation, table: TABLE, times: 2 });

    await wiredLedger().mutate(PROD_API, addChange(change(1)));

    expect(storedItem(PROD_API)).toMatchObject({ version: 1, doc: { changes: [change(1)] } });
  });

  it.each(['GetItem', 'PutItem'] as const)('maps a %s throttled past the SDK attempts to TransientAwsError naming the table', async (operation) => {
    emulator.setFault({ kind: 'throttle', operation, table: TABLE, times: 1 });

    const err = await rejectionOf(bareLedger().mutate(PROD_API, addChange(change(1))));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toContain('ProvisionedThroughputExceededException');
    expect(err.message).toContain(`${operation} on cluster prod-api (${PROD}/${REGION}), ledger table ${TABLE}`);
    expect(storedItems()).toEqual([]);
  });

  it('maps a DynamoDB server error to TransientAwsError', async () => {
    emulator.setFault({ kind: 'server-error', operation: 'GetItem', table: TABLE, times: 1 });

    const err = await rejectionOf(bareLedger().read(PROD_API));

    expect(err).toBeInstanceOf(TransientAwsError);
  });
});

describe('ledgerWiring', () => {
  it('refuses to build without LEDGER_TABLE, naming the setting', () => {
    const build = () => ledgerWiring({ clients: factory(), config: loadConfig({}), now: () => now });

    expect(build).toThrow(InputError);
    expect(build).toThrow(/LEDGER_TABLE/);
  });

  it('builds its DynamoDB client with five SDK attempts in the home account', async () => {
    const built: DynamoDBClient[] = [];
    const clients = createClientFactory({ endpoint: emulator.url, credentials: emulator.credentialsFor(GUARD_ROLE_ARN), homeAccount: PROD, maxAttempts: 1, instrument: (c) => built.push(c as DynamoDBClient) });

    await ledgerWiring({ clients, config: loadConfig({ LEDGER_TABLE: TABLE, AWS_REGION: REGION }), now: () => now }).read(PROD_API);

    expect(built).toHaveLength(1);
    expect(built[0]).toBeInstanceOf(DynamoDBClient);
    expect(await built[0]!.config.maxAttempts()).toBe(5);
  });
});
