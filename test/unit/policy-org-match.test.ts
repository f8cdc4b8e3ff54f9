/**
 * Policy `match` on the account's place in the organization (issue 8, item 3): `ous` (an account
 * anywhere beneath a listed OU or root) and `accountTags` (all must equal). Validated like the other
 * keys (positions, did-you-mean, hints); linted (shadowing, tags-only, inventories); and safe: when the
 * account context is unknown, a decision that depends on it is refused (AccountContextUnknownError),
 * never guessed, so an unknown context never yields a verdict a known context could contradict.
 */
import fc from 'fast-check';
import { PolicyError, TransientAwsError } from '../../src/errors';
import { OUTSIDE_ORGANIZATION, type AccountContext, type Organization, type OrganizationPort } from '../../src/org/types';
import { evaluateInOrganization, readAccountContext } from '../../src/org/evaluate';
import {
  AccountContextUnknownError,
  evaluateCluster,
  matchOf,
  parseObservedCluster,
  parsePolicy,
  policyUsesOrganization,
  resolveSettings,
  validatePolicy,
  type Evaluation,
  type ObservedCluster,
  type Policy,
} from '../../src/policy';
import { parseInventory } from '../../src/policy/inventory';
import { inventoryWarnings, policyWarnings } from '../../src/policy/lint';
import { listSweepUnits } from '../../src/sweep/list-units';
import type { SweepEksPort } from '../../src/sweep/ports';
import { sweepUnit } from '../../src/sweep/sweep-unit';
import type { Log, WorkflowDeps } from '../../src/workflow/deps';
import type { ClusterDescription, EksPort } from '../../src/workflow/ports';
import { evaluateClusterStep, verifyRemediation } from '../../src/workflow/steps';
import type { ExecutionState } from '../../src/workflow/types';
import { FakeLedger } from './fakes/ledger';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 200);

const ROOT = 'r-ab12';
const PROD_OU = 'ou-ab12-prod0001';
const PAYMENTS_OU = 'ou-ab12-paym0001'; // beneath PROD_OU
const SANDBOX_OU = 'ou-ab12-sand0001';
const OTHER_ROOT_OU = 'ou-cd34-prod0001';

const ctx = (ouPath: string[], tags: Record<string, string> = {}): AccountContext => ({ ouPath, tags });
const PAYMENTS_ACCOUNT = ctx([ROOT, PROD_OU, PAYMENTS_OU], { env: 'prod', 'cost-center': '1234' });
const SANDBOX_ACCOUNT = ctx([ROOT, SANDBOX_OU], { env: 'dev' });

/** A cluster as DescribeCluster shows it; public endpoint on, open to the world unless told otherwise. */
function observed(options: { name?: string; account?: string; region?: string; tags?: Record<string, string>; pub?: boolean; priv?: boolean; cidrs?: string[] } = {}): ObservedCluster {
  const { name = 'api', account = '111111111111', region = 'us-east-1' } = options;
  return parseObservedCluster(
    {
      cluster: {
        name,
        arn: `arn:aws:eks:${region}:${account}:cluster/${name}`,
        status: 'ACTIVE',
        tags: options.tags ?? {},
        resourcesVpcConfig: { endpointPublicAccess: options.pub ?? true, endpointPrivateAccess: options.priv ?? false, publicAccessCidrs: options.cidrs ?? ['0.0.0.0/0'] },
      },
    },
    { account, region },
  );
}

const policyOf = (rules: { match: Record<string, unknown>; [k: string]: unknown }[], extra: Record<string, unknown> = {}): Policy =>
  validatePolicy({ version: 1, defaults: { publicAccess: 'unrestricted', privateAccess: 'optional', mode: 'alert' }, rules: rules.map((r, i) => ({ name: `r${i}`, ...r })), ...extra });

function problemsOf(text: string, source = 'policy.yaml'): string[] {
  try {
    parsePolicy(text, source);
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error('the policy was accepted but must be rejected');
}

const withMatch = (match: string) => `version: 1
defaults:
  publicAccess: forbidden
rules:
  - name: prod
    match:
${match
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
    mode: alert
`;

describe('validation of ous and accountTags', () => {
  it('accepts OU ids, root ids and account tags, and keeps them as written', () => {
    const policy = parsePolicy(withMatch(`ous: [${PROD_OU}, ${ROOT}, ou-0123456789abcdef0123456789abcdef-0123456789abcdef0123456789abcdef]\naccountTags: { env: prod, "cost-center": "1234" }`));
    expect(policy.rules[0]!.match).toEqual({
      ous: [PROD_OU, ROOT, 'ou-0123456789abcdef0123456789abcdef-0123456789abcdef0123456789abcdef'],
      accountTags: { env: 'prod', 'cost-center': '1234' },
    });
  });

  it.each([
    ['an OU id with a short suffix', 'ous: [ou-ab12-1234567]', 'rules[0].match.ous[0]', '7:13', /not an organizational unit id .* \(got "ou-ab12-1234567"\)$/],
    ['an account id', 'ous: ["123456789012"]', 'rules[0].match.ous[0]', '7:13', /that is an account id; list it under accounts/],
    ['capitals', 'ous: [OU-AB12-PROD0001]', 'rules[0].match.ous[0]', '7:13', /lower case \("ou-ab12-prod0001"\)/],
    ['an OU name', 'ous: [Production]', 'rules[0].match.ous[0]', '7:13', /matched by id, not by name/],
    ['an organization id', 'ous: [o-abcdefghij]', 'rules[0].match.ous[0]', '7:13', /organization id; use the root id/],
    ['the second entry', `ous: [${PROD_OU}, ou-ab12]`, 'rules[0].match.ous[1]', '7:31', /not an organizational unit id/],
    ['an empty list', 'ous: []', 'rules[0].match.ous', '7:7', /must list at least one entry \(got \[\]\)/],
    ['a single id, not a list', `ous: ${PROD_OU}`, 'rules[0].match.ous', '7:7', /must be a list, got a string/],
    ['an unquoted number as an account tag value', 'accountTags: { cost-center: 1234 }', 'rules[0].match.accountTags.cost-center', '7:22', /quote it in YAML \("1234"\)/],
    ['a misspelt ous', `ou: [${PROD_OU}]`, 'rules[0].match.ou', '7:7', /unknown key \(did you mean ous\?\)/],
    ['a misspelt accountTags', 'accountTag: { env: prod }', 'rules[0].match.accountTag', '7:7', /unknown key \(did you mean accountTags\?\)/],
    ['accountTags in snake case', 'account_tags: { env: prod }', 'rules[0].match.account_tags', '7:7', /did you mean accountTags\?/],
    ['an empty accountTags alone', 'accountTags: {}', 'rules[0].match', '6:5', /a match must name at least one of accounts, regions, clusters, tags, ous, accountTags/],
  ])('%s: one problem at its line and column, in the policy\'s words', (_what, match, path, at, message) => {
    const problems = problemsOf(withMatch(match));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`policy.yaml:${at}: ${path}: `)).toBe(true);
    expect(problems[0]).toMatch(message);
    expect(problems[0]).not.toMatch(/Invalid|expected/);
  });

  it('validates ous in exemptions too, and lists every problem at once', () => {
    const problems = problemsOf(`version: 1
defaults: { publicAccess: forbidden }
rules:
  - { name: a, match: { ous: [bad] } }
exemptions:
  - { name: e, match: { ous: ["ou-ab12-x"], accountTags: { team: 7 } }, reason: test, expires: 2027-01-01 }
`);
    expect(problems.map((p) => p.split(': ')[1])).toEqual(['rules[0].match.ous[0]', 'exemptions[0].match.ous[0]', 'exemptions[0].match.accountTags.team']);
  });
});

describe('matching on ous and accountTags', () => {
  const subject = (accountContext: AccountContext | null | undefined, extra: Partial<{ account: string; name: string; tags: Record<string, string> }> = {}) => ({
    name: extra.name ?? 'api',
    account: extra.account ?? '111111111111',
    region: 'us-east-1',
    tags: extra.tags ?? {},
    ...(accountContext === undefined ? {} : { accountContext }),
  });

  it.each([
    ['the direct parent OU', { ous: [PAYMENTS_OU] }, PAYMENTS_ACCOUNT, 'match'],
    ['an OU further up', { ous: [PROD_OU] }, PAYMENTS_ACCOUNT, 'match'],
    ['the root', { ous: [ROOT] }, PAYMENTS_ACCOUNT, 'match'],
    ['any of several OUs', { ous: [SANDBOX_OU, PROD_OU] }, PAYMENTS_ACCOUNT, 'match'],
    ['a sibling OU', { ous: [SANDBOX_OU] }, PAYMENTS_ACCOUNT, 'no-match'],
    ['an OU beneath the account\'s OU', { ous: [PAYMENTS_OU] }, ctx([ROOT, PROD_OU]), 'no-match'],
    ['an account outside the organization', { ous: [ROOT] }, OUTSIDE_ORGANIZATION, 'no-match'],
    ['one account tag', { accountTags: { env: 'prod' } }, PAYMENTS_ACCOUNT, 'match'],
    ['all account tags', { accountTags: { env: 'prod', 'cost-center': '1234' } }, PAYMENTS_ACCOUNT, 'match'],
    ['one account tag differs', { accountTags: { env: 'prod', 'cost-center': '9999' } }, PAYMENTS_ACCOUNT, 'no-match'],
    ['an account tag missing', { accountTags: { owner: 'x' } }, PAYMENTS_ACCOUNT, 'no-match'],
    ['an account tag named like an Object property', { accountTags: { constructor: 'x' } }, PAYMENTS_ACCOUNT, 'no-match'],
    ['a tag on the cluster is not an account tag', { accountTags: { team: 'a' } }, ctx([ROOT]), 'no-match'],
    ['ous and accountTags together', { ous: [PROD_OU], accountTags: { env: 'prod' } }, PAYMENTS_ACCOUNT, 'match'],
    ['ous holds, accountTags does not', { ous: [PROD_OU], accountTags: { env: 'dev' } }, PAYMENTS_ACCOUNT, 'no-match'],
  ])('%s: %j → %s', (_what, match, context, expected) => {
    expect(matchOf(match, subject(context, { tags: { team: 'a' } }))).toBe(expected);
  });

  it.each([
    ['no account context', undefined],
    ['a null account context', null],
  ])('with %s, a block on ous or accountTags is unknown, not a no', (_what, context) => {
    expect(matchOf({ ous: [ROOT] }, subject(context))).toBe('unknown');
    expect(matchOf({ accountTags: { env: 'prod' } }, subject(context))).toBe('unknown');
  });

  it('a block whose cluster-side keys fail is a plain no-match even without the account context', () => {
    expect(matchOf({ ous: [ROOT], accounts: ['222222222222'] }, subject(null))).toBe('no-match');
    expect(matchOf({ ous: [ROOT], clusters: ['web-*'] }, subject(null))).toBe('no-match');
    expect(matchOf({ accountTags: { env: 'prod' }, tags: { team: 'b' } }, subject(null, { tags: { team: 'a' } }))).toBe('no-match');
    expect(matchOf({ ous: [ROOT], clusters: ['api'] }, subject(null))).toBe('unknown');
  });

  it('knows which policies need the organization at all', () => {
    expect(policyUsesOrganization(policyOf([{ match: { clusters: ['*'] } }]))).toBe(false);
    expect(policyUsesOrganization(policyOf([{ match: { clusters: ['*'], accountTags: {} } }]))).toBe(false);
    expect(policyUsesOrganization(policyOf([{ match: { ous: [ROOT] } }]))).toBe(true);
    expect(policyUsesOrganization(policyOf([], { exemptions: [{ name: 'e', match: { accountTags: { env: 'dev' } }, reason: 'r', expires: '2027-01-01' }] }))).toBe(true);
  });
});

describe('an unknown account context never decides', () => {
  const strictProd = { match: { ous: [PROD_OU] }, publicAccess: 'forbidden', mode: 'enforce' };

  it('refuses to judge when an ous rule comes before anything that decides, naming the rule', () => {
    const policy = policyOf([{ match: { accounts: ['999999999999'] } }, strictProd]);
    const judge = () => evaluateCluster(policy, observed(), { now: NOW });
    expect(judge).toThrow(AccountContextUnknownError);
    expect(judge).toThrow(/cluster api \(111111111111\/us-east-1\): rules\[1\] r1 matches on ous\/accountTags .* not known; the guard does not judge on a guess/);
    expect(() => resolveSettings(policy, observed())).toThrow(AccountContextUnknownError);
  });

  it('judges without the organization when an earlier rule, or the cluster-side keys, decide', () => {
    const byAccount = policyOf([{ match: { accounts: ['111111111111'] }, publicAccess: 'unrestricted' }, strictProd]);
    expect(evaluateCluster(byAccount, observed(), { now: NOW }).settings.rule).toBe('r0');
    const elsewhere = policyOf([{ match: { ous: [PROD_OU], regions: ['eu-west-1'] }, publicAccess: 'forbidden' }]);
    expect(evaluateCluster(elsewhere, observed(), { now: NOW }).settings.rule).toBeNull();
  });

  it('judges with a known context: inside the OU the strict rule, outside it the defaults', () => {
    const policy = policyOf([strictProd]);
    const inside = evaluateCluster(policy, observed(), { now: NOW, accountContext: PAYMENTS_ACCOUNT });
    expect({ rule: inside.settings.rule, verdict: inside.verdict, action: inside.action }).toEqual({ rule: 'r0', verdict: 'violation', action: 'remediate' });
    const outside = evaluateCluster(policy, observed(), { now: NOW, accountContext: SANDBOX_ACCOUNT });
    expect({ rule: outside.settings.rule, verdict: outside.verdict }).toEqual({ rule: null, verdict: 'compliant' });
  });

  it('refuses when a live exemption on accountTags could apply, but not for an expired one', () => {
    const exemption = (expires: string) => ({ exemptions: [{ name: 'dev-accounts', match: { accountTags: { env: 'dev' } }, reason: 'sandbox', expires }] });
    const strict = (expires: string) => validatePolicy({ version: 1, defaults: { publicAccess: 'forbidden' }, ...exemption(expires) });
    expect(() => evaluateCluster(strict('2027-01-01'), observed(), { now: NOW })).toThrow(/exemptions\[0\] dev-accounts matches on ous\/accountTags/);
    expect(evaluateCluster(strict('2026-01-01'), observed(), { now: NOW }).verdict).toBe('violation');
    expect(evaluateCluster(strict('2027-01-01'), observed(), { now: NOW, accountContext: SANDBOX_ACCOUNT }).verdict).toBe('exempt');
    expect(evaluateCluster(strict('2027-01-01'), observed(), { now: NOW, accountContext: PAYMENTS_ACCOUNT }).verdict).toBe('violation');
  });

  it('refuses through the rule index of a large policy too', () => {
    const filler = Array.from({ length: 30 }, (_, i) => ({ match: { clusters: [`team${i}-*`] } }));
    const policy = policyOf([...filler, { match: { accountTags: { env: 'prod' } }, publicAccess: 'forbidden' }, { match: { clusters: ['*'] } }]);
    expect(() => evaluateCluster(policy, observed(), { now: NOW })).toThrow(/rules\[30\] r30/);
    expect(evaluateCluster(policy, observed({ name: 'team7-api' }), { now: NOW }).settings.rule).toBe('r7');
    expect(evaluateCluster(policy, observed(), { now: NOW, accountContext: PAYMENTS_ACCOUNT }).settings.rule).toBe('r30');
    expect(evaluateCluster(policy, observed(), { now: NOW, accountContext: SANDBOX_ACCOUNT }).settings.rule).toBe('r31');
  });

  // The safety property itself: for any policy mixing cluster-side and organization keys, any cluster
  // and any two contexts, judging without a context either refuses or gives exactly the judgement the
  // known context gives; and a known context is judged as first-rule-wins over plain matching says.
  it('without a context: a refusal, or the same judgement as under every possible context', () => {
    const accounts = ['111111111111', '222222222222'];
    const ouIds = [ROOT, PROD_OU, PAYMENTS_OU, SANDBOX_OU, OTHER_ROOT_OU];
    const contexts = fc.record({
      ouPath: fc.constantFrom<string[]>([], [ROOT], [ROOT, SANDBOX_OU], [ROOT, PROD_OU], [ROOT, PROD_OU, PAYMENTS_OU]),
      tags: fc.dictionary(fc.constantFrom('env', 'team'), fc.constantFrom('prod', 'dev')),
    });
    const match = fc
      .record(
        {
          accounts: fc.subarray(accounts, { minLength: 1 }),
          clusters: fc.subarray(['api', 'web', 'a*', '*'], { minLength: 1 }),
          tags: fc.dictionary(fc.constantFrom('team'), fc.constantFrom('a', 'b'), { minKeys: 1 }),
          ous: fc.subarray(ouIds, { minLength: 1 }),
          accountTags: fc.dictionary(fc.constantFrom('env', 'team'), fc.constantFrom('prod', 'dev'), { minKeys: 1 }),
        },
        { requiredKeys: [] },
      )
      .filter((m) => Object.keys(m).length > 0);
    const rule = fc.record({ match, publicAccess: fc.constantFrom('forbidden', 'unrestricted'), privateAccess: fc.constantFrom('required', 'optional') });
    const exemption = fc.record({ match, expires: fc.constantFrom('2026-01-01', '2027-01-01') });
    const cluster = fc.record({ account: fc.constantFrom(...accounts), name: fc.constantFrom('api', 'web', 'db'), team: fc.constantFrom('a', 'b') });
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 24 }), fc.array(exemption, { maxLength: 3 }), cluster, contexts, contexts, (rules, exemptions, c, one, two) => {
        const policy = validatePolicy({
          version: 1,
          defaults: { publicAccess: 'restricted', allowedPublicCidrs: ['203.0.113.0/24'] },
          rules: rules.map((r, i) => ({ name: `r${i}`, ...r })),
          exemptions: exemptions.map((e, i) => ({ name: `e${i}`, reason: 'x', ...e })),
        });
        const cl = observed({ name: c.name, account: c.account, tags: { team: c.team } });
        const known = [one, two].map((accountContext) => evaluateCluster(policy, cl, { now: NOW, accountContext }));
        // First rule wins, judged one match block at a time.
        const expectedRule = (context: AccountContext) => {
          const i = policy.rules.findIndex((r) => matchOf(r.match, { ...cl, accountContext: context }) === 'match');
          return i === -1 ? null : policy.rules[i]!.name;
        };
        expect(known.map((e) => e.settings.rule)).toEqual([expectedRule(one), expectedRule(two)]);
        let blind: Evaluation;
        try {
          blind = evaluateCluster(policy, cl, { now: NOW });
        } catch (err) {
          expect(err).toBeInstanceOf(AccountContextUnknownError);
          return;
        }
        const decision = (e: Evaluation) => ({ rule: e.settings.rule, verdict: e.verdict, action: e.action, target: e.target, exemption: e.exemption, violations: e.violations });
        for (const k of known) expect(decision(blind)).toEqual(decision(k));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('evaluateInOrganization: the organization is read only when the decision needs it', () => {
  const org: Organization = {
    id: 'o-abcdefghij',
    managementAccount: '999999999999',
    accounts: [{ id: '111111111111', name: 'payments', status: 'ACTIVE', ...PAYMENTS_ACCOUNT }],
  };
  function port(behaviour: 'answer' | 'fail' = 'answer'): OrganizationPort & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      describe: async () => org,
      account: async (id) => {
        calls.push(id);
        if (behaviour === 'fail') throw new Error('Organizations is throttling');
        return org.accounts.find((a) => a.id === id) ?? null;
      },
    };
  }
  const strict = policyOf([{ match: { ous: [PROD_OU] }, publicAccess: 'forbidden', mode: 'enforce' }]);

  it('no call for a policy without ous/accountTags, nor for a cluster an earlier rule decides', async () => {
    const p = port();
    await evaluateInOrganization(policyOf([{ match: { clusters: ['*'] } }]), observed(), { now: NOW }, p);
    await evaluateInOrganization(policyOf([{ match: { clusters: ['api'] } }, { match: { ous: [ROOT] } }]), observed(), { now: NOW }, p);
    expect(p.calls).toEqual([]);
  });

  it('reads the account\'s context once and judges with it', async () => {
    const p = port();
    const evaluation = await evaluateInOrganization(strict, observed(), { now: NOW }, p);
    expect(p.calls).toEqual(['111111111111']);
    expect({ rule: evaluation.settings.rule, action: evaluation.action }).toEqual({ rule: 'r0', action: 'remediate' });
  });

  it('an account the organization does not list is outside it: the OU rule does not apply', async () => {
    const evaluation = await evaluateInOrganization(strict, observed({ account: '333333333333' }), { now: NOW }, port());
    expect(evaluation.settings.rule).toBeNull();
    await expect(readAccountContext(port(), '333333333333')).resolves.toEqual(OUTSIDE_ORGANIZATION);
  });

  it('when the organization cannot be read, the error propagates: no verdict', async () => {
    await expect(evaluateInOrganization(strict, observed(), { now: NOW }, port('fail'))).rejects.toThrow('Organizations is throttling');
  });

  it('without an organization port, the refusal itself propagates', async () => {
    await expect(evaluateInOrganization(strict, observed(), { now: NOW }, undefined)).rejects.toBeInstanceOf(AccountContextUnknownError);
  });
});

describe('lint: ous and accountTags', () => {
  const shadowed = (...matches: Record<string, unknown>[]) =>
    policyWarnings(policyOf(matches.map((match) => ({ match }))), NOW)
      .filter((w) => w.code === 'RULE_SHADOWED')
      .map((w) => w.message.slice(0, 8));

  it.each([
    ['the same OU', [{ ous: [PROD_OU] }, { ous: [PROD_OU], clusters: ['x'] }], ['rules[1]']],
    ['the root before its OUs', [{ ous: [ROOT] }, { ous: [PROD_OU, SANDBOX_OU] }], ['rules[1]']],
    ['a root does not cover another root\'s OU', [{ ous: [ROOT] }, { ous: [OTHER_ROOT_OU] }], []],
    ['a nested OU is not known to be beneath its parent without the tree', [{ ous: [PROD_OU] }, { ous: [PAYMENTS_OU] }], []],
    ['later lists an OU earlier does not', [{ ous: [PROD_OU] }, { ous: [PROD_OU, SANDBOX_OU] }], []],
    ['ous first, later has none', [{ ous: [PROD_OU] }, { clusters: ['x'] }], []],
    ['account tags a subset', [{ accountTags: { env: 'prod' } }, { accountTags: { env: 'prod', team: 'a' } }], ['rules[1]']],
    ['account tags with another value', [{ accountTags: { env: 'prod' } }, { accountTags: { env: 'dev' } }], []],
    ['cluster tags do not shadow account tags', [{ tags: { env: 'prod' } }, { accountTags: { env: 'prod' } }], []],
    ['an account rule shadows the same account narrowed by OU', [{ accounts: ['111111111111'] }, { accounts: ['111111111111'], ous: [PROD_OU] }], ['rules[1]']],
  ])('%s', (_what, matches, expected) => {
    expect(shadowed(...matches)).toEqual(expected);
  });

  it.each([
    ['tags with ous', { tags: { env: 'dev' }, ous: [SANDBOX_OU] }, false],
    ['tags with accountTags', { tags: { env: 'dev' }, accountTags: { env: 'dev' } }, false],
    ['tags with an empty accountTags', { tags: { env: 'dev' }, accountTags: {} }, true],
    ['accountTags alone (set in the management account, not by cluster owners)', { accountTags: { env: 'dev' } }, false],
  ])('tags-only warning: %s → %s', (_what, match, warned) => {
    const codes = policyWarnings(policyOf([{ match }]), NOW).map((w) => w.code);
    expect(codes.includes('RULE_MATCHES_TAGS_ONLY')).toBe(warned);
  });

  describe('inventory', () => {
    const org: Organization = {
      id: 'o-abcdefghij',
      managementAccount: '999999999999',
      accounts: [
        { id: '111111111111', name: 'payments', status: 'ACTIVE', ...PAYMENTS_ACCOUNT },
        { id: '222222222222', name: 'sandbox', status: 'ACTIVE', ...SANDBOX_ACCOUNT },
      ],
    };
    const clusters = [{ cluster: { name: 'api', arn: 'arn:aws:eks:us-east-1:111111111111:cluster/api' } }];
    const policy = policyOf([{ match: { ous: [PROD_OU] } }, { match: { ous: [SANDBOX_OU] } }, { match: { accounts: ['222222222222'], accountTags: { env: 'dev' } } }]);

    it('with the organization: an OU rule matching none of the clusters is reported as matching nothing', () => {
      const subjects = parseInventory(clusters, org);
      expect(subjects[0]!.accountContext).toEqual(PAYMENTS_ACCOUNT);
      expect(inventoryWarnings(policy, subjects)).toEqual([
        { code: 'RULE_MATCHES_NOTHING', message: 'rules[1] r1 matches none of the 1 cluster of the inventory' },
        { code: 'RULE_MATCHES_NOTHING', message: 'rules[2] r2 matches none of the 1 cluster of the inventory' },
      ]);
    });

    it('without it: the OU rules cannot be told, and say so; a cluster-side miss is still a miss', () => {
      const subjects = parseInventory(clusters);
      expect(subjects[0]).not.toHaveProperty('accountContext');
      expect(inventoryWarnings(policy, subjects)).toEqual([
        { code: 'MATCH_NEEDS_ORGANIZATION', message: expect.stringMatching(/^rules\[0\] r0 matches on ous\/accountTags: none of the 1 cluster .* for 1 of them it depends on their account's place in the organization/) },
        { code: 'MATCH_NEEDS_ORGANIZATION', message: expect.stringMatching(/^rules\[1\] r1 /) },
        { code: 'RULE_MATCHES_NOTHING', message: 'rules[2] r2 matches none of the 1 cluster of the inventory' },
      ]);
    });
  });
});

describe('the workflow reads the organization only when the decision needs it, and never guesses', () => {
  const ACCOUNT = '111111111111';
  const OTHER = '222222222222';
  const ORG: Organization = {
    id: 'o-abcdefghij',
    managementAccount: '999999999999',
    accounts: [
      { id: ACCOUNT, name: 'payments', status: 'ACTIVE', ...PAYMENTS_ACCOUNT },
      { id: OTHER, name: 'sandbox', status: 'ACTIVE', ...SANDBOX_ACCOUNT },
    ],
  };
  const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };
  const strict = policyOf([{ match: { ous: [PROD_OU] }, publicAccess: 'forbidden', mode: 'enforce' }]);
  const open = (name: string, account: string): ClusterDescription => ({
    name,
    arn: `arn:aws:eks:us-east-1:${account}:cluster/${name}`,
    status: 'ACTIVE',
    tags: {},
    resourcesVpcConfig: { vpcId: 'vpc-0a1b2c3d4e5f60001', endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
  });
  const eks = (clusters: Record<string, string[]>): EksPort => ({
    describeCluster: async (c) => open(c.name, c.account),
    describeUpdate: async () => {
      throw new Error('not used');
    },
    updateEndpointAccess: async () => {
      throw new Error('not used');
    },
    listClusters: async (account) => clusters[account] ?? [],
  });
  /** An organization port that fails for the accounts in `failing`, counting what it is asked. */
  const organization = (failing: string[] = []): OrganizationPort & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      describe: async () => ORG,
      account: async (id) => {
        asked.push(id);
        if (failing.includes(id)) throw new TransientAwsError(`DescribeAccount on ${id} failed: TooManyRequestsException`);
        return ORG.accounts.find((a) => a.id === id) ?? null;
      },
    };
  };
  const workflowDeps = (policy: Policy, org: OrganizationPort): WorkflowDeps => ({
    eks: eks({}),
    ec2: { vpcDnsFacts: async () => { throw new Error('not used'); } },
    alerts: { publish: async () => { throw new Error('not used'); } },
    ledger: new FakeLedger(),
    policy,
    settings: { shadowMode: false, notifyCompliant: false, maxWaitSeconds: 3600 },
    now: () => NOW,
    log: silent,
    organization: org,
  });
  const execution = (account: string): ExecutionState => ({
    cluster: { name: 'api', account, region: 'us-east-1' },
    executionName: 'evt-1',
    startedAt: NOW,
    trigger: { kind: 'sweep', eventId: 'sweep-1', eventName: 'ScheduledSweep', eventTime: '2026-06-01T00:00:00Z', updateId: null, requested: null, actor: null, waitFor: 'none' },
  });

  it('EvaluateCluster judges with the account\'s OU: inside it a remediation, outside it the defaults', async () => {
    const org = organization();
    const inside = await evaluateClusterStep(execution(ACCOUNT), workflowDeps(strict, org));
    const outside = await evaluateClusterStep(execution(OTHER), workflowDeps(strict, org));
    expect([inside.evaluation?.action, outside.evaluation?.action]).toEqual(['remediate', 'none']);
    expect(org.asked).toEqual([ACCOUNT, OTHER]);
  });

  it('EvaluateCluster fails transiently (retried by the state machine) when the organization cannot be read, writing nothing', async () => {
    const deps = workflowDeps(strict, organization([ACCOUNT]));
    await expect(evaluateClusterStep(execution(ACCOUNT), deps)).rejects.toBeInstanceOf(TransientAwsError);
    expect((deps.ledger as FakeLedger).writes).toBe(0);
  });

  it('VerifyRemediation judges with the account\'s OU too: still open inside it is not compliant, outside it is', async () => {
    const org = organization();
    const inside = await verifyRemediation(execution(ACCOUNT), workflowDeps(strict, org));
    const outside = await verifyRemediation(execution(OTHER), workflowDeps(strict, org));
    expect([inside.compliant, inside.evaluation.settings.rule, outside.compliant]).toEqual([false, 'r0', true]);
    expect(org.asked).toEqual([ACCOUNT, OTHER]);
  });

  it('VerifyRemediation fails transiently when the organization cannot be read: no verdict on a guess', async () => {
    await expect(verifyRemediation(execution(ACCOUNT), workflowDeps(strict, organization([ACCOUNT])))).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('a policy without ous/accountTags never asks', async () => {
    const org = organization();
    await evaluateClusterStep(execution(ACCOUNT), workflowDeps(policyOf([{ match: { clusters: ['*'] }, publicAccess: 'forbidden' }]), org));
    expect(org.asked).toEqual([]);
  });

  it('the organization sweep judges each unit with the account context its plan carries: inside the OU an execution, outside none', async () => {
    const started: string[] = [];
    const policy = policyOf([{ match: { ous: [PROD_OU] }, publicAccess: 'forbidden', mode: 'enforce' }]);
    const org = organization();
    const plan = await listSweepUnits('2026-06-01T00:00:00Z', { organization: org, policy, options: { regions: ['us-east-1'], governedOus: [], excludedAccounts: [] }, log: silent });
    const sweepEks: SweepEksPort = {
      listClustersPage: async (account) => ({ names: [account === ACCOUNT ? 'api' : 'web'], nextToken: null }),
      describeCluster: async (c) => open(c.name, c.account),
    };
    const results = [];
    for (const unit of plan.units) {
      const state = await sweepUnit(
        { unit, sweepTime: plan.sweepTime, continuation: null, result: null, done: false, waitSeconds: 0 },
        { eks: sweepEks, executions: { start: async (name) => (started.push(name), true) }, policy, shadowMode: false, now: () => NOW, log: silent, timeLeftMs: () => 60_000, describeConcurrency: 2 },
      );
      results.push(state.result!);
    }

    expect(plan.units.map((u) => [u.account, u.accountContext?.ouPath])).toEqual([
      [ACCOUNT, PAYMENTS_ACCOUNT.ouPath],
      [OTHER, SANDBOX_ACCOUNT.ouPath],
    ]);
    expect(results.map((r) => [r.account, r.status, r.judged, r.violations])).toEqual([
      [ACCOUNT, 'covered', 1, 1],
      [OTHER, 'covered', 1, 0],
    ]);
    expect(started).toEqual([`sweep-202606010000-${ACCOUNT}-us-east-1-api`]);
    // The plan read the organization once; no unit asks it again, per cluster.
    expect(org.asked).toEqual([]);
  });

  it('a sweep unit without the account context its policy needs judges nothing: each cluster is reported UNREADABLE, never a verdict', async () => {
    const started: string[] = [];
    const policy = policyOf([{ match: { ous: [PROD_OU] }, publicAccess: 'forbidden', mode: 'enforce' }]);
    const state = await sweepUnit(
      { unit: { account: ACCOUNT, region: 'us-east-1', accountContext: null }, sweepTime: '2026-06-01T00:00:00Z', continuation: null, result: null, done: false, waitSeconds: 0 },
      {
        eks: { listClustersPage: async () => ({ names: ['api'], nextToken: null }), describeCluster: async (c) => open(c.name, c.account) },
        executions: { start: async (name) => (started.push(name), true) },
        policy,
        shadowMode: false,
        now: () => NOW,
        log: silent,
        timeLeftMs: () => 60_000,
        describeConcurrency: 2,
      },
    );

    expect(state.result).toMatchObject({ status: 'partial', listed: 1, judged: 0, violations: 0, notJudgedByReason: { UNREADABLE: 1 } });
    expect(state.result!.notJudged).toEqual([{ cluster: 'api', reason: 'UNREADABLE', error: expect.stringContaining('r0') }]);
    expect(started).toEqual([]);
  });
});
