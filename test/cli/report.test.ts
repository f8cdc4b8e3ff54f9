/**
 * `eks-endpoint-guard report` as users run it: the built CLI against the emulator, on a world of three
 * accounts × two regions with compliant, violating and exempt clusters, a member account whose role can
 * be assumed and one whose cannot. Every format, the exit codes, and the JSON report read back as an
 * inventory by `validate --inventory`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { parseEmulatorState, startEmulator, type Emulator } from '../../src/emulator';

const CLI = process.env.EKS_ENDPOINT_GUARD_CLI ?? join(process.cwd(), 'dist/cli.mjs');
const FIXTURES = join(process.cwd(), 'test/fixtures/report');
const POLICY = join(FIXTURES, 'policy.yaml');
const CALLER = '111122223333';
const MEMBER = '444455556666';
const CLOSED_OFF = '777788889999';
const ALL = `${CALLER},${MEMBER},${CLOSED_OFF}`;
/** Suspended in the organization (world.yaml): --organization does not read it, and says so. */
const SUSPENDED = '999900001111';
const REGIONS = 'us-east-1,eu-west-1';
const NOW = '2026-12-01';

let emulator: Emulator;
let dir: string;

type Run = { code: number; stdout: string; stderr: string };

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const childEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    AWS_ENDPOINT_URL: emulator.url,
    // A 12-digit key id acts as a user of that account in the emulator: the caller's account.
    AWS_ACCESS_KEY_ID: CALLER,
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    ...env,
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'report', ...args], { env: childEnv, timeout: 60_000, maxBuffer: 10 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const everything = (...more: string[]) => ['--policy', POLICY, '--accounts', ALL, '--regions', REGIONS, '--role-name', 'EksGuardReport', '--now', NOW, ...more];

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const path = join(FIXTURES, 'world.yaml');
  emulator = await startEmulator({ state: parseEmulatorState(parseYaml(readFileSync(path, 'utf8')), path) });
  dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report --format json', () => {
  let report: any;
  let result: Run;
  beforeAll(async () => {
    result = await run(everything('--format', 'json'));
    report = JSON.parse(result.stdout);
  });

  it('exits 1: a cluster violates, and an account could not be read', () => {
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
  });

  it('judges every cluster of every account and region, each in its own account', () => {
    expect(report.clusters.map((c: any) => [c.account, c.region, c.name, c.verdict])).toEqual([
      [CALLER, 'eu-west-1', 'dev-web', 'compliant'],
      [CALLER, 'us-east-1', 'prod-api', 'compliant'],
      [CALLER, 'us-east-1', 'prod-web', 'violation'],
      [MEMBER, 'eu-west-1', 'sandbox-1', 'violation'],
      [MEMBER, 'us-east-1', 'legacy-billing', 'exempt'],
    ]);
    expect(report.clusters[4]).toMatchObject({ exemption: { source: 'policy', name: 'legacy-vpn', expires: '2099-12-31' }, action: 'none' });
    expect(report.clusters[2]).toMatchObject({ rule: 'prod-private-only', action: 'remediate', observed: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] } });
  });

  it('reports the account whose role cannot be assumed, in each region, never dropping it', () => {
    expect(report.errors).toEqual([
      { account: CLOSED_OFF, region: 'eu-west-1', error: { code: 'AccessDenied', message: expect.stringContaining(`arn:aws:iam::${CLOSED_OFF}:role/EksGuardReport`) } },
      { account: CLOSED_OFF, region: 'us-east-1', error: { code: 'AccessDenied', message: expect.stringContaining('AssumeRole') } },
    ]);
  });

  it('carries the schema version, the policy hash, the scope and the counts per account and region', () => {
    expect(report).toMatchObject({
      schemaVersion: 1,
      generatedAt: '2026-12-01T00:00:00.000Z',
      policy: { file: POLICY, sha256: createHash('sha256').update(readFileSync(POLICY)).digest('hex') },
      scope: { accounts: [CALLER, MEMBER, CLOSED_OFF], regions: ['us-east-1', 'eu-west-1'] },
      summary: { compliant: 2, violation: 2, exempt: 1, error: 2 },
    });
    expect(report.summary.byAccountRegion).toContainEqual({ account: MEMBER, region: 'eu-west-1', compliant: 0, violation: 1, exempt: 0, error: 0 });
    expect(report.summary.byAccountRegion).toHaveLength(6);
  });

  it('can be read back as an inventory by validate --inventory', async () => {
    const file = join(dir, 'inventory.json');
    writeFileSync(file, result.stdout);

    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'validate', '--policy', POLICY, '--inventory', file, '--now', NOW], { env: { ...process.env, NODE_OPTIONS: '' } });

    expect(stderr).toBe('');
    expect(stdout).toMatch(/valid \(1 rules, 1 exemptions\)/);
  });
});

describe('report, the other formats', () => {
  it('table: one aligned line per cluster and unreadable scope, then the summary', async () => {
    const r = await run(everything());

    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ACCOUNT\s+REGION\s+CLUSTER\s+VERDICT\s+RULE\s+ENDPOINT\s+VIOLATIONS$/);
    expect(lines).toHaveLength(1 + 7 + 2);
    expect(lines.find((l) => l.includes('prod-web'))).toMatch(/VIOLATION\s+prod-private-only\s+public on \(0\.0\.0\.0\/0\), private off\s+PRIVATE_ACCESS_REQUIRED, PUBLIC_ACCESS_FORBIDDEN$/);
    expect(lines.filter((l) => l.startsWith(CLOSED_OFF)).map((l) => l.split(/\s+/).slice(0, 8).join(' '))).toEqual([
      `${CLOSED_OFF} eu-west-1 (clusters not listed) ERROR - -`,
      `${CLOSED_OFF} us-east-1 (clusters not listed) ERROR - -`,
    ]);
    expect(lines.at(-1)).toBe('5 clusters in 3 accounts × 2 regions: 2 compliant, 2 violation, 1 exempt, 2 error (2 account/region scopes unreadable)');
  });

  it('csv: RFC 4180 records a spreadsheet reads, with a header', async () => {
    const r = await run(everything('--format', 'csv'));
    const records = parseCsv(r.stdout, { columns: true }) as Record<string, string>[];

    expect(r.code).toBe(1);
    expect(records).toHaveLength(7);
    expect(records.find((x) => x.cluster === 'sandbox-1')).toMatchObject({ account: MEMBER, verdict: 'violation', public_access_cidrs: '198.51.100.0/24', violations: 'PUBLIC_CIDR_NOT_ALLOWED' });
    expect(records.filter((x) => x.error_code === 'AccessDenied')).toHaveLength(2);
  });

  it('asff: one finding per cluster in its own account, and one per unreadable scope', async () => {
    const r = await run(everything('--format', 'asff'));
    const findings = JSON.parse(r.stdout) as any[];

    expect(r.code).toBe(1);
    expect(findings).toHaveLength(7);
    const byCluster = Object.fromEntries(findings.filter((f) => f.Resources[0].Type === 'AwsEksCluster').map((f) => [f.Resources[0].Details.AwsEksCluster.Name, f]));
    expect(byCluster['legacy-billing']).toMatchObject({ AwsAccountId: MEMBER, Workflow: { Status: 'SUPPRESSED' }, Note: { Text: expect.stringContaining('legacy-vpn until 2099-12-31') } });
    expect(byCluster['prod-web']).toMatchObject({ AwsAccountId: CALLER, Compliance: { Status: 'FAILED' }, Workflow: { Status: 'NEW' } });
    expect(byCluster['dev-web']).toMatchObject({ Compliance: { Status: 'PASSED' }, Workflow: { Status: 'RESOLVED' } });
  });

  it('html to --output: one self-contained file, the summary on stderr', async () => {
    const file = join(dir, 'report.html');
    const r = await run(everything('--format', 'html', '--output', file));
    const page = readFileSync(file, 'utf8');

    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`wrote ${file} (html): 5 clusters in 3 accounts × 2 regions: 2 compliant, 2 violation, 1 exempt, 2 error (2 account/region scopes unreadable)\n`);
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain('&lt;script&gt;window.__injected = 1&lt;/script&gt;');
    expect(page).not.toMatch(/<(link|img|iframe)\b/);
  });
});

describe('report exit codes and scope', () => {
  it('exits 0 when every cluster read complies or is exempt', async () => {
    const r = await run(['--policy', POLICY, '--accounts', MEMBER, '--regions', 'us-east-1', '--role-name', 'EksGuardReport', '--now', NOW, '--format', 'json']);

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).summary).toMatchObject({ compliant: 0, violation: 0, exempt: 1, error: 0 });
  });

  it('reads the caller\'s own account in AWS_REGION by default, with no role', async () => {
    const r = await run(['--policy', POLICY, '--now', NOW, '--format', 'json']);
    const report = JSON.parse(r.stdout);

    expect(report.scope).toEqual({ accounts: [CALLER], regions: ['us-east-1'] });
    expect(report.clusters.map((c: any) => c.name)).toEqual(['prod-api', 'prod-web']);
    expect(r.code).toBe(1);
  });

  it('--endpoint-url wins over AWS_ENDPOINT_URL', async () => {
    const r = await run(['--policy', POLICY, '--now', NOW, '--endpoint-url', emulator.url, '--format', 'json'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });

    expect(JSON.parse(r.stdout).clusters).toHaveLength(2);
  });

  it('--organization reads every ACTIVE account of the organization, and lists the suspended one as skipped', async () => {
    const r = await run(['--policy', POLICY, '--organization', '--regions', REGIONS, '--role-name', 'EksGuardReport', '--now', NOW, '--format', 'json']);
    const report = JSON.parse(r.stdout);

    expect(r.stderr).toBe('');
    expect(report.scope.accounts).toEqual([CALLER, MEMBER, CLOSED_OFF]);
    expect(report.summary).toMatchObject({ compliant: 2, violation: 2, exempt: 1, error: 2 });
    expect(report.skipped).toEqual([{ account: SUSPENDED, name: 'closed', status: 'SUSPENDED' }]);
    expect(report.schemaVersion).toBe(1);
  });

  it.each([
    ['table', (out: string) => expect(out).toContain(`skipped ${SUSPENDED} (closed): SUSPENDED in AWS Organizations, not read\n`)],
    ['csv', (out: string) => expect(out).toContain(`${SUSPENDED},,(account not read),,skipped,SUSPENDED,`)],
    ['html', (out: string) => expect(out).toContain(`<tr data-account="${SUSPENDED}" data-status="SUSPENDED">`)],
    ['asff', (out: string) => expect(out).not.toContain(SUSPENDED)],
  ])('--organization --format %s shows the skipped account as that format does (asff: no finding)', async (format, check) => {
    const r = await run(['--policy', POLICY, '--organization', '--regions', REGIONS, '--role-name', 'EksGuardReport', '--now', NOW, '--format', format]);

    expect(r.code).toBe(1);
    check(r.stdout);
  });

  it('--organization --output names the skipped accounts in the line on stderr', async () => {
    const file = join(dir, 'org.json');
    const r = await run(['--policy', POLICY, '--organization', '--regions', REGIONS, '--role-name', 'EksGuardReport', '--now', NOW, '--format', 'json', '--output', file]);

    expect(r.stderr).toMatch(/; 1 account of the organization not read \(1 SUSPENDED\)\n$/);
  });

  it('reports no skipped account without --organization', async () => {
    const r = await run(everything('--format', 'json'));

    expect(JSON.parse(r.stdout).skipped).toEqual([]);
  });

  it('retries a throttled call (the SDK\'s standard retries), and keeps a cluster that keeps failing as an error row', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'DescribeCluster', cluster: 'prod-web', times: 1 });
    emulator.setFault({ kind: 'server-error', operation: 'DescribeCluster', cluster: 'prod-api' });
    try {
      const r = await run(['--policy', POLICY, '--now', NOW, '--format', 'json']);
      const rows = JSON.parse(r.stdout).clusters;

      expect(r.code).toBe(1);
      expect(rows.map((c: any) => [c.name, c.verdict, c.error?.code ?? null])).toEqual([
        ['prod-api', 'error', 'ServerException'],
        ['prod-web', 'violation', null],
      ]);
      expect(rows[0]).toMatchObject({ arn: `arn:aws:eks:us-east-1:${CALLER}:cluster/prod-api`, error: { message: expect.stringContaining('DescribeCluster on cluster prod-api') } });
    } finally {
      emulator.clearFaults();
    }
  });

  it('judges rules on account tags with --organization, and without it reports those clusters as not judged', async () => {
    const policy = join(FIXTURES, 'policy-org.yaml');
    const scope = ['--regions', REGIONS, '--role-name', 'EksGuardReport', '--now', NOW, '--format', 'json'];

    const blind = await run(['--policy', policy, '--accounts', `${CALLER},${MEMBER}`, ...scope]);
    const known = await run(['--policy', policy, '--organization', ...scope]);

    expect(blind.code).toBe(1);
    expect(JSON.parse(blind.stdout).clusters.map((c: any) => c.error?.code)).toEqual(Array(5).fill('AccountContextUnknownError'));
    expect(blind.stderr).toBe('note: 5 clusters could not be judged: the policy matches on ous/accountTags; add --organization to read where each account stands\n');
    const rows = JSON.parse(known.stdout).clusters.filter((c: any) => c.account === MEMBER);
    expect(rows.map((c: any) => [c.name, c.verdict, c.rule])).toEqual([
      ['sandbox-1', 'compliant', 'sandbox-accounts'],
      ['legacy-billing', 'compliant', 'sandbox-accounts'],
    ]);
    expect(known.stderr).toBe('');
  });

  it('--organization outside the management account exits 2, saying where to run it', async () => {
    const r = await run(['--policy', POLICY, '--organization', '--role-name', 'EksGuardReport'], { AWS_ACCESS_KEY_ID: MEMBER });

    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --organization: AWS Organizations refused to list the accounts (AccessDeniedException): run it with credentials of the management account or a delegated administrator, or give --accounts\n');
  });

  it.each([
    [['--accounts', ALL, '--regions', REGIONS], /--policy <file>/],
    [['--policy', join(FIXTURES, 'missing.yaml')], /policy .*missing\.yaml: no such file/],
    [['--policy', join(process.cwd(), 'test/fixtures/policies/invalid/world-open-ipv4.yaml')], /allowedPublicCidrs/],
    [['--policy', POLICY, '--accounts', '12345678901'], /--accounts: "12345678901" is not a 12-digit AWS account id/],
    [['--policy', POLICY, '--regions', 'us-esat-1'], /--regions: "us-esat-1" is not a known AWS region.*us-east-1/],
    [['--policy', POLICY, '--format', 'pdf'], /argument 'pdf' is invalid/],
    [['--policy', POLICY, '--concurrency', '0'], /must be an integer from 1 to 64/],
    [['--policy', POLICY, '--now', 'tomorrow'], /--now: not an ISO date/],
    [['--policy', POLICY, '--organization', '--accounts', CALLER], /give one of them/],
    [['--policy', POLICY, '--accounts', ALL], new RegExp(`--role-name: required to read accounts other than the caller's \\(${CALLER}\\): ${MEMBER}, ${CLOSED_OFF}`)],
  ])('bad input %j exits 2 naming the problem, with no report', async (args, message) => {
    const r = await run(args as string[]);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('lists every problem of the invocation at once', async () => {
    const r = await run(['--accounts', 'x', '--regions', 'nowhere', '--now', 'then']);

    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(4);
  });

  it('says when no region is given and AWS_REGION is unset', async () => {
    const r = await run(['--policy', POLICY], { AWS_REGION: '', AWS_DEFAULT_REGION: '' });

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--regions: not given and AWS_REGION is not set/);
  });
});
