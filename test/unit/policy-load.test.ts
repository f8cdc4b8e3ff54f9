/**
 * The policy file contract of issue 2, item 2: one schema for YAML and JSON, unknown keys are errors,
 * defaults filled in, and every error names its path and its value. Table-driven over
 * test/fixtures/policies/{valid,invalid}; the expected errors live in invalid/expected.json.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PolicyError } from '../../src/errors';
import { parsePolicy, validatePolicy, type Policy } from '../../src/policy';

const POLICIES = new URL('../fixtures/policies/', import.meta.url);
const read = (rel: string) => readFileSync(new URL(rel, POLICIES), 'utf8');

type ExpectedError = { path: string; value: string; mention?: string[]; at?: string };
type InvalidCase = { file: string; errors: ExpectedError[] };
const { cases: invalidCases } = JSON.parse(read('invalid/expected.json')) as { cases: InvalidCase[] };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The path, not followed by more path (so `a[1]` does not match `a[1][0]` and `defaults.x` not `defaults.x[0]`). */
const pathPattern = (path: string) => new RegExp(`(^|[^\\w\\].])${escape(path)}(?![\\w\\[])`);
/** The value as a token of its own (so `2` does not match inside `2027`). */
const valuePattern = (value: string) => new RegExp(`(^|[^\\w.:/-])${escape(value)}($|[^\\w.:/-])`);

/** The problems of a rejected policy; fails the test if it is accepted or fails with anything but a PolicyError. */
function problemsOf(text: string, source: string): string[] {
  try {
    parsePolicy(text, source);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw new Error(`${source}: expected a PolicyError, got ${String(err)}`);
    return err.problems;
  }
  throw new Error(`${source} was accepted but must be rejected`);
}

describe('parsePolicy rejects each kind of policy error, naming path and value', () => {
  it('every invalid fixture is listed in expected.json and vice versa', () => {
    const files = readdirSync(new URL('invalid/', POLICIES)).filter((f) => f !== 'expected.json').sort();
    expect(invalidCases.map((c) => c.file).sort()).toEqual(files);
  });

  describe.each(invalidCases)('$file', ({ file, errors }) => {
    let problems: string[] = [];
    beforeAll(() => {
      problems = problemsOf(read(`invalid/${file}`), file);
    });

    it(`reports exactly ${errors.length} problem(s), one line each`, () => {
      expect(problems).toHaveLength(errors.length);
      for (const p of problems) expect(p).not.toMatch(/\n/);
    });

    it.each(errors)('names $path and the value $value', ({ path, value, mention, at }) => {
      const line = problems.find((p) => pathPattern(path).test(p) && valuePattern(value).test(p));
      expect({ line, problems }).toEqual({ line: expect.any(String), problems });
      for (const m of mention ?? []) expect(line).toContain(m);
      if (at !== undefined) expect(line!.startsWith(`${file}:${at}: ${path}: `)).toBe(true);
    });

    it('gives every problem the line and column of its key or entry, and none in zod\'s words', () => {
      for (const p of problems) {
        expect(p).toMatch(new RegExp(`^${escape(file)}:\\d+:\\d+: `));
        expect(p).not.toMatch(/Invalid (input|option)|expected \w+, received|Too (big|small)|Unrecognized key|\(value: /);
      }
    });
  });

  it('suggests the network address for a CIDR with host bits set', () => {
    const [problem] = problemsOf('version: 1\ndefaults: {publicAccess: restricted, allowedPublicCidrs: [10.0.0.1/24]}\n', 'p.yaml');
    expect(problem).toContain('10.0.0.1/24');
    expect(problem).toMatch(/10\.0\.0\.0\/24[^\d]/);
    expect(problem).toMatch(/meant/);
  });

  it('reports problems of several kinds in one file together, not just the first', () => {
    const text = [
      'version: 1',
      'defaults: {publicAccess: restricted, allowedPublicCidrs: ["0.0.0.0/0", 10.0.0.1/24]}',
      'rules:',
      '  - {name: a, match: {}, mode: alert}',
      '  - {name: a, match: {clusters: [x]}, color: blue}',
      'exemptions:',
      '  - {name: e, match: {clusters: [y]}, reason: r, expires: "31/03/2027"}',
    ].join('\n');
    const problems = problemsOf(text, 'mixed.yaml');
    for (const path of ['defaults.allowedPublicCidrs[0]', 'defaults.allowedPublicCidrs[1]', 'rules[0].match', 'rules[1].color', 'exemptions[0].expires']) {
      expect(problems.some((p) => pathPattern(path).test(p))).toBe(true);
    }
  });

  it('accepts a restricted rule that inherits a non-empty allowlist, but not one whose overlay empties it', () => {
    const base = 'version: 1\ndefaults: {publicAccess: restricted, allowedPublicCidrs: [203.0.113.0/24]}\nrules:\n';
    expect(() => parsePolicy(`${base}  - {name: r, match: {clusters: [x]}, mode: alert}\n`)).not.toThrow();
    const problems = problemsOf(`${base}  - {name: r, match: {clusters: [x]}, allowedPublicCidrs: []}\n`, 'p');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pathPattern('rules[0].allowedPublicCidrs'));
  });

  it.each([
    ['a YAML syntax error', 'version: 1\ndefaults: {publicAccess: restricted\n'],
    ['invalid JSON', '{"version": 1, "defaults": {"publicAccess": "forbidden",}}x'],
    ['a list instead of a mapping', '- version: 1\n'],
    ['a scalar', 'just text\n'],
    ['an empty file', ''],
    ['a duplicated key', 'version: 1\nversion: 1\ndefaults: {publicAccess: forbidden}\n'],
  ])('rejects %s with a PolicyError', (_what, text) => {
    expect(problemsOf(text, 'bad.yaml').length).toBeGreaterThan(0);
  });

  it('rejects a match with only an empty tags mapping', () => {
    const problems = problemsOf('version: 1\ndefaults: {publicAccess: forbidden}\nrules: [{name: r, match: {tags: {}}}]\n', 'p');
    expect(problems.some((p) => pathPattern('rules[0].match').test(p))).toBe(true);
  });

  it('rejects an empty match on an exemption too', () => {
    const problems = problemsOf(
      'version: 1\ndefaults: {publicAccess: forbidden}\nexemptions: [{name: e, match: {}, reason: r, expires: 2027-01-01}]\n',
      'p',
    );
    expect(problems.some((p) => pathPattern('exemptions[0].match').test(p))).toBe(true);
  });

  it.each([['name'], ['reason'], ['expires'], ['match']])('requires %s on an exemption', (field) => {
    const entry: Record<string, unknown> = { name: 'e', match: { clusters: ['x'] }, reason: 'r', expires: '2027-01-01' };
    delete entry[field];
    let problems: string[] = [];
    try {
      validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' }, exemptions: [entry] });
    } catch (err) {
      problems = (err as PolicyError).problems;
    }
    expect(problems.some((p) => pathPattern(`exemptions[0].${field}`).test(p))).toBe(true);
  });
});

describe('parsePolicy accepts the valid fixtures and fills in defaults', () => {
  const validFiles = readdirSync(new URL('valid/', POLICIES)).sort();

  it.each(validFiles)('%s is valid', (file) => {
    expect(() => parsePolicy(read(`valid/${file}`), file)).not.toThrow();
  });

  it('parses the YAML and JSON forms of the issue example to the same policy', () => {
    const fromYaml = parsePolicy(read('valid/issue-example.yaml'));
    const fromJson = parsePolicy(read('valid/issue-example.json'));
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml.defaults).toEqual({
      mode: 'enforce',
      publicAccess: 'restricted',
      privateAccess: 'required',
      allowedPublicCidrs: ['203.0.113.0/24', '2001:db8::/32'],
      maxPublicCidrs: 40,
      maxTagExemptionDays: 30,
      escalation: { reverts: 3, withinMinutes: 60 },
      reminderHours: 24,
    });
    expect(fromYaml.rules).toHaveLength(1);
    expect(fromYaml.rules[0]).toMatchObject({
      name: 'prod-private-only',
      match: { accounts: ['111122223333'], regions: ['eu-west-1'], clusters: ['prod-*'], tags: { env: 'prod' } },
      publicAccess: 'forbidden',
    });
    expect(fromYaml.exemptions).toEqual([
      expect.objectContaining({
        name: 'legacy-vpn',
        match: { clusters: ['legacy-billing'], accounts: ['444455556666'] },
        reason: 'vendor VPN migration, ticket OPS-1234',
        // A bare YAML date stays the date that was written, not a Date or a shifted instant.
        expires: '2027-03-31',
      }),
    ]);
    expect(fromYaml.exemptionTag).toBe('eks-endpoint-guard/exempt-until');
  });

  it.each([
    ['strict-prod-forbidden.yaml', 'forbidden'],
    ['minimal-unrestricted.json', 'unrestricted'],
  ])('%s: mode enforce, privateAccess required, maxPublicCidrs 40, the default exemption tag', (file, publicAccess) => {
    const policy: Policy = parsePolicy(read(`valid/${file}`), file);
    expect(policy.defaults).toMatchObject({ mode: 'enforce', publicAccess, privateAccess: 'required', maxPublicCidrs: 40 });
    expect(policy.exemptionTag).toBe('eks-endpoint-guard/exempt-until');
    expect(policy.rules ?? []).toEqual([]);
    expect(policy.exemptions ?? []).toEqual([]);
  });

  it('keeps the values a policy gives instead of the defaults', () => {
    const alert = parsePolicy(read('valid/alert-mode.yaml'));
    expect(alert.defaults).toMatchObject({ mode: 'alert', privateAccess: 'optional', maxPublicCidrs: 40 });
    const low = parsePolicy(read('valid/unrestricted-low-limit.yaml'));
    expect(low.defaults).toMatchObject({ publicAccess: 'unrestricted', maxPublicCidrs: 3 });
    expect(parsePolicy(read('valid/custom-exemption-tag.yaml')).exemptionTag).toBe('acme.example/guard-exempt-until');
  });

  it.each([
    ['a date', '2027-03-31'],
    ['a UTC date-time', '2027-03-31T12:00:00Z'],
    ['a date-time with an offset', '2027-03-31T12:00:00+02:00'],
  ])('accepts %s as an exemption expiry', (_what, expires) => {
    const policy = validatePolicy({
      version: 1,
      defaults: { publicAccess: 'forbidden' },
      exemptions: [{ name: 'e', match: { clusters: ['x'] }, reason: 'r', expires }],
    });
    expect(policy.exemptions[0]?.expires).toBe(expires);
  });

  it.each([[1], [40]])('accepts maxPublicCidrs %i', (max) => {
    expect(validatePolicy({ version: 1, defaults: { publicAccess: 'unrestricted', maxPublicCidrs: max } }).defaults.maxPublicCidrs).toBe(max);
  });

  it.each([[0], [41], [2.5]])('rejects maxPublicCidrs %p', (max) => {
    expect(() => validatePolicy({ version: 1, defaults: { publicAccess: 'unrestricted', maxPublicCidrs: max } })).toThrow(PolicyError);
  });

  it('accepts 40 allowed CIDRs at the default limit and rejects 41', () => {
    const cidrs = (n: number) => Array.from({ length: n }, (_, i) => `203.0.113.${i}/32`);
    expect(() => validatePolicy({ version: 1, defaults: { publicAccess: 'restricted', allowedPublicCidrs: cidrs(40) } })).not.toThrow();
    expect(() => validatePolicy({ version: 1, defaults: { publicAccess: 'restricted', allowedPublicCidrs: cidrs(41) } })).toThrow(PolicyError);
  });
});
