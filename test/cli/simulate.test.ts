/** `eks-endpoint-guard simulate` as users run it: the JSON contract, exit 0 when it ran, 2 on bad input. */
import { spawnSync } from 'node:child_process';

const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['dist/cli.mjs', 'simulate', ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

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
