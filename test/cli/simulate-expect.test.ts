/**
 * A scenario's `expect:` gates CI: `simulate` exits 0 when every expectation holds, 1 with one
 * `expectation failed:` line per mismatch on stderr, 2 when `expect:` itself is wrong. `startTime` and
 * `--now` set where emulated time starts, so simulate and `check` judge exemptions at the same instant.
 */
import { spawnSync } from 'node:child_process';
import { checkExpectations, describeExpectation, type ExpectationSubject, type Expectations } from '../../src/local/expect';

const S = 'test/fixtures/scenarios';
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['dist/cli.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const simulate = (...args: string[]) => cli('simulate', '--policy', 'policy.yaml', ...args);

describe('expect: in a scenario, through the CLI', () => {
  test('every expectation holds: exit 0, and the JSON report lists each one with what was expected and found', () => {
    const r = simulate('--scenario', `${S}/expect-hold.yaml`, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { expectations } = JSON.parse(r.stdout);
    expect(expectations.map((e: { path: string }) => e.path)).toEqual([
      'outcomes.prod-api',
      'outcomes.111122223333/us-east-1/analytics',
      'finalConfig.prod-api',
      'finalConfig.analytics',
      'finalConfig.team-a',
      'alerts.total',
      'alerts.critical',
      'alerts.warning',
      'alerts.remediated',
      'pendingRechecks',
    ]);
    expect(expectations.every((e: { ok: boolean }) => e.ok)).toBe(true);
    // SELF_REMEDIATION entries are left out of what was found.
    expect(expectations[0]).toEqual({ path: 'outcomes.prod-api', ok: true, expected: ['remediated', 'remediated'], actual: ['remediated', 'remediated'] });
    expect(expectations[5]).toEqual({ path: 'alerts.total', ok: true, expected: 3, actual: 3 });
  });

  test('mismatches: exit 1, one line each on stderr, and the report still printed', () => {
    const r = simulate('--scenario', `${S}/expect-fail.yaml`, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'expectation failed: outcomes.prod-api: expected remediated, failed, got failed, remediated',
      'expectation failed: finalConfig.prod-api: expected {"endpointPublicAccess":true}, got {"endpointPublicAccess":false,"endpointPrivateAccess":true,"publicAccessCidrs":["0.0.0.0/0"]}',
      'expectation failed: alerts.critical: expected 2, got 1',
    ]);
    const report = JSON.parse(r.stdout);
    expect(report.expectations.filter((e: { ok: boolean }) => !e.ok).map((e: { path: string }) => e.path)).toEqual(['outcomes.prod-api', 'finalConfig.prod-api', 'alerts.critical']);
    expect(report.expectations).toContainEqual({ path: 'outcomes.111122223333/us-east-1/prod-api', ok: true, expected: ['failed', 'remediated'], actual: ['failed', 'remediated'] });
  });

  test('without --json the text report ends with the expectations, and the failures still go to stderr', () => {
    const r = simulate('--scenario', `${S}/expect-fail.yaml`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^expectations:\n {2}FAILED outcomes\.prod-api: expected remediated, failed, got failed, remediated\n {2}ok {5}outcomes\.111122223333\/us-east-1\/prod-api: failed, remediated\n/m);
    expect(r.stderr).toMatch(/^expectation failed: alerts\.critical: expected 2, got 1$/m);
  });

  test.each([
    [
      'bad-expect.yaml',
      [
        'startTime: not an ISO date-time such as 2026-01-01T00:00:00Z (value: "2026-02-30T00:00:00Z")',
        'expect.outcomes.prod-api: an outcome (ignored | compliant | exempt | alerted | remediated | escalated | manual-action-required | failed) or a non-empty list of them (value: "fixed")',
        'expect.outcomes.111122223333/us-east-1/prod-api: an outcome',
        'expect.finalConfig.prod-api: name at least one of endpointPublicAccess, endpointPrivateAccess, publicAccessCidrs',
        'expect.finalConfig.111122223333/eu-west-1/prod-api.endpointPublicAccess: ',
        'expect.alerts.total: ',
        'expect.alerts: Unrecognized key: "loud"',
        'expect.pendingRechecks: ',
        'expect: Unrecognized key: "extra"',
      ],
    ],
    [
      'bad-expect-refs.yaml',
      [
        "expect.outcomes.prod-apii: no cluster prod-apii in the scenario's clusters or createCluster steps",
        'expect.outcomes.prod-api: prod-api names 2 clusters (111122223333/us-east-1/prod-api, 111122223333/eu-west-1/prod-api): write ACCOUNT/REGION/NAME',
        'expect.finalConfig.a/b: a cluster is named NAME or ACCOUNT/REGION/NAME (12-digit account)',
        "expect.finalConfig.111122223333/us-west-2/analytics: no cluster 111122223333/us-west-2/analytics in the scenario's clusters or createCluster steps",
      ],
    ],
  ])('%s: exit 2, every problem named by its path', (file, problems) => {
    const r = simulate('--scenario', `${S}/${file}`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(problems.map((p) => expect.stringContaining(`error: ${S}/${file}: ${p}`)));
  });

  test.each([
    [['--now', 'yesterday'], 'error: --now: not an ISO date-time (value: "yesterday")'],
    [['--alerts', 'everything'], 'error: --alerts: expected subjects or full (value: "everything")'],
  ])('bad option %j: exit 2', (args, message) => {
    const r = simulate('--scenario', `${S}/expect-hold.yaml`, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(message);
  });
});

describe('startTime and --now: simulate judges exemptions when check does', () => {
  const outcome = (args: string[]) => {
    const r = simulate('--scenario', `${S}/expired-exemption.yaml`, '--json', ...args);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    return { startTime: report.startTime as string, outcome: report.executions[0].outcome as string };
  };
  const verdict = (args: string[]) => JSON.parse(cli('check', '--policy', 'policy.yaml', '--cluster', `${S}/expired-exemption.json`, '--json', ...args).stdout).verdict;

  test('without startTime the clock starts now: an exemption tag that ran out is a violation for both', () => {
    const before = Date.now();
    const r = outcome([]);
    expect(Date.parse(r.startTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(r.startTime)).toBeLessThanOrEqual(Date.now());
    expect(r.outcome).toBe('remediated');
    expect(verdict([])).toBe('violation');
  });

  test('--now before the tag ran out: exempt for both', () => {
    expect(outcome(['--now', '2026-06-20T00:00:00Z'])).toEqual({ startTime: '2026-06-20T00:00:00.000Z', outcome: 'exempt' });
    expect(verdict(['--now', '2026-06-20T00:00:00Z'])).toBe('exempt');
  });

  test("the scenario's startTime sets the clock, and --now wins over it", () => {
    const own = simulate('--scenario', `${S}/exemption-start-time.yaml`, '--json');
    expect(own.code).toBe(0);
    expect(JSON.parse(own.stdout).startTime).toBe('2026-06-20T00:00:00.000Z');
    const later = simulate('--scenario', `${S}/exemption-start-time.yaml`, '--now', '2026-07-15T00:00:00Z', '--json');
    expect(later.code).toBe(1);
    expect(JSON.parse(later.stdout).startTime).toBe('2026-07-15T00:00:00.000Z');
    expect(later.stderr).toMatch(/^expectation failed: outcomes\.team-svc: expected exempt, got remediated$/m);
  });
});

describe('--alerts', () => {
  test('full: each alert carries its e-mail text and its chat notification, in JSON and in text', () => {
    const json = simulate('--scenario', `${S}/exemption-start-time.yaml`, '--alerts', 'full', '--json');
    expect(json.code).toBe(0);
    const [alert] = JSON.parse(json.stdout).alerts;
    expect(alert.text).toMatch(/^WHAT HAPPENED\n/);
    expect(alert.text).toContain('exempt until 2026-06-30');
    expect(alert.chat).toMatchObject({ version: '1.0', source: 'custom', content: { title: alert.subject } });
    const text = simulate('--scenario', `${S}/exemption-start-time.yaml`, '--alerts', 'full');
    expect(text.stdout).toMatch(/^alerts:\n {2}info {5}exempt {19}\[EXEMPT\] team-svc.*\n {4}e-mail:\n {6}WHAT HAPPENED\n/m);
    expect(text.stdout).toMatch(/^ {4}chat:\n {6}\{\n {8}"version": "1.0",/m);
  });

  test('subjects (the default): subject, severity and outcome only', () => {
    const r = simulate('--scenario', `${S}/exemption-start-time.yaml`, '--json');
    expect(JSON.parse(r.stdout).alerts).toEqual([{ subject: expect.stringMatching(/^\[EXEMPT\] team-svc/), severity: 'info', outcome: 'exempt' }]);
  });
});

describe('checkExpectations', () => {
  const prod = { name: 'prod-api', account: '111122223333', region: 'us-east-1' };
  const other = { name: 'prod-api', account: '444455556666', region: 'us-east-1' };
  const config = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24', '198.51.100.0/24'] };
  const report: ExpectationSubject = {
    executions: [
      { cluster: prod, outcome: 'failed', reason: 'RevertUpdateFailed: ENI limit' },
      { cluster: prod, outcome: 'ignored', reason: 'SELF_REMEDIATION' },
      { cluster: other, outcome: 'compliant', reason: null },
      { cluster: prod, outcome: 'ignored', reason: 'CALL_FAILED' },
      { cluster: prod, outcome: 'remediated', reason: null },
    ],
    clusters: [{ ...prod, config }],
    alerts: [
      { severity: 'critical', outcome: 'failed' },
      { severity: 'warning', outcome: 'remediated' },
    ],
    pendingRechecks: [{}],
  };
  test.each<[string, Expectations, boolean, unknown]>([
    ['one outcome some execution had', { outcomes: { 'prod-api': 'remediated' } }, true, ['failed', 'compliant', 'ignored', 'remediated']],
    ['outcomes in order, others between', { outcomes: { '111122223333/us-east-1/prod-api': ['failed', 'remediated'] } }, true, ['failed', 'ignored', 'remediated']],
    ['outcomes out of order', { outcomes: { '111122223333/us-east-1/prod-api': ['remediated', 'failed'] } }, false, ['failed', 'ignored', 'remediated']],
    ['SELF_REMEDIATION is not counted', { outcomes: { '111122223333/us-east-1/prod-api': ['ignored', 'ignored'] } }, false, ['failed', 'ignored', 'remediated']],
    ['CIDRs as a set', { finalConfig: { 'prod-api': { publicAccessCidrs: ['198.51.100.0/24', '203.0.113.0/24', '198.51.100.0/24'] } } }, true, config],
    ['a CIDR missing', { finalConfig: { 'prod-api': { publicAccessCidrs: ['203.0.113.0/24'] } } }, false, config],
    ['a cluster gone', { finalConfig: { '444455556666/us-east-1/prod-api': { endpointPublicAccess: false } } }, false, null],
    ['alerts by severity', { alerts: { critical: 1 } }, true, 1],
    ['alerts by outcome', { alerts: { exempt: 1 } }, false, 0],
    ['pending re-checks', { pendingRechecks: 0 }, false, 1],
  ])('%s', (_label, expectations, ok, actual) => {
    const [result] = checkExpectations(expectations, report);
    expect(result).toMatchObject({ ok, actual });
  });

  test('a mismatch reads as one line', () => {
    const [result] = checkExpectations({ outcomes: { 'prod-api': 'exempt' } }, { ...report, executions: report.executions.slice(0, 2) });
    expect(describeExpectation(result!)).toBe('outcomes.prod-api: expected exempt, got failed');
  });
});
