/**
 * The state machine's steps (src/workflow/steps.ts) against in-memory fake ports: no network, no emulator.
 * Each fake records the calls it got and answers from a script; a call the test did not script fails loudly.
 * The policy is the workflow fixture (test/fixtures/workflow/policy.yaml): by default public access is
 * restricted to 203.0.113.0/24 and 198.51.100.0/24 with private access required; `prod-*` clusters must be
 * private only; tag `guard=alert` means alert mode; `legacy-*` clusters are exempt.
 */
import { readFileSync } from 'node:fs';
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, TransientAwsError } from '../../src/errors';
import { parsePolicy, type EndpointTarget, type Evaluation } from '../../src/policy';
import type { ClusterRef } from '../../src/policy/types';
import { busyWaitSeconds } from '../../src/workflow/backoff';
import type { Log, WorkflowDeps, WorkflowSettings } from '../../src/workflow/deps';
import type { ClusterDescription, Ec2Port, EksPort, UpdateDescription, VpcDnsFacts } from '../../src/workflow/ports';
import { evaluateClusterStep, preflightCheck, remediateCluster, verifyRemediation, waitForChange, waitForRevert, WorkflowStateError } from '../../src/workflow/steps';
import type { ExecutionState, PollResult, RemediateResult, Trigger } from '../../src/workflow/types';

const POLICY = parsePolicy(readFileSync(new URL('../fixtures/workflow/policy.yaml', import.meta.url), 'utf8'), 'workflow policy');
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const VPC = 'vpc-0a1b2c3d4e5f60001';
const STARTED_AT = Date.parse('2026-03-02T09:15:00Z');
const ALLOWED = ['203.0.113.0/24', '198.51.100.0/24'];

// ---------------------------------------------------------------------------------------------------------
// Fakes

type Call = { op: string; args: unknown[] };
type EksScript = {
  clusters?: Record<string, ClusterDescription | ClusterDescription[] | Error>;
  updates?: Record<string, UpdateDescription>;
  update?: (cluster: ClusterRef, target: EndpointTarget) => { updateId: string | null };
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
    async updateEndpointAccess(cluster, target) {
      calls.push({ op: 'updateEndpointAccess', args: [cluster, structuredClone(target)] });
      if (!script.update) throw new Error('test did not script updateEndpointAccess');
      return script.update(cluster, target);
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

type Harness = WorkflowDeps & { clock: { now: number }; eksFake: ReturnType<typeof fakeEks>; ec2Fake: ReturnType<typeof fakeEc2> };

function deps(options: { eks?: ReturnType<typeof fakeEks>; ec2?: ReturnType<typeof fakeEc2>; settings?: Partial<WorkflowSettings>; elapsedSeconds?: number } = {}): Harness {
  const clock = { now: STARTED_AT + (options.elapsedSeconds ?? 10) * 1000 };
  const eksFake = options.eks ?? fakeEks();
  const ec2Fake = options.ec2 ?? fakeEc2();
  return {
    eks: eksFake,
    ec2: ec2Fake,
    alerts: { publish: async () => { throw new Error('steps never publish'); } },
    policy: POLICY,
    settings: { shadowMode: false, notifyCompliant: false, maxWaitSeconds: 3600, maxBusyAttempts: 3, ...options.settings },
    now: () => clock.now,
    log: silentLog,
    clock,
    eksFake,
    ec2Fake,
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
  return { cluster: ref(name), trigger: trigger(), startedAt: STARTED_AT, ...over };
}

const update = (id: string, status: string, errors: UpdateDescription['errors'] = []): UpdateDescription => ({ id, status, type: 'EndpointAccessUpdate', errors });
const previousPoll = (polls: number): PollResult => ({ done: false, status: 'InProgress', errors: [], polls, waitSeconds: 0, timedOut: false });

/** A hand-built evaluation: lets a test put any target next to any observed configuration, safe or not. */
function handEvaluation(observed: Endpoint, target: EndpointTarget | null, action: Evaluation['action'] = 'remediate', vpcId: string | null = VPC): Evaluation {
  return {
    cluster: { name: 'team-a', account: ACCOUNT, region: REGION, arn: null },
    settings: { rule: null, mode: 'enforce', publicAccess: 'restricted', privateAccess: 'required', allowedPublicCidrs: ALLOWED, maxPublicCidrs: 40 },
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
  state(name, { assessment: { settled: true, waitSeconds: 0, timedOut: false, evaluation, observedAt: STARTED_AT }, ...over });

// ---------------------------------------------------------------------------------------------------------

describe('waitForChange', () => {
  it('a sweep (waitFor none) is done at once, without calling EKS', async () => {
    const d = deps();

    const result = await waitForChange(state('team-a', { trigger: trigger({ kind: 'sweep', waitFor: 'none', updateId: null }) }), d);

    expect(result).toEqual({ done: true, status: 'none', errors: [], polls: 0, waitSeconds: 0, timedOut: false });
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

    expect(result).toEqual({ done: false, status: 'InProgress', errors: [], polls, waitSeconds, timedOut: false });
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

  it.each<[string, Partial<ExecutionState>]>([
    ['no remediation', {}],
    ['a remediation without an update id', { remediation: { ...started, status: 'already-compliant', updateId: null } }],
  ])('refuses a state with %s', async (_what, over) => {
    const d = deps();

    await expect(waitForRevert(state('prod-api', over), d)).rejects.toBeInstanceOf(WorkflowStateError);
    expect(d.eksFake.calls).toEqual([]);
  });
});

describe('evaluateClusterStep', () => {
  it('judges an ACTIVE cluster: a prod cluster open to the world must become private only', async () => {
    const d = deps({ eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }) } }) });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(result).toMatchObject({ settled: true, waitSeconds: 0, timedOut: false, observedAt: d.clock.now });
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
    ['exempt by tag', described('team-x', { pub: true, priv: false }, { tags: { 'eks-endpoint-guard/exempt-until': '2099-01-01' } }), 'exempt', 'none'],
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

  it.each(['UPDATING', 'CREATING'])('a cluster still %s is not settled: judged again after a wait', async (status) => {
    const d = deps({ eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }, { status }) } }) });

    const result = await evaluateClusterStep(state('prod-api'), d);

    expect(result.settled).toBe(false);
    expect(result.timedOut).toBe(false);
    expect(result.waitSeconds).toBeGreaterThan(0);
  });

  it('a cluster still busy past the wait budget times out', async () => {
    const d = deps({ elapsedSeconds: 3601, eks: fakeEks({ clusters: { 'prod-api': described('prod-api', { pub: true, priv: false }, { status: 'UPDATING' }) } }) });

    await expect(evaluateClusterStep(state('prod-api'), d)).resolves.toMatchObject({ settled: false, timedOut: true });
  });

  it('a settled cluster never times out, however late', async () => {
    const d = deps({ elapsedSeconds: 9000, eks: fakeEks({ clusters: { 'team-a': described('team-a', { pub: true, priv: true, cidrs: ['203.0.113.0/24'] }) } }) });

    await expect(evaluateClusterStep(state('team-a'), d)).resolves.toMatchObject({ settled: true, timedOut: false });
  });

  it('a cluster that no longer exists throws ClusterNotFoundError (the Catch alerts)', async () => {
    await expect(evaluateClusterStep(state('gone'), deps())).rejects.toBeInstanceOf(ClusterNotFoundError);
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
    ['an assessment without a target', { assessment: { settled: true, waitSeconds: 0, timedOut: false, evaluation: handEvaluation({ pub: true, priv: false }, null, 'alert'), observedAt: 0 } }],
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
  const openProd = () => assessed('prod-api', handEvaluation({ pub: true, priv: false }, target));
  const withBusy = (busyAttempts: number): ExecutionState => ({
    ...openProd(),
    remediation: { status: 'busy', updateId: null, target, busyAttempts, waitSeconds: 30, error: { name: 'ClusterBusyError', message: 'in use' } },
  });

  it.each<[string, Endpoint, EndpointTarget]>([
    ['both endpoints off', { pub: true, priv: true }, { endpointPublicAccess: false, endpointPrivateAccess: false }],
    ['turning public access on', { pub: false, priv: true }, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }],
    ['turning private access off', { pub: true, priv: true }, { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.0/24'] }],
  ])('refuses a target with %s and calls nothing', async (_what, observed, unsafe) => {
    const d = deps({ eks: fakeEks({ update: () => ({ updateId: 'should-not-happen' }) }) });

    await expect(remediateCluster(assessed('team-a', handEvaluation(observed, unsafe)), d)).rejects.toBeInstanceOf(WorkflowStateError);
    expect(d.eksFake.calls).toEqual([]);
  });

  it.each<[string, Partial<ExecutionState>]>([
    ['no assessment', {}],
    ['an alert decision', { assessment: { settled: true, waitSeconds: 0, timedOut: false, evaluation: handEvaluation({ pub: true, priv: false }, target, 'alert'), observedAt: 0 } }],
    ['a remediate decision without a target', { assessment: { settled: true, waitSeconds: 0, timedOut: false, evaluation: handEvaluation({ pub: true, priv: false }, null), observedAt: 0 } }],
  ])('refuses a state with %s', async (_what, over) => {
    const d = deps({ eks: fakeEks({ update: () => ({ updateId: 'x' }) }) });

    await expect(remediateCluster(state('prod-api', over), d)).rejects.toBeInstanceOf(WorkflowStateError);
    expect(d.eksFake.calls).toEqual([]);
  });

  it('sends exactly the target and reports the update started', async () => {
    const d = deps({ eks: fakeEks({ update: () => ({ updateId: 'revert-1' }) }) });

    const result = await remediateCluster(openProd(), d);

    expect(result).toEqual({ status: 'started', updateId: 'revert-1', target, busyAttempts: 0, waitSeconds: 0, error: null });
    expect(d.eksFake.calls).toEqual([{ op: 'updateEndpointAccess', args: [ref('prod-api'), target] }]);
  });

  it('keeps the busy count of earlier attempts when the update finally starts', async () => {
    const d = deps({ eks: fakeEks({ update: () => ({ updateId: 'revert-2' }) }) });

    await expect(remediateCluster(withBusy(2), d)).resolves.toMatchObject({ status: 'started', updateId: 'revert-2', busyAttempts: 2, error: null });
  });

  it('"already at the desired configuration" (no update id) is success, not failure', async () => {
    const d = deps({ eks: fakeEks({ update: () => ({ updateId: null }) }) });

    await expect(remediateCluster(openProd(), d)).resolves.toEqual({ status: 'already-compliant', updateId: null, target, busyAttempts: 0, waitSeconds: 0, error: null });
  });

  it.each<[previousAttempts: number | null, status: RemediateResult['status'], attempts: number]>([
    [null, 'busy', 1],
    [1, 'busy', 2],
    [2, 'gave-up', 3],
  ])('a busy cluster after %p earlier busy attempts (max 3): %s, attempt %p', async (previous, status, attempts) => {
    const busy = new ClusterBusyError('UpdateClusterConfig failed: ResourceInUseException: Cannot EndpointAccessUpdate because cluster prod-api currently has update 1 in progress');
    const d = deps({ settings: { maxBusyAttempts: 3 }, eks: fakeEks({ update: () => { throw busy; } }) });

    const result = await remediateCluster(previous === null ? openProd() : withBusy(previous), d);

    expect(result).toMatchObject({ status, updateId: null, busyAttempts: attempts, waitSeconds: busyWaitSeconds(attempts), error: { name: 'ClusterBusyError', message: busy.message } });
  });

  it('waits longer after each busy attempt, from 30 s up to 300 s', async () => {
    const busy = new ClusterBusyError('in use');
    const d = deps({ settings: { maxBusyAttempts: 50 }, eks: fakeEks({ update: () => { throw busy; } }) });
    const waits: number[] = [];

    let s = openProd();
    for (let i = 0; i < 6; i += 1) {
      const result = await remediateCluster(s, d);
      waits.push(result.waitSeconds);
      s = { ...s, remediation: result };
    }

    expect(waits).toEqual([30, 60, 120, 240, 300, 300]);
  });

  it('a rejected request is reported as data with the AWS error name', async () => {
    const rejected = new AwsRequestRejectedError('UpdateClusterConfig failed: InvalidParameterException: The following CIDRs are invalid', 'InvalidParameterException');
    const d = deps({ eks: fakeEks({ update: () => { throw rejected; } }) });

    await expect(remediateCluster(openProd(), d)).resolves.toEqual({
      status: 'rejected',
      updateId: null,
      target,
      busyAttempts: 0,
      waitSeconds: 0,
      error: { name: 'InvalidParameterException', message: rejected.message },
    });
  });

  it.each<[string, Error]>([
    ['TransientAwsError', new TransientAwsError('UpdateClusterConfig failed: ThrottlingException')],
    ['ClusterNotFoundError', new ClusterNotFoundError('UpdateClusterConfig failed: ResourceNotFoundException')],
    ['an unexpected Error', new TypeError('boom')],
  ])('%s is thrown as it is, for the state machine to retry or catch', async (_what, err) => {
    const d = deps({ eks: fakeEks({ update: () => { throw err; } }) });

    await expect(remediateCluster(openProd(), d)).rejects.toBe(err);
  });
});

describe('verifyRemediation', () => {
  it.each<[string, ClusterDescription, boolean, Evaluation['verdict']]>([
    ['private only now', described('prod-api', { pub: false, priv: true }), true, 'compliant'],
    ['still public', described('prod-api', { pub: true, priv: true }), false, 'violation'],
    ['exempt meanwhile (tag added)', described('prod-api', { pub: true, priv: false }, { tags: { 'eks-endpoint-guard/exempt-until': '2099-01-01' } }), true, 'exempt'],
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
