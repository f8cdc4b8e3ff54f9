/**
 * No repeated pages, end to end through simulate: an open violation the guard does not close (alert
 * mode) is told once; sweeps over it stay quiet within reminderHours, then one reminder lists it; a
 * change to it is told at once; a fix closes it (told once).
 */
import { parsePolicy } from '../../src/policy';
import { parseScenario, simulate, type SimulationReport } from '../../src/local/simulate';
import { closeOpenAlert, decideOpenAlert, openAlertFingerprint } from '../../src/ledger/rules';

const ACCOUNT = '111122223333';
const HOUR = 3600;
const policyText = (reminderHours?: number) => `
version: 1
defaults: { publicAccess: forbidden, privateAccess: required }
rules:
  - name: sandbox-watch
    match: { clusters: ["sandbox-*"] }
    mode: alert
    publicAccess: restricted
    allowedPublicCidrs: [203.0.113.0/24]
    ${reminderHours ? `reminderHours: ${reminderHours}` : ''}
`;

const openCluster = { name: 'sandbox-a', account: ACCOUNT, region: 'us-east-1', endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };

function run(steps: unknown[], reminderHours?: number): Promise<SimulationReport> {
  const scenario = parseScenario({ startTime: '2026-03-01T00:00:00Z', accounts: [{ id: ACCOUNT }], clusters: [openCluster], steps });
  return simulate(scenario, parsePolicy(policyText(reminderHours), 'policy.yaml'), { alerts: 'full' });
}
const sweepsEvery = (hours: number, count: number) => Array.from({ length: count }, (_, i) => (i === 0 ? [{ sweep: true }] : [{ advance: hours * HOUR }, { sweep: true }])).flat();
const subjects = (r: SimulationReport) => r.alerts.filter((a) => a.outcome === 'alerted' || a.outcome === 'compliant').map((a) => a.subject);

describe('an unchanged alert-mode violation is told once, then reminded once per reminderHours', () => {
  test('four sweeps six hours apart (18 h, default reminderHours 24): one alert, the executions still judge it', async () => {
    const r = await run(sweepsEvery(6, 4));
    expect(r.executions.filter((e) => e.cluster?.name === 'sandbox-a').map((e) => e.outcome)).toEqual(['alerted', 'alerted', 'alerted', 'alerted']);
    expect(subjects(r)).toHaveLength(1);
    expect(subjects(r)[0]).toMatch(/^\[VIOLATION\] sandbox-a 111122223333\/us-east-1: /);
  });

  test('a sweep 25 hours after the first alert sends one reminder that says since when', async () => {
    const r = await run([...sweepsEvery(6, 3), { advance: 13 * HOUR }, { sweep: true }, { advance: 1 * HOUR }, { sweep: true }]);
    const told = subjects(r);
    expect(told).toHaveLength(2);
    expect(told[1]).toContain('still open since 2026-03-01');
    const reminder = r.alerts.filter((a) => a.outcome === 'alerted')[1]!;
    expect(reminder.text).toMatch(/Reminder\s+1:\s+this\s+violation\s+was\s+first\s+reported\s+at\s+2026-03-01T00:00/);
  });

  test('reminderHours from the rule: 2 hours gives a reminder on the third sweep an hour apart', async () => {
    const r = await run(sweepsEvery(1, 4), 2);
    expect(subjects(r).map((s) => s.includes('still open'))).toEqual([false, true]);
  });

  test('a change to the violation is told at once; fixing it closes it, told once', async () => {
    const as = `arn:aws:iam::${ACCOUNT}:user/dev`;
    const r = await run([
      { sweep: true },
      { advance: HOUR },
      { call: 'updateClusterConfig', as, region: 'us-east-1', cluster: 'sandbox-a', resourcesVpcConfig: { publicAccessCidrs: ['0.0.0.0/0', '198.51.100.0/24'] } },
      { settle: true },
      { advance: HOUR },
      { sweep: true },
      { call: 'updateClusterConfig', as, region: 'us-east-1', cluster: 'sandbox-a', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.0/24'] } },
      { settle: true },
      { advance: HOUR },
      { sweep: true },
    ]);
    const told = subjects(r);
    expect(told).toHaveLength(3);
    expect(told[2]).toMatch(/^\[COMPLIANT\] sandbox-a .*fixed/);
    expect(r.alerts.at(-1)!.text).toMatch(/This\s+closes\s+the\s+violation\s+reported\s+at\s+2026-03-01T01:/);
  });
});

describe('decideOpenAlert', () => {
  const fp = openAlertFingerprint({ outcome: 'alerted', rule: 'r', mode: 'alert', endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['b', 'a'], violations: ['X'], failure: null });
  const H = 3_600_000;
  test.each([
    ['nothing open: alert', null, fp, 'e2', 10 * H, 'alert', 0],
    ['same, 23 h later: quiet', { at: 0, reminders: 0 }, fp, 'e2', 23 * H, 'quiet', 0],
    ['same, 24 h later: reminder', { at: 0, reminders: 0 }, fp, 'e2', 24 * H, 'reminder', 1],
    ['another fingerprint: alert', { at: 0, reminders: 3 }, 'other', 'e2', 1 * H, 'alert', 0],
    ['the same execution again: its earlier answer', { at: 0, reminders: 0, last: 'e1' }, fp, 'e1', 30 * H, 'alert', 0],
  ] as const)('%s', (_name, open, fingerprint, execution, now, decision, reminders) => {
    const current = open ? { fingerprint: fp, outcome: 'alerted', firstAlertedAt: 0, lastAlertedAt: open.at, reminders: open.reminders, lastExecution: 'last' in open ? open.last : 'e1', lastDecision: 'alert' as const } : null;
    const out = decideOpenAlert(current, fingerprint, 'alerted', execution, now, 24);
    expect(out.decision).toBe(decision);
    expect(out.next.reminders).toBe(reminders);
  });
  test('the fingerprint ignores the order of CIDRs and violations', () => {
    const other = openAlertFingerprint({ outcome: 'alerted', rule: 'r', mode: 'alert', endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['a', 'b'], violations: ['X', 'X'], failure: null });
    expect(other).toBe(fp);
  });
  test('a closed alert is no longer open: the same fingerprint is told again', () => {
    const closed = { fingerprint: fp, outcome: 'alerted', firstAlertedAt: 0, lastAlertedAt: 0, reminders: 0, lastExecution: 'e1', lastDecision: 'alert' as const, closedBy: 'e2' };
    expect(decideOpenAlert(closed, fp, 'alerted', 'e3', 1000, 24).decision).toBe('alert');
  });
});

describe('found by the hostile review', () => {
  const enforce = parsePolicy('version: 1\ndefaults: { mode: enforce, publicAccess: forbidden, privateAccess: required }\n', 'p.yaml');
  const alertOnly = parsePolicy('version: 1\ndefaults: { mode: alert, publicAccess: forbidden, privateAccess: required }\n', 'p.yaml');
  const VPC = 'vpc-0a1b2c3d4e5f60001';
  const SUBNET = 'subnet-0a1b2c3d4e5f60011';
  const mallory = 'arn:aws:sts::111122223333:assumed-role/Dev/mallory';
  const world = (over: Record<string, unknown>, vpc: Record<string, unknown> = {}) => ({
    startTime: '2026-03-01T00:00:00Z',
    updateSeconds: 60,
    accounts: [{ id: ACCOUNT }],
    vpcs: [{ id: VPC, account: ACCOUNT, region: 'eu-west-1', subnetIds: [SUBNET], ...vpc }],
    clusters: [{ name: 'web', account: ACCOUNT, region: 'eu-west-1', vpcId: VPC, endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }],
    ...over,
  });
  const widen = { call: 'updateClusterConfig', as: mallory, region: 'eu-west-1', cluster: 'web', resourcesVpcConfig: { publicAccessCidrs: ['0.0.0.0/0', '198.51.100.0/24'] } };

  test('a manual action re-checked for 50 hours: one detection notice, one alert and a reminder a day, the executions do not fail again', async () => {
    const r = await simulate(parseScenario(world({ recheckHorizonHours: 50, steps: [widen] }, { enableDnsHostnames: false })), enforce, { alerts: 'full' });
    expect(r.notices).toHaveLength(1);
    const told = r.alerts.filter((a) => a.outcome === 'manual-action-required');
    expect(told.length).toBeGreaterThanOrEqual(2);
    expect(told.length).toBeLessThanOrEqual(3);
    expect(told.slice(1).every((a) => a.subject.includes('still open since'))).toBe(true);
  });

  test('a fix of a manual action is announced once, not again by the re-check already scheduled', async () => {
    const fix = { call: 'updateClusterConfig', as: 'arn:aws:sts::111122223333:assumed-role/Admin/olga', region: 'eu-west-1', cluster: 'web', resourcesVpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: false } };
    const r = await simulate(parseScenario(world({ recheckHorizonHours: 3, steps: [widen, { settle: true }, { advance: 3000 }, fix] }, { enableDnsHostnames: false })), enforce, { alerts: 'full' });
    expect(r.alerts.filter((a) => a.outcome === 'compliant').map((a) => a.subject)).toEqual([expect.stringMatching(/^\[COMPLIANT\] web .*fixed/)]);
  });

  test('a cluster deleted with an alert open, then created again open: the new cluster is alerted', async () => {
    const closed = { name: 'web', account: ACCOUNT, region: 'eu-west-1', vpcId: VPC, endpointPublicAccess: false, endpointPrivateAccess: true };
    const steps = [
      { call: 'updateClusterConfig', as: mallory, region: 'eu-west-1', cluster: 'web', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } },
      { settle: true },
      { advance: 3600 },
      { call: 'deleteCluster', as: mallory, region: 'eu-west-1', cluster: 'web' },
      { advance: 3600 },
      { sweep: true },
      { call: 'createCluster', as: 'arn:aws:sts::111122223333:assumed-role/Dev/carol', region: 'eu-west-1', cluster: 'web', resourcesVpcConfig: { subnetIds: [SUBNET], endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } },
    ];
    const r = await simulate(parseScenario(world({ clusters: [closed], steps })), alertOnly, { alerts: 'full' });
    const alerted = r.alerts.filter((a) => a.outcome === 'alerted');
    expect(alerted).toHaveLength(2);
    expect(alerted[1]!.text).toContain('carol');
    expect(alerted[1]!.subject).not.toContain('still open');
  });

  test('a permanent refusal left open: quiet sweeps do not fail their executions (one operations alarm, not one per sweep)', async () => {
    const policy = parsePolicy('version: 1\ndefaults: { mode: enforce, publicAccess: restricted, privateAccess: optional, allowedPublicCidrs: ["2001:db8::/32"] }\n', 'p.yaml');
    const cluster = { name: 'web', account: ACCOUNT, region: 'eu-west-1', vpcId: VPC, endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['2001:db8::/32'] };
    const open = { call: 'updateClusterConfig', as: mallory, region: 'eu-west-1', cluster: 'web', resourcesVpcConfig: { publicAccessCidrs: ['0.0.0.0/0'] } };
    const sweeps = Array.from({ length: 3 }, () => [{ advance: 21600 }, { sweep: true }]).flat();
    const r = await simulate(parseScenario(world({ clusters: [cluster], steps: [open, { settle: true }, ...sweeps] })), policy, { alerts: 'full' });
    const failed = r.executions.filter((e) => e.outcome === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(r.alerts.filter((a) => a.outcome === 'failed')).toHaveLength(1);
    expect(r.operations).toHaveLength(1);
  });
});

describe('decideOpenAlert: a retried step answers what it answered, whatever came between', () => {
  const fp = 'fp';
  test('A alerts (its answer lost), B is quiet, A retried still alerts; the same for a close', () => {
    const a = decideOpenAlert(null, fp, 'alerted', 'A', 0, 24);
    const b = decideOpenAlert(a.next, fp, 'alerted', 'B', 1000, 24);
    expect(b.decision).toBe('quiet');
    expect(decideOpenAlert(b.next, fp, 'alerted', 'A', 2000, 24).decision).toBe('alert');
  });
  test('a cluster just created is a new alert even with the same fingerprint open', () => {
    const a = decideOpenAlert(null, fp, 'alerted', 'A', 0, 24);
    expect(decideOpenAlert(a.next, fp, 'alerted', 'B', 1000, 24, true).decision).toBe('alert');
  });
  test('closing is once, and the same on a retry', () => {
    const a = decideOpenAlert(null, fp, 'alerted', 'A', 0, 24);
    const c = closeOpenAlert(a.next, 'C');
    expect(c.closed).not.toBeNull();
    expect(closeOpenAlert(c.next, 'D').closed).toBeNull();
    expect(closeOpenAlert(c.next, 'C').closed).not.toBeNull();
  });
});
