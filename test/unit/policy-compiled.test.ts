/**
 * The compiled policy: parsePolicy returns a policy that evaluates without parsing or compiling per
 * call, yet looks exactly like the validated document (same JSON, same keys); first-rule-wins holds
 * however many rules there are (large policies go through an index); and cached parses never go stale.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import {
  evaluateCluster,
  findViolations,
  parseObservedCluster,
  parsePolicy,
  planTarget,
  resolveSettings,
  validatePolicy,
  type EffectiveSettings,
  type MatchSubject,
  type Policy,
} from '../../src/policy';

const VALID = new URL('../fixtures/policies/valid/', import.meta.url);
const NOW = Date.parse('2026-06-01T00:00:00Z');

describe('a parsed policy looks like the plain validated document', () => {
  const files = readdirSync(VALID).sort();

  it.each(files)('%s: JSON round-trips to an equal object with the same keys, and it is frozen', (file) => {
    const policy = parsePolicy(readFileSync(new URL(file, VALID), 'utf8'), file);
    const json = JSON.parse(JSON.stringify(policy));
    expect(json).toStrictEqual(JSON.parse(JSON.stringify(json)));
    expect(json).toEqual(policy);
    expect(Object.keys(policy).sort()).toEqual(Object.keys(json).sort());
    expect(Object.getOwnPropertySymbols(policy)).toEqual([]);
    expect(Object.isFrozen(policy) && Object.isFrozen(policy.defaults) && Object.isFrozen(policy.rules)).toBe(true);
  });

  it('two parses of the same text are equal and print identically', () => {
    const text = readFileSync(new URL('rules.yaml', VALID), 'utf8');
    const [a, b] = [parsePolicy(text), parsePolicy(text)];
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('does not freeze or change the document given to validatePolicy', () => {
    const doc = { version: 1, defaults: { publicAccess: 'restricted', allowedPublicCidrs: ['203.0.113.0/24'] }, rules: [{ name: 'r', match: { clusters: ['x'] } }] };
    const before = JSON.stringify(doc);
    validatePolicy(doc);
    expect(JSON.stringify(doc)).toBe(before);
    expect(Object.isFrozen(doc) || Object.isFrozen(doc.defaults.allowedPublicCidrs)).toBe(false);
  });
});

describe('policies built by hand (not parsed) evaluate too', () => {
  const parsed = parsePolicy(readFileSync(new URL('rules.yaml', VALID), 'utf8'));
  const subject: MatchSubject = { name: 'prod-payments', account: '123456789012', region: 'us-east-1', tags: { env: 'prod', team: 'payments' } };

  it('a copy with rules removed or reordered is judged as it stands, not as the original', () => {
    expect(resolveSettings(parsed, subject).rule).toBe('prod-payments-strict');
    const withoutFirst: Policy = { ...parsed, rules: parsed.rules.slice(1) };
    expect(resolveSettings(withoutFirst, subject).rule).toBe('prod-any');
    const reversed: Policy = { ...parsed, rules: [...parsed.rules].reverse() };
    expect(resolveSettings(reversed, subject).rule).toBe('prod-any');
    expect(resolveSettings(parsed, subject).rule).toBe('prod-payments-strict');
  });

  it('a mutable hand-built policy is compiled again when its rule list grows', () => {
    const policy = structuredClone(parsed) as Policy;
    const other: MatchSubject = { ...subject, name: 'zzz', account: '000000000000' };
    expect(resolveSettings(policy, other).rule).toBe(null);
    policy.rules.push({ name: 'catch-all', match: { clusters: ['*'] }, mode: 'alert' });
    expect(resolveSettings(policy, other).rule).toBe('catch-all');
  });

  it('a hand-built policy without the newer keys gets their defaults', () => {
    const old = { version: 1, defaults: { mode: 'enforce', publicAccess: 'forbidden', privateAccess: 'required', allowedPublicCidrs: [], maxPublicCidrs: 40 }, rules: [], exemptions: [], exemptionTag: 'eks-endpoint-guard/exempt-until' } as unknown as Policy;
    expect(resolveSettings(old, subject)).toMatchObject({ maxTagExemptionDays: 30, escalation: { reverts: 3, withinMinutes: 60 } });
  });
});

describe('resolved settings belong to the caller', () => {
  it('changing one evaluation’s settings changes neither the policy nor the next evaluation', () => {
    const policy = parsePolicy(readFileSync(new URL('issue-example.yaml', VALID), 'utf8'));
    const cluster = parseObservedCluster({ cluster: { name: 'a', arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/a', resourcesVpcConfig: { endpointPublicAccess: true } } });
    const first = evaluateCluster(policy, cluster, { now: NOW });
    first.settings.allowedPublicCidrs.push('0.0.0.0/0');
    first.settings.escalation.reverts = 99;
    const second = evaluateCluster(policy, cluster, { now: NOW });
    expect(second.settings.allowedPublicCidrs).toEqual(['203.0.113.0/24', '2001:db8::/32']);
    expect(second.settings.escalation.reverts).toBe(3);
    expect(second.verdict).toBe('violation');
  });

  it('findViolations and planTarget see an allowlist changed in place, never a stale parse', () => {
    const settings: EffectiveSettings = {
      rule: null,
      mode: 'enforce',
      publicAccess: 'restricted',
      privateAccess: 'optional',
      allowedPublicCidrs: ['203.0.113.0/24'],
      maxPublicCidrs: 40,
      maxTagExemptionDays: 30,
      escalation: { reverts: 3, withinMinutes: 60 },
    };
    const config = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['198.51.100.0/24'] };
    expect(findViolations(settings, config).map((v) => v.code)).toEqual(['PUBLIC_CIDR_NOT_ALLOWED']);
    expect(planTarget(settings, config).target?.publicAccessCidrs).toEqual(['203.0.113.0/24']);
    settings.allowedPublicCidrs.push('198.51.100.0/24');
    expect(findViolations(settings, config)).toEqual([]);
    settings.allowedPublicCidrs[0] = '192.0.2.0/24';
    settings.allowedPublicCidrs[1] = '192.0.2.128/25';
    expect(findViolations(settings, config).map((v) => v.cidr)).toEqual(['198.51.100.0/24']);
    expect(planTarget(settings, config).target?.publicAccessCidrs).toEqual(['192.0.2.0/24', '192.0.2.128/25']);
  });
});

describe('first matching rule wins, however many rules (small policies scan, large ones use an index)', () => {
  /** The reference: try each rule in order with the plain definitions, nothing compiled or indexed. */
  const globRe = (glob: string) => new RegExp(`^${glob.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  function reference(policy: Policy, s: MatchSubject): string | null {
    const rule = policy.rules.find(({ match: m }) => {
      if (m.accounts && !(s.account !== null && m.accounts.includes(s.account))) return false;
      if (m.regions && !(s.region !== null && m.regions.includes(s.region))) return false;
      if (m.clusters && !m.clusters.some((g) => globRe(g).test(s.name))) return false;
      if (m.tags && !Object.entries(m.tags).every(([k, v]) => s.tags[k] === v)) return false;
      return true;
    });
    return rule?.name ?? null;
  }

  // Few distinct values, so that rules overlap and several match the same subject.
  const accounts = ['111111111111', '222222222222', '333333333333'];
  const regions = ['eu-west-1', 'us-east-1'];
  const nameParts = ['prod', 'qa', 'a', 'ab', '-', 'x1'];
  const globArb = fc.array(fc.constantFrom(...nameParts, '*', '?'), { minLength: 1, maxLength: 4 }).map((p) => p.join('').slice(0, 100));
  const nameArb = fc.array(fc.constantFrom(...nameParts), { minLength: 1, maxLength: 4 }).map((p) => p.join(''));
  const tagsArb = fc.dictionary(fc.constantFrom('env', 'team'), fc.constantFrom('prod', 'dev'), { maxKeys: 2 });
  const matchArb = fc
    .record(
      {
        accounts: fc.uniqueArray(fc.constantFrom(...accounts), { minLength: 1, maxLength: 2 }),
        regions: fc.uniqueArray(fc.constantFrom(...regions), { minLength: 1, maxLength: 2 }),
        clusters: fc.array(globArb, { minLength: 1, maxLength: 3 }),
        tags: tagsArb.filter((t) => Object.keys(t).length > 0),
      },
      { requiredKeys: [] },
    )
    .filter((m) => Object.keys(m).length > 0);
  const policyArb = fc.array(matchArb, { maxLength: 60 }).map((matches) =>
    validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' }, rules: matches.map((match, i) => ({ name: `r${i}`, match })) }),
  );
  const subjectArb = fc.record({
    name: nameArb,
    account: fc.option(fc.constantFrom(...accounts), { nil: null }),
    region: fc.option(fc.constantFrom(...regions), { nil: null }),
    tags: tagsArb,
  });

  it('agrees with a rule-by-rule reference on random policies of 0 to 60 rules', () => {
    fc.assert(
      fc.property(policyArb, fc.array(subjectArb, { minLength: 1, maxLength: 10 }), (policy, subjects) => {
        for (const s of subjects) expect(resolveSettings(policy, s).rule).toBe(reference(policy, s));
      }),
      { numRuns: 300 },
    );
  });

  it('a 1,000-rule policy: the last of several matching rules is not chosen, the earliest is', () => {
    const rules = Array.from({ length: 1000 }, (_, i) => ({ name: `r${i}`, match: { clusters: [`team-${i}-*`] } }));
    rules.push({ name: 'suffix', match: { clusters: ['*-api'] } }, { name: 'tagged', match: { tags: { env: 'prod' } } } as never, { name: 'any', match: { clusters: ['*'] } });
    const policy = validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' }, rules });
    const at = (name: string, tags: Record<string, string> = {}) => resolveSettings(policy, { name, account: null, region: null, tags }).rule;
    expect(at('team-998-api')).toBe('r998');
    expect(at('team-99-x')).toBe('r99');
    expect(at('other-api')).toBe('suffix');
    expect(at('other', { env: 'prod' })).toBe('tagged');
    expect(at('other')).toBe('any');
  });
});
