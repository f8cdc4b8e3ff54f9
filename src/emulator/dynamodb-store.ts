import { Agent, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { InputError } from '../errors';
import type { StateDynamoTable } from './state';

type Dynalite = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

let dynalite: Dynalite | undefined;

/**
 * Loaded on first use, not imported: dynalite pulls in a native LevelDB binding (unused in memory) that
 * the CLI bundle cannot carry, and most emulator runs never touch DynamoDB.
 */
function loadDynalite(): Dynalite {
  dynalite ??= createRequire(import.meta.url)('dynalite') as Dynalite;
  return dynalite;
}

export type RawReply = { status: number; headers: Record<string, string>; body: string };
export type JsonReply = { status: number; body: Record<string, any>; raw: RawReply };
export type DynamoItem = Record<string, unknown>;
export type DynamoTableSnapshot = { name: string; account: string; region: string; items: DynamoItem[] };
export type KeyNames = { partitionKey: string; sortKey?: string };
type MirrorTable = KeyNames & { items: DynamoItem[] };

/** Calls dynalite answers with table descriptions, whose ARNs name dynalite's own account and region. */
const TABLE_CALLS = new Set(['CreateTable', 'DescribeTable', 'UpdateTable', 'DeleteTable']);

/** A DynamoDB JSON reply with the CRC32 header the SDKs and the AWS CLI check. */
export function dynamoReply(status: number, body: string): RawReply {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-crc32': String(crc32(body)) }, body };
}

/** Numbers as JSON numbers, except integers a double cannot hold, which stay strings. */
function plainNumber(text: string): number | string {
  const n = Number(text);
  return /^-?\d+$/.test(text) && !Number.isSafeInteger(n) ? text : n;
}

/** The document client's values as plain JSON: sets become arrays, binaries base64 strings. */
function plain(value: unknown): unknown {
  if (value instanceof Set) return [...value].map(plain);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function compareKeys(keys: KeyNames): (a: DynamoItem, b: DynamoItem) => number {
  const cmp = (x: unknown, y: unknown) => (String(typeof x) + String(x) < String(typeof y) + String(y) ? -1 : 1);
  const by = (x: unknown, y: unknown) => (x === y ? 0 : typeof x === 'number' && typeof y === 'number' ? x - y : cmp(x, y));
  return (a, b) => by(a[keys.partitionKey], b[keys.partitionKey]) || (keys.sortKey ? by(a[keys.sortKey], b[keys.sortKey]) : 0);
}

const SYNTHETIC_AUTH = (region: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=emulator/20200101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=emulator`,
  'x-amz-date': '20200101T000000Z',
});

/**
 * One account and region of DynamoDB: a dynalite server of its own on a loopback port, so tables of
 * different accounts and regions never meet. Calls run one at a time (`exclusive`), which lets the
 * emulator build transactions from single-item calls and keep a synchronous mirror of every table.
 */
export class DynamoScope {
  /** Settles once dynalite listens and the state's tables are written; rejects if the state could not be. */
  readonly ready: Promise<void>;
  /** Tables and items as of the last write, for `snapshot()`, which cannot wait. */
  readonly tables = new Map<string, MirrorTable>();
  /** Tables with time to live enabled, and their attribute (dynalite does not implement it). */
  readonly ttl = new Map<string, string>();
  private queue: Promise<unknown>;
  private server: Server | undefined;
  private port = 0;
  private readonly agent = new Agent({ keepAlive: true });
  private documents: DynamoDBDocumentClient | undefined;
  private closed = false;

  constructor(
    readonly account: string,
    readonly region: string,
    seeds: { table: StateDynamoTable; index: number }[],
  ) {
    for (const { table } of seeds) {
      this.tables.set(table.name, { ...keyNamesOf(table), items: structuredClone(table.items) });
      if (table.ttlAttribute) this.ttl.set(table.name, table.ttlAttribute);
    }
    this.ready = this.start(seeds);
    // Calls see a seeding failure through `exclusive`; the queue itself only orders them.
    this.queue = this.ready.catch(() => undefined);
  }

  private async start(seeds: { table: StateDynamoTable; index: number }[]): Promise<void> {
    const server = loadDynalite()({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: `http://127.0.0.1:${this.port}`,
        region: this.region,
        credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' },
        maxAttempts: 1,
      }),
      { unmarshallOptions: { wrapNumbers: plainNumber } },
    );
    for (const seed of seeds) await this.seed(seed.table, `state: dynamodb.tables[${seed.index}]`);
    await this.refresh(seeds.map((s) => s.table.name));
  }

  private async seed(table: StateDynamoTable, at: string): Promise<void> {
    const keys = keyNamesOf(table);
    const created = await this.call('CreateTable', {
      TableName: table.name,
      KeySchema: [{ AttributeName: keys.partitionKey, KeyType: 'HASH' }, ...(keys.sortKey ? [{ AttributeName: keys.sortKey, KeyType: 'RANGE' }] : [])],
      AttributeDefinitions: [
        { AttributeName: keys.partitionKey, AttributeType: table.partitionKeyType },
        ...(keys.sortKey ? [{ AttributeName: keys.sortKey, AttributeType: table.sortKeyType ?? 'S' }] : []),
      ],
      BillingMode: 'PAY_PER_REQUEST',
    });
    if (created.status !== 200) throw new InputError([`${at}: DynamoDB refused the table: ${errorText(created)}`]);
    // createTableMs 0 still leaves the table CREATING until the next turn of the event loop.
    for (let i = 0; (await this.call('DescribeTable', { TableName: table.name })).body.Table?.TableStatus !== 'ACTIVE'; i++) {
      if (i > 100) throw new InputError([`${at}: table ${table.name} never became ACTIVE`]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (const [k, item] of table.items.entries()) {
      try {
        await this.documents!.send(new PutCommand({ TableName: table.name, Item: item }));
      } catch (err) {
        throw new InputError([`${at}.items[${k}]: DynamoDB refused the item: ${(err as Error).message}`], { cause: err });
      }
    }
  }

  /** Runs `fn` after every earlier call of this scope has finished, and after the state is seeded. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => this.ready).then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends one request to dynalite as it is (the signature is not checked, its shape is). */
  send(headers: Record<string, string>, body: Buffer, path = '/'): Promise<RawReply> {
    if (this.closed) return Promise.reject(new Error('the DynamoDB scope was closed by a reset or a state load'));
    const target = headers['x-amz-target'] ?? '';
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: this.port, method: 'POST', path, agent: this.agent, headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            let text = Buffer.concat(chunks).toString('utf8');
            if (TABLE_CALLS.has(target.split('.')[1] ?? '')) {
              text = text.replace(/arn:aws:dynamodb:[^:"]*:[^:"]*:table\//g, `arn:aws:dynamodb:${this.region}:${this.account}:table/`);
            }
            const reply = dynamoReply(res.statusCode ?? 500, text);
            const contentType = res.headers['content-type'];
            if (contentType) reply.headers['content-type'] = contentType;
            resolve(reply);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A call of the emulator's own, with a JSON body. */
  async call(operation: string, body: unknown): Promise<JsonReply> {
    const raw = await this.send(
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}`, ...SYNTHETIC_AUTH(this.region) },
      Buffer.from(JSON.stringify(body)),
    );
    let parsed: Record<string, any> = {};
    try {
      parsed = raw.body ? (JSON.parse(raw.body) as Record<string, any>) : {};
    } catch {
      // Not JSON (dynalite answers a few refusals in XML): the status says enough.
    }
    return { status: raw.status, body: parsed, raw };
  }

  /** The key attributes of a table, or undefined when there is no such table. */
  async keyNames(table: string): Promise<KeyNames | undefined> {
    return keyNamesIn((await this.call('DescribeTable', { TableName: table })).body.Table);
  }

  /**
   * Re-reads the named tables into the mirror; call it inside `exclusive`, after a write. Tables the
   * mirror knows are only scanned; others (just created or deleted) are described first.
   */
  async refresh(names: string[]): Promise<void> {
    for (const name of new Set(names)) {
      let keys: KeyNames | undefined = this.tables.get(name);
      if (!keys) {
        const described = await this.call('DescribeTable', { TableName: name });
        keys = keyNamesIn(described.body.Table);
        if (described.status !== 200 || !keys || described.body.Table?.TableStatus === 'DELETING') {
          this.tables.delete(name);
          this.ttl.delete(name);
          continue;
        }
      }
      const items: DynamoItem[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.documents!.send(new ScanCommand({ TableName: name, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
        items.push(...(page.Items ?? []).map((item) => plain(item) as DynamoItem));
        start = page.LastEvaluatedKey;
      } while (start);
      this.tables.set(name, { partitionKey: keys.partitionKey, ...(keys.sortKey ? { sortKey: keys.sortKey } : {}), items });
    }
  }

  /** Records a table DynamoDB just created (empty) or deleted, without asking it again. */
  tableCreated(description: unknown): void {
    const keys = keyNamesIn(description);
    const name = (description as { TableName?: string } | undefined)?.TableName;
    if (keys && name) this.tables.set(name, { ...keys, items: [] });
  }

  tableDeleted(name: string): void {
    this.tables.delete(name);
    this.ttl.delete(name);
  }

  snapshot(): DynamoTableSnapshot[] {
    return [...this.tables.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, table]) => ({ name, account: this.account, region: this.region, items: structuredClone(table.items).sort(compareKeys(table)) }));
  }

  /** Lets calls already running finish, then stops dynalite. */
  async close(): Promise<void> {
    await this.queue;
    this.closed = true;
    this.documents?.destroy();
    this.agent.destroy();
    const server = this.server;
    if (!server?.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function keyNamesIn(description: unknown): KeyNames | undefined {
  const schema = (description as { KeySchema?: { AttributeName: string; KeyType: string }[] } | undefined)?.KeySchema;
  const hash = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  if (!hash) return undefined;
  const range = schema!.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return range ? { partitionKey: hash, sortKey: range } : { partitionKey: hash };
}

function keyNamesOf(table: StateDynamoTable): KeyNames {
  return table.sortKey ? { partitionKey: table.partitionKey, sortKey: table.sortKey } : { partitionKey: table.partitionKey };
}

export function errorCode(reply: JsonReply): string {
  return String(reply.body.__type ?? '').split('#')[1] ?? '';
}

function errorText(reply: JsonReply): string {
  return `${errorCode(reply) || `HTTP ${reply.status}`}: ${String(reply.body.message ?? reply.body.Message ?? '')}`;
}

/** Every account and region's DynamoDB, created on first use; `load` starts over from a state. */
export class DynamoStore {
  private scopes = new Map<string, DynamoScope>();
  private readonly closing = new Set<Promise<void>>();

  load(tables: StateDynamoTable[]): void {
    for (const old of this.scopes.values()) this.retire(old);
    this.scopes.clear();
    const seeds = new Map<string, { table: StateDynamoTable; index: number }[]>();
    tables.forEach((table, index) => {
      const key = `${table.account}/${table.region}`;
      seeds.set(key, [...(seeds.get(key) ?? []), { table, index }]);
    });
    for (const [key, list] of seeds) this.scopes.set(key, new DynamoScope(list[0]!.table.account, list[0]!.table.region, list));
  }

  scope(account: string, region: string): DynamoScope {
    const key = `${account}/${region}`;
    let scope = this.scopes.get(key);
    if (!scope) {
      scope = new DynamoScope(account, region, []);
      this.scopes.set(key, scope);
    }
    return scope;
  }

  /** Resolves once every seeded scope is ready; rejects with the first seeding failure. */
  async settled(): Promise<void> {
    await Promise.all([...this.scopes.values()].map((s) => s.ready));
  }

  snapshot(): DynamoTableSnapshot[] {
    return [...this.scopes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([, scope]) => scope.snapshot());
  }

  async close(): Promise<void> {
    for (const scope of this.scopes.values()) this.retire(scope);
    this.scopes.clear();
    await Promise.all([...this.closing]);
  }

  private retire(scope: DynamoScope): void {
    const closing = scope.close().catch((err: unknown) => process.emitWarning(`closing a DynamoDB scope failed: ${(err as Error).message}`));
    this.closing.add(closing);
    void closing.finally(() => this.closing.delete(closing));
  }
}
