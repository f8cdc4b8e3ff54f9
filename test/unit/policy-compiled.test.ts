/**
 * The compiled policy: parsePolicy returns a policy that evaluates without parsing or compiling per
 * call, yet looks exactly like the validated document (same JSON, same keys); first-rule-wins holds
 * however many rules there are (large policies go through an index); and cached parses never go stale.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import {
  AccountContextUnknownError,
  evaluateCluster,
  findViolations,
  parseObservedCluster,
  parsePolicy,
  planTarget,
  resolveSettings,
  validatePolicy,
  type EffectiveSettings,
  type MatchSubject,
  type ObservedCluster,
  type Policy,
} from '../../src/policy';
import type { AccountContext } from '../../src/org/types';

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
  // `size: 'max'`: lengths spread over 0 to 60, so that many policies are large enough for the index.
  const policyArb = fc.array(matchArb, { maxLength: 60, size: 'max' }).map((matches) =>
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

describe('compiled, indexed evaluation equals a naive reference evaluation', () => {
  /**
   * The reference judges everything from the validated document as written: each rule in order with
   * the plain definitions of the match keys (a RegExp per glob, list lookups, no index, no character
   * filter, no compiled template), the first that is not a no-match decides; exemptions likewise, their
   * ends read with Date.parse on the spot. Violations and the target come from the uncompiled public
   * forms (`findViolations`, `planTarget`) applied to the reference settings.
   */
  const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
  const DAY_MS = 24 * 60 * 60 * 1000;
  const globRe = (glob: string) => new RegExp(`^${glob.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  type Block = Policy['rules'][number]['match'];
  type State = 'match' | 'no-match' | 'unknown';

  function naiveState(m: Block, s: MatchSubject): State {
    if (m.accounts && !(s.account !== null && m.accounts.includes(s.account))) return 'no-match';
    if (m.regions && !(s.region !== null && m.regions.includes(s.region))) return 'no-match';
    if (m.clusters && !m.clusters.some((g) => globRe(g).test(s.name))) return 'no-match';
    if (m.tags && !Object.entries(m.tags).every(([k, v]) => Object.hasOwn(s.tags, k) && s.tags[k] === v)) return 'no-match';
    const accountTags = m.accountTags && Object.keys(m.accountTags).length > 0 ? m.accountTags : undefined;
    if (!m.ous && !accountTags) return 'match';
    const context = s.accountContext;
    if (context === null || context === undefined) return 'unknown';
    if (m.ous && !context.ouPath.some((id) => m.ous!.includes(id))) return 'no-match';
    if (accountTags && !Object.entries(accountTags).every(([k, v]) => Object.hasOwn(context.tags, k) && context.tags[k] === v)) return 'no-match';
    return 'match';
  }

  const naiveUntil = (expires: string) => (/^\d{4}-\d{2}-\d{2}$/.test(expires) ? Date.parse(`${expires}T00:00:00Z`) + DAY_MS : Date.parse(expires));

  type Reference =
    | { throws: { kind: 'rule' | 'exemption'; index: number } }
    | { throws: null; settings: EffectiveSettings; exemption: string | null };

  function reference(policy: Policy, s: MatchSubject, now: number, forceMode: 'alert' | undefined): Reference {
    let chosen = -1;
    for (let i = 0; i < policy.rules.length; i += 1) {
      const state = naiveState(policy.rules[i]!.match, s);
      if (state === 'unknown') return { throws: { kind: 'rule', index: i } };
      if (state === 'match') {
        chosen = i;
        break;
      }
    }
    const d = policy.defaults;
    const r = chosen === -1 ? undefined : policy.rules[chosen]!;
    const settings: EffectiveSettings = {
      rule: r?.name ?? null,
      mode: forceMode ?? r?.mode ?? d.mode,
      publicAccess: r?.publicAccess ?? d.publicAccess,
      privateAccess: r?.privateAccess ?? d.privateAccess,
      allowedPublicCidrs: [...(r?.allowedPublicCidrs ?? d.allowedPublicCidrs)],
      maxPublicCidrs: r?.maxPublicCidrs ?? d.maxPublicCidrs,
      maxTagExemptionDays: r?.maxTagExemptionDays ?? d.maxTagExemptionDays,
      escalation: { reverts: r?.escalation?.reverts ?? d.escalation.reverts, withinMinutes: r?.escalation?.withinMinutes ?? d.escalation.withinMinutes },
    };
    for (let i = 0; i < policy.exemptions.length; i += 1) {
      const e = policy.exemptions[i]!;
      const state = naiveState(e.match, s);
      const live = now < naiveUntil(e.expires);
      if (state === 'unknown' && live) return { throws: { kind: 'exemption', index: i } };
      if (state === 'match' && live) return { throws: null, settings, exemption: e.name };
    }
    return { throws: null, settings, exemption: null };
  }

  // Few distinct values, so that rules overlap; name parts in upper and lower case, digits and `_`, so
  // that the index files globs by prefix, suffix and three-character piece, some not at all, and the
  // character filter both skips and admits rules.
  const accounts = ['111111111111', '222222222222', '333333333333'];
  const regions = ['eu-west-1', 'us-east-1'];
  const ous = ['r-ab12', 'ou-ab12-11111111', 'ou-ab12-22222222'];
  const nameParts = ['prod', 'qa', 'a', 'ab', '-', 'x1', 'Z', '_9', 'team-', 'api'];
  const cidrs = ['0.0.0.0/0', '::/0', '203.0.113.0/24', '203.0.113.7/32', '198.51.100.0/24', '192.0.2.0/25', '10.0.0.0/8', '2001:db8::/32', '2001:db8:1::/48'];
  const expiries = ['2026-05-31', '2026-06-01', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00.001Z', '2026-05-31T23:59:59+00:00', '2027-01-01'];
  const globArb = fc.array(fc.constantFrom(...nameParts, '*', '?'), { minLength: 1, maxLength: 4 }).map((p) => p.join('').slice(0, 100));
  const tagsArb = fc.dictionary(fc.constantFrom('env', 'team'), fc.constantFrom('prod', 'dev'), { maxKeys: 2 });
  const matchArb = fc
    .record(
      {
        accounts: fc.uniqueArray(fc.constantFrom(...accounts), { minLength: 1, maxLength: 2 }),
        regions: fc.uniqueArray(fc.constantFrom(...regions), { minLength: 1, maxLength: 2 }),
        clusters: fc.array(globArb, { minLength: 1, maxLength: 3 }),
        tags: tagsArb.filter((t) => Object.keys(t).length > 0),
        ous: fc.uniqueArray(fc.constantFrom(...ous), { minLength: 1, maxLength: 2 }),
        accountTags: fc.dictionary(fc.constantFrom('unit', 'tier'), fc.constantFrom('core', 'edge'), { maxKeys: 1 }),
      },
      { requiredKeys: [] },
    )
    // Organization keys in about one block in four, so that most policies still decide without them.
    .filter((m) => Object.values(m).some((v) => Array.isArray(v) || Object.keys(v).length > 0))
    .chain((m) => fc.boolean().map((keepOrg) => (keepOrg || (!m.ous && !m.accountTags) ? m : { ...m, ous: undefined, accountTags: undefined })))
    .filter((m) => Object.values(m).some((v) => v !== undefined && (Array.isArray(v) || Object.keys(v).length > 0)));
  // Exemptions mostly on one broad key, so that a fair share of clusters meets one, live or expired.
  const exemptionMatchArb = fc.oneof(
    fc.record({ clusters: fc.array(fc.constantFrom('*', '*a*', 'prod*', '*-*', '?*'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ regions: fc.uniqueArray(fc.constantFrom(...regions), { minLength: 1, maxLength: 1 }) }),
    fc.record({ ous: fc.uniqueArray(fc.constantFrom(...ous), { minLength: 1, maxLength: 1 }) }),
    matchArb,
  );
  const allowlistArb = fc.uniqueArray(fc.constantFrom(...cidrs.filter((c) => c !== '0.0.0.0/0' && c !== '::/0')), { minLength: 1, maxLength: 3 });
  const settingsArb = fc.record(
    {
      mode: fc.constantFrom('enforce', 'alert'),
      publicAccess: fc.constantFrom('forbidden', 'restricted', 'unrestricted'),
      privateAccess: fc.constantFrom('required', 'optional'),
      allowedPublicCidrs: allowlistArb,
      maxPublicCidrs: fc.integer({ min: 3, max: 6 }),
      maxTagExemptionDays: fc.integer({ min: 0, max: 30 }),
      escalation: fc.record({ reverts: fc.integer({ min: 1, max: 5 }), withinMinutes: fc.integer({ min: 1, max: 120 }) }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );
  const policyArb = fc
    .record({
      defaults: fc.record({ publicAccess: fc.constantFrom('forbidden', 'restricted', 'unrestricted'), privateAccess: fc.constantFrom('required', 'optional'), allowedPublicCidrs: allowlistArb, maxPublicCidrs: fc.integer({ min: 3, max: 6 }) }),
      // Up to 60 rules: policies of more than 16 go through the index, smaller ones are scanned.
      rules: fc.array(fc.record({ match: matchArb, settings: settingsArb }), { maxLength: 60, size: 'max' }),
      exemptions: fc.array(fc.record({ match: exemptionMatchArb, expires: fc.constantFrom(...expiries) }), { maxLength: 4, size: 'max' }),
    })
    .map(({ defaults, rules, exemptions }) =>
      validatePolicy({
        version: 1,
        defaults,
        rules: rules.map(({ match, settings }, i) => ({ name: `r${i}`, match, ...settings })),
        exemptions: exemptions.map(({ match, expires }, i) => ({ name: `e${i}`, match, reason: `R-${i}`, expires })),
      }),
    );
  const contextArb: fc.Arbitrary<AccountContext | null | undefined> = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.record({ ouPath: fc.subarray(ous), tags: fc.dictionary(fc.constantFrom('unit', 'tier'), fc.constantFrom('core', 'edge'), { maxKeys: 2 }) }),
  );
  // Half the names are built from a glob of the policy (each `*` filled with a few parts, each `?` with
  // one character), so that clusters reach rules deep in a large policy rather than the first broad one.
  const fillArb = fc.record({ rule: fc.nat(), glob: fc.nat(), fills: fc.array(fc.constantFrom('', ...nameParts), { minLength: 12, maxLength: 12 }), one: fc.constantFrom('a', 'Z', '9', '-', 'q') });
  const nameArb = (policy: Policy) =>
    fc.oneof(
      fc.array(fc.constantFrom(...nameParts), { minLength: 1, maxLength: 4 }).map((p) => p.join('')),
      fillArb.map(({ rule, glob, fills, one }) => {
        const globs = policy.rules.flatMap((r, i) => (i >= rule % Math.max(1, policy.rules.length) && r.match.clusters ? [r.match.clusters] : []))[0];
        if (globs === undefined) return 'prod';
        let k = 0;
        const name = globs[glob % globs.length]!.replace(/[*?]/g, (w) => (w === '?' ? one : fills[k++ % fills.length]!));
        return name === '' ? 'a' : name;
      }),
    );
  const clusterArb = (policy: Policy): fc.Arbitrary<ObservedCluster> => fc.record({
    name: nameArb(policy),
    arn: fc.constant(null),
    account: fc.option(fc.constantFrom(...accounts), { nil: null }),
    region: fc.option(fc.constantFrom(...regions), { nil: null }),
    status: fc.constant('ACTIVE'),
    vpcId: fc.constant(null),
    tags: tagsArb,
    config: fc.record({
      endpointPublicAccess: fc.boolean(),
      endpointPrivateAccess: fc.boolean(),
      // Invalid entries too: an observed list is not validated, and evaluation must judge it the same way.
      publicAccessCidrs: fc.array(fc.constantFrom(...cidrs, 'not-a-cidr', '203.0.113.0/24'), { minLength: 1, maxLength: 8 }),
    }),
  });
  const NOW_INSTANT = Date.parse('2026-06-01T00:00:00Z');

  it('agrees on settings, violations, exemption, verdict, action and target, or throws for the same rule or exemption', () => {
    fc.assert(
      fc.property(
        policyArb.chain((policy) =>
          fc.tuple(fc.constant(policy), fc.array(fc.record({ cluster: clusterArb(policy), context: contextArb, forceMode: fc.constantFrom(undefined, 'alert' as const) }), { minLength: 1, maxLength: 8, size: 'max' })),
        ),
        ([policy, cases]) => {
          for (const { cluster, context, forceMode } of cases) {
            const subject: MatchSubject = { name: cluster.name, account: cluster.account, region: cluster.region, tags: cluster.tags, accountContext: context };
            const want = reference(policy, subject, NOW_INSTANT, forceMode);
            const options = { now: NOW_INSTANT, ...(forceMode ? { forceMode } : {}), ...(context === undefined ? {} : { accountContext: context }) };
            if (want.throws !== null) {
              let thrown: unknown = null;
              try {
                evaluateCluster(policy, cluster, options);
              } catch (err) {
                thrown = err;
              }
              expect(thrown).toBeInstanceOf(AccountContextUnknownError);
              expect((thrown as AccountContextUnknownError).needs).toMatchObject(want.throws);
              continue;
            }
            const got = evaluateCluster(policy, cluster, options);
            expect(got.settings).toEqual(want.settings);
            const violations = findViolations(want.settings, cluster.config);
            expect(got.violations).toEqual(violations);
            expect(got.exemption?.name ?? null).toBe(want.exemption);
            expect(got.verdict).toBe(want.exemption !== null ? 'exempt' : violations.length > 0 ? 'violation' : 'compliant');
            const plan = violations.length > 0 && want.exemption === null ? planTarget(want.settings, cluster.config) : null;
            expect(got.target).toEqual(plan?.target ?? null);
            expect(got.action).toBe(plan === null ? 'none' : plan.target === null || want.settings.mode === 'alert' ? 'alert' : 'remediate');
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('the character filter keeps a rule whose globs share no character, and tells upper from lower case', () => {
    // 20 rules, so the index (and with it the filter) is used; the globs of r17 need `Q` or `z`, none both.
    const rules = Array.from({ length: 17 }, (_, i) => ({ name: `r${i}`, match: { clusters: [`*qqq${i}-*`] } }));
    rules.push({ name: 'r17', match: { clusters: ['*Q*', '*z*'] } }, { name: 'r18', match: { clusters: ['*q*'] } }, { name: 'r19', match: { clusters: ['*'] } });
    const policy = validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' }, rules });
    const at = (name: string) => resolveSettings(policy, { name, account: null, region: null, tags: {} }).rule;
    expect(at('aQb')).toBe('r17');
    expect(at('azb')).toBe('r17');
    expect(at('aqb')).toBe('r18');
    expect(at('aZb')).toBe('r19');
    expect(at('xqqq16-x')).toBe('r16');
  });
});
