import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The built CLI (`npm run build`); EKS_ENDPOINT_GUARD_CLI points elsewhere while the bundle cannot be built.
const CLI = process.env.EKS_ENDPOINT_GUARD_CLI ?? join(process.cwd(), 'dist/cli.mjs');
const FIXTURES = join(process.cwd(), 'test/fixtures/cloudtrail');
const GUARD_ROLE = 'arn:aws:iam::123456789012:role/eks-endpoint-guard-prod-remediate';

type Run = { code: number; stdout: string; stderr: string };

async function run(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'triage', ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const fixture = (name: string) => join(FIXTURES, `${name}.json`);
const load = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
const expected = (name: string): unknown => load(join(FIXTURES, 'expected', `${name}.json`));
const jsonNames = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();

type Options = { selfRoleArns: string[]; crossAccountRoleName?: string | null; homeAccount?: string | null; ownTokens?: string[] };
/** The flags that give the CLI the same options as the triage unit tests. */
function flags(options: Options): string[] {
  return [
    ...options.selfRoleArns.flatMap((arn) => ['--self-role-arn', arn]),
    ...(options.crossAccountRoleName ? ['--cross-account-role-name', options.crossAccountRoleName] : []),
    ...(options.homeAccount ? ['--home-account', options.homeAccount] : []),
    ...(options.ownTokens ?? []).flatMap((token) => ['--own-token', token]),
  ];
}
const NOT_AN_EVENT = 'error: event: not an EventBridge "AWS API Call via CloudTrail" envelope nor a CloudTrail record';

let dir: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), 'triage-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('eks-endpoint-guard triage --json', () => {
  it.each(jsonNames(FIXTURES))('prints the triage of %s and exits 0', async (name) => {
    const result = await run('--event', fixture(name), '--self-role-arn', GUARD_ROLE, '--json');

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual(expected(name));
  });

  it.each(jsonNames(join(FIXTURES, 'with-options')))('prints the triage of the %s case, its options given as flags', async (name) => {
    const { event, options, expected: result } = load(join(FIXTURES, 'with-options', `${name}.json`)) as { event: string; options: Options; expected: unknown };

    const printed = await run('--event', fixture(event), ...flags(options), '--json');

    expect(printed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(printed.stdout)).toEqual(result);
  });

  it('prints the contract keys in order', async () => {
    const result = await run('--event', fixture('update-endpoint-public-open'), '--json');

    const parsed = JSON.parse(result.stdout) as Record<string, any>;
    expect(Object.keys(parsed)).toEqual([
      'decision', 'reason', 'eventName', 'eventId', 'eventTime', 'cluster', 'updateId', 'requested', 'actor', 'waitFor',
      'guardRole', 'clientRequestToken', 'tags',
    ]);
    expect(Object.keys(parsed.cluster)).toEqual(['name', 'account', 'region']);
    expect(Object.keys(parsed.actor)).toEqual(['arn', 'type', 'sourceIPAddress', 'userAgent']);
  });

  it('evaluates the guard role change as a normal one when no self role is given', async () => {
    const result = await run('--event', fixture('update-by-guard-role'), '--own-token', 'b9fb897d-74c1-49e6-9d32-863439ce890c', '--json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'evaluate', reason: null, waitFor: 'update', guardRole: false });
  });

  it('accepts --self-role-arn and --own-token more than once', async () => {
    const result = await run(
      '--event', fixture('update-by-guard-role'),
      '--self-role-arn', 'arn:aws:iam::123456789012:role/other',
      '--self-role-arn', 'arn:aws:iam::123456789012:role/guard/eks-endpoint-guard-prod-remediate',
      '--own-token', '0e5c7a19-3b8d-4f62-9a1e-6d4b2f8c0a37',
      '--own-token', 'b9fb897d-74c1-49e6-9d32-863439ce890c',
      '--json',
    );

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'ignore', reason: 'SELF_REMEDIATION', guardRole: true });
  });

  it('evaluates a guard role change whose token was not given', async () => {
    const result = await run('--event', fixture('update-by-guard-role'), '--self-role-arn', GUARD_ROLE, '--json');

    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'evaluate', reason: 'GUARD_ROLE_UNVERIFIED', guardRole: true });
  });
});

describe('eks-endpoint-guard triage (table)', () => {
  it('prints an aligned summary', async () => {
    const result = await run('--event', fixture('update-endpoint-public-open'));

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('decision    evaluate');
    expect(lines).toContain('cluster     prod-payments (account 123456789012, region eu-west-1)');
    expect(lines).toContain('requested   public on; public CIDRs 0.0.0.0/0');
    expect(lines).toContain('actor       arn:aws:iam::123456789012:user/alice (IAMUser)');
    expect(lines).toContain('wait for    update');
    // Every value starts in the same column, two spaces after the longest label.
    for (const line of lines) expect(line).toMatch(/^[a-zA-Z][a-zA-Z ]{9} {2}\S/);
    expect(lines).toHaveLength(11);
  });

  it('shows the token, the guard role and the reason of an unverified guard role change', async () => {
    const result = await run('--event', fixture('update-by-guard-role'), '--self-role-arn', GUARD_ROLE);

    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('decision    evaluate (GUARD_ROLE_UNVERIFIED)');
    expect(lines).toContain(
      'actor       arn:aws:sts::123456789012:assumed-role/eks-endpoint-guard-prod-remediate/eks-endpoint-guard-prod-remediateCluster (AssumedRole, guard role)',
    );
    expect(lines[lines.length - 1]).toBe('token       b9fb897d-74c1-49e6-9d32-863439ce890c');
    expect(lines).toHaveLength(12);
  });

  it.each([
    ['tag-cluster', 'set endpoint-policy=relaxed, team=payments', 'none'],
    ['untag-cluster-encoded-arn', 'removed eks-endpoint-guard/exempt, team', 'none'],
    ['tag-nodegroup', 'set team=payments', '-'],
  ])('shows the tags of %s', async (name, tags, waitFor) => {
    const result = await run('--event', fixture(name));

    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe(`tags        ${tags}`);
    expect(lines).toContain(`wait for    ${waitFor}`);
    expect(lines).toContain('requested   -');
  });

  it('shows the reason of an ignored event', async () => {
    const result = await run('--event', fixture('update-access-denied'));

    expect(result.stdout.split('\n')[0]).toBe('decision    ignore (CALL_FAILED)');
    expect(result.stdout).toContain('wait for    -');
  });
});

describe('eks-endpoint-guard triage bad input', () => {
  it('exits 2 for a missing file', async () => {
    const path = join(dir, 'nope.json');

    const result = await run('--event', path, '--json');

    expect(result).toEqual({ code: 2, stdout: '', stderr: `error: event ${path}: no such file\n` });
  });

  it('exits 2 for invalid JSON', async () => {
    const path = write('broken.json', '{"detail-type": "AWS API Call via CloudTrail", ');

    const result = await run('--event', path);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^error: event ${path}: not valid JSON: .+\\n$`));
  });

  it('exits 2 for JSON that is not such an event, one line per problem', async () => {
    const event = JSON.parse(readFileSync(fixture('update-endpoint-public-open'), 'utf8'));
    delete event.detail.eventName;
    delete event.detail.eventID;
    const path = write('no-name.json', JSON.stringify(event));

    const result = await run('--event', path, '--json');

    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `${NOT_AN_EVENT}: missing detail.eventName\n${NOT_AN_EVENT}: missing detail.eventID\n`,
    });
  });

  it('exits 2 for a JSON document of another kind', async () => {
    const path = write('cluster.json', JSON.stringify({ cluster: { name: 'prod-payments', status: 'ACTIVE' } }));

    const result = await run('--event', path);

    expect(result).toEqual({ code: 2, stdout: '', stderr: `${NOT_AN_EVENT}: it has neither "detail" nor "eventName"\n` });
  });

  it('exits 2 for a self role that is not an IAM role ARN, together with the event problems', async () => {
    const result = await run('--event', join(dir, 'nope.json'), '--self-role-arn', 'eks-endpoint-guard-prod-remediate', '--self-role-arn', GUARD_ROLE);

    expect(result.code).toBe(2);
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      'error: --self-role-arn eks-endpoint-guard-prod-remediate: not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME, optionally with a path)',
      `error: event ${join(dir, 'nope.json')}: no such file`,
    ]);
  });

  it.each(jsonNames(join(FIXTURES, 'invalid')))('exits 2 for %s, one line per problem', async (name) => {
    const problems = load(join(FIXTURES, 'invalid', 'expected', `${name}.json`)) as string[];

    const result = await run('--event', join(FIXTURES, 'invalid', `${name}.json`), '--self-role-arn', GUARD_ROLE, '--json');

    expect(result).toEqual({ code: 2, stdout: '', stderr: problems.map((p) => `error: ${p}\n`).join('') });
  });

  it('exits 2 for every bad option at once, before the event problems', async () => {
    const result = await run(
      '--event', join(dir, 'nope.json'),
      '--self-role-arn', 'guard',
      '--cross-account-role-name', 'guard member',
      '--home-account', '12345678901',
      '--own-token', '',
    );

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      'error: --self-role-arn guard: not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME, optionally with a path)',
      'error: --cross-account-role-name guard member: not an IAM role name (expected 1-64 letters, digits or +=,.@_-)',
      'error: --home-account 12345678901: not an AWS account ID (expected 12 digits)',
      'error: --own-token: empty (expected a clientRequestToken)',
      `error: event ${join(dir, 'nope.json')}: no such file`,
    ]);
  });

  it.each([
    ['--home-account', 'abcdefghijkl', 'error: --home-account abcdefghijkl: not an AWS account ID (expected 12 digits)'],
    ['--home-account', '1234567890123', 'error: --home-account 1234567890123: not an AWS account ID (expected 12 digits)'],
    ['--cross-account-role-name', 'a/b', 'error: --cross-account-role-name a/b: not an IAM role name (expected 1-64 letters, digits or +=,.@_-)'],
    ['--cross-account-role-name', 'r'.repeat(65), `error: --cross-account-role-name ${'r'.repeat(65)}: not an IAM role name (expected 1-64 letters, digits or +=,.@_-)`],
  ])('exits 2 for %s %s', async (flag, value, line) => {
    const result = await run('--event', fixture('update-endpoint-public-open'), flag, value, '--json');

    expect(result).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
  });

  it('documents the new options in its help', async () => {
    const result = await run('--help');

    expect(result.code).toBe(0);
    for (const option of ['--own-token <token>', '--cross-account-role-name <name>', '--home-account <id>', 'GUARD_ROLE_UNVERIFIED']) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stdout).not.toContain('(default: [])');
  });

  it('exits 2 without --event', async () => {
    const result = await run('--json');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '--event <file>' not specified");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
