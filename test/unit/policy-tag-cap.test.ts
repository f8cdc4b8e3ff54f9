/**
 * The cap on tag exemptions (`maxTagExemptionDays`) and the escalation thresholds (`escalation`): the
 * schema of both keys, their overlay by rules, how they reach the effective settings, and how the cap
 * decides whether a cluster tag exempts. Policy-file exemptions are never capped.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { PolicyError } from '../../src/errors';
import { evaluateCluster, parseObservedCluster, parsePolicy, resolveSettings, validatePolicy, type Evaluation, type Policy } from '../../src/policy';

const DAY = 24 * 60 * 60 * 1000;
const TAG = 'eks-endpoint-guard/exempt-until';
const NOW = Date.parse('2026-06-01T12:00:00Z');
const CAPS = parsePolicy(readFileSync(new URL('../fixtures/policies/valid/tag-exemption-caps.yaml', import.meta.url), 'utf8'), 'tag-exemption-caps.yaml');

function policy(defaults: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): Policy {
  return validatePolicy({ version: 1, defaults: { publicAccess: 'restricted', allowedPublicCidrs: ['203.0.113.0/24'], ...defaults }, ...rest });
}

/** A public, open cluster (a violation under every policy here) with the given name and tags. */
function cluster(name: string, tags: Record<string, string>) {
  return parseObservedCluster({
    cluster: { name, arn: `arn:aws:eks:eu-west-1:123456789012:cluster/${name}`, tags, resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } },
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const codes = (e: Evaluation) => e.warnings.map((w) => w.code);

describe('maxTagExemptionDays and escalation in the schema', () => {
  it('fills in the defaults: 30 days, 3 reverts within 60 minutes', () => {
    const p = policy();
    expect(p.defaults).toMatchObject({ maxTagExemptionDays: 30, escalation: { reverts: 3, withinMinutes: 60 } });
    expect(resolveSettings(p, { name: 'x', account: null, region: null, tags: {} })).toMatchObject({ maxTagExemptionDays: 30, escalation: { reverts: 3, withinMinutes: 60 } });
  });

  it('fills the missing half of a partial escalation in the defaults', () => {
    expect(policy({ escalation: { reverts: 7 } }).defaults.escalation).toEqual({ reverts: 7, withinMinutes: 60 });
    expect(policy({ escalation: { withinMinutes: 5 } }).defaults.escalation).toEqual({ reverts: 3, withinMinutes: 5 });
  });

  it.each([
    ['maxTagExemptionDays', 0],
    ['maxTagExemptionDays', 365],
    ['escalation', { reverts: 1, withinMinutes: 1 }],
    ['escalation', { reverts: 100, withinMinutes: 10080 }],
  ])('accepts %s %j, in the defaults and in a rule', (key, value) => {
    expect(policy({ [key]: value }).defaults[key as 'maxTagExemptionDays']).toEqual(value);
    const p = policy({}, { rules: [{ name: 'r', match: { clusters: ['x'] }, [key]: value }] });
    expect(p.rules[0]![key as 'maxTagExemptionDays']).toEqual(value);
  });

  it.each([
    ['maxTagExemptionDays', -1, 'maxTagExemptionDays'],
    ['maxTagExemptionDays', 366, 'maxTagExemptionDays'],
    ['maxTagExemptionDays', 1.5, 'maxTagExemptionDays'],
    ['maxTagExemptionDays', '30', 'maxTagExemptionDays'],
    ['escalation', { reverts: 0 }, 'escalation.reverts'],
    ['escalation', { reverts: 101 }, 'escalation.reverts'],
    ['escalation', { withinMinutes: 0 }, 'escalation.withinMinutes'],
    ['escalation', { withinMinutes: 10081 }, 'escalation.withinMinutes'],
    ['escalation', { reverts: 2.5 }, 'escalation.reverts'],
    ['escalation', { reverts: 3, within: 60 }, 'escalation.within'],
    ['escalation', 3, 'escalation'],
  ])('refuses %s %j, naming %s, in the defaults and in a rule', (key, value, path) => {
    const problems = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(PolicyError);
        return (err as PolicyError).problems;
      }
      throw new Error('accepted');
    };
    expect(problems(() => policy({ [key]: value })).some((p) => p.startsWith(`defaults.${path}:`))).toBe(true);
    expect(problems(() => policy({}, { rules: [{ name: 'r', match: { clusters: ['x'] }, [key]: value }] })).some((p) => p.startsWith(`rules[0].${path}:`))).toBe(true);
  });

  it('overlays a rule field by field: each escalation half on its own, the cap from the first matching rule', () => {
    const at = (name: string) => resolveSettings(CAPS, { name, account: null, region: null, tags: {} });
    expect(at('dev-1')).toMatchObject({ rule: null, maxTagExemptionDays: 14, escalation: { reverts: 4, withinMinutes: 60 } });
    expect(at('prod-1')).toMatchObject({ rule: 'no-tag-exemptions', maxTagExemptionDays: 0, escalation: { reverts: 4, withinMinutes: 60 } });
    expect(at('research-1')).toMatchObject({ rule: 'long-projects', maxTagExemptionDays: 365, escalation: { reverts: 4, withinMinutes: 1440 } });
  });

  it('keeps the policy JSON as written: a partial rule escalation stays partial', () => {
    expect(JSON.parse(JSON.stringify(CAPS.rules[1]))).toEqual({
      name: 'long-projects',
      match: { clusters: ['research-*'] },
      maxTagExemptionDays: 365,
      escalation: { withinMinutes: 1440 },
    });
  });
});

describe('a tag exemption counts only while its end is within maxTagExemptionDays of now', () => {
  type Row = { name: string; value: string; days?: number; exempt: boolean; warnings: string[] };
  const rows: Row[] = [
    { name: 'ending exactly 30 days from now', value: iso(NOW + 30 * DAY), exempt: true, warnings: [] },
    { name: 'ending 30 days and 1 ms from now', value: iso(NOW + 30 * DAY + 1), exempt: false, warnings: ['EXEMPTION_TAG_TOO_LONG'] },
    { name: 'ending tomorrow', value: '2026-06-02', exempt: true, warnings: [] },
    // A bare date lasts through the END of that day: 2026-06-30 ends 2026-07-01T00:00Z, 29.5 days away.
    { name: 'a bare date whose end of day is 29.5 days away', value: '2026-06-30', exempt: true, warnings: [] },
    { name: 'a bare date whose end of day is 30.5 days away', value: '2026-07-01', exempt: false, warnings: ['EXEMPTION_TAG_TOO_LONG'] },
    { name: 'years ahead', value: '2099-01-01', exempt: false, warnings: ['EXEMPTION_TAG_TOO_LONG'] },
    { name: 'expired: EXEMPTION_EXPIRED as before', value: '2026-05-01', exempt: false, warnings: ['EXEMPTION_EXPIRED'] },
    { name: 'ending at this instant has expired', value: iso(NOW), exempt: false, warnings: ['EXEMPTION_EXPIRED'] },
    { name: 'invalid: EXEMPTION_TAG_INVALID as before', value: 'next week', exempt: false, warnings: ['EXEMPTION_TAG_INVALID'] },
    { name: 'a cap of 7 days: 6 days ahead', value: iso(NOW + 6 * DAY), days: 7, exempt: true, warnings: [] },
    { name: 'a cap of 7 days: 8 days ahead', value: iso(NOW + 8 * DAY), days: 7, exempt: false, warnings: ['EXEMPTION_TAG_TOO_LONG'] },
    { name: 'a cap of 365 days: 364 days ahead', value: iso(NOW + 364 * DAY), days: 365, exempt: true, warnings: [] },
    { name: 'a cap of 0: a valid tag never exempts', value: iso(NOW + 60_000), days: 0, exempt: false, warnings: ['EXEMPTION_TAG_NOT_ALLOWED'] },
    { name: 'a cap of 0: an invalid tag gives only NOT_ALLOWED', value: 'never', days: 0, exempt: false, warnings: ['EXEMPTION_TAG_NOT_ALLOWED'] },
    { name: 'a cap of 0: an expired tag gives only NOT_ALLOWED', value: '2020-01-01', days: 0, exempt: false, warnings: ['EXEMPTION_TAG_NOT_ALLOWED'] },
    { name: 'a cap of 0: an empty tag gives only NOT_ALLOWED', value: '', days: 0, exempt: false, warnings: ['EXEMPTION_TAG_NOT_ALLOWED'] },
  ];

  it.each(rows)('$name', ({ value, days, exempt, warnings }) => {
    const p = policy(days === undefined ? {} : { maxTagExemptionDays: days });
    const e = evaluateCluster(p, cluster('dev-1', { [TAG]: value }), { now: NOW });
    expect({ verdict: e.verdict, warnings: codes(e) }).toEqual({ verdict: exempt ? 'exempt' : 'violation', warnings });
    if (exempt) expect(e.exemption).toEqual({ source: 'tag', name: TAG, reason: `cluster tag ${TAG}=${value}`, expires: value });
    else expect({ exemption: e.exemption, action: e.action }).toEqual({ exemption: null, action: 'remediate' });
  });

  it('no tag: no warning, whatever the cap', () => {
    for (const days of [0, 30]) expect(codes(evaluateCluster(policy({ maxTagExemptionDays: days }), cluster('dev-1', {}), { now: NOW }))).toEqual([]);
  });

  it('the TOO_LONG message names the tag value, the cap and the rule', () => {
    const value = '2027-01-01';
    const [w] = evaluateCluster(CAPS, cluster('dev-1', { [TAG]: value }), { now: NOW }).warnings;
    expect(w?.code).toBe('EXEMPTION_TAG_TOO_LONG');
    expect(w?.message).toContain(value);
    expect(w?.message).toMatch(/\b14\b/);
    expect(w?.message).toContain('defaults');
    const ruled = policy({}, { rules: [{ name: 'short-leash', match: { clusters: ['dev-*'] }, maxTagExemptionDays: 3 }] });
    const [r] = evaluateCluster(ruled, cluster('dev-1', { [TAG]: value }), { now: NOW }).warnings;
    expect(r?.message).toContain(value);
    expect(r?.message).toMatch(/\b3\b/);
    expect(r?.message).toContain('short-leash');
  });

  it('the NOT_ALLOWED message names the tag value and the rule', () => {
    const [w] = evaluateCluster(CAPS, cluster('prod-1', { [TAG]: 'whenever' }), { now: NOW }).warnings;
    expect(w?.code).toBe('EXEMPTION_TAG_NOT_ALLOWED');
    expect(w?.message).toContain('whenever');
    expect(w?.message).toContain('no-tag-exemptions');
  });

  it('takes the cap from the first matching rule, else the defaults', () => {
    const tags = { [TAG]: iso(NOW + 20 * DAY) };
    expect(evaluateCluster(CAPS, cluster('dev-1', tags), { now: NOW }).verdict).toBe('violation'); // defaults: 14
    expect(evaluateCluster(CAPS, cluster('research-1', tags), { now: NOW }).verdict).toBe('exempt'); // rule: 365
    expect(codes(evaluateCluster(CAPS, cluster('prod-1', tags), { now: NOW }))).toEqual(['EXEMPTION_TAG_NOT_ALLOWED']); // rule: 0
  });

  it('never caps a policy-file exemption, not even under a rule that allows no tag exemptions', () => {
    const e = evaluateCluster(CAPS, cluster('prod-appliance', { [TAG]: '2099-01-01' }), { now: NOW });
    expect(e).toMatchObject({ verdict: 'exempt', exemption: { source: 'policy', name: 'vendor-appliance', expires: '2030-12-31' } });
    expect(e.warnings).toEqual([]);
  });

  it('a custom exemptionTag is capped the same way', () => {
    const p = policy({ maxTagExemptionDays: 1 }, { exemptionTag: 'acme/until' });
    expect(evaluateCluster(p, cluster('dev-1', { 'acme/until': iso(NOW + 2 * DAY) }), { now: NOW }).verdict).toBe('violation');
    expect(evaluateCluster(p, cluster('dev-1', { 'acme/until': iso(NOW + DAY) }), { now: NOW }).verdict).toBe('exempt');
  });

  it('property: a tag exempts exactly when 0 < end - now <= cap days, with exactly one matching warning otherwise', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 }), fc.integer({ min: -400 * DAY, max: 400 * DAY }), (days, offset) => {
        const end = NOW + offset;
        const e = evaluateCluster(policy({ maxTagExemptionDays: days }), cluster('dev-1', { [TAG]: iso(end) }), { now: NOW });
        const expected = days === 0 ? 'EXEMPTION_TAG_NOT_ALLOWED' : offset <= 0 ? 'EXEMPTION_EXPIRED' : offset > days * DAY ? 'EXEMPTION_TAG_TOO_LONG' : null;
        expect({ verdict: e.verdict, warnings: codes(e) }).toEqual(expected === null ? { verdict: 'exempt', warnings: [] } : { verdict: 'violation', warnings: [expected] });
      }),
      { numRuns: 500 },
    );
  });
});
