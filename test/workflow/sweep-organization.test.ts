/**
 * The organization sweep end to end: statemachine/sweep-organization.asl.yml run by the local runner
 * (aws-local-stepfunctions, its Map and loops) with the real handlers, against the emulator's
 * Organizations, STS (member roles with trust), EKS (a rate limit per account and region, throttling
 * beyond the SDK's retries), DynamoDB and SNS.
 *
 * The organization: the guard's home is the delegated administrator; the management account has no
 * member stack (StackSets skip it) and is uncovered; a workload account has its member role; a
 * suspended account is skipped. Two regions.
 */
import { parsePolicy } from '../../src/policy';
import { startEmulator, manualClock, type Emulator, type EmulatorState } from '../../src/emulator';
import { GUARD_ROLE_NAME, LEDGER_TABLE_NAME } from '../../src/local/local-guard';
import { startSweepHarness, type SweepHarness } from '../../src/local/sweep-harness';
import { INCOMPLETE_COVERAGE_MESSAGE } from '../../src/sweep/record-coverage';
import type { Log } from '../../src/workflow/deps';

const HOME = '111111111111';
const MGMT = '222222222222';
const WORK = '333333333333';
const OLD = '444444444444';
const REGIONS = ['us-east-1', 'eu-west-1'];
const SWEEP_TIME = '2026-01-01T06:00:00Z';
const STAMP = '202601010600';

const POLICY = parsePolicy(
  `version: 1
defaults: { publicAccess: restricted, privateAccess: required, allowedPublicCidrs: [203.0.113.0/24] }
`,
  'sweep policy',
);

type Seed = { account: string; region: string; name: string; open?: boolean };
const cluster = ({ account, region, name, open }: Seed) => ({
  name,
  account,
  region,
  endpointPublicAccess: true,
  endpointPrivateAccess: true,
  ...(open ? {} : { publicAccessCidrs: ['203.0.113.0/24'] }),
});
const many = (account: string, region: string, n: number, openEvery = 0): Seed[] =>
  Array.from({ length: n }, (_, i) => ({ account, region, name: `c-${String(i).padStart(3, '0')}`, open: openEvery > 0 && i % openEvery === 0 }));

const SEEDS: Seed[] = [
  ...many(WORK, 'us-east-1', 130, 50), // two ListClusters pages; c-000, c-050, c-100 open
  ...many(WORK, 'eu-west-1', 4, 4), // c-000 open
  { account: HOME, region: 'us-east-1', name: 'tooling', open: true },
  { account: HOME, region: 'us-east-1', name: 'tooling-private' },
  ...many(MGMT, 'us-east-1', 2, 1),
  { account: OLD, region: 'us-east-1', name: 'forgotten', open: true },
];
const VIOLATIONS = [`${WORK}/c-000`, `${WORK}/c-050`, `${WORK}/c-100`, `${WORK}/c-000`, `${HOME}/tooling`];

const STATE: EmulatorState = {
  organization: {
    id: 'o-abcdefghij',
    managementAccount: MGMT,
    delegatedAdministrators: [HOME],
    units: [{ name: 'Security' }, { name: 'Workloads' }, { name: 'Closed' }],
    accounts: [
      { id: MGMT, name: 'management' },
      { id: HOME, name: 'security-tooling', unit: 'Security' },
      { id: WORK, name: 'payments', unit: 'Workloads' },
      { id: OLD, name: 'old', unit: 'Closed', status: 'SUSPENDED' },
    ],
  },
  // The management account has no member stack: no role there, so AssumeRole is refused.
  accounts: [{ id: MGMT, strictRoles: true }],
  roles: [{ account: WORK, name: GUARD_ROLE_NAME, trust: [`arn:aws:iam::${HOME}:role/${GUARD_ROLE_NAME}`] }],
  clusters: SEEDS.map(cluster),
};

type Line = { level: string; message: string; extra: Record<string, unknown> };
const lines: Line[] = [];
const recordingLog: Log = {
  debug: () => undefined,
  info: (message, extra) => lines.push({ level: 'info', message, extra: extra ?? {} }),
  warn: (message, extra) => lines.push({ level: 'warn', message, extra: extra ?? {} }),
  error: (message, extra) => lines.push({ level: 'error', message, extra: extra ?? {} }),
};

let emulator: Emulator;
let harness: SweepHarness;

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(Date.parse('2026-01-01T06:00:05Z')), state: STATE });
  // EKS's own throttling, per account and region, on the wall clock; and calls that stay throttled
  // beyond the SDK's adaptive retries (3 attempts): one cluster's and one page's first 4 calls.
  emulator.setFault({ kind: 'rateLimit', service: 'eks', perSecond: 200, burst: 20 });
  emulator.setFault({ kind: 'throttle', operation: 'DescribeCluster', account: WORK, region: 'us-east-1', cluster: 'c-007', times: 4 });
  emulator.setFault({ kind: 'throttle', operation: 'ListClusters', account: WORK, region: 'eu-west-1', times: 4 });
  // No time left after any step (a margin as long as the Lambda's 60 s timeout): every unit goes on in
  // continuations. (A tiny Lambda timeout would not do: middy ends a handler whose time is up.)
  harness = await startSweepHarness({ emulator, policy: POLICY, homeAccount: HOME, homeRegion: 'us-east-1', regions: REGIONS, timeMarginSeconds: 60, describeConcurrency: 4, log: recordingLog });
});
afterAll(async () => {
  harness?.close();
  await emulator?.close();
});

describe('the organization sweep state machine', () => {
  let run: Awaited<ReturnType<SweepHarness['runner']['sweepOrganization']>>;
  beforeAll(async () => {
    run = await harness.runner.sweepOrganization(SWEEP_TIME, { lambdaTimeoutMs: 60_000, drain: false });
  });

  it('runs to the end and keeps every payload far below the 256 KB limit', () => {
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.maxPayloadBytes).toBeLessThan(64 * 1024);
  });

  it('judges every listed cluster of every covered unit despite throttling: 0 not judged', () => {
    const c = run.coverage!;
    expect(c.clusters).toMatchObject({ listed: 130 + 4 + 2, judged: 136, notJudged: 0, violations: VIOLATIONS.length, started: VIOLATIONS.length });
    expect(c.units).toEqual({ total: 6, covered: 4, partial: 0, uncovered: 2, failed: 0 });
  });

  it('reports the account without member roles as uncovered and the suspended one as skipped', () => {
    const c = run.coverage!;
    expect(c.complete).toBe(false);
    expect(c.accounts).toMatchObject({ governed: 3, covered: 2, uncovered: [MGMT] });
    expect(c.accounts.skipped).toEqual([{ account: OLD, name: 'old', reason: 'SUSPENDED' }]);
    expect(c.errors.filter((e) => e.account === MGMT).map((e) => [e.region, e.status])).toEqual([
      ['us-east-1', 'uncovered'],
      ['eu-west-1', 'uncovered'],
    ]);
    expect(c.errors[0]!.error).toMatch(/AssumeRole .*AccessDenied/);
  });

  it('went through continuations (the tiny time budget), retry rounds and a retried page', () => {
    // 6 units; far more SweepUnit invocations than units: each returned a continuation after one step.
    expect(run.lambdaInvocations.sweepUnit).toBeGreaterThan(6 * 3);
    expect(run.lambdaInvocations).toMatchObject({ listSweepUnits: 1, recordCoverage: 1 });
    const throttledPage = lines.find((l) => l.message === 'cluster listing throttled, retrying the page');
    expect(throttledPage?.extra).toMatchObject({ account: WORK, region: 'eu-west-1' });
    const work = lines.find((l) => l.message === 'sweep unit finished' && l.extra.account === WORK && l.extra.region === 'us-east-1');
    expect(work?.extra).toMatchObject({ listed: 130, judged: 130, throttleRounds: 1 });
    expect(run.maxUnitsInFlight).toBeGreaterThan(1);
    expect(run.awsCalls.ListClusters).toBeGreaterThanOrEqual(3);
    expect(harness.throttled.DescribeCluster).toBeGreaterThanOrEqual(4);
    expect(harness.throttled.ListClusters).toBeGreaterThanOrEqual(4);
  });

  it('starts one enforcement execution per violation, named by sweep time, account, region and cluster', () => {
    // c-000 exists in both regions of WORK: two executions, told apart by the region in their names.
    expect(run.started.sort()).toEqual(
      [
        `sweep-${STAMP}-${WORK}-us-east-1-c-000`,
        `sweep-${STAMP}-${WORK}-eu-west-1-c-000`,
        `sweep-${STAMP}-${WORK}-us-east-1-c-050`,
        `sweep-${STAMP}-${WORK}-us-east-1-c-100`,
        `sweep-${STAMP}-${HOME}-us-east-1-tooling`,
      ].sort(),
    );
  });

  it('keeps the coverage record in the ledger table, warns on-call naming the uncovered account, and logs the metric line', () => {
    const table = emulator.dynamodbTables().find((t) => t.name === LEDGER_TABLE_NAME)!;
    const keys = table.items.map((i) => i.pk);
    expect(keys).toEqual(expect.arrayContaining([`COVERAGE#${SWEEP_TIME}`, 'COVERAGE#latest']));
    const alerts = harness.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'warning', outcome: 'coverage-incomplete' });
    expect(alerts[0]!.subject).toMatch(/1 account\(s\) uncovered/);
    expect(alerts[0]!.text).toContain(`  - ${MGMT}: the member role cannot be used`);
    const metric = lines.filter((l) => l.message === INCOMPLETE_COVERAGE_MESSAGE);
    expect(metric).toHaveLength(1);
    expect(metric[0]!.extra).toMatchObject({ uncoveredAccounts: 1, clustersNotJudged: 0, uncovered: [MGMT] });
  });

  it('a redelivered schedule (the same time) starts nothing twice', async () => {
    const again = await harness.runner.sweepOrganization(SWEEP_TIME, { lambdaTimeoutMs: 60_000, drain: false });
    expect(again.coverage!.clusters).toMatchObject({ judged: 136, violations: VIOLATIONS.length, started: 0 });
    expect(again.started).toEqual([]);
  });

  it('the executions it started enforce the policy: each open cluster is reverted', async () => {
    const executions = await harness.runner.drain();
    expect(executions.map((e) => `${e.cluster.account}/${e.cluster.name}`).sort()).toEqual([...VIOLATIONS].sort());
    for (const e of executions) {
      expect({ name: e.name, status: e.status, outcome: e.outcome }).toEqual({ name: e.name, status: 'SUCCEEDED', outcome: 'remediated' });
      expect(e.finalConfig?.publicAccessCidrs).toEqual(['203.0.113.0/24']);
    }
  });
});

/**
 * Regressions of a hostile review: a sweep whose scope or organization is wrong must still record an
 * incomplete coverage and warn, never end in silence or call itself complete. Each scenario has its own
 * emulator and harness (the harness installs the handlers' dependencies process-wide, so one at a time).
 */
describe('a sweep that cannot cover what it should says so', () => {
  const scenario = async (options: { homeAccount: string; governedOus?: string[]; excludedAccounts?: string[] }) => {
    lines.length = 0;
    const emu = await startEmulator({ clock: manualClock(Date.parse('2026-01-01T06:00:05Z')), state: STATE });
    const h = await startSweepHarness({ emulator: emu, policy: POLICY, homeRegion: 'us-east-1', regions: REGIONS, log: recordingLog, ...options });
    try {
      const outcome = await h.runner.sweep(SWEEP_TIME);
      const table = emu.dynamodbTables().find((t) => t.name === LEDGER_TABLE_NAME);
      return { ...outcome, alerts: h.alerts(), kept: (table?.items ?? []).map((i) => i.pk) };
    } finally {
      h.close();
      await emu.close();
    }
  };

  // Regression: ListSweepUnits had no Catch; AccessDenied on Organizations ended the execution with no record, no alert.
  it('a guard outside the management account and delegated administrators: AccessDenied, recorded and alerted', async () => {
    const { result, error, alerts, kept } = await scenario({ homeAccount: WORK });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.lambdaInvocations).toMatchObject({ listSweepUnits: 1, recordCoverage: 1 });
    expect(result.lambdaInvocations.sweepUnit).toBeUndefined();
    const c = result.coverage!;
    expect(c).toMatchObject({ sweepTime: SWEEP_TIME, complete: false, organizationId: 'unknown', accounts: { governed: 0 }, units: { total: 0 } });
    expect(c.planError).toMatch(/^the organization could not be read, so nothing was swept: AwsRequestRejectedError: AWS Organizations refused ListAccounts .*AccessDeniedException/);
    expect(c.errors[0]).toMatchObject({ status: 'sweep', error: c.planError });
    expect(kept).toEqual(expect.arrayContaining([`COVERAGE#${SWEEP_TIME}`, 'COVERAGE#latest']));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/the organization could not be read/);
    expect(alerts[0]!.text).toContain('AccessDeniedException');
    expect(error).toMatch(/^coverage incomplete: the organization could not be read/);
    expect(lines.filter((l) => l.message === INCOMPLETE_COVERAGE_MESSAGE)).toHaveLength(1);
  });

  // Regression: GovernedOus [a typo] governed 0 accounts and the coverage said complete: true.
  it('a GovernedOus typo (ou-ab12-workl0ad) governs nothing: incomplete, the typo named in the record and the alert', async () => {
    const { result, error, alerts } = await scenario({ homeAccount: HOME, governedOus: ['ou-ab12-workl0ad'], excludedAccounts: ['999999999999'] });
    const c = result.coverage!;
    expect(c.complete).toBe(false);
    expect(c.accounts.governed).toBe(0);
    expect(c.configurationProblems).toEqual([
      expect.stringMatching(/^GovernedOus entry ou-ab12-workl0ad matches no account of organization o-abcdefghij/),
      expect.stringMatching(/^ExcludedAccounts entry 999999999999 is not an account/),
      expect.stringMatching(/^the sweep governs none of the 4 account\(s\)/),
    ]);
    expect(c.errors.filter((e) => e.status === 'sweep').map((e) => e.error)).toEqual(c.configurationProblems);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/3 configuration problem\(s\)/);
    expect(alerts[0]!.text).toContain('ou-ab12-workl0ad');
    expect(alerts[0]!.text).toContain('999999999999');
    expect(error).toMatch(/^coverage incomplete: 3 configuration problem\(s\): GovernedOus entry ou-ab12-workl0ad/);
  });

  // Regression: the one-line summary named only uncovered accounts.
  it('the one-line summary names partial and failed account-regions too', async () => {
    const emu = await startEmulator({ clock: manualClock(Date.parse('2026-01-01T06:00:05Z')), state: STATE });
    // WORK eu-west-1: a page that keeps failing with a transient error (the unit is partial after its
    // rounds). A 500 rather than throttling: the SDK's adaptive rate limiter would slow the test to minutes.
    emu.setFault({ kind: 'server-error', operation: 'ListClusters', account: WORK, region: 'eu-west-1', times: 10_000 });
    const h = await startSweepHarness({ emulator: emu, policy: POLICY, homeAccount: HOME, homeRegion: 'us-east-1', regions: REGIONS, log: recordingLog });
    try {
      const { result, error } = await h.runner.sweep(SWEEP_TIME);
      expect(result.coverage!.units).toMatchObject({ partial: 1, uncovered: 2 });
      expect(error).toContain(`uncovered accounts ${MGMT}`);
      expect(error).toContain(`1 partial account-region(s) (${WORK} eu-west-1)`);
      // It kept trying for over 20 minutes of (emulated) Wait-state time before giving up.
      const finished = lines.find((l) => l.message === 'sweep unit finished' && l.extra.account === WORK && l.extra.region === 'eu-west-1');
      expect(finished?.extra).toMatchObject({ status: 'partial', listingComplete: false });
      expect(String(finished?.extra.error)).toMatch(/after 16 attempt\(s\)/);
      expect(emu.clock.now() - Date.parse('2026-01-01T06:00:05Z')).toBeGreaterThanOrEqual(20 * 60 * 1000);
    } finally {
      h.close();
      await emu.close();
    }
  }, 120_000);
});
