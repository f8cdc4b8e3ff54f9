import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { manualClock, startEmulator, type Emulator, type EmulatorState, type Fault } from '../../src/emulator';
import { TokenBucket } from '../../src/emulator/faults';
import fc from 'fast-check';

const A = '111111111111';
const B = '222222222222';
const REGIONS = ['us-east-1', 'us-west-2'];

const state: EmulatorState = {
  accounts: [{ id: A }, { id: B }],
  clusters: [A, B].flatMap((account) => REGIONS.map((region) => ({ name: 'c1', account, region }))),
  organization: { managementAccount: A, accounts: [{ id: B }] },
};

let emulator: Emulator;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator.close();
});
beforeEach(() => emulator.loadState(state));

const config = (account: string, region: string, extra: object = {}) => ({
  endpoint: emulator.url,
  region,
  credentials: { accessKeyId: account, secretAccessKey: 'x' },
  maxAttempts: 1,
  ...extra,
});
function eks(account = A, region = 'us-east-1', extra: object = {}): EKSClient {
  const c = new EKSClient(config(account, region, extra));
  clients.push(c);
  return c;
}

/** Sends `n` DescribeCluster calls one after the other; returns the outcome of each ('ok' or the error name). */
async function outcomes(client: EKSClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await client.send(new DescribeClusterCommand({ name: 'c1' })).then(() => 'ok', (err: Error) => err.name));
  }
  return out;
}

const ok = (n: number) => Array<string>(n).fill('ok');
const throttled = (n: number) => Array<string>(n).fill('ThrottlingException');

describe('rateLimit on the emulated clock (exact)', () => {
  const limit: Fault = { kind: 'rateLimit', service: 'eks', perSecond: 5, clock: 'emulated' };

  it('admits the burst, throttles beyond it with EKS\'s 429, and refills at perSecond up to the burst', async () => {
    emulator.setFault(limit);
    const client = eks();
    expect(await outcomes(client, 8)).toEqual([...ok(5), ...throttled(3)]);
    const err = await client.send(new DescribeClusterCommand({ name: 'c1' })).catch((e: { $metadata: { httpStatusCode: number }; message: string }) => e);
    expect(err).toMatchObject({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });
    emulator.clock.advance(400); // 2 tokens
    expect(await outcomes(client, 3)).toEqual([...ok(2), ...throttled(1)]);
    emulator.clock.advance(60_000); // capped at the burst
    expect(await outcomes(client, 6)).toEqual([...ok(5), ...throttled(1)]);
  });

  it('keeps one bucket per account, region and service', async () => {
    emulator.setFault({ kind: 'rateLimit', perSecond: 2, clock: 'emulated' });
    expect(await outcomes(eks(A, 'us-east-1'), 3)).toEqual([...ok(2), ...throttled(1)]);
    expect(await outcomes(eks(A, 'us-west-2'), 3)).toEqual([...ok(2), ...throttled(1)]);
    expect(await outcomes(eks(B, 'us-east-1'), 3)).toEqual([...ok(2), ...throttled(1)]);
    const ec2 = new EC2Client(config(A, 'us-east-1'));
    clients.push(ec2);
    await expect(ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
  });

  it.each<[string, Partial<Fault>, string, string, boolean]>([
    ['an account filter', { account: B }, A, 'us-east-1', false],
    ['an account filter', { account: B }, B, 'us-east-1', true],
    ['a region filter', { region: 'us-west-2' }, A, 'us-east-1', false],
    ['a region filter', { region: 'us-west-2' }, A, 'us-west-2', true],
    ['an operation filter', { operation: 'ListClusters' }, A, 'us-east-1', false],
  ])('with %s %j limits %s %s: %s', async (_what, filter, account, region, limited) => {
    emulator.setFault({ ...limit, perSecond: 1, ...filter });
    expect(await outcomes(eks(account, region), 2)).toEqual(limited ? ['ok', 'ThrottlingException'] : ok(2));
  });

  it('answers Organizations calls with its own TooManyRequestsException', async () => {
    emulator.setFault({ kind: 'rateLimit', service: 'organizations', perSecond: 1, clock: 'emulated' });
    const orgs = new OrganizationsClient(config(A, 'us-east-1'));
    clients.push(orgs);
    await expect(orgs.send(new ListAccountsCommand({}))).resolves.toBeDefined();
    const err = await orgs.send(new ListAccountsCommand({})).catch((e: { name: string; $metadata: { httpStatusCode: number } }) => e);
    expect(err).toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 400 } });
  });

  it('is set from the state file, survives reset with full buckets, and lists without its buckets', async () => {
    emulator.loadState({ ...state, faults: [limit] });
    expect(await outcomes(eks(), 6)).toEqual([...ok(5), ...throttled(1)]);
    emulator.reset();
    expect(await outcomes(eks(), 6)).toEqual([...ok(5), ...throttled(1)]);
    expect(emulator.snapshot().faults).toEqual([limit]);
  });

  it('is set through the control API', async () => {
    const res = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ ...limit, perSecond: 1 }) });
    expect(res.status).toBe(200);
    expect(await outcomes(eks(), 2)).toEqual(['ok', 'ThrottlingException']);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no perSecond', { kind: 'rateLimit' }, 'perSecond: a rateLimit fault needs perSecond'],
    ['times', { kind: 'rateLimit', perSecond: 1, times: 3 }, 'times: a rateLimit fault lasts until cleared'],
    ['perSecond on a throttle fault', { kind: 'throttle', perSecond: 1 }, 'perSecond: perSecond applies to rateLimit faults only'],
    ['a zero rate', { kind: 'rateLimit', perSecond: 0 }, 'perSecond'],
    ['an unknown clock', { kind: 'rateLimit', perSecond: 1, clock: 'lunar' }, 'clock'],
  ])('refuses a rateLimit fault with %s', async (_what, fault, message) => {
    const res = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify(fault) });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain(message);
  });
});

describe('rateLimit on the wall clock (the default)', () => {
  it('lets a caller progress at perSecond while the emulated clock stands still', async () => {
    emulator.setFault({ kind: 'rateLimit', service: 'eks', perSecond: 40 });
    const client = eks();
    const start = performance.now();
    let passed = 0;
    while (performance.now() - start < 1000) {
      if ((await outcomes(client, 1))[0] === 'ok') passed++;
    }
    const seconds = (performance.now() - start) / 1000;
    // The burst (40), then 40 a second; generous margins for a loaded machine.
    expect(passed).toBeGreaterThanOrEqual(40 + Math.floor(40 * seconds * 0.7));
    expect(passed).toBeLessThanOrEqual(40 + Math.ceil(40 * seconds) + 1);
  });

  it("recovers: the SDK's adaptive retry gets every call through", async () => {
    emulator.setFault({ kind: 'rateLimit', service: 'eks', perSecond: 20, burst: 4 });
    const client = eks(A, 'us-east-1', { retryMode: 'adaptive', maxAttempts: 10 });
    const results = await Promise.all(Array.from({ length: 12 }, () => client.send(new DescribeClusterCommand({ name: 'c1' }))));
    expect(results.every((r) => r.cluster?.name === 'c1')).toBe(true);
    expect(results.some((r) => (r.$metadata.attempts ?? 1) > 1)).toBe(true);
  });

  it('refills after a pause', async () => {
    emulator.setFault({ kind: 'rateLimit', service: 'eks', perSecond: 5, burst: 3 });
    const client = eks();
    expect(await outcomes(client, 5)).toEqual([...ok(3), ...throttled(2)]);
    await sleep(1000); // 5 tokens' worth, capped at the burst
    expect(await outcomes(client, 4)).toEqual([...ok(3), ...throttled(1)]);
  });
});

describe('TokenBucket', () => {
  it('never admits more than the burst plus what the elapsed time refills', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 200 }), (perSecond, burst, gaps) => {
        const bucket = new TokenBucket(perSecond, burst, 0);
        let now = 0;
        let admitted = 0;
        for (const gap of gaps) {
          now += gap;
          if (bucket.take(now)) admitted++;
          expect(admitted).toBeLessThanOrEqual(burst + (now * perSecond) / 1000 + 1e-9);
        }
      }),
    );
  });

  it('admits every call spaced at least 1/perSecond apart', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 100 }), (perSecond, extra) => {
        const bucket = new TokenBucket(perSecond, 1, 0);
        let now = 0;
        for (const e of extra) {
          expect(bucket.take(now)).toBe(true);
          now += Math.ceil(1000 / perSecond) + e;
        }
      }),
    );
  });
});
