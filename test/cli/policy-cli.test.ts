/**
 * The `validate` and `check` commands as a user runs them (issue 2, item 7): exit codes, the
 * `check --json` contract, one line per problem on stderr and never a stack trace.
 * Runs the CLI users run: dist/cli.mjs, built by `npm test` (and by `prepare` on `npm ci`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluateCluster, parseObservedCluster, parsePolicy } from '../../src/policy';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const POLICY = 'test/fixtures/policies/valid';
const INVALID = 'test/fixtures/policies/invalid';
const EKS = 'test/fixtures/eks';

// The child must not inherit jest's --experimental-vm-modules: its warning would land on stderr.
const childEnv = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' };
const cli = ['dist/cli.mjs'];

type Run = { code: number | null; stdout: string; stderr: string };
function run(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cli, ...args], { cwd: ROOT, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
/** No stack frames, no internal error dump. */
function expectCleanError(r: Run): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/unexpected failure|node:internal|\.ts:\d+:\d+/);
  expect(lines(r.stderr).length).toBeGreaterThan(0);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pathPattern = (path: string) => new RegExp(`(^|[^\\w\\].])${escape(path)}(?![\\w\\[])`);
const valuePattern = (value: string) => new RegExp(`(^|[^\\w.:/-])${escape(value)}($|[^\\w.:/-])`);

describe('eks-endpoint-guard validate', () => {
  it.each(['issue-example.yaml', 'issue-example.json', 'strict-prod-forbidden.yaml', 'alert-mode.yaml', 'unrestricted-low-limit.yaml'])(
    'exits 0 for the valid policy %s, with nothing on stderr',
    async (file) => {
      const r = await run('validate', '--policy', `${POLICY}/${file}`);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    },
  );

  type InvalidCase = { file: string; errors: { path: string; value: string }[] };
  const { cases } = JSON.parse(readFileSync(new URL(`../../${INVALID}/expected.json`, import.meta.url), 'utf8')) as { cases: InvalidCase[] };

  it.each(cases)('exits 2 for $file with every error on stderr, one per line', async ({ file, errors }) => {
    const r = await run('validate', '--policy', `${INVALID}/${file}`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expectCleanError(r);
    const errLines = lines(r.stderr);
    expect({ file, count: errLines.length, errLines }).toEqual({ file, count: errors.length, errLines });
    for (const { path, value } of errors) {
      expect({ path, value, found: errLines.some((l) => pathPattern(path).test(l) && valuePattern(value).test(l)), errLines }).toEqual({
        path,
        value,
        found: true,
        errLines,
      });
    }
  });

  it('exits 2 with one clear line for a missing policy file', async () => {
    const r = await run('validate', '--policy', `${POLICY}/does-not-exist.yaml`);
    expect(r.code).toBe(2);
    expectCleanError(r);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('does-not-exist.yaml');
  });

  it('exits 2 for a policy file that is not YAML', async () => {
    const r = await run('validate', '--policy', `${EKS}/invalid/not-json.json`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expectCleanError(r);
  });

  it('exits 2 for a DescribeCluster file given as a policy (wrong shape)', async () => {
    const r = await run('validate', '--policy', `${EKS}/public-only-open.json`);
    expect(r.code).toBe(2);
    expectCleanError(r);
    expect(r.stderr).toMatch(/cluster/);
  });
});

describe('eks-endpoint-guard check --json', () => {
  const check = (policy: string, cluster: string, ...rest: string[]) =>
    run('check', '--policy', `${POLICY}/${policy}`, '--cluster', `${EKS}/${cluster}.json`, ...rest);

  it('prints exactly the contract keys', async () => {
    const r = await check('issue-example.yaml', 'public-only-mixed', '--json', '--now', '2026-06-01T00:00:00Z');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['action', 'cluster', 'exemption', 'observed', 'settings', 'target', 'verdict', 'violations', 'warnings']);
    expect(Object.keys(out.cluster).sort()).toEqual(['account', 'arn', 'name', 'region']);
    expect(Object.keys(out.settings).sort()).toEqual(['allowedPublicCidrs', 'escalation', 'maxPublicCidrs', 'maxTagExemptionDays', 'mode', 'privateAccess', 'publicAccess', 'rule']);
    expect(out.observed).toMatchObject({ endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.5/32', '198.51.100.0/24', '192.0.2.0/24'] });
    expect(out.violations.length).toBe(3);
    for (const v of out.violations) {
      expect(Object.keys(v).sort()).toEqual(v.code === 'PUBLIC_CIDR_NOT_ALLOWED' ? ['cidr', 'code', 'message'] : ['code', 'message']);
    }
    expect(out.violations.filter((v: { cidr?: string }) => v.cidr).map((v: { cidr: string }) => v.cidr)).toEqual(['198.51.100.0/24', '192.0.2.0/24']);
    expect(out.warnings.length).toBeGreaterThan(0);
    for (const w of out.warnings) expect(Object.keys(w).sort()).toEqual(['code', 'message']);
    expect(out).toMatchObject({
      cluster: { name: 'mixed-cidrs', account: '123456789012', region: 'eu-west-1', arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/mixed-cidrs' },
      settings: {
        rule: null,
        mode: 'enforce',
        publicAccess: 'restricted',
        privateAccess: 'required',
        allowedPublicCidrs: ['203.0.113.0/24', '2001:db8::/32'],
        maxPublicCidrs: 40,
        maxTagExemptionDays: 30,
        escalation: { reverts: 3, withinMinutes: 60 },
      },
      verdict: 'violation',
      action: 'remediate',
      target: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.5/32'] },
      exemption: null,
    });
  });

  it('prints what the library computes for the same input', async () => {
    const now = '2027-03-31T23:59:59Z';
    const r = await check('issue-example.yaml', 'exempt-by-tag', '--json', '--now', now);
    const policy = parsePolicy(readFileSync(`${ROOT}${POLICY}/issue-example.yaml`, 'utf8'));
    const cluster = parseObservedCluster(JSON.parse(readFileSync(`${ROOT}${EKS}/exempt-by-tag.json`, 'utf8')));
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(evaluateCluster(policy, cluster, { now: Date.parse(now) }))));
  });

  it.each([
    ['compliant', 'issue-example.yaml', 'public-private-restricted', [], 0, 'compliant'],
    ['compliant (public off)', 'strict-prod-forbidden.yaml', 'private-only', [], 0, 'compliant'],
    ['exempt by tag', 'issue-example.yaml', 'exempt-by-tag', ['--now', '2027-03-31T23:59:59.999Z'], 0, 'exempt'],
    ['exempt by tag, a date-only --now', 'issue-example.yaml', 'exempt-by-tag', ['--now', '2027-03-31'], 0, 'exempt'],
    ['tag expired at midnight', 'issue-example.yaml', 'exempt-by-tag', ['--now', '2027-04-01T00:00:00Z'], 1, 'violation'],
    ['violation', 'issue-example.yaml', 'public-only-open', [], 1, 'violation'],
    ['violation in alert mode', 'alert-mode.yaml', 'public-only-open', [], 1, 'violation'],
    ['violation with no safe remediation', 'unrestricted-low-limit.yaml', 'too-many-cidrs', [], 1, 'violation'],
  ] as const)('%s', async (_what, policy, cluster, extra, code, verdict) => {
    const r = await check(policy, cluster, '--json', ...extra);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: '' });
    expect(JSON.parse(r.stdout).verdict).toBe(verdict);
  });

  it('a policy exemption with --account override: exempt (0) through the expiry day, then violation (1)', async () => {
    const args = ['--json', '--account', '444455556666', '--region', 'eu-west-1'];
    // The fixture cluster is renamed through a temporary copy to match the example's exemption.
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/guard-cli-`);
    const doc = JSON.parse(readFileSync(`${ROOT}${EKS}/public-only-open.json`, 'utf8'));
    doc.cluster.name = 'legacy-billing';
    writeFileSync(`${dir}/legacy-billing.json`, JSON.stringify(doc));
    const base = ['check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${dir}/legacy-billing.json`, ...args];
    const before = await run(...base, '--now', '2027-03-31T23:59:59Z');
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ verdict: 'exempt', action: 'none', target: null, exemption: { name: 'legacy-vpn' } });
    const after = await run(...base, '--now', '2027-04-01T00:00:00Z');
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout)).toMatchObject({ verdict: 'violation', exemption: null });
  });

  it('--account and --region override the ARN and change which rule applies', async () => {
    const plain = await check('rules.yaml', 'public-private-restricted', '--json');
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ cluster: { account: '123456789012', region: 'us-east-1' }, settings: { rule: null } });

    const other = await check('rules.yaml', 'public-private-restricted', '--json', '--account', '444455556666', '--region', 'eu-north-1');
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({
      cluster: { name: 'shared-tools', account: '444455556666', region: 'eu-north-1', arn: 'arn:aws:eks:us-east-1:123456789012:cluster/shared-tools' },
      settings: { rule: 'other-account', publicAccess: 'forbidden' },
      target: { endpointPublicAccess: false, endpointPrivateAccess: true },
    });
    expect(JSON.parse(other.stdout).target).not.toHaveProperty('publicAccessCidrs');

    const regional = await check('rules.yaml', 'public-private-restricted', '--json', '--region', 'eu-central-1');
    expect(JSON.parse(regional.stdout)).toMatchObject({ cluster: { account: '123456789012', region: 'eu-central-1' }, settings: { rule: 'frankfurt' } });
  });
});

describe('eks-endpoint-guard check: bad input exits 2 with one clear line per problem', () => {
  const policy = `${POLICY}/issue-example.yaml`;
  const cluster = `${EKS}/public-only-open.json`;

  it.each([
    ['a missing cluster file', ['--policy', policy, '--cluster', `${EKS}/nope.json`], 'nope.json'],
    ['a cluster file that is not JSON', ['--policy', policy, '--cluster', `${EKS}/invalid/not-json.json`], 'not-json.json'],
    ['a cluster file of the wrong shape', ['--policy', policy, '--cluster', `${EKS}/invalid/wrong-shape.json`], 'name'],
    ['a cluster without resourcesVpcConfig', ['--policy', policy, '--cluster', `${EKS}/invalid/no-vpc-config.json`], 'resourcesVpcConfig'],
    ['a policy file given as the cluster', ['--policy', policy, '--cluster', `${POLICY}/issue-example.json`], 'name'],
    ['a missing policy file', ['--policy', `${POLICY}/nope.yaml`, '--cluster', cluster], 'nope.yaml'],
    ['an invalid policy', ['--policy', `${INVALID}/host-bits.yaml`, '--cluster', cluster], '10.0.0.0/24'],
    ['--now that is not a date', ['--policy', policy, '--cluster', cluster, '--now', 'tomorrow'], 'tomorrow'],
    ['--now with month 13', ['--policy', policy, '--cluster', cluster, '--now', '2027-13-01T00:00:00Z'], '--now'],
    ['--now on a day that does not exist', ['--policy', policy, '--cluster', cluster, '--now', '2027-02-30T00:00:00Z'], '--now'],
    ['--now that is a bare number', ['--policy', policy, '--cluster', cluster, '--now', '1'], '--now'],
    ['--now in a non-ISO form', ['--policy', policy, '--cluster', cluster, '--now', '03/31/2027'], '--now'],
  ])('%s', async (_what, args, mention) => {
    for (const json of [[], ['--json']]) {
      const r = await run('check', ...args, ...json);
      expect({ args, json, code: r.code, stdout: r.stdout }).toEqual({ args, json, code: 2, stdout: '' });
      expectCleanError(r);
      expect(r.stderr).toContain(mention);
    }
  });

  it('reports every cluster problem, one per line', async () => {
    const r = await run('check', '--policy', policy, '--cluster', `${EKS}/invalid/wrong-shape.json`);
    const errLines = lines(r.stderr);
    // Both required fields of the cluster are missing: name and resourcesVpcConfig.
    expect(errLines.some((l) => l.includes('name'))).toBe(true);
    expect(errLines.some((l) => l.includes('resourcesVpcConfig'))).toBe(true);
  });
});

describe('eks-endpoint-guard check (table output)', () => {
  it.each([
    ['public-only-open', 1, /violation/i],
    ['public-private-restricted', 0, /compliant/i],
  ] as const)('%s: exit %i and the verdict is shown', async (cluster, code, verdict) => {
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${EKS}/${cluster}.json`);
    expect(r.code).toBe(code);
    expect(r.stdout).toMatch(verdict);
    expect(() => JSON.parse(r.stdout)).toThrow();
    expect(r.stderr).toBe('');
  });

  it('an exempt cluster: exit 0 and the verdict is shown', async () => {
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${EKS}/exempt-by-tag.json`, '--now', '2027-03-15T00:00:00Z');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/exempt/i);
    expect(r.stdout).not.toMatch(/verdict\s+violation/i);
  });

  it('names the violations and the target in the table', async () => {
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${EKS}/public-only-mixed.json`);
    expect(r.stdout).toContain('PUBLIC_CIDR_NOT_ALLOWED');
    expect(r.stdout).toContain('198.51.100.0/24');
    expect(r.stdout).toContain('203.0.113.5/32');
  });
});

describe('every problem of one invocation is reported at once', () => {
  it('names both missing options of check', async () => {
    const r = await run('check');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--policy <file>' not specified");
    expect(r.stderr).toContain("required option '--cluster <file>' not specified");
  });

  it('reports bad options and both files together', async () => {
    const r = await run('check', '--policy', 'test/fixtures/policies/regressions/world-open-long-prefix.yaml', '--cluster', 'no-such-cluster.json', '--now', 'garbage', '--account', '12');
    expect(r.code).toBe(2);
    for (const text of ['--now: not an ISO date-time', '--account: not a 12-digit AWS account id', 'admits the whole internet', 'cluster no-such-cluster.json: no such file']) {
      expect(r.stderr).toContain(text);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('validate --json', () => {
  it('says valid: false with every error on stdout, and still one line per error on stderr', async () => {
    const r = await run('validate', '--policy', 'test/fixtures/policies/regressions/world-open-long-prefix.yaml', '--json');
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ valid: false, errors: [expect.stringContaining('allowedPublicCidrs[0]'), expect.stringContaining('allowedPublicCidrs[1]')] });
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
  });
});

describe('validate warnings (exit 0: a warning is not an error)', () => {
  const exemptions = `${POLICY}/exemptions.yaml`;

  it('a policy without warnings prints exactly what it always did, as text and as JSON', async () => {
    const file = `${POLICY}/issue-example.yaml`;
    const text = await run('validate', '--policy', file, '--now', '2026-06-01T00:00:00Z');
    expect(text).toEqual({ code: 0, stdout: `${file}: valid (1 rules, 1 exemptions)\n`, stderr: '' });
    const json = await run('validate', '--policy', file, '--now', '2026-06-01T00:00:00Z', '--json');
    expect(json).toEqual({ code: 0, stdout: `${JSON.stringify({ valid: true, rules: 1, exemptions: 1 }, null, 2)}\n`, stderr: '' });
  });

  it('expired and soon-expiring exemptions: one warning line each after the verdict', async () => {
    // At 2027-03-20: long-gone ended in 2024; legacy-vpn (2027-03-31) and noon-cutover (2027-03-31T10:00Z) end within 14 days.
    const r = await run('validate', '--policy', exemptions, '--now', '2027-03-20T00:00:00Z');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = lines(r.stdout);
    expect(out[0]).toBe(`${exemptions}: valid (0 rules, 3 exemptions)`);
    expect(out.slice(1)).toEqual([
      expect.stringMatching(/^warning EXEMPTION_EXPIRING: exemptions\[0\] legacy-vpn: .*2027-03-31/),
      expect.stringMatching(/^warning EXEMPTION_EXPIRING: exemptions\[1\] noon-cutover: .*2027-03-31T12:00:00\+02:00/),
      expect.stringMatching(/^warning EXEMPTION_EXPIRED: exemptions\[2\] long-gone: .*2024-01-31/),
    ]);
  });

  it('--json keeps the existing fields and adds a warnings array', async () => {
    const r = await run('validate', '--policy', exemptions, '--now', '2026-06-01T00:00:00Z', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ valid: true, rules: 0, exemptions: 3, warnings: [{ code: 'EXEMPTION_EXPIRED', message: expect.stringContaining('long-gone') }] });
  });

  it('a date-only --now is the start of that day, UTC', async () => {
    // legacy-vpn lasts through 2027-03-31: from 2027-03-17T00:00Z that is exactly 15 days, from 2027-03-18 exactly 14.
    const at = async (now: string) => JSON.parse((await run('validate', '--policy', `${POLICY}/issue-example.yaml`, '--now', now, '--json')).stdout);
    expect((await at('2027-03-17')).warnings).toBeUndefined();
    expect((await at('2027-03-18')).warnings).toEqual([expect.objectContaining({ code: 'EXEMPTION_EXPIRING' })]);
  });

  it('a rule that matches on tags alone is warned about, by name', async () => {
    const r = await run('validate', '--policy', `${POLICY}/tags-only-rule.yaml`, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).warnings).toEqual([{ code: 'RULE_MATCHES_TAGS_ONLY', message: expect.stringMatching(/rules\[0\] sandbox-by-tag: .*cluster owners choose their own rule/) }]);
  });

  it.each([['tomorrow'], ['2027-02-30T00:00:00Z'], ['1']])('a bad --now (%s) is bad input: exit 2, one clear line', async (now) => {
    for (const json of [[], ['--json']]) {
      const r = await run('validate', '--policy', exemptions, '--now', now, ...json);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expectCleanError(r);
      expect(r.stderr).toContain('--now');
    }
  });

  it('an invalid policy still exits 2, warnings or not', async () => {
    const r = await run('validate', '--policy', `${INVALID}/union-world-open.yaml`, '--now', '2026-06-01T00:00:00Z', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ valid: false, errors: [expect.stringContaining('together admit the whole internet'), expect.stringContaining('together admit the whole internet')] });
  });
});

describe('check reads the PascalCase output of the Step Functions SDK integration', () => {
  it('gives the same evaluation as for the camelCase document', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/guard-cli-`);
    const doc = JSON.parse(readFileSync(`${ROOT}${EKS}/public-only-mixed.json`, 'utf8'));
    const up = (k: string) => k.charAt(0).toUpperCase() + k.slice(1);
    const c = doc.cluster;
    const pascal = { Cluster: { Name: c.name, Arn: c.arn, Status: c.status, Tags: c.tags, ResourcesVpcConfig: Object.fromEntries(Object.entries(c.resourcesVpcConfig).map(([k, v]) => [up(k), v])) } };
    writeFileSync(`${dir}/pascal.json`, JSON.stringify(pascal));
    const args = ['--policy', `${POLICY}/issue-example.yaml`, '--json', '--now', '2026-06-01T00:00:00Z'];
    const [camelRun, pascalRun] = await Promise.all([run('check', ...args, '--cluster', `${EKS}/public-only-mixed.json`), run('check', ...args, '--cluster', `${dir}/pascal.json`)]);
    expect(pascalRun.code).toBe(1);
    expect(JSON.parse(pascalRun.stdout)).toEqual(JSON.parse(camelRun.stdout));
  });

  it('refuses a lower-case endpoint key, naming it, with exit 2', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/guard-cli-`);
    writeFileSync(`${dir}/lower.json`, JSON.stringify({ cluster: { name: 'c1', resourcesVpcConfig: { endpointpublicaccess: false, endpointPrivateAccess: true } } }));
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${dir}/lower.json`);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expectCleanError(r);
    expect(r.stderr).toContain('cluster.resourcesVpcConfig.endpointpublicaccess');
  });
});

describe('validate: errors as an author reads them (file:line:column, the policy\'s words)', () => {
  it('names the file, line and column of the key, and what was expected', async () => {
    const r = await run('validate', '--policy', 'test/fixtures/policies/authoring/closed.yaml');
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toBe('error: test/fixtures/policies/authoring/closed.yaml:7:5: rules[0].publicAccess: must be one of forbidden, restricted, unrestricted (got "closed")\n');
  });

  it('--json carries the same lines', async () => {
    const r = await run('validate', '--policy', `${INVALID}/near-misses.json`, '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: false,
      errors: [
        `${INVALID}/near-misses.json:4:5: defaults.publicAccess: must be one of forbidden, restricted, unrestricted (did you mean forbidden?) (got "Forbidden")`,
        `${INVALID}/near-misses.json:5:5: defaults.privateAcess: unknown key (did you mean privateAccess?) (got "required")`,
        `${INVALID}/near-misses.json:8:58: rules[0].match.region: unknown key (did you mean regions?) (got ["eu-west-1"])`,
      ],
    });
  });
});

describe('validate: shadowed rules and --inventory (warnings, exit 0)', () => {
  const AUTHORING = 'test/fixtures/policies/authoring';

  it('warns about a rule an earlier rule always takes first', async () => {
    const r = await run('validate', '--policy', `${AUTHORING}/shadowed.yaml`, '--now', '2026-06-01T00:00:00Z');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines(r.stdout)).toEqual([
      `${AUTHORING}/shadowed.yaml: valid (6 rules, 0 exemptions)`,
      'warning RULE_SHADOWED: rules[2] prod-eu is never used: rules[0] prod matches every cluster it matches',
      'warning RULE_SHADOWED: rules[4] shared-tools is never used: rules[3] shared-account matches every cluster it matches',
    ]);
  });

  it.each([['inventory.json'], ['inventory-describe.json']])('--inventory %s: rules and exemptions that match no cluster of it', async (file) => {
    const r = await run('validate', '--policy', `${AUTHORING}/inventory-policy.yaml`, '--inventory', `${AUTHORING}/${file}`, '--now', '2026-06-01T00:00:00Z', '--json');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({
      valid: true,
      rules: 3,
      exemptions: 2,
      warnings: [
        { code: 'RULE_MATCHES_NOTHING', message: expect.stringMatching(/^rules\[1\] partner matches none of the 3 clusters/) },
        { code: 'EXEMPTION_MATCHES_NOTHING', message: expect.stringMatching(/^exemptions\[1\] old-name matches none of the 3 clusters/) },
      ],
    });
  });

  it('without --inventory, the same policy has no warnings', async () => {
    const r = await run('validate', '--policy', `${AUTHORING}/inventory-policy.yaml`, '--now', '2026-06-01T00:00:00Z', '--json');
    expect(JSON.parse(r.stdout)).toEqual({ valid: true, rules: 3, exemptions: 2 });
  });

  it('a bad inventory is bad input (exit 2), reported with the policy\'s own errors', async () => {
    const bad = await run('validate', '--policy', `${AUTHORING}/inventory-policy.yaml`, '--inventory', `${AUTHORING}/inventory-bad.json`);
    expect({ code: bad.code, stdout: bad.stdout }).toEqual({ code: 2, stdout: '' });
    expectCleanError(bad);
    expect(lines(bad.stderr)).toHaveLength(3);
    expect(bad.stderr).toContain(`inventory ${AUTHORING}/inventory-bad.json: clusters[0].name`);

    const both = await run('validate', '--policy', `${AUTHORING}/closed.yaml`, '--inventory', `${AUTHORING}/no-such.json`);
    expect(both.code).toBe(2);
    expect(lines(both.stderr)).toEqual([expect.stringContaining('closed.yaml:7:5: rules[0].publicAccess'), `error: inventory ${AUTHORING}/no-such.json: no such file`]);
  });
});

describe('check: clusters it cannot place, clusters mid-update, forbidden rules', () => {
  const tmpCluster = async (edit: (c: Record<string, unknown>) => void) => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const doc = JSON.parse(readFileSync(`${ROOT}${EKS}/public-only-open.json`, 'utf8'));
    edit(doc.cluster);
    const file = `${mkdtempSync(`${tmpdir()}/guard-cli-`)}/cluster.json`;
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };

  it.each([
    ['neither option', [], 'give both --account and --region'],
    ['--account alone', ['--account', '123456789012'], 'give --region too'],
    ['--region alone', ['--region', 'eu-west-1'], 'give --account too'],
  ])('a cluster without an ARN and %s: exit 2, saying so', async (_what, extra, give) => {
    const file = await tmpCluster((c) => delete c.arn);
    for (const json of [[], ['--json']]) {
      const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', file, ...extra, ...json);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expectCleanError(r);
      expect(lines(r.stderr)).toEqual([`error: cluster ${file}: has no arn, so its account and region are unknown: ${give}`]);
    }
  });

  it('a cluster without an ARN is judged once both --account and --region are given', async () => {
    const file = await tmpCluster((c) => delete c.arn);
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', file, '--account', '123456789012', '--region', 'eu-west-1', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).cluster).toEqual({ name: 'dev-open', account: '123456789012', region: 'eu-west-1', arn: null });
  });

  it('an ARN that is not an EKS cluster ARN is refused the same way', async () => {
    const file = await tmpCluster((c) => (c.arn = 'arn:aws:iam::123456789012:role/x'));
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not an EKS cluster ARN');
  });

  it('an unknown --region is refused, with the nearest region', async () => {
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${EKS}/public-only-open.json`, '--region', 'us-esat-1');
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain('--region: not a known AWS region (did you mean us-east-1?)');
  });

  it('warns CLUSTER_UPDATING for a cluster being updated, in text and JSON, and still judges it', async () => {
    const file = await tmpCluster((c) => (c.status = 'UPDATING'));
    const json = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', file, '--json');
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout);
    expect(out.warnings[0]).toEqual({ code: 'CLUSTER_UPDATING', message: expect.stringContaining('may be stale') });
    expect(out.verdict).toBe('violation');
    const text = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', file);
    expect(text.stdout).toMatch(/^warning\s+CLUSTER_UPDATING: .*status UPDATING/m);
  });

  it('no CLUSTER_UPDATING for an ACTIVE cluster', async () => {
    const r = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${EKS}/public-only-open.json`, '--json');
    expect(JSON.parse(r.stdout).warnings.map((w: { code: string }) => w.code)).not.toContain('CLUSTER_UPDATING');
  });

  it('shows no allowed line when the rule forbids public access, and one otherwise', async () => {
    const forbidden = await run('check', '--policy', `${POLICY}/strict-prod-forbidden.yaml`, '--cluster', `${EKS}/public-only-open.json`);
    expect(forbidden.stdout).toMatch(/^rule\s+.*public forbidden/m);
    expect(forbidden.stdout).not.toMatch(/^allowed/m);
    const restricted = await run('check', '--policy', `${POLICY}/issue-example.yaml`, '--cluster', `${EKS}/public-only-open.json`);
    expect(restricted.stdout).toMatch(/^allowed\s+203\.0\.113\.0\/24, 2001:db8::\/32$/m);
  });
});
