/**
 * `eks-endpoint-guard simulate` as users run it: the JSON contract, the text report, exit 0 when it ran
 * (and every expectation held: see simulate-expect.test.ts), 2 on bad input; and `demo` on a user's
 * policy and scenario.
 */
import { spawnSync } from 'node:child_process';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['dist/cli.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const run = (...args: string[]) => cli('simulate', ...args);

test('a scenario runs through the workflow and reports executions, clusters and alerts as JSON', () => {
  const r = run('--policy', 'policy.yaml', '--scenario', 'demo/scenarios/prod-opened.yaml', '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(Object.keys(report)).toEqual(expect.arrayContaining(['executions', 'clusters', 'alerts']));
  const [change, own] = report.executions;
  expect(change).toMatchObject({
    cluster: { name: 'prod-api', account: '111122223333', region: 'eu-west-1' },
    outcome: 'remediated',
    finalConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
    alerts: [{ severity: 'warning', outcome: 'remediated', subject: expect.stringMatching(/^\[REMEDIATED\] prod-api/) }],
  });
  expect(change.eventId).toMatch(/^[0-9a-f-]{36}$/);
  expect(change.stateTransitions).toBeGreaterThan(10);
  // The revert met the platform update's ResourceInUseException at least once, and DescribeUpdate was throttled once.
  expect(change.awsCalls.UpdateClusterConfig).toBeGreaterThanOrEqual(2);
  expect(change.awsCalls.DescribeUpdate).toBeGreaterThanOrEqual(2);
  expect(own).toMatchObject({ outcome: 'ignored', reason: 'SELF_REMEDIATION' });
  expect(report.clusters).toEqual([{ name: 'prod-api', account: '111122223333', region: 'eu-west-1', config: expect.objectContaining({ endpointPublicAccess: false, endpointPrivateAccess: true }) }]);
  expect(report.alerts).toHaveLength(1);
});

test.each([
  [['--policy', 'policy.yaml', '--scenario', 'test/fixtures/scenarios/bad-step.yaml'], /steps\[0\]/],
  [['--policy', 'policy.yaml', '--scenario', 'test/fixtures/scenarios/missing.yaml'], /scenario test\/fixtures\/scenarios\/missing.yaml: no such file/],
  [['--policy', 'test/fixtures/policies/invalid/world-open-ipv4.yaml', '--scenario', 'demo/scenarios/prod-opened.yaml'], /allowedPublicCidrs/],
  [['--scenario', 'demo/scenarios/prod-opened.yaml'], /--policy/],
])('bad input %j exits 2 with a message naming it, never a stack trace', (args, message) => {
  const r = run(...args);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
});

test('the guard creates its own alert topic, and a cluster outside any declared VPC lives in the default VPC', () => {
  const r = run('--policy', 'policy.yaml', '--scenario', 'test/fixtures/scenarios/no-topic.yaml', '--json');
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.executions.map((e: { outcome: string; reason: string | null }) => [e.outcome, e.reason])).toEqual([
    ['remediated', null],
    ['ignored', 'SELF_REMEDIATION'],
    ['ignored', 'NOT_ENDPOINT_CHANGE'],
  ]);
  // An ignored event still reports the cluster's settings as they ended up.
  expect(report.executions[2].finalConfig).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
  expect(report.alerts).toEqual([expect.objectContaining({ outcome: 'remediated' })]);
});

test('a bad step names the field at fault, and a step acting in another account than its principal is refused', () => {
  const r = run('--policy', 'policy.yaml', '--scenario', 'test/fixtures/scenarios/bad-fields.yaml');
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([
    expect.stringContaining('steps[0].resourcesVpcConfig.endpointPrivateAccess: Invalid input: expected boolean'),
    expect.stringContaining('steps[1].account: 222222222222 is not the account of "as" (111122223333)'),
    expect.stringContaining('steps[2].fault: a fault is {kind: throttle | server-error'),
  ]);
});

test('a settle step lets the guard act before the next step: the same change made again is reverted again', () => {
  const r = run('--policy', 'policy.yaml', '--scenario', 'test/fixtures/scenarios/settle.yaml', '--json');
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.executions.map((e: { outcome: string }) => e.outcome)).toEqual(['remediated', 'ignored', 'remediated', 'ignored']);
  expect(report.steps[1]).toMatchObject({ kind: 'settle', ok: true });
  expect(report.clusters[0].config).toMatchObject({ endpointPublicAccess: false });
});

test('the text report shows every step with its result, then executions, clusters, alerts, operations alarms and pending re-checks', () => {
  const r = run('--policy', 'policy.yaml', '--scenario', 'test/fixtures/scenarios/settle.yaml');
  expect(r.code).toBe(0);
  const sections = r.stdout.split('\n').filter((l) => /^\S/.test(l));
  expect(sections).toEqual([expect.stringMatching(/^start time: \d{4}-\d{2}-\d{2}T/), 'steps:', 'executions:', 'clusters:', 'alerts:', 'operations alarms:', 'pending re-checks:']);
  expect(r.stdout).toMatch(/^steps:\n {2}\[0\] updateClusterConfig +ok +update \S+ InProgress\n {2}\[1\] settle +ok +2 event\(s\) handled\n {2}\[2\] updateClusterConfig +ok /m);
  expect(r.stdout).toMatch(/^alerts:\n {2}warning +remediated +\[REMEDIATED\] prod-api 111122223333\/us-east-1/m);
  expect(r.stdout).toMatch(/^operations alarms:\n {2}\(none\)\npending re-checks:\n {2}\(none\)\n$/m);
});

describe('demo on your own policy and world', () => {
  test("--scenario with steps plays the scenario's steps, as simulate runs them, and checks its expectations", () => {
    const r = cli('demo', '--wait-ms', '0', '--scenario', 'demo/scenarios/prod-opened.yaml');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eks-endpoint-guard demo: policy policy.yaml, the 4 step\(s\) of demo\/scenarios\/prod-opened.yaml, guard deployed in 111122223333\/eu-west-1$/m);
    expect(r.stdout).toContain('Emulated time starts at 2026-01-01T00:00:00.000Z');
    expect(r.stdout).toMatch(/^▶ step 0: arn:aws:sts::111122223333:assumed-role\/PlatformAdmin\/alice@example.com calls updateClusterConfig on prod-api \(eu-west-1\)$/m);
    expect(r.stdout).toMatch(/^ {2}done {5}prod-api: REMEDIATED after/m);
    expect(r.stdout).toContain('│ Subject: [REMEDIATED] prod-api 111122223333/eu-west-1');
    expect(r.stdout).not.toContain('alice opens production cluster');
    expect(r.stdout).toMatch(/^Expectations\n {2}ok {5}outcomes\.prod-api: remediated$/m);
  });

  test('--scenario without steps plays the story on that world, skipping the chapters it has no cluster for; --policy replaces policy.yaml', () => {
    const r = cli('demo', '--wait-ms', '0', '--scenario', 'test/fixtures/workflow/world.yaml', '--policy', 'test/fixtures/workflow/policy.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eks-endpoint-guard demo: emulator at \S+, policy test\/fixtures\/workflow\/policy.yaml, world test\/fixtures\/workflow\/world.yaml, guard deployed in 111122223333\/us-east-1$/m);
    expect(r.stdout).toMatch(/^▶ alice opens production cluster prod-api/m);
    expect(r.stdout).toMatch(/^▷ skipped: bob narrows sandbox-dev .* \(the world has no cluster sandbox-dev in 444455556666\/us-east-1\)$/m);
    expect(r.stdout).toMatch(/^Summary\n {2}prod-api +remediated +\d+ transitions/m);
    expect(r.stdout).toMatch(/^ {2}team-tagged +111122223333\/us-east-1 +public 203.0.113.0\/24; private on$/m);
  });

  test('bad --policy and --scenario: exit 2, both named', () => {
    const r = cli('demo', '--scenario', 'test/fixtures/scenarios/missing.yaml', '--policy', 'test/fixtures/policies/invalid/world-open-ipv4.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/allowedPublicCidrs/);
    expect(r.stderr).toMatch(/scenario test\/fixtures\/scenarios\/missing.yaml: no such file/);
    expect(r.stdout).toBe('');
  });
});
