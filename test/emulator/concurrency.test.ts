import { DescribeClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { manualClock, startEmulator, type Emulator } from '../../src/emulator';
import { rejectionOf } from './helpers';

const ACCOUNT = '111122223333';
const COUNT = 50;
const names = Array.from({ length: COUNT }, (_, i) => `cluster-${String(i).padStart(2, '0')}`);

let emulator: Emulator;
let clients: EKSClient[];

beforeAll(async () => {
  emulator = await startEmulator({
    clock: manualClock(),
    state: { accounts: [{ id: ACCOUNT }], clusters: names.map((name) => ({ name, account: ACCOUNT, region: 'us-east-1' })) },
  });
  // One client (and so one connection pool) per simulated caller, each acting as its own user.
  clients = names.map(
    (_, i) => new EKSClient({ endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1, credentials: emulator.credentialsFor(`arn:aws:iam::${ACCOUNT}:user/caller-${i}`) }),
  );
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator.close();
});
beforeEach(() => emulator.reset());

const restrict = (name: string, i: number) => new UpdateClusterConfigCommand({ name, resourcesVpcConfig: { endpointPrivateAccess: true, publicAccessCidrs: [`203.0.113.${i}/32`] } });

describe('concurrency', () => {
  it(`${COUNT} clients updating ${COUNT} clusters at once lose no update and no CloudTrail event`, async () => {
    const results = await Promise.all(names.map((name, i) => clients[i]!.send(restrict(name, i))));
    const ids = results.map((r) => r.update!.id!);
    expect(new Set(ids).size).toBe(COUNT);

    const events = emulator.cloudTrailEvents();
    expect(events).toHaveLength(COUNT);
    expect(new Set(events.map((e) => e.detail.eventID)).size).toBe(COUNT);
    const updateOf = (e: (typeof events)[number]) => (e.detail.responseElements as { update: { id: string } }).update.id;
    expect(events.map(updateOf).sort()).toEqual([...ids].sort());
    for (const e of events) {
      const caller = Number(/caller-(\d+)$/.exec(e.detail.userIdentity.arn)![1]);
      expect(e.detail.requestParameters).toMatchObject({ name: names[caller] });
    }

    emulator.clock.advance(10_000);
    const described = await Promise.all(names.map((name, i) => clients[i]!.send(new DescribeClusterCommand({ name }))));
    described.forEach(({ cluster }, i) => {
      expect(cluster?.status).toBe('ACTIVE');
      expect(cluster?.resourcesVpcConfig).toMatchObject({ endpointPrivateAccess: true, publicAccessCidrs: [`203.0.113.${i}/32`] });
    });
    for (const c of emulator.snapshot().clusters) expect(c.updates.map((u) => u.status)).toEqual(['Successful']);
  });

  it('two concurrent updates of one cluster give exactly one success and one ResourceInUseException, on every cluster', async () => {
    const outcomes = await Promise.allSettled(
      names.flatMap((name, i) => [clients[i]!.send(restrict(name, 1)), clients[(i + 1) % COUNT]!.send(restrict(name, 2))]),
    );
    for (let i = 0; i < COUNT; i++) {
      const pair = outcomes.slice(2 * i, 2 * i + 2);
      const ok = pair.filter((o) => o.status === 'fulfilled');
      const refused = pair.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect((refused[0]!.reason as Error).name).toBe('ResourceInUseException');
    }
    const events = emulator.cloudTrailEvents();
    expect(events).toHaveLength(2 * COUNT);
    expect(events.filter((e) => e.detail.errorCode === 'ResourceInUseException')).toHaveLength(COUNT);
    for (const c of emulator.snapshot().clusters) expect(c.updates).toHaveLength(1);
  });

  it('stays consistent when the same cluster is hammered by every client at once', async () => {
    const outcomes = await Promise.allSettled(clients.map((c, i) => c.send(restrict('cluster-00', i))));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refusal = await rejectionOf(clients[0]!.send(restrict('cluster-00', 0)));
    expect(refusal.name).toBe('ResourceInUseException');
    expect(emulator.snapshot().clusters.find((c) => c.name === 'cluster-00')?.updates).toHaveLength(1);
  });
});
