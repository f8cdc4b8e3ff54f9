/**
 * The Express update tracker end to end: the deployed definitions under the local runner, the real
 * handlers, the emulator's EKS, STS and IAM trust. Checks that it polls as the role its Task
 * `Credentials` name (the change reader at home, the member read role elsewhere), that a cluster in
 * another region is polled through pollChange, that the guard acts within one poll interval of an update's
 * end, and that a tracker that cannot run (a role that does not trust it, EKS throttling it) costs lag,
 * never the remediation or its alert.
 */
import { readFileSync } from 'node:fs';
import { CreateClusterCommand, DeleteClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { parse } from 'yaml';
import { startEmulator, type Emulator, type EmulatorState } from '../../src/emulator';
import { manualClock } from '../../src/emulator/clock';
import { parsePolicy } from '../../src/policy';
import { CHANGE_READER_ROLE_NAME, MEMBER_READ_ROLE_NAME } from '../../src/local/deployment';
import { GUARD_ROLE_NAME, startLocalGuard, type LocalGuard } from '../../src/local/local-guard';
import type { ExecutionRecord, ProgressEvent } from '../../src/local/runner';
import { TRACK_POLL_SECONDS } from '../../src/workflow/tracking';

const HOME = '111122223333';
const MEMBER = '444455556666';
const REGION = 'us-east-1';
const OTHER_REGION = 'eu-west-1';
const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));

type Harness = { emulator: Emulator; guard: LocalGuard; progress: ProgressEvent[] };

async function harness(clusters: { name: string; account: string; region: string }[], maxWaitSeconds?: number, beforeTask?: (task: { state: string; execution: string }) => Promise<void>): Promise<Harness> {
  const { startTime: _s, ...base } = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as Record<string, unknown>;
  const state = {
    ...base,
    accounts: [{ id: HOME }, { id: MEMBER }],
    clusters: clusters.map((c) => ({ ...c, endpointPublicAccess: false, endpointPrivateAccess: true, ...(c.account === HOME && c.region === REGION ? { vpcId: 'vpc-0a1b2c3d4e5f60001' } : {}) })),
  } as unknown as EmulatorState;
  const emulator = await startEmulator({ state, clock: manualClock(Date.UTC(2026, 0, 1)) });
  const progress: ProgressEvent[] = [];
  const guard = await startLocalGuard({ emulator, policy, homeAccount: HOME, homeRegion: REGION, onProgress: (ev) => progress.push(ev), ...(maxWaitSeconds ? { maxWaitSeconds } : {}), ...(beforeTask ? { beforeTask } : {}) });
  return { emulator, guard, progress };
}

async function close(h: Harness | undefined): Promise<void> {
  h?.guard.close();
  await h?.emulator.close();
}

/** A person opens the cluster to the internet: an update of `changeSeconds`; the guard's revert then takes `revertSeconds`. */
async function openToInternet(h: Harness, cluster: { name: string; account: string; region: string }, changeSeconds: number, revertSeconds: number): Promise<ExecutionRecord> {
  const as = `arn:aws:iam::${cluster.account}:user/alice`;
  const eks = new EKSClient({ region: cluster.region, endpoint: h.emulator.url, credentials: h.emulator.credentialsFor(as), maxAttempts: 1 });
  try {
    h.emulator.setUpdateSeconds(changeSeconds);
    await eks.send(new UpdateClusterConfigCommand({ name: cluster.name, resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }));
  } finally {
    eks.destroy();
  }
  h.emulator.setUpdateSeconds(revertSeconds);
  const executions = (await h.guard.processPending()).flatMap((d) => d.executions);
  return executions.find((e) => e.cluster.name === cluster.name && e.input.trigger.kind !== 'recheck')!;
}

/** Seconds from the violating update's end to the guard's revert call, and from the revert's end to the alert. */
function lags(h: Harness, e: ExecutionRecord): { detection: number; alert: number } {
  const updates = h.emulator.snapshot().clusters.find((c) => c.name === e.cluster.name)!.updates;
  const [change, revert] = [updates[0]!, updates[updates.length - 1]!];
  const alert = h.emulator.publishedMessages().filter((m) => m.subject?.includes(e.cluster.name) && (m.messageAttributes as Record<string, { StringValue?: string }>).kind?.StringValue === 'outcome').at(-1)!;
  return { detection: (Date.parse(revert.createdAt) - Date.parse(change.endsAt)) / 1000, alert: (Date.parse(alert.timestamp) - Date.parse(revert.endsAt)) / 1000 };
}

describe('the Express update tracker', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await close(h);
    h = undefined;
  });

  it.each<[where: string, account: string, region: string, via: 'sdk' | 'lambda']>([
    ['the home account, through the SDK integration as the change reader', HOME, REGION, 'sdk'],
    ['a member account, through the SDK integration as the member read role', MEMBER, REGION, 'sdk'],
    ['a member account in another region, through pollChange', MEMBER, OTHER_REGION, 'lambda'],
  ])('follows an update in %s, and the revert starts within one poll of its end', async (_where, account, region, via) => {
    const cluster = { name: 'prod-api', account, region };
    h = await harness([cluster]);

    const e = await openToInternet(h, cluster, 605, 421);

    expect(e.outcome).toBe('remediated');
    expect(e.states.filter((s) => s === 'TrackChange').length).toBeGreaterThanOrEqual(3);
    expect(e.states).not.toContain('PauseBeforeChangePoll');
    expect(e.states).not.toContain('PauseBeforeRevertPoll');
    // 605 s of update: about 61 polls of 10 s, in runs of 26; only the functions' polls are Lambdas.
    expect(e.tracker.executions).toBeGreaterThanOrEqual(5);
    if (via === 'sdk') expect(e.lambdaByFunction.pollChange).toBeUndefined();
    else expect(e.lambdaByFunction.pollChange).toBeGreaterThanOrEqual(90);
    expect(e.awsCalls.DescribeUpdate).toBeGreaterThanOrEqual(100);
    const lag = lags(h, e);
    expect(lag.detection).toBeGreaterThanOrEqual(0);
    expect(lag.detection).toBeLessThanOrEqual(TRACK_POLL_SECONDS);
    expect(lag.alert).toBeLessThanOrEqual(TRACK_POLL_SECONDS);
    expect(e.finalConfig).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
  });

  it('follows a new cluster by its status (DescribeCluster) until it is ACTIVE', async () => {
    h = await harness([]);
    const eks = new EKSClient({ region: REGION, endpoint: h.emulator.url, credentials: h.emulator.credentialsFor(`arn:aws:iam::${HOME}:user/alice`), maxAttempts: 1 });
    h.emulator.setUpdateSeconds(700);
    await eks.send(new CreateClusterCommand({ name: 'prod-new', roleArn: `arn:aws:iam::${HOME}:role/eks-cluster`, resourcesVpcConfig: { subnetIds: ['subnet-0a1b2c3d4e5f60011'], endpointPublicAccess: true, endpointPrivateAccess: false } }));
    eks.destroy();
    h.emulator.setUpdateSeconds(300);

    const e = (await h.guard.processPending()).flatMap((d) => d.executions).find((x) => x.cluster.name === 'prod-new')!;

    expect(e.outcome).toBe('remediated');
    expect(e.awsCalls.DescribeCluster).toBeGreaterThanOrEqual(70);
    const revert = h.emulator.snapshot().clusters.find((c) => c.name === 'prod-new')!.updates.at(-1)!;
    const createdAt = Date.UTC(2026, 0, 1);
    expect((Date.parse(revert.createdAt) - createdAt) / 1000 - 700).toBeLessThanOrEqual(TRACK_POLL_SECONDS);
  });

  it.each<[role: string, account: string]>([
    ['the change reader', HOME],
    ['the member read role', MEMBER],
  ])('when %s does not trust the tracker, the workflow waits in Wait states instead, and still remediates and alerts once', async (_role, account) => {
    const cluster = { name: 'prod-api', account, region: REGION };
    h = await harness([cluster]);
    // The member stack (or the stack) deployed without the tracker in the trust policy: only the functions may assume it.
    const name = account === HOME ? CHANGE_READER_ROLE_NAME : MEMBER_READ_ROLE_NAME;
    h.emulator.putRole({ account, name, trust: [`arn:aws:iam::${HOME}:role/${GUARD_ROLE_NAME}`] });

    const e = await openToInternet(h, cluster, 400, 300);

    expect(e.outcome).toBe('remediated');
    expect(e.states).toContain('PauseBeforeChangePoll');
    expect(e.states).toContain('PauseBeforeRevertPoll');
    // One tracker attempt per Lambda poll, no tight loop: the fallback waits 30 s and more between them.
    const polls = e.states.filter((s) => s === 'WaitForChange' || s === 'WaitForRevert').length;
    expect(e.tracker.executions).toBeLessThanOrEqual(polls);
    expect(polls).toBeLessThanOrEqual(20);
    expect(e.alerts.filter((a) => a.outcome === 'remediated')).toHaveLength(1);
    expect(e.finalConfig).toMatchObject({ endpointPublicAccess: false });
    // Each fallback Wait lasts its whole seconds (30 s after the first failure in a row), even after tracker runs moved the clock.
    const states = h.progress.filter((p): p is Extract<ProgressEvent, { kind: 'state' }> => p.kind === 'state' && p.execution === e.name);
    const pauses = states.map((p, i) => [p, states[i + 1]] as const).filter(([p]) => p.state === 'PauseBeforeChangePoll' || p.state === 'PauseBeforeRevertPoll');
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    expect(pauses[0]![0].waitSeconds).toBe(30);
    for (const [pause, next] of pauses) expect(next!.elapsedSeconds - pause.elapsedSeconds).toBeGreaterThanOrEqual(pause.waitSeconds!);
  });

  // A cluster found UPDATING by an update the guard has no id for (here a logging change another person
  // starts while the guard takes its lease): followed by its status, judged within one poll of the end.
  it.each<[how: string, trusted: boolean]>([
    ['by its status in the tracker, and judged within one poll of the end', true],
    ['in a one-minute Wait when the tracker cannot run, and still remediated once', false],
  ])('follows a cluster busy with an update of unknown id %s', async (_how, trusted) => {
    const cluster = { name: 'prod-api', account: HOME, region: REGION };
    const bob = () => new EKSClient({ region: REGION, endpoint: h!.emulator.url, credentials: h!.emulator.credentialsFor(`arn:aws:iam::${HOME}:user/bob`), maxAttempts: 1 });
    let started = false;
    h = await harness([cluster], undefined, async ({ state }) => {
      if (state !== 'AcquireLease' || started) return;
      started = true;
      h!.emulator.setUpdateSeconds(333);
      const eks = bob();
      await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', logging: { clusterLogging: [{ types: ['api'], enabled: true }] } })).finally(() => eks.destroy());
      h!.emulator.setUpdateSeconds(200);
    });
    if (!trusted) h.emulator.putRole({ account: HOME, name: CHANGE_READER_ROLE_NAME, trust: [`arn:aws:iam::${HOME}:role/${GUARD_ROLE_NAME}`] });

    const e = await openToInternet(h, cluster, 120, 200);

    expect(started).toBe(true);
    expect(e.outcome).toBe('remediated');
    expect(e.alerts.filter((a) => a.outcome === 'remediated')).toHaveLength(1);
    expect(e.states).toContain('TrackBusyCluster');
    const [, logging, revert] = h.emulator.snapshot().clusters[0]!.updates;
    expect(logging!.type).toBe('LoggingUpdate');
    const lag = (Date.parse(revert!.createdAt) - Date.parse(logging!.endsAt)) / 1000;
    expect(lag).toBeGreaterThanOrEqual(0);
    if (trusted) {
      expect(e.states).not.toContain('PauseBeforeEvaluation');
      expect(lag).toBeLessThanOrEqual(TRACK_POLL_SECONDS);
    } else {
      // Each fallback is one tracker attempt and one minute's Wait: no tight loop, and the lag of v0.1.
      const waits = e.states.filter((s) => s === 'PauseBeforeEvaluation').length;
      expect(waits).toBeGreaterThanOrEqual(5);
      expect(e.states.filter((s) => s === 'TrackBusyCluster').length).toBe(waits);
      expect(lag).toBeLessThanOrEqual(60 + TRACK_POLL_SECONDS);
    }
  });

  it('ends tracking a busy cluster that is deleted meanwhile at once: no fallback wait, no tracker failure', async () => {
    const cluster = { name: 'prod-api', account: HOME, region: REGION };
    const asBob = () => new EKSClient({ region: REGION, endpoint: h!.emulator.url, credentials: h!.emulator.credentialsFor(`arn:aws:iam::${HOME}:user/bob`), maxAttempts: 1 });
    let phase: 'idle' | 'busy' | 'deleted' = 'idle';
    let deletedAt = 0;
    h = await harness([cluster], undefined, async ({ state }) => {
      if (state === 'AcquireLease' && phase === 'idle') {
        phase = 'busy';
        h!.emulator.setUpdateSeconds(100);
        const eks = asBob();
        await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', logging: { clusterLogging: [{ types: ['audit'], enabled: true }] } })).finally(() => eks.destroy());
      } else if (state === 'DescribeCluster' && phase === 'busy' && h!.emulator.snapshot().clusters[0]!.updates.every((u) => u.status !== 'InProgress')) {
        phase = 'deleted';
        deletedAt = h!.emulator.clock.now();
        const eks = asBob();
        await eks.send(new DeleteClusterCommand({ name: 'prod-api' })).finally(() => eks.destroy());
      }
    });

    const e = await openToInternet(h, cluster, 120, 200);

    expect(phase).toBe('deleted');
    expect(e.outcome).toBe('ignored');
    expect(e.states).toContain('TrackBusyCluster');
    expect(e.states).not.toContain('PauseBeforeEvaluation');
    expect(e.elapsedSeconds * 1000 - (deletedAt - Date.UTC(2026, 0, 1))).toBeLessThanOrEqual(5_000);
  });

  it('stops tracking when the wait budget runs out, not a whole run later, and schedules a re-check', async () => {
    const cluster = { name: 'prod-api', account: HOME, region: REGION };
    h = await harness([cluster], 125);

    const e = await openToInternet(h, cluster, 3000, 300);

    expect(e.outcome).toBe('failed');
    expect(e.elapsedSeconds).toBeGreaterThanOrEqual(125);
    expect(e.elapsedSeconds).toBeLessThanOrEqual(125 + TRACK_POLL_SECONDS + 5);
    expect(h.guard.runner.pendingRechecks().map((r) => r.cluster.name)).toEqual(['prod-api']);
  });

  it('rides out EKS throttling its polls (the tracker retries them) without falling back', async () => {
    const cluster = { name: 'prod-api', account: HOME, region: REGION };
    h = await harness([cluster]);
    h.emulator.setFault({ kind: 'throttle', operation: 'DescribeUpdate', times: 6 });

    const e = await openToInternet(h, cluster, 200, 200);

    expect(e.outcome).toBe('remediated');
    expect(e.states).not.toContain('PauseBeforeChangePoll');
    expect(lags(h, e).detection).toBeLessThanOrEqual(TRACK_POLL_SECONDS);
  });
});
