/**
 * One deployment governing an organization, end to end through simulate: member events reach the guard
 * only where the member stack forwards them, OU and account-tag rules decide, an account without the
 * member stack is caught by the sweep and reported uncovered, suspended and excluded accounts are skipped.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parsePolicy } from '../../src/policy';
import { parseScenario, simulate, type SimulationReport } from '../../src/local/simulate';

const DIR = 'demo/scenarios/organization';
const base = parse(readFileSync(`${DIR}/scenario.yaml`, 'utf8')) as Record<string, any>;
const policy = parsePolicy(readFileSync(`${DIR}/policy.yaml`, 'utf8'), 'policy.yaml');

function run(changes: Record<string, unknown> = {}): Promise<SimulationReport> {
  return simulate(parseScenario({ ...base, ...changes }), policy);
}
const outcomesOf = (r: SimulationReport, name: string) => r.executions.filter((e) => e.cluster?.name === name).map((e) => [e.eventName, e.outcome, e.reason?.split(':')[0] ?? null]);
const configOf = (r: SimulationReport, name: string) => r.clusters.find((c) => c.name === name)!.config;

describe('an organization governed from one deployment', () => {
  let report: SimulationReport;
  beforeAll(async () => {
    report = await run();
  });

  test('a change in a member account in another region is forwarded and fixed in real time', () => {
    expect(outcomesOf(report, 'payments-api')).toEqual([
      ['UpdateClusterConfig', 'remediated', null],
      ['UpdateClusterConfig', 'ignored', 'SELF_REMEDIATION'],
    ]);
    expect(configOf(report, 'payments-api')).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
    expect(report.alerts.filter((a) => a.outcome === 'remediated').map((a) => a.subject)).toEqual(['[REMEDIATED] payments-api 333333333333/eu-west-1: public endpoint closed']);
  });

  test('an OU rule lets the sandbox be public from the office ranges', () => {
    expect(outcomesOf(report, 'sandbox-dev')).toEqual([['UpdateClusterConfig', 'compliant', null]]);
    expect(configOf(report, 'sandbox-dev').publicAccessCidrs).toEqual(['203.0.113.0/24', '198.51.100.0/24']);
  });

  test('the same change in an account tagged restricted is a violation (account tags)', async () => {
    const r = await run({
      clusters: [...base.clusters, { name: 'ledger-api', account: '333333333333', region: 'us-east-1', endpointPublicAccess: false, endpointPrivateAccess: true }],
      steps: [{ call: 'updateClusterConfig', as: 'arn:aws:sts::333333333333:assumed-role/Developer/dan', region: 'us-east-1', cluster: 'ledger-api', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'] } }],
      expect: undefined,
    });
    expect(outcomesOf(r, 'ledger-api')[0]).toEqual(['UpdateClusterConfig', 'remediated', null]);
    expect(configOf(r, 'ledger-api').endpointPublicAccess).toBe(false);
  });

  test('an account without the member stack is heard by nobody, and the sweep reports it uncovered (warning alert)', () => {
    expect(outcomesOf(report, 'billing-old')).toEqual([['UpdateClusterConfig', 'ignored', 'NOT_FORWARDED']]);
    expect(configOf(report, 'billing-old').endpointPublicAccess).toBe(true);
    const sweep = report.steps.find((s) => s.kind === 'sweep')!;
    expect(sweep).toMatchObject({ ok: false });
    expect(sweep.result).toContain('uncovered accounts 555555555555');
    const coverage = report.sweeps[0]!.coverage!;
    expect(coverage).toMatchObject({ complete: false, accounts: { uncovered: ['555555555555'] }, clusters: { notJudged: 0 } });
    const warning = report.alerts.filter((a) => a.outcome === 'coverage-incomplete');
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatchObject({ severity: 'warning' });
  });

  test('once the member stack is deployed there, the sweep reaches the account and fixes what nobody heard', async () => {
    const r = await run({ members: [...base.members, { account: '555555555555', regions: ['us-east-1'] }], expect: undefined, steps: [{ sweep: true }], clusters: base.clusters.map((c: any) => (c.name === 'billing-old' ? { ...c, endpointPublicAccess: true } : c)) });
    expect(r.sweeps[0]!.coverage).toMatchObject({ complete: true, accounts: { uncovered: [] } });
    expect(outcomesOf(r, 'billing-old')[0]).toEqual(['ScheduledSweep', 'remediated', null]);
    expect(configOf(r, 'billing-old').endpointPublicAccess).toBe(false);
  });

  test.each([
    ['excluded', { guard: { ...base.guard, excludedAccounts: ['555555555555'] } }, 'EXCLUDED'],
    ['suspended', { organization: { ...base.organization, accounts: base.organization.accounts.map((a: any) => (a.id === '555555555555' ? { ...a, status: 'SUSPENDED' } : a)) } }, 'SUSPENDED'],
    ['outside the governed OUs', { guard: { ...base.guard, governedOus: ['ou-ab12-sandbox1', 'ou-ab12-security'] } }, 'OUTSIDE_GOVERNED_OUS'],
  ])('an account %s is skipped and reported, not uncovered', async (_what, changes, reason) => {
    const r = await run({ ...changes, expect: undefined, steps: [{ sweep: true }] });
    const coverage = r.sweeps[0]!.coverage!;
    expect(coverage.accounts.skipped).toEqual(expect.arrayContaining([expect.objectContaining({ account: '555555555555', reason })]));
    expect(coverage.accounts.uncovered).not.toContain('555555555555');
  });

  test.each([
    ['a member account the scenario does not have', { members: [...base.members, { account: '999999999999', regions: ['us-east-1'] }] }, 'members[4].account: account 999999999999 is not declared in accounts or the organization'],
    ['a member listed twice', { members: [...base.members, { account: '444444444444', regions: ['eu-west-1'] }] }, 'members[4].account: account 444444444444 is listed twice'],
    ['a mistyped member region', { members: [{ account: '333333333333', regions: ['eu-wset-1'] }] }, 'members[0].regions[0]: "eu-wset-1" is not an AWS region (did you mean eu-west-1?)'],
    ['a mistyped governed region', { guard: { ...base.guard, regions: ['us-east-1', 'eu-wset-1'] } }, 'guard.regions[1]: "eu-wset-1" is not an AWS region'],
    ['a mistyped guard region', { guard: { ...base.guard, region: 'us-esat-1' } }, 'guard.region: "us-esat-1" is not an AWS region (did you mean us-east-1?)'],
    ['a guard outside the organization', { guard: { ...base.guard, account: '888888888888' }, accounts: [{ id: '888888888888' }] }, 'guard.account: 888888888888 is not in the organization'],
  ])('refuses %s, naming it (exit 2, never a silent gap)', (_what, changes, message) => {
    expect(() => parseScenario({ ...base, ...changes })).toThrow(message);
  });

  test('the scenario\'s own expectations hold', () => {
    expect(report.expectations?.every((e) => e.ok)).toBe(true);
  });
});
