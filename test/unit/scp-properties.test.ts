/**
 * The service control policies of `eks-endpoint-guard scp`, for random policies and organizations
 * (fast-check), judged by the IAM condition evaluator of src/iam/guardrail.ts against the guard's own
 * policy evaluation (resolveSettings) and planner (planTarget + guardRequestFields):
 * - sound: an SCP refuses a request only where the policy forbids it for every cluster the request could
 *   be about (the policy's settings, exemptions aside: an SCP does not honour those, by design);
 * - complete, with an organization: every widening is refused wherever every rule that could apply there
 *   forbids it (public turned on, private turned off, a CreateCluster omitting a field whose EKS default
 *   widens, under both readings of an omitted key: absent, or present with the default);
 * - every target the guard's planner can produce, sent as the guard sends it, is admitted;
 * - the exceptions (guard roles, break-glass role) are admitted whatever they ask;
 * - every document is minified IAM JSON (Version 2012-10-17) within 5,120 characters;
 * - every rule is expressed by some policy (its `rules`) or listed in guardOnly with a reason;
 * - an exception by role name never stands alone: wherever it is in force, the companion Deny keeps all
 *   but the role admins from creating, retrusting or changing a role of that name;
 * - without an organization, the policies stay sound for every organization they could be attached in.
 */
import fc from 'fast-check';
import { conditionHolds, denyingStatements, guardRequestFields, type IamRequest, type IamStatement } from '../../src/iam/guardrail';
import { validatePolicy } from '../../src/policy/load';
import { matches, resolveSettings } from '../../src/policy/match';
import { planTarget } from '../../src/policy/plan';
import type { Match, Policy } from '../../src/policy/schema';
import type { EffectiveSettings, EndpointConfig } from '../../src/policy/types';
import { generateScps, SCP_MAX_CHARACTERS, type ScpOptions, type ScpOutput } from '../../src/scp/generate';
import { parseOrganizationDocument, type OrganizationTree } from '../../src/scp/organization-file';

const RUNS = { numRuns: 150 };
const ROOT = 'r-ab12';
const [OU_A, OU_B, OU_C, OU_ELSEWHERE] = ['ou-ab12-aaaaaaaa', 'ou-ab12-bbbbbbbb', 'ou-ab12-cccccccc', 'ou-ab12-dddddddd'] as const;
const MGMT = '100000000000';
const ACCOUNTS = ['100000000001', '100000000002', '100000000003', '100000000004', '100000000005'];
const NAMED_REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
/** A region no rule can name: stands for all the others. */
const REGIONS = [...NAMED_REGIONS, 'sa-east-1'];
// Cluster names and globs chosen so every glob matches some name and most names match some glob.
const NAMES = ['prod-api', 'dev-x', 'demo'];
const GLOBS = ['prod-*', '*-x', 'demo', '*'];
const TAG_SETS: Record<string, string>[] = [{}, { team: 'a' }, { team: 'a', env: 'prod' }, { team: 'b' }];
const ALLOWED = ['203.0.113.0/24'];

const EXCEPTIONS = { arn: 'arn:aws:iam::999999999999:role/central-remediate', names: ['guard-write'], breakGlass: ['BreakGlass', 'ops/Emergency'] };

// ---------------------------------------------------------------- organizations
const unitOf = fc.constantFrom(ROOT, OU_A, OU_B, OU_C);
const accountTagsArb = fc.record({ env: fc.constantFrom('prod', 'dev', undefined), tier: fc.constantFrom('gold', undefined) }).map((t) =>
  Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as Record<string, string>,
);
const under = (unit: string) => (unit === ROOT ? undefined : unit);
const orgArb: fc.Arbitrary<OrganizationTree> = fc
  .record({
    bParent: fc.constantFrom(ROOT, OU_A),
    cParent: fc.constantFrom(ROOT, OU_A, OU_B),
    mgmtUnit: unitOf,
    accounts: fc.tuple(...ACCOUNTS.map(() => fc.record({ unit: unitOf, tags: accountTagsArb }))),
  })
  .map(({ bParent, cParent, mgmtUnit, accounts }) =>
    parseOrganizationDocument({
      rootId: ROOT,
      managementAccount: MGMT,
      // The state format places a unit or account under the root by leaving `parent`/`unit` out.
      units: [
        { id: OU_A, name: 'A' },
        { id: OU_B, name: 'B', parent: under(bParent) },
        { id: OU_C, name: 'C', parent: under(cParent) },
      ],
      accounts: [{ id: MGMT, name: 'management', unit: under(mgmtUnit) }, ...accounts.map((a, i) => ({ id: ACCOUNTS[i]!, name: `a${i}`, unit: under(a.unit), tags: a.tags }))],
    }),
  );

// ---------------------------------------------------------------- policies
// Each key is left out more often than not, so that matches are broad enough to decide whole accounts.
const sometimes = <T>(arb: fc.Arbitrary<T>, absent: number) => fc.oneof({ arbitrary: fc.constant(undefined), weight: absent }, { arbitrary: arb, weight: 1 });
const some = <T>(values: readonly T[], absent = 2) => sometimes(fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 2 }), absent);
const pair = (pairs: Record<string, string>[], absent: number) => sometimes(fc.constantFrom(...pairs), absent);
const matchArb = fc
  .record({
    accounts: some([MGMT, ...ACCOUNTS]),
    regions: some(NAMED_REGIONS),
    ous: some([ROOT, OU_A, OU_B, OU_C, OU_ELSEWHERE]),
    accountTags: pair([{ env: 'prod' }, { env: 'dev' }, { tier: 'gold' }], 3),
    clusters: some(GLOBS, 3),
    tags: pair([{ team: 'a' }, { env: 'prod' }, { team: 'b' }], 4),
  })
  .map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)))
  .filter((m) => Object.keys(m).length > 0);
const publicArb = fc.constantFrom('forbidden', 'restricted', 'unrestricted');
const settingsFields = fc.record({
  publicAccess: fc.option(publicArb, { nil: undefined }),
  privateAccess: fc.option(fc.constantFrom('required', 'optional'), { nil: undefined }),
  mode: fc.option(fc.constantFrom('enforce', 'enforce', 'alert'), { nil: undefined }),
});
const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    defaults: fc.record({ publicAccess: publicArb, privateAccess: fc.constantFrom('required', 'optional'), mode: fc.constantFrom('enforce', 'enforce', 'enforce', 'alert') }),
    rules: fc.array(fc.tuple(matchArb, settingsFields), { maxLength: 5 }),
    exemption: fc.option(matchArb, { nil: undefined }),
    tagDays: fc.constantFrom(0, 30),
  })
  .map(({ defaults, rules, exemption, tagDays }) =>
    validatePolicy({
      version: 1,
      // Every level carries the allowlist, so `restricted` anywhere is valid.
      defaults: { ...defaults, allowedPublicCidrs: ALLOWED, maxTagExemptionDays: tagDays },
      rules: rules.map(([match, s], i) => ({ name: `r${i}`, match, ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) })),
      exemptions: exemption ? [{ name: 'x', match: exemption, reason: 'r', expires: '2099-01-01' }] : [],
    }),
  );
const optionsArb: fc.Arbitrary<ScpOptions> = fc.record({
  guardRoleArns: fc.subarray([EXCEPTIONS.arn]),
  guardRoleNames: fc.subarray(EXCEPTIONS.names),
  breakGlassRoles: fc.subarray(EXCEPTIONS.breakGlass),
});

// ---------------------------------------------------------------- requests
type Flag = boolean | undefined;
const FLAGS: Flag[] = [true, false, undefined];
type Model = 'absent' | 'defaulted';
/** An omitted field either leaves the key out of the request context or (CreateCluster) fills in the EKS default. */
function keysFor(action: string, pub: Flag, priv: Flag, model: Model): Record<string, string> {
  const fill = action === 'eks:CreateCluster' && model === 'defaulted';
  const keys: Record<string, string> = {};
  const p = pub ?? (fill ? true : undefined);
  const q = priv ?? (fill ? false : undefined);
  if (p !== undefined) keys['eks:endpointPublicAccess'] = String(p);
  if (q !== undefined) keys['eks:endpointPrivateAccess'] = String(q);
  return keys;
}
type Ask = { action: 'eks:CreateCluster' | 'eks:UpdateClusterConfig'; pub: Flag; priv: Flag; model: Model };
const ASKS: Ask[] = [];
for (const pub of FLAGS) {
  for (const priv of FLAGS) {
    for (const model of ['absent', 'defaulted'] as Model[]) ASKS.push({ action: 'eks:CreateCluster', pub, priv, model });
    ASKS.push({ action: 'eks:UpdateClusterConfig', pub, priv, model: 'absent' });
  }
}
/** Whether the request widens past what the settings allow. CreateCluster's omitted fields take the EKS defaults. */
function violates(s: EffectiveSettings, a: Ask): { pub: boolean; priv: boolean } {
  const create = a.action === 'eks:CreateCluster';
  const pubOn = a.pub === true || (create && a.pub === undefined);
  const privOff = a.priv === false || (create && a.priv === undefined);
  return { pub: pubOn && s.publicAccess === 'forbidden' && s.mode === 'enforce', priv: privOff && s.privateAccess === 'required' && s.mode === 'enforce' };
}

const OBSERVED: EndpointConfig[] = [];
for (const endpointPublicAccess of [true, false]) {
  for (const endpointPrivateAccess of [true, false]) {
    for (const publicAccessCidrs of [['0.0.0.0/0'], ['203.0.113.0/24'], ['203.0.113.7/32', '198.51.100.0/24']]) OBSERVED.push({ endpointPublicAccess, endpointPrivateAccess, publicAccessCidrs });
  }
}

// ---------------------------------------------------------------- attachment
type Attach = (p: ScpOutput['policies'][number], account: OrganizationTree['organization']['accounts'][number]) => boolean;
const attachedBeneath: Attach = (p, a) => (p.target.type === 'account' ? p.target.id === a.id : p.target.type === 'root' || a.ouPath.includes(p.target.id));

function statementsFor(out: ScpOutput, tree: OrganizationTree, accountId: string): IamStatement[] {
  // SCPs never apply to the management account.
  if (accountId === tree.organization.managementAccount) return [];
  const account = tree.organization.accounts.find((a) => a.id === accountId)!;
  return out.policies.filter((p) => attachedBeneath(p, account)).flatMap((p) => (JSON.parse(p.document) as { Statement: IamStatement[] }).Statement);
}

function checkDocuments(out: ScpOutput): void {
  for (const p of out.policies) {
    expect(p.size).toBe(p.document.length);
    expect(p.size).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
    const doc = JSON.parse(p.document) as { Version: string; Statement: IamStatement[] };
    expect(JSON.stringify(doc)).toBe(p.document);
    expect(doc.Version).toBe('2012-10-17');
    expect(doc.Statement.length).toBeGreaterThan(0);
    for (const s of doc.Statement) {
      expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
      // The companion Deny names the roles it protects; every EKS Deny reaches every cluster.
      if (s.Sid === 'DenyChangingExceptedRoles') expect(s).toMatchObject({ Effect: 'Deny', Condition: { ArnNotLike: { 'aws:PrincipalArn': expect.anything() } } });
      else expect(s).toMatchObject({ Effect: 'Deny', Resource: '*' });
    }
  }
}

/** Every rule is either expressed by some policy (its `rules`) or listed in guardOnly, with a reason. */
function checkAccounted(policy: Policy, out: ScpOutput): void {
  const expressed = new Set(out.policies.flatMap((p) => p.rules));
  for (const rule of policy.rules) {
    if (expressed.has(rule.name)) continue;
    const listed = out.guardOnly.filter((g) => g.rule === rule.name);
    if (listed.length === 0 || listed.some((g) => g.reason.length < 20)) fail('a rule neither expressed nor listed in guardOnly', { rule, policies: out.policies.map((p) => [p.target, p.rules]), guardOnly: out.guardOnly });
  }
  for (const p of out.policies) {
    for (const name of p.rules) if (name !== 'defaults' && !policy.rules.some((r) => r.name === name)) fail('provenance names a rule the policy does not have', { name });
  }
}

/** Whether an ARN pattern (ArnLike, `*` within one part) matches the ARN: the evaluator's own reading. */
const arnMatches = (patterns: string | readonly string[], arn: string) => conditionHolds({ ArnLike: { k: patterns } }, { k: arn });

/**
 * The companion Deny: wherever an exception by name is in force (an EKS Deny applies to the account), a
 * developer may not create or retrust a role of that name, nor of a role admin's, and a role admin may.
 * Without exceptions by name, there is no companion at all.
 */
function checkRoleProtection(tree: OrganizationTree, options: ScpOptions, out: ScpOutput): void {
  const names = [...(options.guardRoleNames ?? []), ...(options.breakGlassRoles ?? [])];
  for (const account of tree.organization.accounts) {
    const statements = statementsFor(out, tree, account.id);
    const companions = statements.filter((s) => s.Sid === 'DenyChangingExceptedRoles');
    const eks = statements.filter((s) => s.Sid !== 'DenyChangingExceptedRoles');
    if (names.length === 0 || eks.length === 0) {
      if (names.length === 0 && companions.length > 0) fail('a companion Deny without exceptions by name', { account: account.id });
      continue;
    }
    if (companions.length === 0) fail('an exception by name in force without the companion Deny', { account: account.id, names });
    const protects = (principal: string, role: string, action: string) =>
      companions.some((c) => arnMatches(c.Resource!, `arn:aws:iam::${account.id}:role/${role}`) && denyingStatements([c], { action, keys: { 'aws:PrincipalArn': principal } }).length > 0);
    for (const role of [...names, 'stacksets-exec-1a2b3c']) {
      for (const action of ['iam:CreateRole', 'iam:UpdateAssumeRolePolicy', 'iam:AttachRolePolicy', 'iam:DeleteRole']) {
        if (!protects(`arn:aws:iam::${account.id}:role/developer`, role, action)) fail('a developer may change an excepted role', { account: account.id, role, action });
        if (protects(`arn:aws:iam::${account.id}:role/stacksets-exec-9f8e7d`, role, action)) fail('the role admin may not change an excepted role', { account: account.id, role, action });
      }
    }
    // Only the excepted names and the role admins are protected.
    if (companions.some((c) => arnMatches(c.Resource!, `arn:aws:iam::${account.id}:role/developer`))) fail('the companion protects an unrelated role', { account: account.id });
  }
}

const exceptionPrincipals = (options: ScpOptions, account: string) => [
  ...(options.guardRoleArns ?? []),
  ...[...(options.guardRoleNames ?? []), ...(options.breakGlassRoles ?? [])].map((n) => `arn:aws:iam::${account}:role/${n}`),
];

/**
 * The test's own reading of "every rule that could apply": rules in order, each judged with the real
 * matcher on the keys an SCP can see (the cluster's name and tags stripped); a rule that also matches
 * on those may or may not apply, so its settings count and the next rules are read too.
 */
function couldApply(policy: Policy, subject: { account: string; region: string; ouPath: string[]; tags: Record<string, string> }): EffectiveSettings[] {
  const out: EffectiveSettings[] = [];
  const ctx = { name: '', account: subject.account, region: subject.region, tags: {}, accountContext: { ouPath: subject.ouPath, tags: subject.tags } };
  for (const rule of policy.rules) {
    const { clusters, tags, ...visible } = rule.match;
    if (Object.keys(visible).length > 0 && !matches(visible as Match, ctx)) continue;
    out.push(settingsOfRule(policy, rule));
    if (clusters === undefined && (tags === undefined || Object.keys(tags).length === 0)) return out;
  }
  out.push(settingsOfRule(policy, null));
  return out;
}
/** A rule's (or the defaults') effective settings: resolveSettings on a policy holding that rule alone, made to match. */
const ruleSettings = new WeakMap<object, EffectiveSettings>();
function settingsOfRule(policy: Policy, rule: Policy['rules'][number] | null): EffectiveSettings {
  const key = rule ?? policy.defaults;
  const known = ruleSettings.get(key);
  if (known) return known;
  const rules = rule === null ? [] : [{ ...rule, match: { accounts: [MGMT] } }];
  const settings = resolveSettings({ ...policy, rules, exemptions: [] }, { name: 'x', account: MGMT, region: 'us-east-1', tags: {}, accountContext: { ouPath: [ROOT], tags: {} } });
  ruleSettings.set(key, settings);
  return settings;
}

/** Plain checks, not expect(): this runs a million times, and fast-check reports the counterexample. */
function fail(what: string, context: unknown): never {
  throw new Error(`${what}: ${JSON.stringify(context)}`);
}

type Tally = { refused: number; admittedWidening: number; plannerChecked: number };

/** Judges every account, region, cluster and request of the organization against the generated policies. */
function judge(policy: Policy, tree: OrganizationTree, options: ScpOptions, out: ScpOutput, complete: boolean, tally: Tally): void {
  for (const account of tree.organization.accounts) {
    const statements = statementsFor(out, tree, account.id);
    for (const region of REGIONS) {
      const ask = (a: Ask, principal: string): boolean => {
        const request: IamRequest = { action: a.action, keys: { 'aws:PrincipalArn': principal, 'aws:RequestedRegion': region, ...keysFor(a.action, a.pub, a.priv, a.model) } };
        return denyingStatements(statements, request).length > 0;
      };
      const developer = `arn:aws:iam::${account.id}:role/developer`;
      const decisions = ASKS.map((a) => ask(a, developer));

      // Sound: a refusal means every cluster this request could be about is forbidden it.
      const clusters = NAMES.flatMap((name) => TAG_SETS.map((tags) => ({ name, account: account.id, region, tags, accountContext: { ouPath: account.ouPath, tags: account.tags } })));
      for (const cluster of clusters) {
        const settings = resolveSettings(policy, cluster);
        ASKS.forEach((a, i) => {
          if (!decisions[i]) return;
          const v = violates(settings, a);
          if (!v.pub && !v.priv) fail('refused a request the policy allows', { cluster, ask: a, settings });
        });
        // Every target the planner produces, sent as the guard sends it, is admitted.
        for (const observed of OBSERVED) {
          const { target } = planTarget(settings, observed);
          if (target === null) continue;
          const fields = guardRequestFields(observed, target);
          const request: IamRequest = {
            action: 'eks:UpdateClusterConfig',
            keys: { 'aws:PrincipalArn': developer, 'aws:RequestedRegion': region, ...keysFor('eks:UpdateClusterConfig', fields.endpointPublicAccess, fields.endpointPrivateAccess, 'absent') },
          };
          const denied = denyingStatements(statements, request);
          if (denied.length > 0) fail('refused a planner target', { cluster, observed, target, denied });
          tally.plannerChecked += 1;
        }
      }

      if (complete) {
        const possible = couldApply(policy, { account: account.id, region, ouPath: account.ouPath, tags: account.tags });
        const management = account.id === tree.organization.managementAccount;
        const pubRefusable = !management && possible.every((s) => s.mode === 'enforce' && s.publicAccess === 'forbidden');
        const privRefusable = !management && possible.every((s) => s.mode === 'enforce' && s.privateAccess === 'required');
        ASKS.forEach((a, i) => {
          const create = a.action === 'eks:CreateCluster';
          const expected = ((a.pub === true || (create && a.pub === undefined)) && pubRefusable) || ((a.priv === false || (create && a.priv === undefined)) && privRefusable);
          if (decisions[i] !== expected) fail(expected ? 'admitted a widening every rule forbids' : 'refused beyond what every rule forbids', { account: account.id, region, ask: a });
          if (decisions[i]) tally.refused += 1;
          else if (a.pub === true || a.priv === false) tally.admittedWidening += 1;
        });
      }

      // The exceptions are never refused, whatever they ask.
      for (const principal of exceptionPrincipals(options, account.id)) {
        for (const a of ASKS) if (ask(a, principal)) fail('refused an exception', { principal, ask: a });
      }
    }
  }
}

describe('scp: generated service control policies (fast-check)', () => {
  it('with an organization: sound, complete, admit the planner and the exceptions, valid and within the size limit', () => {
    const tally: Tally = { refused: 0, admittedWidening: 0, plannerChecked: 0 };
    fc.assert(
      fc.property(policyArb, orgArb, optionsArb, (policy, tree, options) => {
        const out = generateScps(policy, { ...options, organization: tree });
        checkDocuments(out);
        checkAccounted(policy, out);
        checkRoleProtection(tree, options, out);
        judge(policy, tree, options, out, true, tally);
        // OU_ELSEWHERE is in no organization: each mention is a warning naming where it is.
        policy.rules.forEach((r, i) => {
          const k = (r.match.ous ?? []).indexOf(OU_ELSEWHERE);
          if (k >= 0 && !out.warnings.includes(`rules[${i}].match.ous[${k}]: ${OU_ELSEWHERE} is not an OU of the organization`)) fail('no warning for an unknown OU', { rule: r, warnings: out.warnings });
        });
      }),
      RUNS,
    );
    // Without these, a generator that never denied (or always did) could pass vacuously.
    expect(tally.refused).toBeGreaterThan(1000);
    expect(tally.admittedWidening).toBeGreaterThan(1000);
    expect(tally.plannerChecked).toBeGreaterThan(10000);
  });

  it('without an organization: still sound wherever they are attached as targeted', () => {
    const tally: Tally = { refused: 0, admittedWidening: 0, plannerChecked: 0 };
    let policies = 0;
    fc.assert(
      fc.property(policyArb, orgArb, optionsArb, (policy, tree, options) => {
        const out = generateScps(policy, options);
        checkDocuments(out);
        checkAccounted(policy, out);
        checkRoleProtection(tree, options, out);
        policies += out.policies.length;
        judge(policy, tree, options, out, false, tally);
      }),
      RUNS,
    );
    expect(policies).toBeGreaterThan(50);
  });

  it('stays within the size limit with many exceptions and regions, splitting rather than truncating', () => {
    const arns = Array.from({ length: 30 }, (_, i) => `arn:aws:iam::${String(200000000000 + i)}:role/central-remediate-${i}`);
    fc.assert(
      fc.property(policyArb, orgArb, fc.integer({ min: 0, max: 30 }), (policy, tree, n) => {
        const out = generateScps(policy, { organization: tree, guardRoleArns: arns.slice(0, n), breakGlassRoles: ['BreakGlass'] });
        checkDocuments(out);
      }),
      { numRuns: 100 },
    );
  });
});
