/**
 * `eks-endpoint-guard scp` as a user runs it: dist/cli.mjs (built by `npm test`). Exit codes (0 ok, 2 bad
 * input), the JSON contract, the text format, one line per problem on stderr, and start-up that never
 * loads the AWS SDK.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { denyingStatements, type IamStatement } from '../../src/iam/guardrail';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIX = 'test/fixtures/scp';
const childEnv = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' };

type Run = { code: number | null; stdout: string; stderr: string };
function run(args: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, 'dist/cli.mjs', ...args], { cwd: ROOT, env: { ...childEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
function expectCleanError(r: Run): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/^\s+at |unexpected failure|node:internal/m);
  for (const l of lines(r.stderr)) expect(l).toMatch(/^error: /);
}

type Output = {
  policies: { name: string; target: { type: string; id: string }; document: string; size: number; rules: string[] }[];
  guardOnly: { rule: string; reason: string }[];
  notes: string[];
  warnings: string[];
};

describe('eks-endpoint-guard scp', () => {
  it('prints the JSON contract: minified documents within the limit, per target, with the guard-only list and notes', async () => {
    const r = await run(['scp', '--policy', `${FIX}/strict.yaml`, '--organization', `${FIX}/organization.yaml`, '--guard-role-name', 'eks-endpoint-guard-write', '--break-glass-role', 'BreakGlass']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = JSON.parse(r.stdout) as Output;
    expect(Object.keys(out)).toEqual(['policies', 'guardOnly', 'notes', 'warnings']);
    // The member write role needs no exception: said in warnings (JSON), not on stderr.
    expect(out.warnings).toEqual([expect.stringMatching(/^--guard-role-name eks-endpoint-guard-write: not needed/)]);
    // The sandbox OU may do anything, so the root denies nothing; Production denies all but legacy's eu-west-1,
    // and what Production's other accounts may not do there goes to them (the Partners OU, the payments account).
    expect(out.policies.map((p) => `${p.target.type} ${p.target.id}`)).toEqual(['ou ou-ab12-prod0001', 'ou ou-ab12-partner1', 'account 222222222222']);
    for (const p of out.policies) {
      expect(Object.keys(p)).toEqual(['name', 'target', 'document', 'size', 'rules']);
      expect(p.size).toBe(p.document.length);
      expect(p.size).toBeLessThanOrEqual(5120);
      expect(JSON.stringify(JSON.parse(p.document))).toBe(p.document);
    }
    const legacy = (JSON.parse(out.policies[0]!.document) as { Statement: IamStatement[] }).Statement;
    const ask = (region: string, principal = 'arn:aws:iam::333333333333:role/dev') =>
      denyingStatements(legacy, { action: 'eks:UpdateClusterConfig', keys: { 'aws:PrincipalArn': principal, 'aws:RequestedRegion': region, 'eks:endpointPublicAccess': 'true' } });
    expect(ask('us-east-1')).toEqual(['DenyEksPublicEndpointOn']);
    expect(ask('us-east-1', 'arn:aws:iam::333333333333:role/eks-endpoint-guard-write')).toEqual([]);
    expect(ask('eu-west-1')).toEqual([]);
    expect(ask('us-east-1', 'arn:aws:iam::333333333333:role/BreakGlass')).toEqual([]);
    expect(out.notes.some((n) => /Null/.test(n))).toBe(true);
    // The exceptions by name come with the Deny that keeps anyone else from creating or retrusting those roles.
    const protection = legacy.find((s) => s.Sid === 'DenyChangingExceptedRoles')!;
    expect(protection.Resource).toEqual(['arn:aws:iam::*:role/eks-endpoint-guard-write', 'arn:aws:iam::*:role/BreakGlass', 'arn:aws:iam::*:role/stacksets-exec-*']);
    expect(denyingStatements([protection], { action: 'iam:CreateRole', keys: { 'aws:PrincipalArn': 'arn:aws:iam::333333333333:role/dev' } })).toEqual(['DenyChangingExceptedRoles']);
  });

  it('warns on stderr, in text mode, about OUs and accounts the organization does not have, and lists the rule in guardOnly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scp-cli-'));
    try {
      writeFileSync(
        join(dir, 'p.yaml'),
        'version: 1\ndefaults: { publicAccess: unrestricted, privateAccess: optional, maxTagExemptionDays: 0 }\nrules:\n  - { name: prod, match: { ous: [ou-ab12-prod0002] }, publicAccess: forbidden }\n  - { name: legacy, match: { accounts: ["333333333334"] }, privateAccess: required }\n',
      );
      const text = await run(['scp', '--policy', join(dir, 'p.yaml'), '--organization', `${FIX}/organization.yaml`, '--format', 'text']);
      expect(text.code).toBe(0);
      expect(lines(text.stderr)).toEqual([
        'warning: rules[0].match.ous[0]: ou-ab12-prod0002 is not an OU of the organization (did you mean ou-ab12-prod0001?)',
        'warning: rules[1].match.accounts[0]: 333333333334 is not an account of the organization (did you mean 333333333333?)',
      ]);
      expect(text.stdout).toMatch(/^0 service control policies for 0 targets; 2 enforced by the guard only/);
      expect(text.stdout).toContain('  - legacy: names account 333333333334, which is not in the organization file, so it matches no member account');
      const json = await run(['scp', '--policy', join(dir, 'p.yaml'), '--organization', `${FIX}/organization.yaml`]);
      expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' });
      const out = JSON.parse(json.stdout) as Output;
      expect(out.warnings).toHaveLength(2);
      expect(out.guardOnly.map((g) => g.rule)).toEqual(['prod', 'legacy']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists what only the guard enforces, each with why', async () => {
    const r = await run(['scp', '--policy', `${FIX}/policy.yaml`, '--organization', `${FIX}/organization.yaml`]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Output;
    const rules = out.guardOnly.map((g) => g.rule);
    expect(rules).toEqual(expect.arrayContaining(['partner-api', 'demo-clusters', 'exemption migration', 'exemptionTag eks-endpoint-guard/exempt-until']));
    for (const g of out.guardOnly) expect(g.reason.length).toBeGreaterThan(20);
  });

  it('prints a text report with --format text', async () => {
    const r = await run(['scp', '--policy', `${FIX}/strict.yaml`, '--organization', `${FIX}/organization.yaml`, '--format', 'text']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^3 service control policies for 3 targets/);
    expect(r.stdout).toContain('eks-endpoint-guard-ou-ab12-prod0001 → attach to ou ou-ab12-prod0001');
    expect(r.stdout).toContain('in every region except eu-west-1');
    expect(r.stdout).toContain('Notes:');
  });

  it('works without an organization: a rule on an OU that loosens may cover any account, so nothing is placed', async () => {
    const r = await run(['scp', '--policy', `${FIX}/strict.yaml`]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Output;
    // Any account might be in the sandbox OU (unrestricted there): without the tree, no Deny is safe anywhere.
    expect(out.policies).toEqual([]);
    expect(out.notes.join('\n')).toMatch(/Without --organization/);
  });

  it('works without an organization: the root of unknown id takes the defaults, less what named accounts may do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scp-cli-'));
    try {
      writeFileSync(join(dir, 'p.yaml'), 'version: 1\ndefaults: { publicAccess: forbidden }\nrules:\n  - { name: eu, match: { accounts: ["333333333333"], regions: [eu-west-1] }, publicAccess: unrestricted }\n');
      const r = await run(['scp', '--policy', join(dir, 'p.yaml')]);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as Output;
      expect(out.policies.map((p) => p.target)).toEqual([{ type: 'root', id: 'root' }]);
      expect(out.policies[0]!.document).toContain('"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every problem of a broken organization file, naming the file and the field, and exits 2', async () => {
    const r = await run(['scp', '--policy', `${FIX}/strict.yaml`, '--organization', `${FIX}/bad-organization.yaml`]);
    expectCleanError(r);
    expect(lines(r.stderr)).toEqual([`error: ${FIX}/bad-organization.yaml: organization.accounts[1].id: Invalid input: expected string, received number (got 333333333333); write account ids as quoted strings`]);
  });

  it('reports the policy file and the organization file problems together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scp-cli-'));
    try {
      writeFileSync(join(dir, 'p.yaml'), 'version: 1\ndefaults:\n  publicAccess: closed\n');
      writeFileSync(join(dir, 'o.yaml'), 'managementAccount: "111111111111"\naccounts:\n  - { id: "222222222222", unit: Nowhere }\n');
      const r = await run(['scp', '--policy', join(dir, 'p.yaml'), '--organization', join(dir, 'o.yaml'), '--break-glass-role', 'Break*']);
      expectCleanError(r);
      expect(r.stderr).toMatch(/p\.yaml:3:3: defaults\.publicAccess: .*"closed"/);
      expect(r.stderr).toMatch(/o\.yaml: organization\.accounts\[0\]\.unit: no OU has the name or id Nowhere/);
      expect(r.stderr).toMatch(/--break-glass-role: not an IAM role name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['scp'], /required option '--policy <file>' not specified/],
    [['scp', '--policy', `${FIX}/strict.yaml`, '--format', 'yaml'], /--format/],
    [['scp', '--policy', `${FIX}/missing.yaml`], /policy test\/fixtures\/scp\/missing\.yaml: no such file/],
    [['scp', '--policy', `${FIX}/strict.yaml`, '--organization', `${FIX}/missing.yaml`], /organization test\/fixtures\/scp\/missing\.yaml: no such file/],
    [['scp', '--policy', `${FIX}/strict.yaml`, '--guard-role-arn', 'arn:aws:iam::*:role/x'], /--guard-role-arn: not an IAM role ARN/],
    [['scp', '--policy', `${FIX}/strict.yaml`, '--break-glass-role', 'BreakGlass', '--role-admin-arn', 'arn:aws:iam::*:role/*'], /--role-admin-arn: not an IAM role ARN pattern/],
  ])('exits 2 for %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('loads no AWS SDK client, Smithy runtime, emulator service or state machine runner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scp-load-'));
    try {
      const log = join(dir, 'loaded.txt');
      writeFileSync(log, '');
      writeFileSync(join(dir, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.SCP_LOADED_LOG, url + '\\n');\n  return next(url, context);\n}\n");
      // The quick commands' CommonJS bundle is read with readFileSync and compiled with its code cache
      // (src/cli/compile-cache.ts), never loaded as a module: record what is read from dist/ that way too.
      writeFileSync(
        join(dir, 'register.mjs'),
        [
          "import fs from 'node:fs';",
          "import { register, syncBuiltinESMExports } from 'node:module';",
          "import { pathToFileURL } from 'node:url';",
          "register('./hooks.mjs', import.meta.url);",
          'const readFileSync = fs.readFileSync;',
          `fs.readFileSync = function (path, ...rest) {`,
          `  if (typeof path === 'string' && path.startsWith(${JSON.stringify(join(ROOT, 'dist'))}) && path.endsWith('.cjs')) fs.appendFileSync(process.env.SCP_LOADED_LOG, pathToFileURL(path).href + '\\n');`,
          '  return readFileSync.call(this, path, ...rest);',
          '};',
          'syncBuiltinESMExports();',
          '',
        ].join('\n'),
      );
      const r = await run(['scp', '--policy', `${FIX}/strict.yaml`, '--organization', `${FIX}/organization.yaml`], ['--import', pathToFileURL(join(dir, 'register.mjs')).href], { SCP_LOADED_LOG: log });
      expect(r.code).toBe(0);
      const files = lines(readFileSync(log, 'utf8')).map((u) => fileURLToPath(u));
      // Every file is a chunk of the bundle: its source map says what went into it.
      const sources = files.flatMap((f) => {
        try {
          return (JSON.parse(readFileSync(`${f}.map`, 'utf8')) as { sources: string[] }).sources;
        } catch {
          return [f];
        }
      });
      expect(sources.some((s) => /src\/scp\/generate\.ts$/.test(s))).toBe(true);
      // The organization file is the emulator state's `organization:` section, read by the emulator's own
      // schema and resolver (pure modules); nothing else of the emulator, and no SDK, is loaded.
      const heavy = /@aws-sdk\/client-|@smithy\/|aws-local-stepfunctions|dynalite|src\/local\/|src\/emulator\/(?!organization-state\.ts|organizations\.ts|protocol\.ts|ids\.ts)/;
      expect(sources.filter((s) => heavy.test(s))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
