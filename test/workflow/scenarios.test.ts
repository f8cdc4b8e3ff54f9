/**
 * Every outcome of the enforcement workflow, end to end: scenario steps run through the real SDK against
 * the emulator, and the resulting CloudTrail events go through the real intake handler and the real state
 * machine definition (aws-local-stepfunctions) with the real Lambda handlers.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parsePolicy } from '../../src/policy';
import { parseScenario, simulate, type SimulationReport } from '../../src/local/simulate';

const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));
const world = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as Record<string, unknown>;
const ALICE = 'arn:aws:iam::111122223333:user/alice';
const OPEN = { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };
const at = { account: '111122223333', region: 'us-east-1' };

function run(steps: unknown[], extra: Record<string, unknown> = {}): Promise<SimulationReport> {
  return simulate(parseScenario({ ...world, ...extra, steps }), policy);
}
const cluster = (r: SimulationReport, name: string) => r.clusters.find((c) => c.name === name)!.config;
const forCluster = (r: SimulationReport, name: string) => r.executions.filter((e) => e.cluster?.name === name);

describe('enforcement workflow, end to end', () => {
  test('a production cluster opened to 0.0.0.0/0 is closed, verified, alerted; the revert is recognised as the guard\'s own', async () => {
    const r = await run([{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN }]);
    const [change, own] = forCluster(r, 'prod-api');
    expect(change).toMatchObject({ outcome: 'remediated', finalConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } });
    expect(change!.alerts).toEqual([expect.objectContaining({ outcome: 'remediated', severity: 'warning' })]);
    expect(change!.alerts[0]!.subject).toMatch(/^\[REMEDIATED\] prod-api 111122223333\/us-east-1/);
    expect(change!.awsCalls.UpdateClusterConfig).toBe(1);
    expect(own).toMatchObject({ outcome: 'ignored', reason: 'SELF_REMEDIATION' });
    expect(cluster(r, 'prod-api').endpointPublicAccess).toBe(false);
    expect(r.executions).toHaveLength(2);
  });

  test('the guard waits for an update still in progress, then for another update of the cluster, before judging', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { advance: 300 },
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', logging: { clusterLogging: [{ types: ['audit'], enabled: true }] } },
    ]);
    const change = forCluster(r, 'prod-api').find((e) => e.outcome !== 'ignored');
    expect(change).toMatchObject({ outcome: 'remediated', finalConfig: { endpointPublicAccess: false } });
    // Judged at least twice: once while the logging update held the cluster UPDATING, once after.
    expect(change!.awsCalls.DescribeCluster).toBeGreaterThanOrEqual(3);
  });

  test('a revert that meets ResourceInUseException from an EKS platform update waits and succeeds', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { advance: 300 },
      { fault: { kind: 'platform-update', ...at, cluster: 'prod-api', seconds: 700 } },
    ]);
    const change = forCluster(r, 'prod-api')[0]!;
    expect(change.outcome).toBe('remediated');
    expect(change.awsCalls.UpdateClusterConfig).toBeGreaterThanOrEqual(2);
    expect(cluster(r, 'prod-api').endpointPublicAccess).toBe(false);
  });

  test('a revert whose update ends Failed gives a critical failure alert, a failed execution, and a re-check that fixes it', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { fault: { kind: 'update-fails', ...at, cluster: 'prod-api', times: 1, errors: [{ errorCode: 'EniLimitReached', errorMessage: 'ENI limit reached' }] } },
    ]);
    const change = forCluster(r, 'prod-api')[0]!;
    expect(change.outcome).toBe('failed');
    expect(change.alerts).toEqual([expect.objectContaining({ outcome: 'failed', severity: 'critical' })]);
    expect(change.reason).toMatch(/EniLimitReached/);
    const recheck = forCluster(r, 'prod-api').find((e) => e.eventName === 'Recheck');
    expect(recheck).toMatchObject({ outcome: 'remediated' });
    expect(cluster(r, 'prod-api').endpointPublicAccess).toBe(false);
  });

  test('throttling is retried and the remediation still completes', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN },
      { fault: { kind: 'throttle', operation: 'DescribeUpdate', times: 2 } },
      { fault: { kind: 'throttle', operation: 'UpdateClusterConfig', times: 1 } },
    ]);
    const change = forCluster(r, 'prod-api')[0]!;
    expect(change.outcome).toBe('remediated');
    expect(cluster(r, 'prod-api').endpointPublicAccess).toBe(false);
  });

  test('a cluster created with the EKS defaults is narrowed to the allowlist with private access on', async () => {
    const r = await run([{ call: 'createCluster', as: ALICE, ...at, cluster: 'analytics', resourcesVpcConfig: { subnetIds: ['subnet-0a1b2c3d4e5f60011'] } }]);
    const created = forCluster(r, 'analytics')[0]!;
    expect(created.outcome).toBe('remediated');
    expect(cluster(r, 'analytics')).toEqual({ endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24', '198.51.100.0/24'] });
  });

  test('a VPC without DNS hostnames stops the revert: nothing changes, manual action is asked for', async () => {
    const r = await run([{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-nodns', resourcesVpcConfig: OPEN }]);
    const change = forCluster(r, 'prod-nodns')[0]!;
    expect(change.outcome).toBe('manual-action-required');
    expect(change.awsCalls.UpdateClusterConfig ?? 0).toBe(0);
    expect(cluster(r, 'prod-nodns').endpointPublicAccess).toBe(true);
  });

  test.each([
    ['exemption by tag', 'team-tagged', 'exempt', 'info'],
    ['exemption by policy entry', 'legacy-billing', 'exempt', 'info'],
    ['alert-only rule', 'team-watch', 'alerted', 'warning'],
  ])('%s: the cluster is left as it is and an alert says so', async (_label, name, outcome, severity) => {
    const r = await run([{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: name, resourcesVpcConfig: { publicAccessCidrs: ['0.0.0.0/0'] } }]);
    const change = forCluster(r, name)[0]!;
    expect(change.outcome).toBe(outcome);
    expect(change.alerts).toEqual([expect.objectContaining({ outcome, severity })]);
    expect(change.awsCalls.UpdateClusterConfig ?? 0).toBe(0);
    expect(cluster(r, name).publicAccessCidrs).toEqual(['0.0.0.0/0']);
  });

  test('shadow mode alerts instead of remediating, saying what would be done', async () => {
    const r = await run([{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN }], { guard: { shadowMode: true } });
    const change = forCluster(r, 'prod-api')[0]!;
    expect(change.outcome).toBe('alerted');
    expect(cluster(r, 'prod-api').endpointPublicAccess).toBe(true);
  });

  test('a compliant change ends quietly', async () => {
    const r = await run([{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'team-a', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.128/25'] } }]);
    expect(forCluster(r, 'team-a')[0]).toMatchObject({ outcome: 'compliant', alerts: [] });
  });

  test('an update that outlasts the wait budget ends in a failure alert, with nothing changed', async () => {
    const r = await run([{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: OPEN }], { updateSeconds: 7200, guard: { maxWaitSeconds: 900 } });
    const change = forCluster(r, 'prod-api')[0]!;
    expect(change).toMatchObject({ outcome: 'failed', alerts: [expect.objectContaining({ outcome: 'failed', severity: 'critical' })] });
    expect(change.awsCalls.UpdateClusterConfig ?? 0).toBe(0);
  });

  test('with notifyCompliant, a compliant change gets an info alert', async () => {
    const r = await run([{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'team-a', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.128/25'] } }], { guard: { notifyCompliant: true } });
    expect(forCluster(r, 'team-a')[0]!.alerts).toEqual([expect.objectContaining({ outcome: 'compliant', severity: 'info' })]);
  });

  test('a failed API call and a logging-only change are ignored without an execution', async () => {
    const r = await run([
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'team-a', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: false } },
      { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'team-a', logging: { clusterLogging: [{ types: ['api'], enabled: true }] } },
    ]);
    expect(forCluster(r, 'team-a').map((e) => [e.outcome, e.reason])).toEqual([
      ['ignored', 'CALL_FAILED'],
      ['ignored', 'NOT_ENDPOINT_CHANGE'],
    ]);
  });

  test('the scheduled sweep catches a violation that produced no event', async () => {
    const r = await run([{ sweep: true }], {
      clusters: [...(world.clusters as object[]), { name: 'prod-old', account: '111122223333', region: 'us-east-1', vpcId: 'vpc-0a1b2c3d4e5f60001' }],
    });
    expect(forCluster(r, 'prod-old')[0]).toMatchObject({ outcome: 'remediated' });
    expect(cluster(r, 'prod-old').endpointPublicAccess).toBe(false);
  });
});
