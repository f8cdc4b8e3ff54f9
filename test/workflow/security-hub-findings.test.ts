/**
 * Security Hub findings through their lifecycle, end to end (simulate, the emulator's Security Hub): one
 * finding per cluster, NEW on a violation, RESOLVED by the remediation (the same Id), SUPPRESSED while
 * exempt with the exemption in the note; imported in the cluster's own account; the detection notice is
 * sent to chat before the revert, threaded with the outcome.
 */
import { parsePolicy } from '../../src/policy';
import { parseScenario, simulate, type SimulationReport } from '../../src/local/simulate';

const HOME = '111122223333';
const MEMBER = '444455556666';
const policy = parsePolicy(
  `
version: 1
defaults: { publicAccess: forbidden, privateAccess: required }
rules:
  - { name: sandbox-watch, match: { clusters: ["sandbox-*"] }, mode: alert }
exemptions:
  - { name: legacy-vendor, match: { clusters: [legacy-*] }, reason: "vendor appliance, ticket SEC-42", expires: 2099-12-31 }
`,
  'policy.yaml',
);
const as = (account: string) => `arn:aws:iam::${account}:user/dev`;
const closed = (name: string, account = HOME) => ({ name, account, region: 'us-east-1', endpointPublicAccess: false, endpointPrivateAccess: true });

function run(steps: unknown[], clusters = [closed('prod-api'), closed('sandbox-a'), closed('legacy-x'), closed('pay-api', MEMBER)], findings = true): Promise<SimulationReport> {
  return simulate(parseScenario({ startTime: '2026-04-01T00:00:00Z', accounts: [{ id: HOME }, { id: MEMBER }], clusters, guard: { securityHubFindings: findings }, steps }), policy, { alerts: 'full' });
}
const open = (account: string, cluster: string) => ({ call: 'updateClusterConfig', as: as(account), region: 'us-east-1', cluster, resourcesVpcConfig: { endpointPublicAccess: true } });
const findingOf = (r: SimulationReport, name: string) => (r.findings ?? []).filter((f) => f.id.endsWith(`:cluster/${name}/eks-endpoint-guard/endpoint`));

describe('Security Hub findings', () => {
  let report: SimulationReport;
  beforeAll(async () => {
    report = await run([open(HOME, 'prod-api'), open(HOME, 'sandbox-a'), open(HOME, 'legacy-x'), open(MEMBER, 'pay-api')]);
  });

  test('a violation in alert mode leaves one NEW, FAILED finding', () => {
    expect(findingOf(report, 'sandbox-a')).toEqual([expect.objectContaining({ account: HOME, workflowStatus: 'NEW', compliance: 'FAILED', severity: 'HIGH' })]);
  });

  test('the remediation RESOLVES the finding the detection opened: one finding id per cluster', () => {
    const f = findingOf(report, 'prod-api');
    expect(f).toEqual([expect.objectContaining({ workflowStatus: 'RESOLVED', compliance: 'PASSED' })]);
    // Opened at detection, updated after the outcome: created before it was last updated.
    expect(Date.parse(f[0]!.createdAt)).toBeLessThan(Date.parse(f[0]!.updatedAt));
    // Not exempt, and its note says so (a note an ended exemption left would otherwise stay).
    expect(f[0]!.note).toMatch(/^No exemption applies/);
  });

  test('an exempt cluster has a SUPPRESSED finding whose note names the exemption, its reason and expiry', () => {
    const [f] = findingOf(report, 'legacy-x');
    expect(f).toMatchObject({ workflowStatus: 'SUPPRESSED', compliance: 'FAILED' });
    expect(f!.note).toContain('legacy-vendor');
    expect(f!.note).toContain('SEC-42');
    expect(f!.note).toContain('2099-12-31');
  });

  test("a member account's finding is imported in the member account's own hub", () => {
    expect(findingOf(report, 'pay-api')).toEqual([expect.objectContaining({ account: MEMBER, workflowStatus: 'RESOLVED' })]);
  });

  test('a detection notice went to chat before each revert, threaded with the outcome, and is not counted as an alert', () => {
    const notices = report.notices.filter((n) => n.subject.startsWith('[DETECTED] prod-api'));
    expect(notices).toHaveLength(1);
    const outcome = report.alerts.find((a) => a.subject.startsWith('[REMEDIATED] prod-api'))!;
    const thread = (chat: unknown) => (chat as { metadata: { threadId: string } }).metadata.threadId;
    expect(thread(notices[0]!.chat)).toBe(thread(outcome.chat));
    expect(report.alerts.some((a) => a.subject.startsWith('[DETECTED]'))).toBe(false);
    // Alert mode and exemptions revert nothing: no detection notice.
    expect(report.notices.some((n) => /sandbox-a|legacy-x/.test(n.subject))).toBe(false);
  });

  test('the owner fixing the alert-mode cluster RESOLVES its finding; opening it again makes it NEW again (same id)', async () => {
    const r = await run([open(HOME, 'sandbox-a'), { settle: true }, { call: 'updateClusterConfig', as: as(HOME), region: 'us-east-1', cluster: 'sandbox-a', resourcesVpcConfig: { endpointPublicAccess: false } }, { settle: true }], [closed('sandbox-a')]);
    expect(findingOf(r, 'sandbox-a')).toEqual([expect.objectContaining({ workflowStatus: 'RESOLVED', compliance: 'PASSED' })]);
    const again = await run([open(HOME, 'sandbox-a'), { settle: true }, { call: 'updateClusterConfig', as: as(HOME), region: 'us-east-1', cluster: 'sandbox-a', resourcesVpcConfig: { endpointPublicAccess: false } }, { settle: true }, open(HOME, 'sandbox-a')], [closed('sandbox-a')]);
    expect(findingOf(again, 'sandbox-a')).toEqual([expect.objectContaining({ workflowStatus: 'NEW', compliance: 'FAILED' })]);
  });

  test('a manual action (no safe revert) raises the severity one level, and the finding links the console and the execution', async () => {
    const VPC = 'vpc-0a1b2c3d4e5f60001';
    const r = await simulate(
      parseScenario({
        startTime: '2026-04-01T00:00:00Z',
        accounts: [{ id: HOME }],
        vpcs: [{ id: VPC, account: HOME, region: 'us-east-1', subnetIds: ['subnet-0a1b2c3d4e5f60011'], enableDnsHostnames: false }],
        clusters: [{ name: 'web', account: HOME, region: 'us-east-1', vpcId: VPC, endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }],
        guard: { securityHubFindings: true },
        recheckHorizonHours: 1,
        steps: [{ call: 'updateClusterConfig', as: as(HOME), region: 'us-east-1', cluster: 'web', resourcesVpcConfig: { publicAccessCidrs: ['0.0.0.0/0', '198.51.100.0/24'] } }],
      }),
      policy,
    );
    expect(findingOf(r, 'web')).toEqual([expect.objectContaining({ workflowStatus: 'NEW', compliance: 'FAILED', severity: 'CRITICAL' })]);
  });

  test('off by default: no finding is imported', async () => {
    const r = await run([open(HOME, 'prod-api')], [closed('prod-api')], false);
    expect(r.findings).toBeUndefined();
  });
});

describe('findingOf', () => {
  test('links the cluster console and names the execution; SourceUrl is the execution page when given', async () => {
    const { findingOf: build, executionConsoleUrl } = await import('../../src/workflow/finding');
    const { parsePolicy: parse, evaluateCluster, parseObservedCluster } = await import('../../src/policy');
    const p = parse('version: 1\ndefaults: { publicAccess: forbidden, privateAccess: required }\n', 'p');
    const observed = parseObservedCluster({ name: 'x', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/x', status: 'ACTIVE', resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }, tags: {} });
    const evaluation = evaluateCluster(p, observed, { now: 0 });
    const state = { cluster: { name: 'x', account: '111122223333', region: 'eu-west-1' }, executionName: 'evt-1', startedAt: 0, trigger: { kind: 'event' }, assessment: { settled: true, evaluation, observedAt: 1000 } } as never;
    const arn = 'arn:aws:states:eu-west-1:111122223333:execution:sm:evt-1';
    const f = build(state, 5000, 'alerted', executionConsoleUrl(arn))!;
    expect(f.SourceUrl).toBe(`https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${encodeURIComponent(arn)}`);
    expect(f.ProductFields['eks-endpoint-guard/ConsoleUrl']).toMatch(/^https:\/\/console\.aws\.amazon\.com\/eks\/home\?region=eu-west-1#\/clusters\/x$/);
    expect(f.ProductFields['eks-endpoint-guard/Execution']).toBe('evt-1');
    // Stamped with when the cluster was read (1000), not the import (5000).
    expect(f.UpdatedAt).toBe(new Date(1000).toISOString());
    expect(f.Severity.Label).toBe('HIGH');
  });
});
