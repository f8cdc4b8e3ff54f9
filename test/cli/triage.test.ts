import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const expected = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, 'expected', `${name}.json`), 'utf8'));
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
  it.each([
    'update-endpoint-public-open',
    'update-endpoint-restrict',
    'update-logging-only',
    'update-access-denied',
    'update-by-guard-role',
    'create-cluster-defaults',
    'create-cluster-private-only',
    'bare-record-update',
    'not-eks-event',
  ])('prints the triage of %s and exits 0', async (name) => {
    const result = await run('--event', fixture(name), '--self-role-arn', GUARD_ROLE, '--json');

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual(expected(name));
  });

  it('prints the contract keys in order', async () => {
    const result = await run('--event', fixture('update-endpoint-public-open'), '--json');

    const parsed = JSON.parse(result.stdout) as Record<string, any>;
    expect(Object.keys(parsed)).toEqual(['decision', 'reason', 'eventName', 'eventId', 'eventTime', 'cluster', 'updateId', 'requested', 'actor', 'waitFor']);
    expect(Object.keys(parsed.cluster)).toEqual(['name', 'account', 'region']);
    expect(Object.keys(parsed.actor)).toEqual(['arn', 'type', 'sourceIPAddress', 'userAgent']);
  });

  it('evaluates the guard role change when no self role is given', async () => {
    const result = await run('--event', fixture('update-by-guard-role'), '--json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'evaluate', reason: null, waitFor: 'update' });
  });

  it('accepts --self-role-arn more than once', async () => {
    const result = await run(
      '--event', fixture('update-by-guard-role'),
      '--self-role-arn', 'arn:aws:iam::123456789012:role/other',
      '--self-role-arn', 'arn:aws:iam::123456789012:role/guard/eks-endpoint-guard-prod-remediate',
      '--json',
    );

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'ignore', reason: 'SELF_REMEDIATION' });
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

  it('exits 2 without --event', async () => {
    const result = await run('--json');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '--event <file>' not specified");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
