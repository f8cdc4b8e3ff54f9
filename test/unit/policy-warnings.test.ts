/**
 * What `validate` warns about in a valid policy: exemptions expired or ending within 14 days of the
 * given instant, rules that match on tags alone (cluster owners would choose their own rule), and
 * rules an earlier rule always takes first (RULE_SHADOWED; matchImplies itself is tested in
 * policy-authoring.test.ts).
 */
import fc from 'fast-check';
import { policyWarnings, validatePolicy, type Policy } from '../../src/policy';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

function withExemptions(...expires: string[]): Policy {
  return validatePolicy({
    version: 1,
    defaults: { publicAccess: 'forbidden' },
    exemptions: expires.map((e, i) => ({ name: `e${i}`, match: { clusters: [`c${i}`] }, reason: 'r', expires: e })),
  });
}

describe('policyWarnings: exemption expiry', () => {
  it.each([
    ['expired yesterday (bare date, ended at the start of today)', '2026-05-31', 'EXEMPTION_EXPIRED'],
    ['ending at this very instant', '2026-06-01T12:00:00Z', 'EXEMPTION_EXPIRED'],
    ['ending in 1 ms', '2026-06-01T12:00:00.001Z', 'EXEMPTION_EXPIRING'],
    ['a bare date today (lasts until midnight)', '2026-06-01', 'EXEMPTION_EXPIRING'],
    ['ending in exactly 14 days', '2026-06-15T12:00:00Z', 'EXEMPTION_EXPIRING'],
    ['ending in 14 days and 1 ms', '2026-06-15T12:00:00.001Z', null],
    ['a bare date whose end of day is 13.5 days away', '2026-06-14', 'EXEMPTION_EXPIRING'],
    ['a bare date whose end of day is 14.5 days away', '2026-06-15', null],
    ['an offset date-time 14 days away in UTC', '2026-06-15T14:00:00+02:00', 'EXEMPTION_EXPIRING'],
    ['next year', '2027-06-01', null],
  ])('%s (%s): %s', (_what, expires, code) => {
    const warnings = policyWarnings(withExemptions(expires), NOW);
    expect(warnings.map((w) => w.code)).toEqual(code === null ? [] : [code]);
    for (const w of warnings) {
      expect(w.message).toContain('e0');
      expect(w.message).toContain(expires);
      expect(w.message).toContain('exemptions[0]');
    }
  });

  it('reports every exemption concerned, in policy order', () => {
    const warnings = policyWarnings(withExemptions('2020-01-01', '2030-01-01', '2026-06-03'), NOW);
    expect(warnings.map((w) => [w.code, w.message.split(':')[0]])).toEqual([
      ['EXEMPTION_EXPIRED', 'exemptions[0] e0'],
      ['EXEMPTION_EXPIRING', 'exemptions[2] e2'],
    ]);
  });

  it('property: expired when end <= now, expiring when 0 < end - now <= 14 days, else nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: -30 * DAY, max: 30 * DAY }), (offset) => {
        const [w] = policyWarnings(withExemptions(new Date(NOW + offset).toISOString()), NOW);
        expect(w?.code ?? null).toBe(offset <= 0 ? 'EXEMPTION_EXPIRED' : offset <= 14 * DAY ? 'EXEMPTION_EXPIRING' : null);
      }),
      { numRuns: 300 },
    );
  });
});

describe('policyWarnings: rules that match on tags alone', () => {
  const rules = (...matches: Record<string, unknown>[]) =>
    validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' }, rules: matches.map((match, i) => ({ name: `r${i}`, match, mode: 'alert' })) });

  it.each([
    ['tags alone', { tags: { env: 'dev' } }, true],
    ['several tags, still nothing else', { tags: { env: 'dev', team: 'x' } }, true],
    ['tags and clusters', { tags: { env: 'dev' }, clusters: ['dev-*'] }, false],
    ['tags and an account', { tags: { env: 'dev' }, accounts: ['123456789012'] }, false],
    ['tags and a region', { tags: { env: 'dev' }, regions: ['eu-west-1'] }, false],
    ['clusters alone', { clusters: ['dev-*'] }, false],
  ])('%s: warned %s', (_what, match, warned) => {
    const warnings = policyWarnings(rules(match), NOW);
    expect(warnings.map((w) => w.code)).toEqual(warned ? ['RULE_MATCHES_TAGS_ONLY'] : []);
    if (warned) {
      expect(warnings[0]!.message).toContain('rules[0] r0');
      expect(warnings[0]!.message).toContain('cluster owners choose their own rule');
    }
  });

  it('a policy with neither gives no warnings', () => {
    expect(policyWarnings(validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' } }), NOW)).toEqual([]);
  });
});

describe('policyWarnings: rules shadowed by an earlier rule', () => {
  const rules = (...matches: Record<string, unknown>[]) =>
    validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' }, rules: matches.map((match, i) => ({ name: `r${i}`, match, mode: 'alert' })) });
  const shadowed = (policy: Policy) => policyWarnings(policy, NOW).filter((w) => w.code === 'RULE_SHADOWED').map((w) => w.message);

  // Each expected entry is [the shadowed rule, the earlier rule that shadows it].
  it.each([
    ['the same match twice', [{ clusters: ['a-*'] }, { clusters: ['a-*'] }], [[1, 0]]],
    ['a narrower rule after a wider one', [{ accounts: ['111111111111'] }, { accounts: ['111111111111'], clusters: ['x'] }], [[1, 0]]],
    ['a narrower rule before a wider one (the right order)', [{ accounts: ['111111111111'], clusters: ['x'] }, { accounts: ['111111111111'] }], []],
    ['overlapping, neither wider', [{ clusters: ['a-*'] }, { clusters: ['*-b'] }], []],
    ['a catch-all first shadows everything after it', [{ clusters: ['*'] }, { clusters: ['a'] }, { regions: ['eu-west-1'], clusters: ['b-*'] }], [[1, 0], [2, 0]]],
    ['reported once, naming the first rule that shadows', [{ clusters: ['a-*'] }, { clusters: ['a-*'] }, { clusters: ['a-1'] }], [[1, 0], [2, 0]]],
    ['a tags-only rule shadows the same tags with more keys', [{ tags: { env: 'dev' } }, { tags: { env: 'dev' }, clusters: ['d-*'] }], [[1, 0]]],
  ])('%s', (_what, matches, expected) => {
    expect(shadowed(rules(...matches))).toEqual(expected.map(([i, j]) => `rules[${i}] r${i} is never used: rules[${j}] r${j} matches every cluster it matches`));
  });

  it('says which rule and why, in the contract wording', () => {
    const policy = validatePolicy({
      version: 1,
      defaults: { publicAccess: 'forbidden' },
      rules: [
        { name: 'prod', match: { clusters: ['prod-*'] } },
        { name: 'dev', match: { clusters: ['dev-*'] } },
        { name: 'prod-eu', match: { clusters: ['prod-eu-*'], regions: ['eu-west-1'] } },
      ],
    });
    expect(policyWarnings(policy, NOW)).toEqual([{ code: 'RULE_SHADOWED', message: 'rules[2] prod-eu is never used: rules[0] prod matches every cluster it matches' }]);
  });

  it('after the rule\'s tags-only warning, in rule order', () => {
    const warnings = policyWarnings(rules({ tags: { env: 'dev' } }, { tags: { env: 'dev' } }), NOW);
    expect(warnings.map((w) => w.code)).toEqual(['RULE_MATCHES_TAGS_ONLY', 'RULE_MATCHES_TAGS_ONLY', 'RULE_SHADOWED']);
  });
});
