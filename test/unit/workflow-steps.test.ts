/**
 * The state machine's steps (src/workflow/steps.ts) against in-memory fake ports: no network, no emulator.
 * Each fake records the calls it got and answers from a script; a call the test did not script fails loudly.
 * The ledger is the compare-and-set fake of test/unit/fakes/ledger.ts.
 * The policy is the workflow fixture (test/fixtures/workflow/policy.yaml): by default public access is
 * restricted to 203.0.113.0/24 and 198.51.100.0/24 with private access required; `prod-*` clusters must be
 * private only; tag `guard=alert` means alert mode; `legacy-*` clusters are exempt.
 */
import { readFileSync } from 'node:fs';
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, TransientAwsError } from '../../src/errors';
import { emptyLedger, judgedSettings } from '../../src/ledger/rules';
import type { ChangeRecord, ClusterLedger } from '../../src/ledger/types';
import { DEFAULT_ESCALATION, parsePolicy, type EndpointTarget, type Evaluation } from '../../src/policy';
import type { ClusterRef, EndpointConfig } from '../../src/policy/types';
import { busyWaitSeconds } from '../../src/workflow/backoff';
import type { Log, WorkflowDeps, WorkflowSettings } from '../../src/workflow/deps';
import type { ClusterDescription, Ec2Port, EksPort, UpdateDescription, VpcDnsFacts } from '../../src/workflow/ports';
import {
  acquireLease,
  evaluateClusterStep,
  LEASE_SECONDS,
  preflightCheck,
  remediateCluster,
  updateToken,
  verifyRemediation,
  pollChange,
  waitForChange,
  waitForRevert,
  WorkflowStateError,
} from '../../src/workflow/steps';
import { trackOf, TRACK_MAX_POLLS, TRACK_POLL_SECONDS, type TrackingSettings } from '../../src/workflow/tracking';
import type { Metric } from '../../src/observability/metrics';
import { triggerChange } from '../../src/workflow/changes';
import type { EvaluateResult, ExecutionState, PollResult, RemediateResult, Trigger } from '../../src/workflow/types';
import { FakeLedger } from './fakes/ledger';

const POLICY = parsePolicy(readFileSync(new URL('../fixtures/workflow/policy.yaml', import.meta.url), 'utf8'), 'workflow policy');
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const VPC = 'vpc-0a1b2c3d4e5f60001';
const STARTED_AT = Date.parse('2026-03-02T09:15:00Z');
const ALLOWED = ['203.0.113.0/24', '198.51.100.0/24'];
/** The execution under test (the lease holder, the seed of its update tokens) and another one. */
const ME = 'evt-f4d046b0-7d95-47bf-8349-c98a95a738e9';
const OTHER = 'evt-0c9d8e7f-1111-4222-8333-944455556666';
const LEASE_MS = LEASE_SECONDS * 1000;
/** A tag exemption within the policy's default 30-day cap of the test clock. */
const EXEMPT_TAG = { 'eks-endpoint-guard/exempt-until': '2026-03-20' };

// ---------------------------------------------------------------------------------------------------------
// Fakes

type Call = { op: string; args: unknown[] };
type UpdateRequest = { observed: EndpointConfig; token: string };
type EksScript = {
  clusters?: Record<string, ClusterDescription | ClusterDescription[] | Error>;
  updates?: Record<string, UpdateDescription>;
  update?: (cluster: ClusterRef, target: EndpointTarget, request: UpdateRequest) => { updateId: string | null };
};

/** An EksPort answering from a script. A list of descriptions is played in order (the last one repeats). */
function fakeEks(script: EksScript = {}): EksPort & { calls: Call[] } {
  const calls: Call[] = [];
  const seen = new Map<string, number>();
  return {
    calls,
    async describeCluster(cluster) {
      calls.push({ op: 'describeCluster', args: [cluster] });
      const entry = script.clusters?.[cluster.name];
      if (entry === undefined) throw new ClusterNotFoundError(`DescribeCluster on cluster ${cluster.name} failed: ResourceNotFoundException`);
      if (entry instanceof Error) throw entry;
      if (!Array.isArray(entry)) return structuredClone(entry);
      const n = seen.get(cluster.name) ?? 0;
      seen.set(cluster.name, n + 1);
      return structuredClone(entry[Math.min(n, entry.length - 1)]!);
    },
    async describeUpdate(cluster, updateId) {
      calls.push({ op: 'describeUpdate', args: [cluster, updateId] });
      const update = script.updates?.[updateId];
      if (!update) throw new Error(`test did not script update ${updateId}`);
      return structuredClone(update);
    },
    async updateEndpointAccess(cluster, target, request) {
      calls.push({ op: 'updateEndpointAccess', args: [cluster, structuredClone(target), structuredClone(request)] });
      if (!script.update) throw new Error('test did not script updateEndpointAccess');
      return script.update(cluster, target, request);
    },
    async listClusters(account, region) {
      calls.push({ op: 'listClusters', args: [account, region] });
      throw new Error('not used by the steps');
    },
  };
}

function fakeEc2(facts?: Partial<VpcDnsFacts>): Ec2Port & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async vpcDnsFacts(cluster, vpcId) {
      calls.push({ op: 'vpcDnsFacts', args: [cluster, vpcId] });
      if (!facts) throw new Error('test did not script vpcDnsFacts');
      return { vpcId, enableDnsSupport: true, enableDnsHostnames: true, dhcpOptionsId: 'dopt-0123456789abcdef0', domainNameServers: ['AmazonProvidedDNS'], ...facts };
    },
  };
}

const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

type Harness = WorkflowDeps & { clock: { now: number }; eksFake: ReturnType<typeof fakeEks>; ec2Fake: ReturnType<typeof fakeEc2>; ledgerFake: FakeLedger };

function deps(options: { eks?: ReturnType<typeof fakeEks>; ec2?: ReturnType<typeof fakeEc2>; ledger?: FakeLedger; settings?: Partial<WorkflowSettings>; elapsedSeconds?: number } = {}): Harness {
  const clock = { now: STARTED_AT + (options.elapsedSeconds ?? 10) * 1000 };
  const eksFake = options.eks ?? fakeEks();
  const ec2Fake = options.ec2 ?? fakeEc2();
  const ledgerFake = options.ledger ?? new FakeLedger();
  return {
    eks: eksFake,
    ec2: ec2Fake,
    alerts: { publish: async () => { throw new Error('steps never publish'); } },
    ledger: ledgerFake,
    policy: POLICY,
    settings: { shadowMode: false, notifyCompliant: false, maxWaitSeconds: 3600, ...options.settings },
    now: () => clock.now,
    log: silentLog,
    clock,
    eksFake,
    ec2Fake,
    ledgerFake,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Builders

const ref = (name: string): ClusterRef => ({ name, account: ACCOUNT, region: REGION });

type Endpoint = { pub: boolean; priv: boolean; cidrs?: string[] };

function described(name: string, e: Endpoint, extra: { status?: string; tags?: Record<string, string>; vpcId?: string | null } = {}): ClusterDescription {
  const vpcId = extra.vpcId === undefined ? VPC : extra.vpcId;
  return {
    name,
    arn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${name}`,
    status: extra.status ?? 'ACTIVE',
    tags: extra.tags ?? {},
    resourcesVpcConfig: {
      subnetIds: ['subnet-0a1b2c3d4e5f60011'],
      ...(vpcId === null ? {} : { vpcId }),
      endpointPublicAccess: e.pub,
      endpointPrivateAccess: e.priv,
      publicAccessCidrs: e.cidrs ?? ['0.0.0.0/0'],
    },
  };
}

const ALICE = { arn: 'arn:aws:iam::111122223333:user/alice', type: 'IAMUser', sourceIPAddress: '203.0.113.24', userAgent: 'aws-cli/2' };
const BOB = { arn: 'arn:aws:iam::111122223333:user/bob', type: 'IAMUser', sourceIPAddress: '198.51.100.7', userAgent: 'terraform/1.9' };

function trigger(over: Partial<Trigger> = {}): Trigger {
  return {
    kind: 'event',
    eventId: 'f4d046b0-7d95-47bf-8349-c98a95a738e9',
    eventName: 'UpdateClusterConfig',
    eventTime: '2026-03-02T09:14:27Z',
    updateId: 'user-update-1',
    requested: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
    actor: null,
    waitFor: 'update',
    ...over,
  };
}

function state(name: string, over: Partial<ExecutionState> = {}): ExecutionState {
  return { cluster: ref(name), executionName: ME, trigger: trigger(), startedAt: STARTED_AT, ...over };
}

/** A change as the ledger keeps it. */
function change(eventId: string, eventTime: string, over: Partial<ChangeRecord> = {}): ChangeRecord {
  return { eventId, eventName: 'UpdateClusterConfig', eventTime, actor: ALICE, requested: { endpointPublicAccess: true }, updateId: `u-${eventId}`, tags: null, guardRoleMisuse: false, seenAt: STARTED_AT, handledBy: null, ...over };
}

const ledgerOf = (name: string, over: Partial<ClusterLedger> = {}): ClusterLedger => ({ ...emptyLedger(ref(name)), ...over });

const update = (id: string, status: string, errors: UpdateDescription['errors'] = []): UpdateDescription => ({ id, status, type: 'EndpointAccessUpdate', errors });
const previousPoll = (polls: number): PollResult => ({ done: false, status: 'InProgress', errors: [], polls, waitSeconds: 0, timedOut: false });

/** A hand-built evaluation: lets a test put any target next to any observed configuration, safe or not. */
function handEvaluation(observed: Endpoint, target: EndpointTarget | null, action: Evaluation['action'] = 'remediate', vpcId: string | null = VPC): Evaluation {
  return {
    cluster: { name: 'team-a', account: ACCOUNT, region: REGION, arn: null },
    settings: { rule: null, mode: 'enforce', publicAccess: 'restricted', privateAccess: 'required', allowedPublicCidrs: ALLOWED, maxPublicCidrs: 40, maxTagExemptionDays: 30, escalation: { ...DEFAULT_ESCALATION } },
    observed: { endpointPublicAccess: observed.pub, endpointPrivateAccess: observed.priv, publicAccessCidrs: observed.cidrs ?? ['0.0.0.0/0'], status: 'ACTIVE', vpcId, tags: {} },
    verdict: 'violation',
    action,
    violations: [{ code: 'PUBLIC_CIDR_NOT_ALLOWED', message: 'x' }],
    warnings: [],
    target,
    exemption: null,
  };
}

const assessed = (name: string, evaluation: Evaluation, over: Partial<ExecutionState> = {}): ExecutionState =>
  state(name, { assessment: { settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation, observedAt: STARTED_AT }, ...over });

// ---------------------------------------------------------------------------------------------------------

describe('waitForChange', () => {
  it('a sweep (waitFor none) is done at once, without calling EKS', async () => {
    const d = deps();

    const result = await waitForChange(state('team-a', { trigger: trigger({ kind: 'sweep', waitFor: 'none', updateId: null }) }), d);

    expect(result).toEqual({ done: true, status: 'none', errors: [], polls: 0, waitSeconds: 0, timedOut: false, track: null, trackerFailures: 0 });
    expect(d.eksFake.calls).toEqual([]);
  });

  it.each<[previousPolls: number | null, polls: number, waitSeconds: number]>([
    [null, 1, 30],
    [1, 2, 60],
    [2, 3, 120],
    [3, 4, 180],
    [4, 5, 180],
    [12, 13, 180],
  ])('an update still InProgress after %p earlier polls: poll %p, wait %p s', async (previous, polls, waitSeconds) => {
    const d = deps({ eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', 'InProgress') } }) });
    const s = state('prod-api', previous === null ? {} : { change: previousPoll(previous) });

    const result = await waitForChange(s, d);

    // The tracker follows it next (through pollChange: these fakes configure no tracking roles); waitSeconds is its fallback.
    expect(result).toEqual({ done: false, status: 'InProgress', errors: [], polls, waitSeconds, timedOut: false, track: { cluster: ref('prod-api'), updateId: 'user-update-1', via: 'lambda', roleArn: null, pollSeconds: 10, maxPolls: 26 }, trackerFailures: 0 });
    expect(d.eksFake.calls).toEqual([{ op: 'describeUpdate', args: [ref('prod-api'), 'user-update-1'] }]);
  });

  it.each(['Successful', 'Failed', 'Cancelled'])('an update that ended %s is done, with its errors', async (status) => {
    const errors = status === 'Failed' ? [{ errorCode: 'SubnetNotFound', errorMessage: 'subnet gone' }] : [];
    const d = deps({ eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', status, errors) } }) });

    const result = await waitForChange(state('prod-api', { change: previousPoll(2) }), d);

    expect(result).toMatchObject({ done: true, status, errors, polls: 3, timedOut: false });
  });

  it.each<[status: string, done: boolean]>([
    ['CREATING', false],
    ['PENDING', false],
    ['UPDATING', false],
    ['ACTIVE', true],
  ])('a new cluster (waitFor cluster-active) in status %s: done %p, judged from DescribeCluster only', async (status, done) => {
    const d = deps({ eks: fakeEks({ clusters: { 'dev-sandbox': described('dev-sandbox', { pub: true, priv: false }, { status }) } }) });
    const s = state('dev-sandbox', { trigger: trigger({ eventName: 'CreateCluster', updateId: null, waitFor: 'cluster-active' }) });

    const result = await waitForChange(s, d);

    expect(result).toMatchObject({ done, status, polls: 1, timedOut: false });
    expect(d.eksFake.calls.map((c) => c.op)).toEqual(['describeCluster']);
  });

  it('an update whose id was not recorded falls back to the cluster status', async () => {
    const d = deps({ eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: false, priv: true }, { status: 'UPDATING' }) } }) });

    const result = await waitForChange(state('prod-api', { trigger: trigger({ updateId: null, waitFor: 'cluster-active' }) }), d);

    expect(result).toMatchObject({ done: false, status: 'UPDATING' });
    expect(d.eksFake.calls.map((c) => c.op)).toEqual(['describeCluster']);
  });

  it.each<[elapsedSeconds: number, status: string, timedOut: boolean, done: boolean]>([
    [3599, 'InProgress', false, false],
    [3600, 'InProgress', false, false],
    [3601, 'InProgress', true, false],
    [7200, 'InProgress', true, false],
    // A change that finished is judged, however late: the budget is for waiting, not for work done.
    [7200, 'Successful', false, true],
  ])('after %p s of a 3600 s budget, an update %s: timedOut %p', async (elapsedSeconds, status, timedOut, done) => {
    const d = deps({ elapsedSeconds, eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', status) } }) });

    const result = await waitForChange(state('prod-api', { change: previousPoll(9) }), d);

    expect(result).toMatchObject({ done, timedOut, status });
  });

  it('a transient EKS error is thrown for the state machine to retry', async () => {
    const err = new TransientAwsError('DescribeUpdate failed: ThrottlingException');
    const eks = fakeEks();
    eks.describeUpdate = async () => { throw err; };

    await expect(waitForChange(state('prod-api'), deps({ eks }))).rejects.toBe(err);
  });
});

describe('waitForRevert', () => {
  const started: RemediateResult = { status: 'started', updateId: 'revert-1', target: { endpointPublicAccess: false, endpointPrivateAccess: true }, busyAttempts: 0, waitSeconds: 0, error: null };

  it('polls the guard\'s own update, counting its polls apart from the change\'s', async () => {
    const d = deps({ eks: fakeEks({ updates: { 'revert-1': update('revert-1', 'InProgress') } }) });
    const s = state('prod-api', { change: { ...previousPoll(6), done: true, status: 'Successful' }, remediation: started });

    const first = await waitForRevert(s, d);
    const second = await waitForRevert({ ...s, revert: first }, d);

    expect(first).toMatchObject({ done: false, polls: 1, waitSeconds: 30 });
    expect(second).toMatchObject({ done: false, polls: 2, waitSeconds: 60 });
    expect(d.eksFake.calls).toEqual([
      { op: 'describeUpdate', args: [ref('prod-api'), 'revert-1'] },
      { op: 'describeUpdate', args: [ref('prod-api'), 'revert-1'] },
    ]);
  });

  it('reports a Failed revert as done with the update\'s errors', async () => {
    const errors = [{ errorCode: 'EniLimitReached', errorMessage: 'ENI limit' }];
    const d = deps({ eks: fakeEks({ updates: { 'revert-1': update('revert-1', 'Failed', errors) } }) });

    await expect(waitForRevert(state('prod-api', { remediation: started }), d)).resolves.toMatchObject({ done: true, status: 'Failed', errors });
  });

  it('times out on the same budget as the change', async () => {
    const d = deps({ elapsedSeconds: 4000, eks: fakeEks({ updates: { 'revert-1': update('revert-1', 'InProgress') } }) });

    await expect(waitForRevert(state('prod-api', { remediation: started }), d)).resolves.toMatchObject({ done: false, timedOut: true });
  });

  it.each<[elapsedSeconds: number, timedOut: boolean]>([
    [4000, false],
    [3000 + 3600, false],
    [3000 + 3601, true],
  ])('counts the budget from when the revert was accepted (at): after %p s, timedOut %p', async (elapsedSeconds, timedOut) => {
    const d = deps({ elapsedSeconds, eks: fakeEks({ updates: { 'revert-1': update('revert-1', 'InProgress') } }) });
    const s = state('prod-api', { remediation: { ...started, at: STARTED_AT + 3000 * 1000 } });

    await expect(waitForRevert(s, d)).resolves.toMatchObject({ done: false, timedOut });
  });

  it.each<[string, Partial<ExecutionState>]>([
    ['no remediation', {}],
    ['a remediation without an update id', { remediation: { ...started, status: 'already-compliant', updateId: null } }],
  ])('refuses a state with %s', async (_what, over) => {
    const d = deps();

    await expect(waitForRevert(state('prod-api', over), d)).rejects.toBeInstanceOf(WorkflowStateError);
    expect(d.eksFake.calls).toEqual([]);
  });

  it('renews this execution\'s lease on every poll, keeping when it was first taken', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { lease: { holder: ME, acquiredAt: STARTED_AT, expiresAt: STARTED_AT + 60_000 } }));
    const d = deps({ ledger, elapsedSeconds: 300, eks: fakeEks({ updates: { 'revert-1': update('revert-1', 'InProgress') } }) });

    await waitForRevert(state('prod-api', { remediation: started }), d);

    expect(ledger.get(ref('prod-api')).lease).toEqual({ holder: ME, acquiredAt: STARTED_AT, expiresAt: d.clock.now + LEASE_MS });
  });

  it('leaves another execution\'s unexpired lease alone (the guard\'s own update goes on being followed)', async () => {
    const theirs = { holder: OTHER, acquiredAt: STARTED_AT, expiresAt: STARTED_AT + LEASE_MS };
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { lease: theirs }));
    const d = deps({ ledger, eks: fakeEks({ updates: { 'revert-1': update('revert-1', 'Successful') } }) });

    await expect(waitForRevert(state('prod-api', { remediation: started }), d)).resolves.toMatchObject({ done: true });
    expect(ledger.get(ref('prod-api')).lease).toEqual(theirs);
  });
});

describe('triggerChange', () => {
  it('is the ledger record of an event trigger, unjudged, seen now', () => {
    const t = trigger({ actor: ALICE, reason: 'GUARD_ROLE_UNVERIFIED' });

    expect(triggerChange(state('prod-api', { trigger: t }), 42)).toEqual({
      eventId: t.eventId,
      eventName: 'UpdateClusterConfig',
      eventTime: t.eventTime,
      actor: ALICE,
      requested: t.requested,
      updateId: 'user-update-1',
      tags: null,
      guardRoleMisuse: true,
      seenAt: 42,
      handledBy: null,
    });
  });

  it.each<Trigger['kind']>(['sweep', 'recheck'])('is null for a %s (no change to record)', (kind) => {
    expect(triggerChange(state('prod-api', { trigger: trigger({ kind, waitFor: 'none', updateId: null }) }), 42)).toBeNull();
  });
});

describe('acquireLease', () => {
  it('takes a free cluster\'s lease and records the trigger\'s change', async () => {
    const d = deps();

    const result = await acquireLease(state('prod-api', { trigger: trigger({ actor: ALICE }) }), d);

    expect(result).toEqual({ acquired: true, handled: false, handledBy: null, holder: ME, waitSeconds: 0, waits: 0, timedOut: false });
    const ledger = d.ledgerFake.get(ref('prod-api'));
    expect(ledger.lease).toEqual({ holder: ME, acquiredAt: d.clock.now, expiresAt: d.clock.now + LEASE_MS });
    expect(ledger.changes).toEqual([triggerChange(state('prod-api', { trigger: trigger({ actor: ALICE }) }), d.clock.now)]);
  });

  it('waits while another execution holds an unexpired lease, still recording the change so the holder names its actor', async () => {
    const theirs = { holder: OTHER, acquiredAt: STARTED_AT - 60_000, expiresAt: STARTED_AT + 600_000 };
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { lease: theirs }));
    const d = deps({ ledger });

    const result = await acquireLease(state('prod-api'), d);

    expect(result).toEqual({ acquired: false, handled: false, handledBy: null, holder: OTHER, waitSeconds: 30, waits: 1, timedOut: false });
    expect(ledger.get(ref('prod-api')).lease).toEqual(theirs);
    expect(ledger.get(ref('prod-api')).changes.map((c) => c.eventId)).toEqual([trigger().eventId]);
  });

  it.each<[string, number]>([
    ['expired a minute ago', -60_000],
    ['expiring this very millisecond', 0],
  ])('takes over a lease that %s (its holder died)', async (_what, offset) => {
    const d0 = deps();
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { lease: { holder: OTHER, acquiredAt: STARTED_AT - LEASE_MS, expiresAt: d0.clock.now + offset } }));
    const d = deps({ ledger });

    await expect(acquireLease(state('prod-api'), d)).resolves.toMatchObject({ acquired: true, holder: ME });
    expect(ledger.get(ref('prod-api')).lease?.holder).toBe(ME);
  });

  it('renews its own lease when it comes back (after PauseForLease, or a retry), keeping when it was first taken', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { lease: { holder: ME, acquiredAt: STARTED_AT, expiresAt: STARTED_AT + 5_000 } }));
    const d = deps({ ledger, elapsedSeconds: 120 });

    await expect(acquireLease(state('prod-api'), d)).resolves.toMatchObject({ acquired: true, holder: ME });
    expect(ledger.get(ref('prod-api')).lease).toEqual({ holder: ME, acquiredAt: STARTED_AT, expiresAt: d.clock.now + LEASE_MS });
  });

  it('a change another execution\'s judgement already covered is handled: no lease, nothing to wait for', async () => {
    const covered = change(trigger().eventId, trigger().eventTime, { handledBy: OTHER });
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { changes: [covered] }));
    const d = deps({ ledger });

    const result = await acquireLease(state('prod-api'), d);

    expect(result).toEqual({ acquired: false, handled: true, handledBy: OTHER, holder: null, waitSeconds: 0, waits: 0, timedOut: false });
    expect(ledger.get(ref('prod-api')).lease).toBeNull();
    expect(ledger.get(ref('prod-api')).changes).toEqual([covered]);
  });

  it('a change this execution itself claimed earlier is not "handled by another"', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { changes: [change(trigger().eventId, trigger().eventTime, { handledBy: ME })] }));

    await expect(acquireLease(state('prod-api'), deps({ ledger }))).resolves.toMatchObject({ acquired: true, handled: false });
  });

  it('does not record the change twice when the intake already did', async () => {
    const recorded = change(trigger().eventId, trigger().eventTime, { seenAt: STARTED_AT - 30_000 });
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { changes: [recorded] }));

    await acquireLease(state('prod-api'), deps({ ledger }));

    expect(ledger.get(ref('prod-api')).changes).toEqual([recorded]);
  });

  it('records a change made with a guard role the ledger does not vouch for as misuse', async () => {
    const d = deps();

    await acquireLease(state('prod-api', { trigger: trigger({ reason: 'GUARD_ROLE_UNVERIFIED' }) }), d);

    expect(d.ledgerFake.get(ref('prod-api')).changes[0]).toMatchObject({ guardRoleMisuse: true, handledBy: null });
  });

  it('a sweep records no change and takes the lease', async () => {
    const d = deps();

    await expect(acquireLease(state('prod-api', { trigger: trigger({ kind: 'sweep', waitFor: 'none', updateId: null }) }), d)).resolves.toMatchObject({ acquired: true });
    expect(d.ledgerFake.get(ref('prod-api')).changes).toEqual([]);
  });

  it('two executions racing for a free cluster: the one that writes second sees the winner\'s lease and waits', async () => {
    const ledger = new FakeLedger();
    const d = deps({ ledger });
    // OTHER writes its lease between this execution's read and its compare-and-set.
    ledger.interleave((current) => ({ ...current, lease: { holder: OTHER, acquiredAt: d.clock.now, expiresAt: d.clock.now + LEASE_MS } }));

    const result = await acquireLease(state('prod-api'), d);

    expect(ledger.conflicts).toBe(1);
    expect(result).toMatchObject({ acquired: false, holder: OTHER, waitSeconds: 30 });
    expect(ledger.get(ref('prod-api')).lease?.holder).toBe(OTHER);
    // The re-applied change still recorded the trigger's change on top of the winner's record.
    expect(ledger.get(ref('prod-api')).changes.map((c) => c.eventId)).toEqual([trigger().eventId]);
  });
});

describe('evaluateClusterStep', () => {
  it('judges an ACTIVE cluster: a prod cluster open to the world must become private only', async () => {
    const d = deps({ eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }) } }) });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(result).toMatchObject({ settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, observedAt: d.clock.now });
    expect(result.evaluation).toMatchObject({
      verdict: 'violation',
      action: 'remediate',
      target: { endpointPublicAccess: false, endpointPrivateAccess: true },
      cluster: { name: 'prod-api', account: ACCOUNT, region: REGION },
    });
  });

  it.each<[string, ClusterDescription, Evaluation['verdict'], Evaluation['action']]>([
    ['compliant', described('team-a', { pub: true, priv: true, cidrs: ['203.0.113.0/24'] }), 'compliant', 'none'],
    ['exempt by policy', described('legacy-billing', { pub: true, priv: false }), 'exempt', 'none'],
    ['exempt by tag', described('team-x', { pub: true, priv: false }, { tags: EXEMPT_TAG }), 'exempt', 'none'],
    ['a violation in a rule with alert mode', described('team-watch', { pub: true, priv: true, cidrs: ['0.0.0.0/0'] }, { tags: { guard: 'alert' } }), 'violation', 'alert'],
  ])('%s', async (_what, cluster, verdict, action) => {
    const d = deps({ eks: fakeEks({ clusters: { [cluster.name]: cluster } }) });

    const result = await evaluateClusterStep(state(cluster.name), d);

    expect(result.settled).toBe(true);
    expect(result.evaluation).toMatchObject({ verdict, action });
  });

  it('in shadow mode a violation that would be remediated is only alerted, still saying what would be done', async () => {
    const d = deps({ settings: { shadowMode: true }, eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }) } }) });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(result.evaluation).toMatchObject({ verdict: 'violation', action: 'alert', settings: { mode: 'alert' }, target: { endpointPublicAccess: false, endpointPrivateAccess: true } });
  });

  it.each(['UPDATING', 'CREATING'])('a cluster still %s is not settled: the tracker follows its status, a one-minute wait is the fallback', async (status) => {
    const d = deps({ elapsedSeconds: 3540, eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }, { status }) } }) });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(result.settled).toBe(false);
    expect(result.timedOut).toBe(false);
    expect(result.waitSeconds).toBe(60);
    // By the cluster (no update id), and no longer than the 60 s of budget left.
    expect(result.track).toEqual({ cluster: ref('prod-api'), updateId: null, via: 'lambda', roleArn: null, pollSeconds: 10, maxPolls: 6 });
  });

  it('the fallback wait for a busy cluster never outlasts the wait budget', async () => {
    const d = deps({ elapsedSeconds: 3590, eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }, { status: 'UPDATING' }) } }) });

    await expect(evaluateClusterStep(state('prod-api'), d)).resolves.toMatchObject({ settled: false, timedOut: false, waitSeconds: 10, track: { maxPolls: 1 } });
  });

  it('a cluster still busy past the wait budget times out, with nothing to track', async () => {
    const d = deps({ elapsedSeconds: 3601, eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }, { status: 'UPDATING' }) } }) });

    await expect(evaluateClusterStep(state('prod-api'), d)).resolves.toMatchObject({ settled: false, timedOut: true, track: null });
  });

  it.each<[label: string, previous: Partial<EvaluateResult> | undefined, counted: number]>([
    ['right after a busy judgement whose tracker run failed: counted once', { settled: false, leaseLost: false }, 1],
    ['after a settled judgement (a stale revert judged again): not counted again', { settled: true, leaseLost: false }, 0],
    ['after a lost lease: not counted', { settled: false, leaseLost: true }, 0],
    ['in the first judgement: not counted', undefined, 0],
  ])('a failed busy-cluster tracker run, %s', async (_label, previous, counted) => {
    const metrics: Metric[] = [];
    const d = { ...deps({ eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }) } }) }), metrics: { add: (m: Metric) => metrics.push(m) } };
    const assessment = previous && ({ waitSeconds: 60, timedOut: false, evaluation: null, observedAt: 0, ...previous } as EvaluateResult);

    await evaluateClusterStep(state('prod-api', { ...(assessment ? { assessment } : {}), busyTracking: { Error: 'States.TaskFailed', Cause: 'AccessDenied' } }), d);

    expect(metrics.filter((m) => m.name === 'TrackerFailures')).toHaveLength(counted);
  });

  it('a settled cluster never times out, however late', async () => {
    const d = deps({ elapsedSeconds: 9000, eks: fakeEks({ clusters: { 'team-a': described('team-a', { pub: true, priv: true, cidrs: ['203.0.113.0/24'] }) } }) });

    await expect(evaluateClusterStep(state('team-a'), d)).resolves.toMatchObject({ settled: true, timedOut: false });
  });

  it('a cluster that no longer exists throws ClusterNotFoundError (the Catch alerts)', async () => {
    await expect(evaluateClusterStep(state('gone'), deps())).rejects.toBeInstanceOf(ClusterNotFoundError);
  });
});

describe('evaluateClusterStep and the ledger', () => {
  const open = () => fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }) } });
  // The clock reads 09:15:10: changes up to then are covered by the judgement, later ones are not.
  const before = change('c-before', '2026-03-02T09:10:00Z', { actor: ALICE });
  const theirs = change('c-theirs', '2026-03-02T09:12:00Z', { actor: BOB, handledBy: OTHER });
  const mine = change(trigger().eventId, trigger().eventTime, { actor: BOB });
  const later = change('c-later', '2026-03-02T09:16:00Z', { actor: ALICE });
  const seeded = () => new FakeLedger().seed(ledgerOf('prod-api', { changes: [before, theirs, mine, later] }));

  it('claims every change not yet judged, made up to the read, oldest first: the actors the alert names', async () => {
    const ledger = seeded();
    const d = deps({ ledger, eks: open() });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(result.actors).toEqual([{ ...before, handledBy: ME }, { ...mine, handledBy: ME }]);
    expect(ledger.get(ref('prod-api')).changes).toEqual([{ ...before, handledBy: ME }, theirs, { ...mine, handledBy: ME }, later]);
  });

  it('a retried judgement claims the same changes again and takes nothing from anyone', async () => {
    const ledger = seeded();
    const d = deps({ ledger, eks: open() });

    const first = await evaluateClusterStep(state('prod-api'), d);
    const second = await evaluateClusterStep(state('prod-api'), d);

    expect(second.actors).toEqual(first.actors);
    expect(ledger.get(ref('prod-api')).changes.filter((c) => c.handledBy === ME).map((c) => c.eventId)).toEqual(['c-before', mine.eventId]);
  });

  // The judgement is remembered by RecordOutcome at the end of the execution, not here: a re-judgement of
  // the same execution (a retry, or after stale/busy) must compare a tag change with what came before it.
  it('claims and renews the lease in one write, leaving the last judgement to RecordOutcome', async () => {
    const ledger = seeded();
    const d = deps({ ledger, eks: open() });

    await evaluateClusterStep(state('prod-api'), d);

    const stored = ledger.get(ref('prod-api'));
    expect(stored.lastJudged).toBeNull();
    expect(stored.lease).toEqual({ holder: ME, acquiredAt: d.clock.now, expiresAt: d.clock.now + LEASE_MS });
    expect(ledger.writes).toBe(1);
  });

  it('a cluster still UPDATING claims nothing and remembers no judgement, but keeps the lease alive', async () => {
    const ledger = seeded();
    const d = deps({ ledger, eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }, { status: 'UPDATING' }) } }) });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(result.settled).toBe(false);
    expect(result.actors).toBeUndefined();
    const stored = ledger.get(ref('prod-api'));
    expect(stored.changes.every((c) => c.handledBy !== ME)).toBe(true);
    expect(stored.lastJudged).toBeNull();
    expect(stored.lease?.holder).toBe(ME);
  });

  it('an event that is no tag change has no tag change', async () => {
    await expect(evaluateClusterStep(state('prod-api'), deps({ eks: open() }))).resolves.toMatchObject({ tagChange: null });
  });

  // Regression (found by review, fixed): src/workflow/steps.ts evaluateClusterStep (the ledger.mutate at lines 175-180) claims changes even
  // when tryLease failed because another execution holds an unexpired lease (this one's lapsed during a
  // long retry and was taken over). The claimed changes are then marked handled by an execution that will
  // stop at RemediateCluster with `lost-lease` (an ignored, unpublished outcome), and the holder's judgement
  // can no longer claim them: their actors are named in no alert. Expected: without the lease, nothing is
  // claimed (and the step reports it, like RemediateCluster's `lost-lease`).
  it('does not claim changes while another execution holds the lease', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { changes: [before], lease: { holder: OTHER, acquiredAt: STARTED_AT, expiresAt: STARTED_AT + LEASE_MS } }));
    const d = deps({ ledger, eks: open() });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(ledger.get(ref('prod-api')).changes).toEqual([before]);
    expect(result.actors ?? []).toEqual([]);
  });
});

describe('evaluateClusterStep: tag changes', () => {
  const watched = (tags: Record<string, string>) => fakeEks({ clusters: { 'team-watch': described('team-watch', { pub: true, priv: true, cidrs: ['0.0.0.0/0'] }, { tags }) } });
  const tagged = (set: Record<string, string>, removed: string[] = []) =>
    state('team-watch', { trigger: trigger({ eventName: removed.length > 0 ? 'UntagResource' : 'TagResource', updateId: null, requested: null, waitFor: 'none', actor: BOB, tags: { set, removed } }) });
  const judged = (over: Partial<NonNullable<ClusterLedger['lastJudged']>>): NonNullable<ClusterLedger['lastJudged']> => ({
    at: STARTED_AT - 3_600_000,
    rule: null,
    mode: 'enforce',
    publicAccess: 'restricted',
    privateAccess: 'required',
    allowedPublicCidrs: ALLOWED,
    maxPublicCidrs: 40,
    exempt: false,
    tags: {},
    ...over,
  });

  // Without an earlier judgement what an overwritten tag was cannot be known: a change to a tag the policy
  // decides on is reported as possibly laxer (before unknown) rather than passing silently.
  it('a TagResource of a tag the policy matches on, with no judgement on record: before unknown, laxer', async () => {
    const d = deps({ eks: watched({ guard: 'alert' }) });

    const result = await evaluateClusterStep(tagged({ guard: 'alert' }), d);

    expect(result.tagChange).toMatchObject({
      actor: BOB,
      set: { guard: 'alert' },
      removed: [],
      before: null,
      after: { rule: 'watch-only', mode: 'alert', exempt: false, tags: { guard: 'alert' } },
      laxer: true,
    });
  });

  it('a TagResource of a tag no rule matches on, with no judgement on record: not laxer', async () => {
    const d = deps({ eks: watched({ costCenter: '42' }) });

    const result = await evaluateClusterStep(tagged({ costCenter: '42' }), d);

    expect(result.tagChange).toMatchObject({ before: null, laxer: false });
  });

  it('compares with the judgement the ledger remembers when there is one', async () => {
    const previous = judged({ rule: 'watch-only', mode: 'alert', tags: { guard: 'alert' } });
    const ledger = new FakeLedger().seed(ledgerOf('team-watch', { lastJudged: previous }));
    const d = deps({ ledger, eks: watched({ guard: 'alert', team: 'payments' }) });

    const result = await evaluateClusterStep(tagged({ team: 'payments' }), d);

    expect(result.tagChange).toMatchObject({ before: previous, laxer: false });
  });

  it('an UntagResource that put the cluster back under enforcement is not laxer', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('team-watch', { lastJudged: judged({ rule: 'watch-only', mode: 'alert', tags: { guard: 'alert' } }) }));
    const d = deps({ ledger, eks: watched({}) });

    const result = await evaluateClusterStep(tagged({}, ['guard']), d);

    expect(result.tagChange).toMatchObject({ removed: ['guard'], after: { mode: 'enforce' }, laxer: false });
  });

  it('an UntagResource with no judgement on record cannot be undone: before unknown, laxer only if now exempt', async () => {
    const d = deps({ eks: watched({}) });

    const result = await evaluateClusterStep(tagged({}, ['owner']), d);

    expect(result.tagChange).toMatchObject({ before: null, laxer: false });
  });

  // Regression (found by review, fixed): src/workflow/steps.ts evaluateClusterStep (line 179) compares a tag change with
  // `ledger.lastJudged`, which this same execution may have written: a retried EvaluateCluster (its write
  // landed, its response did not), or the second judgement after RemediateCluster returned `stale` or
  // `busy`, compares the cluster with itself and reports `laxer: false`; the final $.assessment (what the
  // alert is built from) then loses TAG_CHANGE_LAXER and the raised severity. Expected: the same tag
  // change on every judgement of the execution.
  it('judging the same execution again reports the same tag change (a retry, or after stale/busy)', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('team-watch', { lastJudged: judged({}) }));
    const d = deps({ ledger, eks: watched({ guard: 'alert' }) });
    const s = tagged({ guard: 'alert' });

    const first = await evaluateClusterStep(s, d);
    const again = await evaluateClusterStep(s, d);

    expect(first.tagChange?.laxer).toBe(true);
    expect(again.tagChange).toEqual(first.tagChange);
  });

  // Regression: a claimed TagResource of another execution (silenced as ALREADY_HANDLED) must still be
  // reported by the alert of the execution whose judgement covered it.
  it('a tag change claimed from another execution is compared too', async () => {
    const tagging = change('c-tag', '2026-03-02T09:14:50Z', { eventName: 'TagResource', actor: BOB, requested: null, updateId: null, tags: { set: { guard: 'alert' }, removed: [] } });
    const ledger = new FakeLedger().seed(ledgerOf('team-watch', { lastJudged: judged({}), changes: [tagging] }));
    const d = deps({ ledger, eks: watched({ guard: 'alert' }) });

    const result = await evaluateClusterStep(state('team-watch'), d);

    // The trigger's own change is claimed too: it is recorded by the judgement if the intake had not.
    expect(result.actors?.map((c) => c.eventId).sort()).toEqual(['c-tag', 'f4d046b0-7d95-47bf-8349-c98a95a738e9']);
    expect(result.tagChange?.laxer).toBe(true);
  });

  it('a TagResource that exempts the cluster is laxer', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('team-watch', { lastJudged: judged({}) }));
    const d = deps({ ledger, eks: watched(EXEMPT_TAG) });

    const result = await evaluateClusterStep(tagged(EXEMPT_TAG), d);

    expect(result.evaluation?.verdict).toBe('exempt');
    expect(result.tagChange).toMatchObject({ after: { exempt: true }, laxer: true });
  });
});

describe('preflightCheck', () => {
  const privateOn: EndpointTarget = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] };
  const publicOff: EndpointTarget = { endpointPublicAccess: false, endpointPrivateAccess: true };

  it.each<[string, Endpoint, EndpointTarget]>([
    ['narrowing CIDRs while private access is already on', { pub: true, priv: true }, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }],
    ['keeping a private-only cluster private only', { pub: false, priv: true }, { endpointPublicAccess: false, endpointPrivateAccess: true }],
  ])('%s does not rely on the private endpoint any more than now: safe, no EC2 call', async (_what, observed, target) => {
    const d = deps();

    const result = await preflightCheck(assessed('team-a', handEvaluation(observed, target)), d);

    expect(result).toEqual({ safe: true, checked: false, vpcId: VPC, problems: [] });
    expect(d.ec2Fake.calls).toEqual([]);
  });

  it.each<[string, Endpoint, EndpointTarget]>([
    ['turning private access on', { pub: true, priv: false }, privateOn],
    ['turning public access off', { pub: true, priv: true }, publicOff],
    ['turning private on and public off at once', { pub: true, priv: false }, publicOff],
  ])('%s checks the VPC; a VPC that resolves the private endpoint is safe', async (_what, observed, target) => {
    const d = deps({ ec2: fakeEc2({}) });

    const result = await preflightCheck(assessed('team-a', handEvaluation(observed, target)), d);

    expect(result).toEqual({ safe: true, checked: true, vpcId: VPC, problems: [] });
    expect(d.ec2Fake.calls).toEqual([{ op: 'vpcDnsFacts', args: [ref('team-a'), VPC] }]);
  });

  it.each<[string, Partial<VpcDnsFacts>, 'enableDnsSupport' | 'enableDnsHostnames' | 'AmazonProvidedDNS', RegExp]>([
    ['DNS support off', { enableDnsSupport: false }, 'enableDnsSupport', /modify-vpc-attribute --vpc-id vpc-0a1b2c3d4e5f60001 --enable-dns-support/],
    ['DNS hostnames off', { enableDnsHostnames: false }, 'enableDnsHostnames', /modify-vpc-attribute --vpc-id vpc-0a1b2c3d4e5f60001 --enable-dns-hostnames/],
    ['DHCP options with custom DNS servers only', { domainNameServers: ['10.0.0.2', '10.0.0.3'] }, 'AmazonProvidedDNS', /associate-dhcp-options --vpc-id vpc-0a1b2c3d4e5f60001/],
    ['no DHCP options at all', { dhcpOptionsId: null, domainNameServers: [] }, 'AmazonProvidedDNS', /associate-dhcp-options --vpc-id vpc-0a1b2c3d4e5f60001/],
  ])('%s: unsafe, one problem with a fix naming the VPC', async (_what, facts, check, fix) => {
    const d = deps({ ec2: fakeEc2(facts) });

    const result = await preflightCheck(assessed('team-a', handEvaluation({ pub: true, priv: false }, privateOn)), d);

    expect(result.safe).toBe(false);
    expect(result.checked).toBe(true);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toEqual({ check, message: expect.stringContaining(VPC), fix: expect.stringMatching(fix) });
  });

  it('reports every problem at once', async () => {
    const d = deps({ ec2: fakeEc2({ enableDnsSupport: false, enableDnsHostnames: false, domainNameServers: ['10.0.0.2'] }) });

    const result = await preflightCheck(assessed('team-a', handEvaluation({ pub: true, priv: true }, publicOff)), d);

    expect(result.safe).toBe(false);
    expect(result.problems.map((p) => p.check)).toEqual(['enableDnsSupport', 'enableDnsHostnames', 'AmazonProvidedDNS']);
    expect(result.problems.every((p) => p.fix.includes(VPC))).toBe(true);
  });

  it('takes the DHCP facts as the adapter gives them (the "default" options set lists AmazonProvidedDNS)', async () => {
    const d = deps({ ec2: fakeEc2({ dhcpOptionsId: 'default', domainNameServers: ['AmazonProvidedDNS'] }) });

    await expect(preflightCheck(assessed('team-a', handEvaluation({ pub: true, priv: false }, privateOn)), d)).resolves.toMatchObject({ safe: true, checked: true });
  });

  it('AmazonProvidedDNS next to other servers is enough', async () => {
    const d = deps({ ec2: fakeEc2({ domainNameServers: ['10.0.0.2', 'AmazonProvidedDNS'] }) });

    await expect(preflightCheck(assessed('team-a', handEvaluation({ pub: true, priv: false }, privateOn)), d)).resolves.toMatchObject({ safe: true });
  });

  it('a cluster without a VPC id cannot be checked: unsafe, no EC2 call', async () => {
    const d = deps();

    const result = await preflightCheck(assessed('team-a', handEvaluation({ pub: true, priv: false }, privateOn, 'remediate', null)), d);

    expect(result).toMatchObject({ safe: false, checked: true, vpcId: null });
    expect(result.problems.length).toBeGreaterThan(0);
    expect(d.ec2Fake.calls).toEqual([]);
  });

  it.each<[string, Partial<ExecutionState>]>([
    ['no assessment', {}],
    ['an assessment without a target', { assessment: { settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation: handEvaluation({ pub: true, priv: false }, null, 'alert'), observedAt: 0 } }],
  ])('refuses a state with %s', async (_what, over) => {
    await expect(preflightCheck(state('team-a', over), deps())).rejects.toBeInstanceOf(WorkflowStateError);
  });

  it('an EC2 error propagates (the state machine retries or catches it)', async () => {
    const err = new TransientAwsError('DescribeVpcAttribute failed: RequestLimitExceeded');
    const ec2 = fakeEc2();
    ec2.vpcDnsFacts = async () => { throw err; };

    await expect(preflightCheck(assessed('team-a', handEvaluation({ pub: true, priv: false }, privateOn)), deps({ ec2 }))).rejects.toBe(err);
  });
});

describe('remediateCluster', () => {
  const target: EndpointTarget = { endpointPublicAccess: false, endpointPrivateAccess: true };
  const OPEN_CONFIG: EndpointConfig = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] };
  const openProd = () => assessed('prod-api', handEvaluation({ pub: true, priv: false }, target));
  /** The live cluster as it was judged (handEvaluation's observed): the compare-and-set passes. */
  const asJudged = (extra: Parameters<typeof described>[2] = {}) => ({ 'prod-api': described('prod-api', { pub: true, priv: false }, extra) });
  const withBusy = (busyAttempts: number, attempt = busyAttempts): ExecutionState => ({
    ...openProd(),
    remediation: { status: 'busy', updateId: null, target, busyAttempts, attempt, waitSeconds: 30, error: { name: 'ClusterBusyError', message: 'in use' } },
  });
  const ownUpdates = (d: Harness) => d.ledgerFake.get(ref('prod-api')).ownUpdates;

  it.each<[string, Endpoint, EndpointTarget]>([
    ['both endpoints off', { pub: true, priv: true }, { endpointPublicAccess: false, endpointPrivateAccess: false }],
    ['turning public access on', { pub: false, priv: true }, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }],
    ['turning private access off', { pub: true, priv: true }, { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.0/24'] }],
  ])('refuses a target with %s and changes nothing', async (_what, observed, unsafe) => {
    // The safety check now runs against the live cluster read just before, so the read happens; the write never does.
    const d = deps({ eks: fakeEks({ clusters: { 'team-a': described('team-a', observed) }, update: () => ({ updateId: 'should-not-happen' }) }) });

    await expect(remediateCluster(assessed('team-a', handEvaluation(observed, unsafe)), d)).rejects.toBeInstanceOf(WorkflowStateError);
    expect(d.eksFake.calls.map((c) => c.op)).toEqual(['describeCluster']);
    expect(d.ledgerFake.get(ref('team-a')).ownUpdates).toEqual([]);
  });

  it.each<[string, Partial<ExecutionState>]>([
    ['no assessment', {}],
    ['an alert decision', { assessment: { settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation: handEvaluation({ pub: true, priv: false }, target, 'alert'), observedAt: 0 } }],
    ['a remediate decision without a target', { assessment: { settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation: handEvaluation({ pub: true, priv: false }, null), observedAt: 0 } }],
  ])('refuses a state with %s', async (_what, over) => {
    const d = deps({ eks: fakeEks({ update: () => ({ updateId: 'x' }) }) });

    await expect(remediateCluster(state('prod-api', over), d)).rejects.toBeInstanceOf(WorkflowStateError);
    expect(d.eksFake.calls).toEqual([]);
    expect(d.ledgerFake.writes).toBe(0);
  });

  it('re-reads the cluster, sends exactly the target with the observed configuration and its token, and reports the update started', async () => {
    const d = deps({ eks: fakeEks({ clusters: asJudged(), update: () => ({ updateId: 'revert-1' }) }) });

    const result = await remediateCluster(openProd(), d);

    const token = updateToken(ME, 1);
    expect(result).toEqual({ status: 'started', updateId: 'revert-1', target, busyAttempts: 0, attempt: 1, token, at: d.clock.now, waitSeconds: 0, error: null });
    expect(d.eksFake.calls).toEqual([
      { op: 'describeCluster', args: [ref('prod-api')] },
      { op: 'updateEndpointAccess', args: [ref('prod-api'), target, { observed: OPEN_CONFIG, token }] },
    ]);
  });

  it('records the token in the ledger before the call, and the update id after it', async () => {
    let atCall: ClusterLedger['ownUpdates'] = [];
    const d = deps({
      eks: fakeEks({
        clusters: asJudged(),
        update: () => {
          atCall = d.ledgerFake.get(ref('prod-api')).ownUpdates;
          return { updateId: 'revert-1' };
        },
      }),
    });

    await remediateCluster(openProd(), d);

    const token = updateToken(ME, 1);
    expect(atCall).toEqual([{ token, updateId: null, execution: ME, at: d.clock.now, target }]);
    expect(ownUpdates(d)).toEqual([{ token, updateId: 'revert-1', execution: ME, at: d.clock.now, target }]);
  });

  it('keeps the busy count of earlier attempts when the update finally starts', async () => {
    const d = deps({ eks: fakeEks({ clusters: asJudged(), update: () => ({ updateId: 'revert-2' }) }) });

    await expect(remediateCluster(withBusy(2), d)).resolves.toMatchObject({ status: 'started', updateId: 'revert-2', busyAttempts: 2, attempt: 3, token: updateToken(ME, 3), error: null });
  });

  it('"already at the desired configuration" (no update id) is success, not failure', async () => {
    const d = deps({ eks: fakeEks({ clusters: asJudged(), update: () => ({ updateId: null }) }) });

    await expect(remediateCluster(openProd(), d)).resolves.toEqual({ status: 'already-compliant', updateId: null, target, busyAttempts: 0, attempt: 1, token: updateToken(ME, 1), at: d.clock.now, waitSeconds: 0, error: null });
  });

  it.each<[elapsedSeconds: number, previousAttempts: number | null, status: RemediateResult['status'], attempts: number]>([
    [10, null, 'busy', 1],
    [600, 1, 'busy', 2],
    [3600, 7, 'busy', 8],
    // The wait budget (3600 s from startedAt) decides when to stop, not a count.
    [3601, 1, 'gave-up', 2],
    [9000, null, 'gave-up', 1],
  ])('a cluster busy with another update after %p s and %p earlier busy attempts: %s, attempt %p', async (elapsedSeconds, previous, status, attempts) => {
    const busy = new ClusterBusyError('UpdateClusterConfig failed: ResourceInUseException: Cannot EndpointAccessUpdate because cluster prod-api currently has update 1 in progress');
    const d = deps({ elapsedSeconds, eks: fakeEks({ clusters: asJudged(), update: () => { throw busy; } }) });

    const result = await remediateCluster(previous === null ? openProd() : withBusy(previous), d);

    expect(result).toMatchObject({ status, updateId: null, busyAttempts: attempts, waitSeconds: busyWaitSeconds(attempts), error: { name: 'ClusterBusyError', message: busy.message } });
  });

  it.each(['UPDATING', 'CREATING'])('a cluster found %s at the re-read is busy too, without calling UpdateClusterConfig; judged again a second later (the tracker then follows it)', async (status) => {
    const d = deps({ eks: fakeEks({ clusters: asJudged({ status }), update: () => ({ updateId: 'should-not-happen' }) }) });

    const result = await remediateCluster(openProd(), d);

    expect(result).toMatchObject({ status: 'busy', busyAttempts: 1, waitSeconds: 1, error: { name: 'ClusterBusyError', message: expect.stringContaining(status) } });
    expect(d.eksFake.calls.map((c) => c.op)).toEqual(['describeCluster']);
    expect(ownUpdates(d)).toEqual([]);
  });

  it('waits longer after each busy attempt, from 30 s up to 300 s', async () => {
    const busy = new ClusterBusyError('in use');
    const d = deps({ eks: fakeEks({ clusters: asJudged(), update: () => { throw busy; } }) });
    const waits: number[] = [];

    let s = openProd();
    for (let i = 0; i < 6; i += 1) {
      const result = await remediateCluster(s, d);
      waits.push(result.waitSeconds);
      s = { ...s, remediation: result };
    }

    expect(waits).toEqual([30, 60, 120, 240, 300, 300]);
  });

  it.each<[string, boolean]>([
    ['InvalidParameterException', true],
    ['InvalidRequestException', true],
    ['ValidationException', true],
    ['AccessDeniedException', false],
    ['UnsupportedAvailabilityZoneException', false],
  ])('a request rejected with %s is reported as data with the AWS error name, permanent %p', async (name, permanent) => {
    const rejected = new AwsRequestRejectedError(`UpdateClusterConfig failed: ${name}: The following CIDRs are invalid`, name);
    const d = deps({ eks: fakeEks({ clusters: asJudged(), update: () => { throw rejected; } }) });

    await expect(remediateCluster(openProd(), d)).resolves.toEqual({
      status: 'rejected',
      updateId: null,
      target,
      busyAttempts: 0,
      attempt: 1,
      token: updateToken(ME, 1),
      permanent,
      waitSeconds: 0,
      error: { name, message: rejected.message },
    });
  });

  it.each<[string, Error]>([
    ['TransientAwsError', new TransientAwsError('UpdateClusterConfig failed: ThrottlingException')],
    ['ClusterNotFoundError', new ClusterNotFoundError('UpdateClusterConfig failed: ResourceNotFoundException')],
    ['an unexpected Error', new TypeError('boom')],
  ])('%s is thrown as it is, for the state machine to retry or catch', async (_what, err) => {
    const d = deps({ eks: fakeEks({ clusters: asJudged(), update: () => { throw err; } }) });

    await expect(remediateCluster(openProd(), d)).rejects.toBe(err);
  });

  it.each<[string, ClusterDescription]>([
    ['its endpoint settings changed', described('prod-api', { pub: false, priv: true })],
    ['its CIDRs changed', described('prod-api', { pub: true, priv: false, cidrs: ['203.0.113.0/24'] })],
    ['its tags changed (the rule that applies may have)', described('prod-api', { pub: true, priv: false }, { tags: { guard: 'alert' } })],
  ])('writes nothing when the cluster changed since it was judged (%s): stale, judged again', async (_what, live) => {
    const d = deps({ eks: fakeEks({ clusters: { 'prod-api': live }, update: () => ({ updateId: 'should-not-happen' }) }) });

    const result = await remediateCluster(openProd(), d);

    expect(result).toMatchObject({ status: 'stale', updateId: null, token: null, attempt: 1, error: null });
    expect(d.eksFake.calls.map((c) => c.op)).toEqual(['describeCluster']);
    expect(ownUpdates(d)).toEqual([]);
  });

  it('the attempt after a stale one gets a new token; a retry of the same attempt gets the same one', async () => {
    const d = deps({ eks: fakeEks({ clusters: asJudged(), update: () => ({ updateId: 'revert-1' }) }) });
    const afterStale: ExecutionState = { ...openProd(), remediation: { status: 'stale', updateId: null, target, busyAttempts: 0, attempt: 1, token: null, waitSeconds: 0, error: null } };

    const first = await remediateCluster(afterStale, d);
    const retried = await remediateCluster(afterStale, d);

    expect(first).toMatchObject({ status: 'started', attempt: 2, token: updateToken(ME, 2) });
    expect(retried.token).toBe(first.token);
    expect(first.token).not.toBe(updateToken(ME, 1));
    expect(ownUpdates(d).map((u) => u.token)).toEqual([updateToken(ME, 2)]);
  });

  it('updateToken: a UUID\'s shape, the same for the same execution and attempt, different otherwise', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/;

    expect(updateToken(ME, 1)).toMatch(uuid);
    expect(updateToken(ME, 1)).toBe(updateToken(ME, 1));
    expect(new Set([updateToken(ME, 1), updateToken(ME, 2), updateToken(OTHER, 1)]).size).toBe(3);
  });

  it('stops without reading the cluster when another execution took the lease over', async () => {
    const ledger = new FakeLedger().seed(ledgerOf('prod-api', { lease: { holder: OTHER, acquiredAt: STARTED_AT, expiresAt: STARTED_AT + LEASE_MS } }));
    const d = deps({ ledger, eks: fakeEks({ clusters: asJudged(), update: () => ({ updateId: 'should-not-happen' }) }) });

    const result = await remediateCluster(openProd(), d);

    expect(result).toMatchObject({ status: 'lost-lease', updateId: null, token: null });
    expect(d.eksFake.calls).toEqual([]);
    expect(ledger.get(ref('prod-api')).lease?.holder).toBe(OTHER);
  });

  // Regression (found by review, fixed): src/workflow/steps.ts remediateCluster, lines 283-284. When UpdateClusterConfig succeeded but the
  // Lambda failed afterwards (here: recording the update id in the ledger threw a TransientAwsError), the
  // state machine retries RemediateCluster with the same state. The retry re-reads the cluster, finds it
  // UPDATING (the guard's own update) and returns `busy` before it ever re-sends the same token, so the
  // execution waits, judges again, finds the cluster compliant and ends `compliant` (unpublished): the
  // revert is never reported nor recorded (the escalation count misses it). Expected: the retry recognises
  // its own recorded token and re-sends it (EKS answers a repeated token with the update it started),
  // returning `started` with the same update id.
  it('a retry after the update started (the Lambda failed after the call) follows the same update', async () => {
    const byToken = new Map<string, string>();
    const d = deps({
      eks: fakeEks({
        // The first read shows the cluster as judged; once the update started, EKS shows it UPDATING.
        clusters: { 'prod-api': [described('prod-api', { pub: true, priv: false }), described('prod-api', { pub: true, priv: false }, { status: 'UPDATING' })] },
        update: (_c, _t, { token }) => {
          if (!byToken.has(token)) byToken.set(token, `revert-${byToken.size + 1}`);
          return { updateId: byToken.get(token)! };
        },
      }),
    });
    // Writes: 1 renews the lease, 2 records the token, 3 records the update id (fails).
    d.ledgerFake.failWrite(3);
    const s = openProd();
    await expect(remediateCluster(s, d)).rejects.toBeInstanceOf(TransientAwsError);
    const retried = await remediateCluster(s, d);

    expect(retried).toMatchObject({ status: 'started', updateId: 'revert-1', token: updateToken(ME, 1) });
    expect(byToken.size).toBe(1);
  });
});

describe('verifyRemediation', () => {
  it.each<[string, ClusterDescription, boolean, Evaluation['verdict']]>([
    ['private only now', described('prod-api', { pub: false, priv: true }), true, 'compliant'],
    ['still public', described('prod-api', { pub: true, priv: true }), false, 'violation'],
    ['exempt meanwhile (tag added)', described('prod-api', { pub: true, priv: false }, { tags: EXEMPT_TAG }), true, 'exempt'],
  ])('a prod cluster %s: compliant %p', async (_what, cluster, compliant, verdict) => {
    const d = deps({ elapsedSeconds: 700, eks: fakeEks({ clusters: { 'prod-api': cluster } }) });

    const result = await verifyRemediation(state('prod-api'), d);

    expect(result.compliant).toBe(compliant);
    expect(result.evaluation.verdict).toBe(verdict);
    expect(result.verifiedAt).toBe(d.clock.now);
    expect(d.eksFake.calls.map((c) => c.op)).toEqual(['describeCluster']);
  });

  it('judges the live cluster, not the assessment stored earlier', async () => {
    const d = deps({ eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }) } }) });
    const s = assessed('prod-api', { ...handEvaluation({ pub: false, priv: true }, null, 'none'), verdict: 'compliant' });

    await expect(verifyRemediation(s, d)).resolves.toMatchObject({ compliant: false, evaluation: { observed: { endpointPublicAccess: true } } });
  });
});

describe('the Express tracker\'s input (trackOf)', () => {
  const HOME = '111122223333';
  const settings: TrackingSettings = { homeRegion: 'us-east-1', homeAccount: HOME, changeReaderRoleArn: `arn:aws:iam::${HOME}:role/guard/change-reader`, memberReadRoleName: 'eks-endpoint-guard-member-read' };
  const at = (account: string, region: string): ClusterRef => ({ name: 'prod-api', account, region });

  it.each<[where: string, cluster: ClusterRef, over: Partial<TrackingSettings>, via: 'sdk' | 'lambda', roleArn: string | null]>([
    ['home account, home region: SDK integration as the change reader', at(HOME, 'us-east-1'), {}, 'sdk', `arn:aws:iam::${HOME}:role/guard/change-reader`],
    ['member account, home region: SDK integration as the member read role', at('444455556666', 'us-east-1'), {}, 'sdk', 'arn:aws:iam::444455556666:role/eks-endpoint-guard-member-read'],
    ['member account in GovCloud: the partition of the cluster\'s region', at('444455556666', 'us-gov-west-1'), { homeRegion: 'us-gov-west-1' }, 'sdk', 'arn:aws-us-gov:iam::444455556666:role/eks-endpoint-guard-member-read'],
    ['another region: SDK integrations cannot reach it, pollChange does', at('444455556666', 'eu-west-1'), {}, 'lambda', null],
    ['home account without a change reader role: pollChange', at(HOME, 'us-east-1'), { changeReaderRoleArn: null }, 'lambda', null],
    ['member account without a member read role name: pollChange', at('444455556666', 'us-east-1'), { memberReadRoleName: null }, 'lambda', null],
  ])('%s', (_where, cluster, over, via, roleArn) => {
    expect(trackOf(cluster, 'u-1', { ...settings, ...over })).toEqual({ cluster, updateId: 'u-1', via, roleArn, pollSeconds: TRACK_POLL_SECONDS, maxPolls: TRACK_MAX_POLLS });
  });

  it.each<[budgetLeftSeconds: number, maxPolls: number]>([
    [Infinity, TRACK_MAX_POLLS],
    [3600, TRACK_MAX_POLLS],
    [95, 10],
    [10, 1],
    [0.5, 1],
    [-5, 1],
  ])('with %p s of wait budget left, a run polls at most %p times', (budget, maxPolls) => {
    expect(trackOf(at(HOME, 'us-east-1'), 'u-1', settings, budget).maxPolls).toBe(maxPolls);
  });

  it('follows a new cluster (no update id) by its status', () => {
    expect(trackOf(at(HOME, 'us-east-1'), null, settings)).toMatchObject({ updateId: null, via: 'sdk' });
  });

  it('gives no tracker input for a change that is done or out of budget (the workflow goes on, or stops)', async () => {
    const done = deps({ eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', 'Successful') } }), settings: { tracking: settings } });
    expect((await waitForChange(state('prod-api'), done)).track).toBeNull();
    const late = deps({ elapsedSeconds: 7200, eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', 'InProgress') } }), settings: { tracking: settings } });
    expect(await waitForChange(state('prod-api', { change: previousPoll(9) }), late)).toMatchObject({ timedOut: true, track: null });
  });
});

describe('pollChange (inside the tracker, for other regions)', () => {
  it.each<[status: string, done: boolean]>([
    ['InProgress', false],
    ['Successful', true],
    ['Failed', true],
    ['Cancelled', true],
  ])('an update %s: done %p', async (status, done) => {
    const d = deps({ eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', status) } }) });
    expect(await pollChange({ cluster: ref('prod-api'), updateId: 'user-update-1' }, d)).toEqual({ done, status });
  });

  it.each<[status: string, done: boolean]>([
    ['CREATING', false],
    ['ACTIVE', true],
  ])('a new cluster %s: done %p', async (status, done) => {
    const d = deps({ eks: fakeEks({ clusters: { 'dev-sandbox': described('dev-sandbox', { pub: true, priv: false }, { status }) } }) });
    expect(await pollChange({ cluster: ref('dev-sandbox'), updateId: null }, d)).toEqual({ done, status });
  });

  it('refuses an input without a cluster, naming what it needs', async () => {
    await expect(pollChange({} as never, deps())).rejects.toThrow(/PollChange needs \{cluster/);
  });

  it('throws transient EKS errors for the tracker to retry', async () => {
    const eks = fakeEks();
    eks.describeUpdate = async () => { throw new TransientAwsError('DescribeUpdate failed: ThrottlingException'); };
    await expect(pollChange({ cluster: ref('prod-api'), updateId: 'u' }, deps({ eks }))).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('a failed tracker run', () => {
  it('is logged and counted (TrackerFailures) by the next poll, which still polls', async () => {
    const warnings: unknown[] = [];
    const metrics: Metric[] = [];
    const d = { ...deps({ eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', 'InProgress') } }) }), log: { ...silentLog, warn: (m: string, extra?: unknown) => warnings.push([m, extra]) }, metrics: { add: (m: Metric) => metrics.push(m) } };

    const result = await waitForChange(state('prod-api', { change: previousPoll(1), changeTracking: { Error: 'States.TaskFailed', Cause: 'AccessDenied' } }), d);

    // The first failure in a row waits 30 s, however many tracker runs came before.
    expect(result).toMatchObject({ done: false, polls: 2, waitSeconds: 30, trackerFailures: 1 });
    expect(metrics).toEqual([{ name: 'TrackerFailures', unit: 'Count', value: 1 }]);
    expect(warnings).toHaveLength(1);
  });

  it.each<[failuresBefore: number, tracked: 'failed' | 'ok', failures: number, waitSeconds: number]>([
    [0, 'failed', 1, 30],
    [1, 'failed', 2, 60],
    [2, 'failed', 3, 120],
    [3, 'failed', 4, 180],
    [7, 'failed', 8, 180],
    [3, 'ok', 0, 30],
  ])('after %p failures in a row and a run that %s: %p failures, a %p s wait if the next one fails', async (before, tracked, failures, waitSeconds) => {
    const d = deps({ eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', 'InProgress') } }) });
    const changeTracking = tracked === 'failed' ? { Error: 'States.TaskFailed', Cause: 'x' } : { done: false, status: 'InProgress', polls: 26 };

    const result = await waitForChange(state('prod-api', { change: { ...previousPoll(12), trackerFailures: before }, changeTracking }), d);

    expect(result).toMatchObject({ trackerFailures: failures, waitSeconds });
  });

  // Metrics are flushed even when a Lambda fails: a step retried after a throttled call must not count the
  // same failed run twice (EKS throttling is what usually fails the tracker, and it throttles the step too).
  it.each<[step: string, run: (d: ReturnType<typeof deps>) => Promise<unknown>, eks: () => ReturnType<typeof fakeEks>]>([
    ['WaitForChange', (d) => waitForChange(state('prod-api', { change: previousPoll(1), changeTracking: { Error: 'States.TaskFailed', Cause: 'x' } }), d), () => fakeEks({ updates: { 'user-update-1': update('user-update-1', 'InProgress') } })],
    ['EvaluateCluster', (d) => evaluateClusterStep(state('prod-api', { assessment: { settled: false, leaseLost: false, waitSeconds: 60, timedOut: false, evaluation: null, observedAt: 0 }, busyTracking: { Error: 'States.TaskFailed', Cause: 'x' } }), d), () => fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: false, priv: true }) } })],
  ])('%s counts a failed run only when its own calls succeed, so a retry counts it once', async (_step, run, eks) => {
    const metrics: Metric[] = [];
    const throttled = eks();
    throttled.describeUpdate = async () => { throw new TransientAwsError('DescribeUpdate failed: ThrottlingException'); };
    throttled.describeCluster = async () => { throw new TransientAwsError('DescribeCluster failed: ThrottlingException'); };
    const counting = (e: ReturnType<typeof fakeEks>) => ({ ...deps({ eks: e }), metrics: { add: (m: Metric) => metrics.push(m) } });

    await expect(run(counting(throttled))).rejects.toBeInstanceOf(TransientAwsError);
    expect(metrics).toEqual([]);
    await run(counting(eks()));
    expect(metrics.filter((m) => m.name === 'TrackerFailures')).toHaveLength(1);
  });

  it('a fallback wait never outlasts the wait budget', async () => {
    const d = deps({ elapsedSeconds: 3590, eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', 'InProgress') } }) });

    const result = await waitForChange(state('prod-api', { change: { ...previousPoll(12), trackerFailures: 5 }, changeTracking: { Error: 'States.TaskFailed', Cause: 'x' } }), d);

    expect(result).toMatchObject({ timedOut: false, waitSeconds: 10, track: { maxPolls: 1 } });
  });

  it('a successful run is no failure', async () => {
    const metrics: Metric[] = [];
    const d = { ...deps({ eks: fakeEks({ updates: { 'user-update-1': update('user-update-1', 'Successful') } }) }), metrics: { add: (m: Metric) => metrics.push(m) } };

    await waitForChange(state('prod-api', { changeTracking: { done: true, status: 'Successful', polls: 3 } }), d);

    expect(metrics).toEqual([]);
  });
});
