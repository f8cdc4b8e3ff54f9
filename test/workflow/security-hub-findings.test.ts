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

  test('off by default: no finding is imported', async () => {
    const r = await run([open(HOME, 'prod-api')], [closed('prod-api')], false);
    expect(r.findings).toBeUndefined();
  });
});
