/**
 * SweepUnit (src/sweep/sweep-unit.ts) with fake ports, looped the way the state machine loops it (the
 * Choice calls it again until `done`; a Wait honours `waitSeconds`): pages, throttling beyond the SDK's
 * retries, missing member roles, tiny time budgets, and the executions it starts (their names make a
 * redelivered schedule start nothing twice).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { AwsRequestRejectedError, ClusterNotFoundError, TransientAwsError } from '../../src/errors';
import { parsePolicy } from '../../src/policy';
import { MemberRoleUnavailableError, type SweepEksPort } from '../../src/sweep/ports';
import { SWEEP_LIMITS } from '../../src/sweep/continuation';
import { sweepUnit, type SweepUnitDeps } from '../../src/sweep/sweep-unit';
import type { SweepUnit, UnitResult, UnitState } from '../../src/sweep/types';
import type { Log } from '../../src/workflow/deps';
import type { ClusterDescription, ExecutionPort } from '../../src/workflow/ports';
import type { ExecutionInput } from '../../src/workflow/types';

const POLICY = parsePolicy(readFileSync(new URL('../fixtures/workflow/policy.yaml', import.meta.url), 'utf8'), 'workflow policy');
const NOW = Date.parse('2026-03-02T09:20:00Z');
const SWEEP_TIME = '2026-03-02T09:00:00Z';
const ACCOUNT = '444455556666';
const REGION = 'eu-west-1';
const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

function described(name: string, open: boolean): ClusterDescription {
  return {
    name,
    arn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${name}`,
    status: 'ACTIVE',
    tags: {},
    resourcesVpcConfig: { vpcId: 'vpc-1', endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: open ? ['0.0.0.0/0'] : ['203.0.113.0/24'] },
  };
}

type World = {
  names: string[];
  pageSize: number;
  /** Clusters judged open (violations). */
  open?: Set<string>;
  /** Failures each call by name meets first, in order (a cluster's DescribeCluster; 'LIST:<page>' for a page). */
  failures?: Record<string, Error[]>;
  deleted?: Set<string>;
  /** Every call refused as if the member role were missing. */
  noRole?: boolean;
  /** The region the unit sweeps (default REGION). */
  region?: string;
};

function fakeEks(world: World): SweepEksPort & { calls: string[] } {
  const calls: string[] = [];
  const fail = (key: string) => {
    const next = world.failures?.[key]?.shift();
    if (next) throw next;
  };
  const denied = () => new MemberRoleUnavailableError(`the member role cannot be used: AssumeRole on arn:aws:iam::${ACCOUNT}:role/member failed: AccessDenied`);
  return {
    calls,
    async listClustersPage(account, region, token) {
      expect([account, region]).toEqual([ACCOUNT, world.region ?? REGION]);
      calls.push(`ListClusters ${token ?? 0}`);
      if (world.noRole) throw denied();
      const start = token ? Number(token) : 0;
      fail(`LIST:${start}`);
      const end = start + world.pageSize;
      return { names: world.names.slice(start, end), nextToken: end < world.names.length ? String(end) : null };
    },
    async describeCluster(cluster) {
      calls.push(`DescribeCluster ${cluster.name}`);
      if (world.noRole) throw denied();
      fail(cluster.name);
      if (world.deleted?.has(cluster.name)) throw new ClusterNotFoundError(`no cluster ${cluster.name}`);
      return described(cluster.name, world.open?.has(cluster.name) ?? false);
    },
  };
}

function fakeExecutions(): ExecutionPort & { started: { name: string; input: ExecutionInput }[] } {
  const names = new Set<string>();
  const started: { name: string; input: ExecutionInput }[] = [];
  return {
    started,
    async start(name, input) {
      if (names.has(name)) return false;
      names.add(name);
      started.push({ name, input: structuredClone(input) });
      return true;
    },
  };
}

const throttled = (n: number) => Array.from({ length: n }, () => new TransientAwsError('DescribeCluster failed: ThrottlingException: Rate exceeded'));

/** Runs the unit to the end as the state machine would; returns the result, the invocations and the pauses. */
async function runUnit(deps: SweepUnitDeps, maxInvocations = 10_000, over: { sweepTime?: string; region?: string; accountContext?: SweepUnit['accountContext'] } = {}): Promise<{ result: UnitResult; invocations: number; waits: number[] }> {
  const unit: SweepUnit = { account: ACCOUNT, region: over.region ?? REGION, accountContext: over.accountContext === undefined ? { ouPath: [], tags: {} } : over.accountContext };
  let state: UnitState = { unit, sweepTime: over.sweepTime ?? SWEEP_TIME, continuation: null, result: null, done: false, waitSeconds: 0 };
  const waits: number[] = [];
  for (let i = 1; i <= maxInvocations; i += 1) {
    // Through JSON, as Step Functions passes it: nothing but plain data may survive.
    state = JSON.parse(JSON.stringify(await sweepUnit(state, deps))) as UnitState;
    if (state.done) return { result: state.result!, invocations: i, waits };
    if (state.waitSeconds > 0) waits.push(state.waitSeconds);
  }
  throw new Error('the unit never finished');
}

function unitDeps(eks: SweepEksPort, over: Partial<SweepUnitDeps> = {}): SweepUnitDeps {
  return { eks, executions: fakeExecutions(), policy: POLICY, shadowMode: false, now: () => NOW, log: silentLog, timeLeftMs: () => 60_000, describeConcurrency: 4, ...over };
}

const names = (n: number, prefix = 'team') => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

describe('sweepUnit', () => {
  it('judges every cluster of every page and starts one execution per violation', async () => {
    const world: World = { names: names(25), pageSize: 10, open: new Set(['team-003', 'team-017']) };
    const executions = fakeExecutions();
    const eks = fakeEks(world);
    const { result, invocations } = await runUnit(unitDeps(eks, { executions }));
    expect(result).toMatchObject({ status: 'covered', listed: 25, judged: 25, violations: 2, started: 2, notJudgedCount: 0, listingComplete: true });
    expect(invocations).toBe(1);
    expect(eks.calls.filter((c) => c.startsWith('ListClusters'))).toEqual(['ListClusters 0', 'ListClusters 10', 'ListClusters 20']);
    expect(executions.started.map((s) => s.name)).toEqual([`sweep-202603020900-${ACCOUNT}-${REGION}-team-003`, `sweep-202603020900-${ACCOUNT}-${REGION}-team-017`]);
  });

  it('with no time left, returns a continuation after each step and still judges everything', async () => {
    const world: World = { names: names(25), pageSize: 10 };
    const { result, invocations } = await runUnit(unitDeps(fakeEks(world), { timeLeftMs: () => 0 }));
    expect(result).toMatchObject({ status: 'covered', listed: 25, judged: 25, notJudgedCount: 0 });
    // Every step its own invocation: per page, one ListClusters and its names in chunks of 8 (2 ×
    // concurrency): 10 → 8 + 2, 10 → 8 + 2, 5 → 5; then the one that finds nothing left and finishes.
    expect(invocations).toBe(3 + 5 + 1);
    expect(result.invocations).toBe(invocations);
  });

  it('a cluster throttled past the SDK retries is retried in later rounds, after a pause, and judged', async () => {
    const world: World = { names: names(6), pageSize: 100, failures: { 'team-002': throttled(2), 'team-004': throttled(1) } };
    const { result, waits } = await runUnit(unitDeps(fakeEks(world)));
    expect(result).toMatchObject({ status: 'covered', listed: 6, judged: 6, notJudgedCount: 0, throttleRounds: 2 });
    expect(waits).toEqual([2, 4]);
  });

  it('a cluster that stays throttled is reported with its reason, never dropped', async () => {
    const world: World = { names: names(3), pageSize: 100, failures: { 'team-001': throttled(100) } };
    const { result } = await runUnit(unitDeps(fakeEks(world)));
    expect(result).toMatchObject({ status: 'partial', listed: 3, judged: 2, notJudgedCount: 1, notJudgedByReason: { THROTTLED: 1 } });
    expect(result.notJudged[0]).toMatchObject({ cluster: 'team-001', reason: 'THROTTLED' });
    expect(result.notJudged[0]!.error).toMatch(new RegExp(`gave up after ${SWEEP_LIMITS.clusterRounds} rounds`));
  });

  it('a throttled ListClusters page is retried alone, after a pause, and the listing goes on from it', async () => {
    const world: World = { names: names(25), pageSize: 10, failures: { 'LIST:10': throttled(2) } };
    const eks = fakeEks(world);
    const { result, waits } = await runUnit(unitDeps(eks));
    expect(result).toMatchObject({ status: 'covered', listed: 25, judged: 25 });
    expect(waits).toEqual([2, 4]);
    expect(eks.calls.filter((c) => c.startsWith('ListClusters'))).toEqual(['ListClusters 0', 'ListClusters 10', 'ListClusters 10', 'ListClusters 10', 'ListClusters 20']);
  });

  it('a page that stays throttled is retried for over 20 minutes of growing pauses, then ends the listing as incomplete, saying so', async () => {
    const world: World = { names: names(25), pageSize: 10, failures: { 'LIST:10': throttled(100) } };
    const { result, waits } = await runUnit(unitDeps(fakeEks(world)));
    expect(result).toMatchObject({ status: 'partial', listed: 10, judged: 10, listingComplete: false });
    expect(result.error).toMatch(new RegExp(`ListClusters could not be finished after ${SWEEP_LIMITS.listRounds} attempt\\(s\\)`));
    // Regression: it gave up after 5 attempts (~30 s of pauses). The pauses double from 2 s, capped.
    expect(waits.slice(0, 7)).toEqual([2, 4, 8, 16, 32, 64, 120]);
    expect(Math.max(...waits)).toBe(SWEEP_LIMITS.maxWaitSeconds);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20 * 60);
  });

  it('a page throttled for 15 minutes is read in the end: no cluster is dropped under throttling', async () => {
    // 14 failed attempts at the page (2+4+8+16+32+64+120×8 = 1,086 s of pauses), and as many at one cluster's DescribeCluster.
    const world: World = { names: names(25), pageSize: 10, failures: { 'LIST:10': throttled(14), 'team-003': throttled(14) } };
    const { result, waits } = await runUnit(unitDeps(fakeEks(world)));
    expect(result).toMatchObject({ status: 'covered', listed: 25, judged: 25, notJudgedCount: 0, listingComplete: true });
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(15 * 60);
  });

  it('a missing or refusing member role makes the unit uncovered, with the reason', async () => {
    const { result } = await runUnit(unitDeps(fakeEks({ names: names(3), pageSize: 10, noRole: true })));
    expect(result).toMatchObject({ status: 'uncovered', listed: 0, judged: 0 });
    expect(result.error).toMatch(/member role cannot be used: AssumeRole .* AccessDenied/);
  });

  it.each<[string, string, string, Partial<World>]>([
    ['deleted meanwhile', 'DELETED', 'covered', { deleted: new Set(['team-001']) }],
    ['refused for good', 'ERROR', 'partial', { failures: { 'team-001': [new AwsRequestRejectedError('DescribeCluster failed: InvalidParameterException', 'InvalidParameterException')] } }],
    ['denied on one cluster', 'ACCESS_DENIED', 'partial', { failures: { 'team-001': [new MemberRoleUnavailableError('AccessDeniedException')] } }],
  ])('a cluster %s is reported as %s, the unit %s', async (_label, reason, status, over) => {
    const { result } = await runUnit(unitDeps(fakeEks({ names: names(3), pageSize: 10, ...over })));
    expect(result.status).toBe(status);
    expect(result.notJudged).toEqual([expect.objectContaining({ cluster: 'team-001', reason })]);
    expect(result.judged + result.notJudgedCount).toBe(result.listed);
  });

  it('an execution that cannot be started yet is retried; a redelivered schedule starts nothing twice', async () => {
    const executions = fakeExecutions();
    let refusals = 1;
    const flaky: ExecutionPort = {
      start: (name, input) => (refusals-- > 0 ? Promise.reject(new TransientAwsError('StartExecution failed: ThrottlingException')) : executions.start(name, input)),
    };
    const world: World = { names: names(2), pageSize: 10, open: new Set(['team-000', 'team-001']) };
    const first = await runUnit(unitDeps(fakeEks(world), { executions: flaky }));
    expect(first.result).toMatchObject({ status: 'covered', judged: 2, violations: 2, started: 2 });
    const again = await runUnit(unitDeps(fakeEks(world), { executions: flaky }));
    expect(again.result).toMatchObject({ judged: 2, violations: 2, started: 0 });
  });

  it('gives each violation one execution with a sweep trigger: nothing to wait for, dated by the sweep; an exempt cluster gets none', async () => {
    const world: World = { names: ['prod-open', 'team-ok', 'legacy-billing'], pageSize: 10, open: new Set(['prod-open', 'legacy-billing']) };
    const executions = fakeExecutions();

    const { result } = await runUnit(unitDeps(fakeEks(world), { executions }));

    const name = `sweep-202603020900-${ACCOUNT}-${REGION}-prod-open`;
    expect(executions.started).toEqual([
      {
        name,
        input: {
          cluster: { name: 'prod-open', account: ACCOUNT, region: REGION },
          executionName: name,
          startedAt: NOW,
          trigger: { kind: 'sweep', eventId: name, eventName: 'ScheduledSweep', eventTime: SWEEP_TIME, updateId: null, requested: null, actor: null, waitFor: 'none' },
        },
      },
    ]);
    // legacy-billing is open but exempt (policy exemption legacy): judged, compliant, no execution.
    expect(result).toMatchObject({ status: 'covered', listed: 3, judged: 3, violations: 1, started: 1 });
  });

  it('a redelivered schedule starts nothing twice; the next schedule starts again', async () => {
    const world: World = { names: ['prod-open'], pageSize: 10, open: new Set(['prod-open']) };
    const executions = fakeExecutions();
    const run = (sweepTime: string) => runUnit(unitDeps(fakeEks(world), { executions }), 10_000, { sweepTime });

    const first = await run(SWEEP_TIME);
    const again = await run(SWEEP_TIME);
    const later = await run('2026-03-02T15:00:00Z');

    expect([first, again, later].map((r) => [r.result.violations, r.result.started])).toEqual([[1, 1], [1, 0], [1, 1]]);
    expect(executions.started.map((s) => s.name)).toEqual([`sweep-202603020900-${ACCOUNT}-${REGION}-prod-open`, `sweep-202603021500-${ACCOUNT}-${REGION}-prod-open`]);
  });

  it('the same cluster name in two regions of one account gets two executions (EKS names are unique per region only)', async () => {
    const executions = fakeExecutions();
    for (const region of [REGION, 'us-east-1']) {
      await runUnit(unitDeps(fakeEks({ names: ['prod-api'], pageSize: 10, region }), { executions }), 10_000, { region });
    }

    expect(executions.started.map((s) => s.input.cluster)).toEqual([
      { name: 'prod-api', account: ACCOUNT, region: REGION },
      { name: 'prod-api', account: ACCOUNT, region: 'us-east-1' },
    ]);
    expect(new Set(executions.started.map((s) => s.name)).size).toBe(2);
  });

  it('in shadow mode a violation still gets its execution (which only alerts)', async () => {
    const world: World = { names: ['prod-open', 'team-000'], pageSize: 10, open: new Set(['prod-open', 'team-000']) };
    const executions = fakeExecutions();

    const { result } = await runUnit(unitDeps(fakeEks(world), { executions, shadowMode: true }));

    expect(result).toMatchObject({ violations: 2, started: 2 });
    expect(executions.started.map((s) => s.input.cluster.name)).toEqual(['prod-open', 'team-000']);
  });

  it('an account and region without clusters is covered quietly, after one ListClusters', async () => {
    const executions = fakeExecutions();
    const eks = fakeEks({ names: [], pageSize: 10 });

    const { result, invocations } = await runUnit(unitDeps(eks, { executions }));

    expect(result).toMatchObject({ status: 'covered', listed: 0, judged: 0, violations: 0, started: 0, notJudgedCount: 0, listingComplete: true, error: null });
    expect([invocations, eks.calls]).toEqual([1, ['ListClusters 0']]);
    expect(executions.started).toEqual([]);
  });

  it('clusters with long names that share their first 50 characters each get their own execution', async () => {
    const prefix = 'payments-platform-production-eu-west-1-blue-green-';
    const [a, b] = [`${prefix}cluster-a`, `${prefix}cluster-b`];
    const executions = fakeExecutions();

    const { result } = await runUnit(unitDeps(fakeEks({ names: [a, b], pageSize: 10, open: new Set([a, b]) }), { executions }));

    expect(result).toMatchObject({ violations: 2, started: 2 });
    expect(executions.started.map((s) => s.input.cluster.name)).toEqual([a, b]);
    expect(new Set(executions.started.map((s) => s.name)).size).toBe(2);
    expect(executions.started.every((s) => /^[A-Za-z0-9_-]{1,80}$/.test(s.name) && s.name.startsWith(`sweep-202603020900-${ACCOUNT}-${REGION}-`))).toBe(true);
  });

  // Whatever the throttling, the page size and the time budget, every listed cluster is judged or
  // reported with a reason, and nothing is judged twice (one execution per violation).
  it('never loses a cluster: judged + not judged = listed, each name accounted for once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 25 }),
        fc.array(fc.nat(6), { minLength: 60, maxLength: 60 }),
        fc.array(fc.nat(3), { minLength: 10, maxLength: 10 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        async (count, pageSize, throttles, pageThrottles, budgetSteps, concurrency) => {
          const all = names(count);
          const open = new Set(all.filter((_, i) => i % 7 === 3));
          const failures: Record<string, Error[]> = {};
          all.forEach((n, i) => (failures[n] = throttled(throttles[i]!)));
          pageThrottles.forEach((t, p) => (failures[`LIST:${p * pageSize}`] = throttled(t)));
          const executions = fakeExecutions();
          let steps = 0;
          const { result } = await runUnit(unitDeps(fakeEks({ names: all, pageSize, open, failures }), { executions, describeConcurrency: concurrency, timeLeftMs: () => (steps++ % (budgetSteps + 1) === budgetSteps ? 0 : 1) }));
          expect(result.listed).toBe(count);
          expect(result.judged + result.notJudgedCount).toBe(result.listed);
          const gaveUp = all.filter((_, i) => throttles[i]! >= SWEEP_LIMITS.clusterRounds);
          expect(result.notJudgedCount).toBe(gaveUp.length);
          expect(result.notJudgedByReason.THROTTLED ?? 0).toBe(gaveUp.length);
          const judgedOpen = [...open].filter((n) => !gaveUp.includes(n));
          expect(executions.started.map((s) => s.input.cluster.name).sort()).toEqual(judgedOpen.sort());
          expect(result.started).toBe(judgedOpen.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
