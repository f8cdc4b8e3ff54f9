/**
 * Trustworthy enforcement, end to end: the failure classes of a hostile review, each replayed through
 * `simulate` (the real intake, the real state machine definition and handlers, the emulator with its
 * DynamoDB ledger). Races use `during` steps, which act just before the workflow enters a Task state.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parsePolicy } from '../../src/policy';
import { parseScenario, simulate, type SimulationReport } from '../../src/local/simulate';

const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));
const world = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as Record<string, unknown>;
const ALICE = 'arn:aws:iam::111122223333:user/alice';
const BOB = 'arn:aws:iam::111122223333:user/bob';
const PIPELINE = 'arn:aws:sts::111122223333:assumed-role/terraform-ci/run-42';
const OPEN = { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };
const at = { account: '111122223333', region: 'us-east-1' };

function run(steps: unknown[], extra: Record<string, unknown> = {}, p = policy): Promise<SimulationReport> {
  return simulate(parseScenario({ ...world, ...extra, steps }), p);
}
const config = (r: SimulationReport, name: string) => r.clusters.find((c) => c.name === name)!.config;
const forCluster = (r: SimulationReport, name: string) => r.executions.filter((e) => e.cluster?.name === name);
const acted = (r: SimulationReport, name: string) => forCluster(r, name).filter((e) => e.reason !== 'SELF_REMEDIATION');
const allAlerts = (r: SimulationReport, name: string) => r.alerts.filter((a) => a.subject.includes(name));

describe('never act on stale data', () => {
  test('the owner closes the public endpoint between judgement and revert: the guard does not turn it back on', async () => {
    // team-a: public 0.0.0.0/0 violates the allowlist; the planned target keeps public on with the allowed CIDRs.
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'team-a', resourcesVpcConfig: OPEN },
      { call: 'updateClusterConfig', as: BOB, ...at, cluster: 'team-a', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true }, during: { state: 'RemediateCluster' } },
    ]);
    expect(r.steps.every((s) => s.ok)).toBe(true);
    expect(config(r, 'team-a')).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
    // No guard update at all: the cluster complied by the time the guard could write.
    const guardUpdates = r.executions.filter((e) => e.reason === 'SELF_REMEDIATION');
    expect(guardUpdates).toHaveLength(0);
  });

  test('a change during the wait for the first one: one outcome alert, naming both actors', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { call: 'updateClusterConfig', as: BOB, ...at, cluster: 'prod-api', resourcesVpcConfig: { publicAccessCidrs: ['8.8.8.0/24'] }, during: { state: 'AcquireLease' } },
    ]);
    expect(r.steps.every((s) => s.ok)).toBe(true);
    const outcomes = acted(r, 'prod-api').map((e) => [e.outcome, e.reason]);
    expect(outcomes).toContainEqual(['remediated', null]);
    expect(outcomes).toContainEqual(['ignored', 'ALREADY_HANDLED']);
    expect(allAlerts(r, 'prod-api')).toHaveLength(1);
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
  });
});

describe('no self-service bypass', () => {
  test('a guard-role session the guard did not start is judged, reverted and raises a critical alert', async () => {
    const r = await run([{ call: 'updateClusterConfig', as: 'guard-role', ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN }]);
    const [change] = acted(r, 'prod-api');
    expect(change).toMatchObject({ outcome: 'remediated' });
    expect(change!.alerts).toEqual([expect.objectContaining({ severity: 'critical' })]);
    expect(change!.alerts[0]!.subject).toMatch(/guard role/i);
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
    // The guard's own revert is still recognised as its own.
    expect(forCluster(r, 'prod-api').filter((e) => e.reason === 'SELF_REMEDIATION')).toHaveLength(1);
  });

  test('a far-future exemption tag does not exempt under the default cap', async () => {
    const r = await run([
      { call: 'tagResource', as: ALICE, ...at, cluster: 'prod-api', tags: { 'eks-endpoint-guard/exempt-until': '9999-12-31' } },
      { settle: true },
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
    ]);
    expect(acted(r, 'prod-api').map((e) => e.outcome)).toContain('remediated');
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
  });

  test('a tag change that moves a cluster to a laxer rule is judged at once and alerted, naming who', async () => {
    const r = await run([{ call: 'tagResource', as: BOB, ...at, cluster: 'team-a', tags: { guard: 'alert' } }]);
    const [change] = acted(r, 'team-a');
    expect(change).toBeDefined();
    expect(change!.eventName).toBe('TagResource');
    expect(change!.alerts).toHaveLength(1);
    expect(['warning', 'critical']).toContain(change!.alerts[0]!.severity);
  });
});

describe('tag changes, found by an independent review', () => {
  const byTag = parsePolicy(
    ['version: 1', 'defaults: { publicAccess: restricted, allowedPublicCidrs: [203.0.113.0/24] }', 'rules:', '  - name: prod', '    match: { accounts: ["111122223333"], tags: { env: prod } }', '    publicAccess: forbidden'].join('\n'),
  );
  const prodTagged = { clusters: [{ name: 'api', ...at, endpointPublicAccess: false, endpointPrivateAccess: true, tags: { env: 'prod' } }], vpcs: [] };

  test.each([
    ['retagged env=prod to env=staging', { call: 'tagResource', as: 'arn:aws:iam::111122223333:user/mallory', ...at, cluster: 'api', tags: { env: 'staging' } }],
    ['untagged env', { call: 'untagResource', as: 'arn:aws:iam::111122223333:user/mallory', ...at, cluster: 'api', tagKeys: ['env'] }],
  ])('a cluster never judged before and %s: a warning naming who, not silence', async (_what, step) => {
    const r = await run([step], prodTagged, byTag);
    const [change] = acted(r, 'api');
    expect(change!.alerts).toHaveLength(1);
    expect(change!.alerts[0]!.severity).toBe('warning');
  });

  test('an exemption tag put on while the guard is about to revert: the loosening is alerted as a warning', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { call: 'tagResource', as: 'arn:aws:iam::111122223333:user/mallory', ...at, cluster: 'prod-api', tags: { 'eks-endpoint-guard/exempt-until': '2026-01-10' }, during: { state: 'RemediateCluster' } },
    ]);
    expect(r.steps.every((s) => s.ok)).toBe(true);
    expect(allAlerts(r, 'prod-api').some((a) => a.severity === 'warning' || a.severity === 'critical')).toBe(true);
  });

  test('an event delivered while another execution runs is reported once, with its own outcome', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { call: 'tagResource', as: BOB, ...at, cluster: 'team-a', tags: { owner: 'bob' }, during: { state: 'EvaluateCluster' } },
    ]);
    const ids = r.executions.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(r.executions.filter((e) => e.cluster?.name === 'team-a').map((e) => e.outcome)).toEqual(['compliant']);
  });
});

describe('never give up on an open cluster', () => {
  const openProd = { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN };

  test.each([
    ['12 throttled DescribeUpdate calls', [{ fault: 'throttle', operation: 'DescribeUpdate', times: 12 }]],
    ['12 ServerExceptions on UpdateClusterConfig', [{ fault: 'server-error', operation: 'UpdateClusterConfig', times: 12 }]],
    ['a 60-minute EKS platform update', [{ advance: 300 }, { fault: 'platform-update', ...at, cluster: 'prod-api', seconds: 3600 }]],
  ])('%s: the cluster ends compliant without a sweep', async (_name, faults) => {
    const r = await run([openProd, ...faults]);
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
    expect(r.pendingRechecks).toEqual([]);
  });

  test('a person\'s update that outlasts the wait budget: a re-check fixes it later, one page only', async () => {
    const r = await run([openProd], { updateSeconds: 5400, guard: { maxWaitSeconds: 600 } });
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
    const outcomes = acted(r, 'prod-api').map((e) => e.outcome);
    expect(outcomes[0]).toBe('failed');
    // Re-checks until the revert (itself longer than the budget here) has landed.
    expect(['remediated', 'compliant']).toContain(outcomes[outcomes.length - 1]);
    expect(outcomes.slice(1).every((o) => ['failed', 'remediated', 'compliant'].includes(o))).toBe(true);
    const critical = r.alerts.filter((a) => a.severity === 'critical');
    expect(critical).toHaveLength(1);
    expect(r.pendingRechecks).toEqual([]);
  });

  test('a revert update that fails is re-checked and fixed', async () => {
    const r = await run([openProd, { fault: 'update-fails', ...at, cluster: 'prod-api', times: 1 }]);
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
    expect(acted(r, 'prod-api').map((e) => e.outcome)).toEqual(expect.arrayContaining(['failed', 'remediated']));
  });

  test('a cluster waited on by another execution\'s lease is enforced once the lease lapses', async () => {
    const r = await run([openProd], { ledger: [{ ...at, cluster: 'prod-api', lease: { holder: 'evt-dead-execution', expiresInSeconds: 1200 } }] });
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
    expect(acted(r, 'prod-api')[0]).toMatchObject({ outcome: 'remediated' });
  });
});

describe('a cluster deleted mid-flight', () => {
  test('ends quietly as ignored CLUSTER_DELETED, not as a critical failure', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { call: 'deleteCluster', as: ALICE, ...at, cluster: 'prod-api', during: { state: 'EvaluateCluster' } },
    ]);
    expect(r.steps.every((s) => s.ok)).toBe(true);
    const [change] = acted(r, 'prod-api');
    expect(change).toMatchObject({ outcome: 'ignored', reason: 'CLUSTER_DELETED' });
    expect(r.alerts.filter((a) => a.severity !== 'info')).toEqual([]);
    expect(r.operations).toEqual([]);
    expect(r.pendingRechecks).toEqual([]);
  });
});

describe('tug-of-war', () => {
  test('a pipeline re-opening the cluster six times gives exactly one escalated outcome', async () => {
    const round = [{ call: 'updateClusterConfig', as: PIPELINE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN, userAgent: 'APN/1.0 HashiCorp/1.0 Terraform/1.9.5' }, { settle: true }, { advance: 120 }];
    const r = await run(Array.from({ length: 6 }, () => round).flat());
    const outcomes = acted(r, 'prod-api').map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'escalated')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'remediated')).toHaveLength(5);
    expect(r.alerts.filter((a) => a.severity === 'critical')).toHaveLength(1);
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
  });
});

describe('silence', () => {
  test('with every SNS Publish failing, the fix still happens and the report shows the undelivered alarm', async () => {
    const r = await run([{ fault: 'server-error', operation: 'Publish' }, { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN }]);
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
    expect(acted(r, 'prod-api')[0]).toMatchObject({ outcome: 'remediated', alertDelivered: false });
    expect(r.operations).toEqual([expect.objectContaining({ delivered: false, subject: expect.stringMatching(/^ALARM/) })]);
  });

  test('with SNS Publish failing on the alert topic, the fix still happens and the operations alarm fires', async () => {
    const r = await run([{ fault: 'server-error', operation: 'Publish', topic: 'eks-endpoint-guard-alerts' }, { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN }]);
    expect(config(r, 'prod-api').endpointPublicAccess).toBe(false);
    const [change] = acted(r, 'prod-api');
    expect(change).toMatchObject({ outcome: 'remediated', alertDelivered: false });
    expect(r.operations.length).toBeGreaterThanOrEqual(1);
    expect(r.operations[0]!.subject).toMatch(/^ALARM/);
  });
});
