/**
 * Service control policies that make AWS refuse, at the API, the endpoint widenings a guard policy
 * forbids, as far as the IAM condition keys can express them: the prevention paired with the guard's cure.
 *
 * The condition keys `eks:endpointPublicAccess` and `eks:endpointPrivateAccess` (Bool, on eks:CreateCluster
 * and eks:UpdateClusterConfig) describe the REQUEST, not the cluster:
 * - a request asking for public access on (`Bool … "true"`) or private access off (`Bool … "false"`) is
 *   refused on both actions where the policy forbids it;
 * - CreateCluster with the field omitted gets the EKS default (public on, private off). AWS does not
 *   document whether the key is then absent or present with the default, so both are handled: `Bool`
 *   catches the key present with the default, `Null: {key: "true"}` catches it absent. Either way such a
 *   create is refused where the default widens;
 * - UpdateClusterConfig with the field omitted changes nothing, so it is judged with `Bool` only: never
 *   `BoolIfExists` and never `Null`, which would refuse every update that leaves the flag out (the guard's
 *   own reverts, and every CIDR or logging change).
 * There is no condition key for `publicAccessCidrs`, none an SCP can use for the cluster's name or tags at
 * create time, and SCPs never apply to the management account: what cannot be expressed is listed as
 * enforced by the guard only, with the reason. Every rule ends up in the `rules` of a policy that expresses
 * it or in that list, never in neither.
 *
 * Exceptions: an exception by role name (`arn:aws:iam::*:role/NAME`) holds for whatever role has that name
 * in a member account, so it comes with a companion Deny that lets only the role admins (who deploy those
 * roles) create, retrust or change roles of that name.
 *
 * Placement: an SCP attached to a root or OU applies to every account beneath it, so a Deny is placed at a
 * target only when it holds for every account there, and each target carries only what it adds to what
 * its ancestors already deny. The generator never refuses what the policy allows anywhere (the property
 * tests hold it to that), and so it may refuse less than the guard enforces. Pure.
 */
import { InputError } from '../errors';
import { compiledPolicy } from '../policy/compile';
import type { Policy } from '../policy/schema';
import type { EffectiveSettings } from '../policy/types';
import type { IamStatement } from '../iam/guardrail';
import { rootOf } from '../org/context';
import { ROOT_ID_PATTERN } from '../org/types';
import { didYouMean } from '../policy/messages';
import type { OrganizationTree } from './organization-file';
import { DEFAULTS, matchInScope, possibleRules, possibleSettings, refusable, type Scope, type Widening } from './scope';

/** The most characters an SCP document may have (AWS Organizations quota; whitespace counts, so documents are minified). */
export const SCP_MAX_CHARACTERS = 5120;

export type ScpTargetType = 'root' | 'ou' | 'account';
export type ScpTarget = { type: ScpTargetType; id: string };
/**
 * One SCP to create and attach: `document` is the exact (minified) policy text; `size` its length in
 * characters; `rules` the rules (by name, `defaults` for the defaults) whose settings its Denies express.
 */
export type ScpPolicy = { name: string; target: ScpTarget; document: string; size: number; rules: string[] };
/** A part of the policy no SCP enforces, and why. */
export type GuardOnly = { rule: string; reason: string };
/**
 * The contract of `eks-endpoint-guard scp --format json`. Every rule of the policy is in the `rules` of
 * some policy or in `guardOnly` (or both, when an SCP expresses only part of it). `warnings`: inputs that
 * are probably mistakes (an OU or account the organization does not have, an unneeded exception).
 */
export type ScpOutput = { policies: ScpPolicy[]; guardOnly: GuardOnly[]; notes: string[]; warnings: string[] };

export type ScpOptions = {
  /** The organization to resolve `accounts`, `ous` and `accountTags` against; without it, only named targets. */
  organization?: OrganizationTree | null;
  /** Exact ARNs of the guard's central roles (the remediation function's role) that must never be refused. */
  guardRoleArns?: readonly string[];
  /** Role names (with their path, if any) the guard uses in every member account (its write role). */
  guardRoleNames?: readonly string[];
  /** Role names (with their path, if any) people assume in an emergency to widen an endpoint on purpose. */
  breakGlassRoles?: readonly string[];
  /**
   * `aws:PrincipalArn` patterns of the principals that may still create, retrust or change the roles
   * excepted by name (whoever deploys them: DEFAULT_ROLE_ADMIN_ARNS when not given).
   */
  roleAdminArns?: readonly string[];
};

/**
 * Who may manage the roles excepted by name when `--role-admin-arn` is not given: the execution role that
 * service-managed StackSets create in every target account (`stacksets-exec-<hash>`), which is how the
 * member stack (and so the guard's member roles) is deployed. Self-managed StackSets use
 * AWSCloudFormationStackSetExecutionRole instead; pass it with --role-admin-arn.
 */
export const DEFAULT_ROLE_ADMIN_ARNS: readonly string[] = Object.freeze(['arn:aws:iam::*:role/stacksets-exec-*']);

/**
 * What the companion Deny refuses on a role excepted by name: everything that creates the role, changes
 * who may assume it, changes what it may do, or removes it (to be re-created). Tags too, since trust and
 * permission policies may test the role's tags (aws:PrincipalTag).
 */
export const ROLE_PROTECTION_ACTIONS: readonly string[] = Object.freeze([
  'iam:CreateRole',
  'iam:DeleteRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:TagRole',
  'iam:UntagRole',
]);
const PROTECT_SID = 'DenyChangingExceptedRoles';

const PRINCIPAL_ARN = 'aws:PrincipalArn';
const REQUESTED_REGION = 'aws:RequestedRegion';
const KEY: Record<Widening, string> = { publicOn: 'eks:endpointPublicAccess', privateOff: 'eks:endpointPrivateAccess' };
/** The value of the Bool key that asks for the widening. */
const WIDENING_VALUE: Record<Widening, 'true' | 'false'> = { publicOn: 'true', privateOff: 'false' };
/** The EKS default on CreateCluster is public on, private off: omitting either field widens. */
const SID: Record<Widening, { bool: string; omitted: string }> = {
  publicOn: { bool: 'DenyEksPublicEndpointOn', omitted: 'DenyEksCreateOmittingPublicAccess' },
  privateOff: { bool: 'DenyEksPrivateEndpointOff', omitted: 'DenyEksCreateOmittingPrivateAccess' },
};
const WIDENINGS: readonly Widening[] = ['publicOn', 'privateOff'];
/** Stands for every region no rule names. */
const OTHER = '*';

// IAM role names and paths (the IAM API reference's character set). `*` and `?` are refused on purpose: in
// an ArnNotLike pattern they would except every role that happens to match.
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
// A role admin is a pattern: any account (`*`) and wildcards in the name are allowed, but the name must
// keep a literal part, or the pattern would let every role of the account manage the excepted roles.
const ROLE_ADMIN_ARN = /^arn:aws(?:-[a-z]+)*:iam::(?:\d{12}|\*):role\/(?:[\w+=,.@*?-]+\/)*[\w+=,.@*?-]{1,64}$/;
const HAS_LITERAL_NAME = /[\w+=,.@-]/;

/**
 * The `aws:PrincipalArn` patterns the Denies except: guard role ARNs as given, and role names in any
 * account (`arn:aws:iam::*:role/NAME`). `aws:PrincipalArn` of an assumed-role session is the role's ARN
 * including its path, so a role with a path must be named with it. Also validates the role admins
 * (`roleAdminArns`). Throws an InputError naming every bad value.
 */
export function exceptionPatterns(options: ScpOptions): string[] {
  const problems: string[] = [];
  for (const arn of options.guardRoleArns ?? []) {
    if (!ROLE_ARN.test(arn)) problems.push(`--guard-role-arn: not an IAM role ARN, arn:aws:iam::123456789012:role/NAME, without wildcards (value: ${JSON.stringify(arn)})`);
  }
  const names: [string, readonly string[] | undefined][] = [
    ['--guard-role-name', options.guardRoleNames],
    ['--break-glass-role', options.breakGlassRoles],
  ];
  for (const [flag, list] of names) {
    for (const name of list ?? []) {
      if (!ROLE_NAME.test(name)) problems.push(`${flag}: not an IAM role name (letters, digits, +=,.@_- and an optional path/, no wildcards) (value: ${JSON.stringify(name)})`);
    }
  }
  for (const arn of options.roleAdminArns ?? []) {
    const name = arn.slice(arn.indexOf(':role/') + ':role/'.length);
    if (!ROLE_ADMIN_ARN.test(arn) || !HAS_LITERAL_NAME.test(name.slice(name.lastIndexOf('/') + 1))) {
      problems.push(`--role-admin-arn: not an IAM role ARN pattern, arn:aws:iam::ACCOUNT-OR-*:role/NAME, whose name is more than wildcards (value: ${JSON.stringify(arn)})`);
    }
  }
  if (options.roleAdminArns !== undefined && options.roleAdminArns.length === 0) problems.push('--role-admin-arn: give at least one ARN pattern, or leave the option out for the default');
  if (problems.length > 0) throw new InputError(problems);
  return [...new Set([...(options.guardRoleArns ?? []), ...byNamePatterns(options)])];
}

/** The exceptions given by role name, as `aws:PrincipalArn` patterns in any account. */
function byNamePatterns(options: ScpOptions): string[] {
  return [...new Set([...(options.guardRoleNames ?? []), ...(options.breakGlassRoles ?? [])].map((n) => `arn:aws:iam::*:role/${n}`))];
}

/**
 * The Deny that keeps an exception by role name from being an exception for anyone: `ArnNotLike
 * arn:aws:iam::*:role/BreakGlass` excepts whatever role has that name, so whoever may create a role (or
 * rewrite a role's trust policy) in a member account could otherwise except themselves. It refuses
 * creating, retrusting, changing and deleting those roles to all but the role admins, and protects the
 * role admins' own names the same way, so that nobody becomes a role admin by creating a role so named.
 * Null when no exception is by name.
 */
export function roleProtectionStatement(options: ScpOptions): IamStatement | null {
  const byName = byNamePatterns(options);
  if (byName.length === 0) return null;
  const admins = [...new Set(options.roleAdminArns ?? DEFAULT_ROLE_ADMIN_ARNS)];
  return {
    Sid: PROTECT_SID,
    Effect: 'Deny',
    Action: [...ROLE_PROTECTION_ACTIONS],
    Resource: oneOrMany([...new Set([...byName, ...admins])]),
    Condition: { ArnNotLike: { [PRINCIPAL_ARN]: oneOrMany(admins) } },
  };
}

/** Deny atoms: `widening|region`, region a name or OTHER. */
type Atoms = Set<string>;
const atom = (w: Widening, region: string) => `${w}|${region}`;

/**
 * What the SCPs may deny in one scope (`atoms`), and for each atom the rules (indices, DEFAULTS for the
 * defaults) whose settings it upholds: the provenance reported as each policy's `rules`.
 */
type Decision = { atoms: Atoms; why: Map<string, number[]> };
/** Every scope judged, with the rules that may decide there: what explains a rule no SCP expresses. */
type Judged = { scope: Scope; rules: number[] };

function decide(policy: Policy, base: Omit<Scope, 'region'>, regions: readonly string[], judged: Judged[]): Decision {
  const atoms: Atoms = new Set();
  const why = new Map<string, number[]>();
  for (const region of [...regions, OTHER]) {
    const scope = { ...base, region: region === OTHER ? null : region };
    const rules = possibleRules(policy, scope);
    judged.push({ scope, rules });
    const possible = possibleSettings(policy, scope);
    for (const w of WIDENINGS) {
      if (!refusable(possible, w)) continue;
      atoms.add(atom(w, region));
      why.set(atom(w, region), rules);
    }
  }
  return { atoms, why };
}

const intersect = (sets: readonly Atoms[]): Atoms => (sets.length === 0 ? new Set() : new Set([...sets[0]!].filter((a) => sets.every((s) => s.has(a)))));
const minus = (a: Atoms, b: Atoms): Atoms => new Set([...a].filter((x) => !b.has(x)));
/** The rules behind `atoms` in the decisions of the accounts (or scope) a target covers. */
const provenance = (atoms: Atoms, decisions: readonly Decision[]): Set<number> => new Set(decisions.flatMap((d) => [...atoms].flatMap((a) => d.why.get(a) ?? [])));

/** `ancestors`: the ids of the targets above this one, for placing the companion Deny once per branch. */
type Placement = { target: ScpTarget; atoms: Atoms; depth: number; rules: Set<number>; ancestors: readonly string[] };

function placeWithOrganization(policy: Policy, tree: OrganizationTree, regions: readonly string[], judged: Judged[]): { placements: Placement[]; management: Atoms } {
  const org = tree.organization;
  const rootId = tree.root;
  const decided = new Map<string, Decision>();
  let management: Atoms = new Set();
  for (const a of org.accounts) {
    // SCPs never apply to the management account: it must not hold a Deny back from its OU or the root,
    // and it explains no rule (its scopes are not recorded as judged).
    if (a.id === org.managementAccount) management = decide(policy, { account: a.id, ouPath: a.ouPath, pathComplete: true, accountTags: a.tags }, regions, []).atoms;
    else decided.set(a.id, decide(policy, { account: a.id, ouPath: a.ouPath, pathComplete: true, accountTags: a.tags }, regions, judged));
  }
  const members = org.accounts.filter((a) => a.id !== org.managementAccount);
  const beneathOf = (id: string) => members.filter((a) => a.ouPath.includes(id)).map((a) => decided.get(a.id)!);
  // A target's Denies hold for every account beneath it. An empty OU adds nothing: there is no account to
  // judge, and an account moved in later is judged when the policies are generated again.
  const denied = new Map<string, Atoms>();
  const deniedAt = (id: string, parent: string | null): Atoms => {
    const known = denied.get(id);
    if (known) return known;
    const beneath = beneathOf(id).map((d) => d.atoms);
    const atoms = beneath.length > 0 ? intersect(beneath) : parent === null ? new Set<string>() : deniedAt(parent, parentOf(parent));
    denied.set(id, atoms);
    return atoms;
  };
  const parentOf = (id: string): string | null => (id === rootId ? null : (tree.units.find((u) => u.id === id)?.parent ?? rootId));
  const chain = (id: string): string[] => (id === rootId ? [] : [...chain(parentOf(id)!), parentOf(id)!]);
  const rootAtoms = deniedAt(rootId, null);
  const placements: Placement[] = [{ target: { type: 'root', id: rootId }, atoms: rootAtoms, depth: 0, rules: provenance(rootAtoms, beneathOf(rootId)), ancestors: [] }];
  for (const u of tree.units) {
    const atoms = minus(deniedAt(u.id, u.parent), deniedAt(u.parent, parentOf(u.parent)));
    placements.push({ target: { type: 'ou', id: u.id }, atoms, depth: chain(u.id).length, rules: provenance(atoms, beneathOf(u.id)), ancestors: chain(u.id) });
  }
  for (const a of members) {
    const parent = a.ouPath[a.ouPath.length - 1] ?? rootId;
    const atoms = minus(decided.get(a.id)!.atoms, deniedAt(parent, parentOf(parent)));
    placements.push({ target: { type: 'account', id: a.id }, atoms, depth: Number.MAX_SAFE_INTEGER, rules: provenance(atoms, [decided.get(a.id)!]), ancestors: a.ouPath });
  }
  return { placements, management };
}

function placeWithoutOrganization(policy: Policy, regions: readonly string[], judged: Judged[]): { placements: Placement[]; rootId: string | null } {
  const ous = [...new Set(policy.rules.flatMap((r) => r.match.ous ?? []))].sort();
  const roots = [...new Set(ous.map(rootOf).filter((r): r is string => r !== null))];
  // An OU id embeds its root's (ou-ab12-… lives under r-ab12): with one root in sight, that is the root.
  const rootId = roots.length === 1 ? roots[0]! : null;
  const root = rootId ?? 'root';
  const known = rootId === null ? [] : [rootId];
  const rootDecision = decide(policy, { account: null, ouPath: known, pathComplete: false, accountTags: null }, regions, judged);
  const rootAtoms = rootDecision.atoms;
  const placements: Placement[] = [{ target: { type: 'root', id: root }, atoms: rootAtoms, depth: 0, rules: provenance(rootAtoms, [rootDecision]), ancestors: [] }];
  for (const ou of ous.filter((id) => !ROOT_ID_PATTERN.test(id))) {
    // Without the tree, an OU's nesting is unknown: it adds what holds beneath it to what the root holds.
    const path = [rootOf(ou), ou].filter((x): x is string => x !== null);
    const d = decide(policy, { account: null, ouPath: path, pathComplete: false, accountTags: null }, regions, judged);
    const atoms = minus(d.atoms, rootAtoms);
    placements.push({ target: { type: 'ou', id: ou }, atoms, depth: 1, rules: provenance(atoms, [d]), ancestors: [root] });
  }
  const accounts = [...new Set(policy.rules.flatMap((r) => r.match.accounts ?? []))].sort();
  for (const id of accounts) {
    const d = decide(policy, { account: id, ouPath: known, pathComplete: false, accountTags: null }, regions, judged);
    const atoms = minus(d.atoms, rootAtoms);
    placements.push({ target: { type: 'account', id }, atoms, depth: Number.MAX_SAFE_INTEGER, rules: provenance(atoms, [d]), ancestors: [root] });
  }
  return { placements, rootId };
}

type Condition = Record<string, Record<string, string | string[]>>;
const oneOrMany = (values: readonly string[]) => (values.length === 1 ? values[0]! : [...values]);

/** The region part of a condition for the regions (names, or OTHER for all unnamed ones) a Deny covers. */
function regionCondition(covered: ReadonlySet<string>, named: readonly string[]): Condition {
  if (covered.has(OTHER)) {
    const except = named.filter((r) => !covered.has(r));
    return except.length === 0 ? {} : { StringNotEquals: { [REQUESTED_REGION]: oneOrMany(except) } };
  }
  // A positive list may later be split across statements (Denies OR together); a negated one may not.
  return { StringEquals: { [REQUESTED_REGION]: oneOrMany([...covered].sort()) } };
}

function statementsFor(atoms: Atoms, named: readonly string[], exceptions: readonly string[]): IamStatement[] {
  const statements: IamStatement[] = [];
  const except: Condition = exceptions.length === 0 ? {} : { ArnNotLike: { [PRINCIPAL_ARN]: oneOrMany(exceptions) } };
  for (const w of WIDENINGS) {
    const covered = new Set([...atoms].filter((a) => a.startsWith(`${w}|`)).map((a) => a.slice(w.length + 1)));
    if (covered.size === 0) continue;
    const region = regionCondition(covered, named);
    statements.push({
      Sid: SID[w].bool,
      Effect: 'Deny',
      Action: ['eks:CreateCluster', 'eks:UpdateClusterConfig'],
      Resource: '*',
      Condition: { Bool: { [KEY[w]]: WIDENING_VALUE[w] }, ...region, ...except },
    });
    // Only CreateCluster: an update that omits the field leaves the cluster as it is, so Null there would
    // refuse every CIDR or logging change (and the guard's own reverts).
    statements.push({ Sid: SID[w].omitted, Effect: 'Deny', Action: 'eks:CreateCluster', Resource: '*', Condition: { Null: { [KEY[w]]: 'true' }, ...region, ...except } });
  }
  return statements;
}

const documentText = (statements: readonly IamStatement[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** Halves a statement's positive region list, or returns null when it has nothing left to split. */
function splitStatement(s: IamStatement): [IamStatement, IamStatement] | null {
  const regions = (s.Condition?.StringEquals as Record<string, string | readonly string[]> | undefined)?.[REQUESTED_REGION];
  if (!Array.isArray(regions) || regions.length < 2) return null;
  const half = Math.ceil(regions.length / 2);
  const part = (list: readonly string[], n: number): IamStatement => ({
    ...s,
    Sid: `${s.Sid}${n}`,
    Condition: { ...s.Condition, StringEquals: { ...s.Condition!.StringEquals, [REQUESTED_REGION]: oneOrMany(list) } },
  });
  return [part(regions.slice(0, half), 1), part(regions.slice(half), 2)];
}

/**
 * Packs statements into as few documents as fit the SCP size limit, in order. A statement too large by
 * itself is split by its region list; one that cannot be split (its exceptions alone are too long) is an
 * InputError: a policy is never truncated.
 */
export function packStatements(statements: readonly IamStatement[], limit = SCP_MAX_CHARACTERS): IamStatement[][] {
  const queue = [...statements];
  const documents: IamStatement[][] = [];
  let current: IamStatement[] = [];
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (documentText([s]).length > limit) {
      const halves = splitStatement(s);
      if (halves === null) {
        throw new InputError([
          `statement ${s.Sid} needs ${documentText([s]).length} characters on its own, more than an SCP may hold (${limit}): use fewer or shorter --guard-role-arn, --guard-role-name and --break-glass-role values`,
        ]);
      }
      queue.unshift(...halves);
      continue;
    }
    if (current.length > 0 && documentText([...current, s]).length > limit) {
      documents.push(current);
      current = [];
    }
    current.push(s);
  }
  if (current.length > 0) documents.push(current);
  return documents;
}

function guardOnlyEntries(policy: Policy, withOrganization: boolean): GuardOnly[] {
  const compiled = compiledPolicy(policy);
  const out: GuardOnly[] = [];
  const settingReasons = (s: Readonly<EffectiveSettings>): string[] => {
    const reasons: string[] = [];
    if (s.publicAccess === 'restricted') {
      reasons.push(`public CIDR allowlist (allowedPublicCidrs ${s.allowedPublicCidrs.join(', ')}): no IAM condition key describes publicAccessCidrs, so only the guard narrows the CIDRs`);
    }
    if (s.mode === 'alert') reasons.push('mode alert: the guard only reports these clusters, so no SCP refuses anything for them either');
    return reasons;
  };
  for (const reason of settingReasons(compiled.defaults.settings)) out.push({ rule: 'defaults', reason });
  policy.rules.forEach((rule, i) => {
    const m = rule.match;
    const reasons: string[] = [];
    if (m.clusters) {
      reasons.push(
        `matches on cluster names (clusters ${m.clusters.join(', ')}): an SCP cannot see cluster name globs reliably, so the guard alone applies this rule, and where it may allow more than the rest of the policy, the SCP holds back there too`,
      );
    }
    if (m.tags && Object.keys(m.tags).length > 0) {
      reasons.push('matches on cluster tags (tags): an SCP cannot see a cluster\'s tags at create time, so the guard alone applies this rule, and where it may allow more than the rest of the policy, the SCP holds back there too');
    }
    if (!withOrganization && m.accountTags && Object.keys(m.accountTags).length > 0) {
      reasons.push('matches on account tags (accountTags): without --organization the accounts carrying them are unknown; give --organization to place this rule on them');
    }
    const own = compiled.rules[i]!.template.settings;
    for (const reason of [...reasons, ...settingReasons(own)]) out.push({ rule: rule.name, reason });
  });
  for (const e of policy.exemptions) {
    out.push({
      rule: `exemption ${e.name}`,
      reason: `exemption until ${e.expires}: an SCP can neither expire nor tell which cluster a request is for, so it does not honour exemptions; where an SCP denies, widening the exempt cluster takes the break-glass role`,
    });
  }
  const tagDays = Math.max(compiled.defaults.settings.maxTagExemptionDays, ...compiled.rules.map((r) => r.template.settings.maxTagExemptionDays));
  if (tagDays > 0) {
    out.push({
      rule: `exemptionTag ${policy.exemptionTag}`,
      reason: `cluster tag exemptions (up to ${tagDays} days): an SCP cannot see cluster tags, so it does not honour them; where an SCP denies, widening a tagged cluster takes the break-glass role`,
    });
  }
  return out;
}

const ruleName = (policy: Policy, i: number) => (i === DEFAULTS ? 'defaults' : policy.rules[i]!.name);
const nameList = (names: readonly string[]) => (names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

type References = { warnings: string[]; byRule: Map<number, string[]> };

/**
 * The `ous`, `accounts` and `accountTags` of the policy's rules and exemptions that the organization does
 * not have: each a warning naming where it is and what was probably meant, and, per rule, the phrases
 * that explain why no SCP expresses it. They are warnings, not errors: the file may be older than the
 * organization, or the policy written ahead of an OU or account to come.
 */
function organizationReferences(policy: Policy, tree: OrganizationTree): References {
  const warnings: string[] = [];
  const byRule = new Map<number, string[]>();
  const ouIds = [tree.root, ...tree.units.map((u) => u.id)];
  const accountIds = tree.organization.accounts.map((a) => a.id);
  const tagValues = new Map<string, Set<string>>();
  for (const a of tree.organization.accounts) for (const [k, v] of Object.entries(a.tags)) tagValues.set(k, (tagValues.get(k) ?? new Set()).add(v));
  const check = (where: string, m: Policy['rules'][number]['match'], rule: number | null) => {
    const note = (phrase: string) => {
      if (rule !== null) byRule.set(rule, [...(byRule.get(rule) ?? []), phrase]);
    };
    (m.ous ?? []).forEach((id, k) => {
      if (ouIds.includes(id)) return;
      const what = ROOT_ID_PATTERN.test(id) ? `is not the organization's root (${tree.root})` : `is not an OU of the organization${didYouMean(id, ouIds)}`;
      warnings.push(`${where}.match.ous[${k}]: ${id} ${what}`);
      note(`names OU ${id}, which is not in the organization file`);
    });
    (m.accounts ?? []).forEach((id, k) => {
      if (accountIds.includes(id)) return;
      warnings.push(`${where}.match.accounts[${k}]: ${id} is not an account of the organization${didYouMean(id, accountIds)}`);
      note(`names account ${id}, which is not in the organization file`);
    });
    for (const [key, value] of Object.entries(m.accountTags ?? {})) {
      const values = tagValues.get(key);
      if (values === undefined) {
        warnings.push(`${where}.match.accountTags.${key}: no account of the organization carries the tag ${key}${didYouMean(key, [...tagValues.keys()])}`);
      } else if (!values.has(value)) {
        warnings.push(`${where}.match.accountTags.${key}: no account of the organization carries ${key}=${value} (${key} is ${[...values].sort().join(', ')})${didYouMean(value, [...values])}`);
      } else continue;
      note(`matches account tag ${key}=${value}, which no account in the organization file carries`);
    }
  };
  policy.rules.forEach((r, i) => check(`rules[${i}]`, r.match, i));
  policy.exemptions.forEach((e, i) => check(`exemptions[${i}]`, e.match, null));
  return { warnings, byRule };
}

/**
 * Why no SCP expresses rule `i`, from every scope the generator judged (`judged`: the member accounts
 * with an organization; the root, the named OUs and the named accounts without).
 */
function unexpressedReason(policy: Policy, i: number, judged: readonly Judged[], tree: OrganizationTree | null, unknown: readonly string[]): string {
  const compiled = compiledPolicy(policy);
  const own = compiled.rules[i]!.template.settings;
  const forbids = WIDENINGS.filter((w) => refusable([own], w));
  const where = judged.filter((j) => j.rules.includes(i));
  // A reference the organization does not have explains the rule first: it is probably a mistake.
  if (where.length === 0 && unknown.length > 0) return `${nameList(unknown)}, so it matches no member account: no SCP expresses it (generate the policies again when the organization changes)`;
  if (forbids.length === 0) {
    return `publicAccess ${own.publicAccess}, privateAccess ${own.privateAccess}: nothing for an SCP to refuse (it can refuse only public access turned on where forbidden and private access turned off where required); where this rule applies, the SCPs hold their Deny back`;
  }
  const m = policy.rules[i]!.match;
  if (where.length === 0) {
    if (tree !== null) {
      const mgmt = tree.organization.accounts.find((a) => a.id === tree.organization.managementAccount)!;
      const scope = { account: mgmt.id, ouPath: mgmt.ouPath, pathComplete: true, accountTags: mgmt.tags };
      if ([...new Set(policy.rules.flatMap((r) => r.match.regions ?? [])), null].some((region) => possibleRules(policy, { ...scope, region }).includes(i))) {
        return `applies only to the management account ${mgmt.id}, where SCPs never apply: the guard alone enforces it`;
      }
    }
    // Every scope where it could match, a rule before it surely matches: the last of each scope's rules.
    const earlier = [...new Set(judged.filter((j) => matchInScope(m, j.scope) !== 'no').map((j) => j.rules[j.rules.length - 1]!).filter((r) => r !== i && r !== DEFAULTS))];
    if (earlier.length > 0) return `never decides: wherever it could match, ${nameList(earlier.sort((a, b) => a - b).map((r) => ruleName(policy, r)))} matches first (rules are first-match)`;
    return tree !== null ? 'matches no member account of the organization file: no SCP expresses it (generate the policies again when the organization changes)' : 'matches none of the targets an SCP can be placed on without --organization';
  }
  // It may decide somewhere, yet no Deny holds there: another rule (or the defaults) may decide instead.
  const blockers = new Set<number>();
  for (const j of where) {
    for (const r of j.rules) {
      if (r === i) continue;
      const settings = r === DEFAULTS ? compiled.defaults.settings : compiled.rules[r]!.template.settings;
      if (forbids.some((w) => !refusable([settings], w))) blockers.add(r);
    }
  }
  const others = blockers.size === 0 ? 'another rule' : nameList([...blockers].sort((a, b) => (a === DEFAULTS ? 1 : b === DEFAULTS ? -1 : a - b)).map((r) => ruleName(policy, r)));
  if (tree === null && m.ous && m.ous.length > 0) {
    return `OU placement unknown without --organization: which accounts are beneath ${m.ous.join(', ')}, and how OUs nest, is not known, so wherever an SCP could be attached for it, ${others} may decide instead and allow what it forbids; give --organization to place it`;
  }
  const unseen = tree === null ? 'cluster names and tags, nor, without --organization, account tags and OU placement' : 'cluster names and tags';
  return `held back: wherever it applies, ${others} may decide instead (an SCP cannot see ${unseen}) and allow what it forbids, so no SCP refuses it`;
}

const NOTES = {
  semantics:
    'Condition semantics: eks:endpointPublicAccess / eks:endpointPrivateAccess describe the request, not the cluster. Public access turned on (Bool "true") and private access turned off (Bool "false") are denied on eks:CreateCluster and eks:UpdateClusterConfig where the policy forbids them.',
  create:
    'CreateCluster: an omitted field means the EKS default (public on, private off). AWS does not document whether the key is then absent or present with the default, so both are denied where the default widens: Bool catches the key present with the default, "Null": {key: "true"} catches it absent. Such a create must say endpointPublicAccess=false / endpointPrivateAccess=true explicitly.',
  update:
    'UpdateClusterConfig: an omitted field changes nothing, so it is judged with Bool only (never BoolIfExists or Null, which would refuse every update that leaves the flag out, the guard\'s own reverts included).',
  existing:
    'SCPs judge requests only: clusters that already have public access on or private access off keep it; the guard finds and remediates them. publicAccessCidrs has no condition key, so CIDR allowlists are enforced by the guard only.',
  management: 'SCPs never apply to the management account, nor to service-linked roles: there the guard alone enforces the policy.',
  attach:
    'Attach each policy to its target beside an Allow (FullAWSAccess or your own): these are Deny-only. AWS allows at most 5 SCPs per target, FullAWSAccess included, and a Deny attached to a root or OU applies to every account beneath it.',
  regenerate:
    'Generate the policies again whenever the guard policy, the organization (accounts joining, leaving or moving, account tags) or the exceptions change: an SCP is a snapshot of them, and an account that joins or moves later is judged only then.',
};

/**
 * The service control policies for a guard policy: one per target (root, OU, account) that adds a Deny to
 * what its ancestors deny, split to fit the size limit, each naming the rules it expresses; every rule no
 * SCP expresses (and what else only the guard enforces), each with why; notes on the condition semantics
 * and placement; warnings on inputs that are probably mistakes. With an organization, rules on `accounts`,
 * `ous` and `accountTags` are resolved against it; without, only the root and the accounts and OUs the
 * policy names are targets, and what depends on the unknown (account tags, OU nesting) is left to the
 * guard. Rules on `regions` become an `aws:RequestedRegion` condition. Exceptions by role name bring a
 * companion Deny that keeps those roles from being created or retrusted (roleProtectionStatement). Throws
 * an InputError for a bad exception value or a statement that cannot fit.
 */
export function generateScps(policy: Policy, options: ScpOptions = {}): ScpOutput {
  const exceptions = exceptionPatterns(options);
  const protection = roleProtectionStatement(options);
  const regions = [...new Set(policy.rules.flatMap((r) => r.match.regions ?? []))].sort();
  const tree = options.organization ?? null;
  const notes = [NOTES.semantics, NOTES.create, NOTES.update, NOTES.existing, NOTES.management, NOTES.attach];
  const guardOnly = guardOnlyEntries(policy, tree !== null);
  const warnings: string[] = [];
  for (const name of options.guardRoleNames ?? []) {
    warnings.push(
      `--guard-role-name ${name}: not needed: the guard's member write role carries its own guardrail Deny (it never turns public access on or private access off) and the guard never creates clusters, so these SCPs never refuse what it sends; an exception by name only widens who is excepted. Leave it out`,
    );
  }
  if (options.roleAdminArns !== undefined && protection === null) warnings.push('--role-admin-arn: has no effect without --guard-role-name or --break-glass-role (only exceptions by name need role admins)');
  const references = tree === null ? { warnings: [], byRule: new Map<number, string[]>() } : organizationReferences(policy, tree);
  warnings.push(...references.warnings);

  const judged: Judged[] = [];
  let placements: Placement[];
  if (tree !== null) {
    const placed = placeWithOrganization(policy, tree, regions, judged);
    placements = placed.placements;
    const mgmt = tree.organization.accounts.find((a) => a.id === tree.organization.managementAccount)!;
    if (placed.management.size > 0) {
      const scope = { account: mgmt.id, ouPath: mgmt.ouPath, pathComplete: true, accountTags: mgmt.tags };
      const names = new Set<string>();
      for (const region of [...regions, null]) for (const s of possibleSettings(policy, { ...scope, region })) names.add(s.rule ?? 'defaults');
      for (const name of names) {
        guardOnly.push({ rule: name, reason: `applies to the management account ${mgmt.id}, where SCPs never apply: the guard alone enforces it there` });
      }
    }
    if (!tree.rootKnown) {
      notes.push(`The organization file gives no rootId (and no OU id reveals it): ${tree.root} is made up, as the emulator makes it up; attach that policy to your organization's root (r-…).`);
    }
  } else {
    const placed = placeWithoutOrganization(policy, regions, judged);
    placements = placed.placements;
    notes.push(
      'Without --organization, the targets are the root and the accounts and OUs the policy names; account tags and the nesting of OUs are unknown, so whatever depends on them is left to the guard. Give --organization to place rules on every account they match.',
    );
    if (placed.rootId === null) notes.push('The root id is unknown: attach the "root" policy to your organization\'s root (r-…).');
  }
  if (exceptions.length === 0) {
    notes.push('No exceptions were given (--guard-role-arn, --guard-role-name, --break-glass-role): nobody, not even in an emergency, can widen an endpoint where these policies deny.');
  } else {
    notes.push(`Exceptions (aws:PrincipalArn, ArnNotLike): ${exceptions.join(', ')}. A role with a path must be named with its path.`);
  }
  if (protection !== null) {
    const admins = [protection.Condition!.ArnNotLike![PRINCIPAL_ARN]!].flat();
    notes.push(
      `An exception by role name holds for whatever role has that name in a member account, so whoever may create a role or rewrite a trust policy there could except themselves. Each target that carries an exception by name, and has no ancestor that does, therefore also carries ${PROTECT_SID}: it refuses ${ROLE_PROTECTION_ACTIONS.join(', ')} on those roles, and on the role admins' own names, to all but the role admins (--role-admin-arn: ${admins.join(', ')}${options.roleAdminArns === undefined ? ', the default: the execution role service-managed StackSets create in each account, which deploys the member stack; pass AWSCloudFormationStackSetExecutionRole for self-managed StackSets' : ''}). Create the break-glass role through them (a StackSet) before attaching. It does not cover the customer-managed policies attached to those roles (iam:CreatePolicyVersion acts on the policy): give them inline or AWS-managed policies only.`,
    );
  }
  notes.push(NOTES.regenerate);

  placements.sort((a, b) => a.depth - b.depth || a.target.id.localeCompare(b.target.id));
  const carrying = new Set(placements.filter((p) => p.atoms.size > 0).map((p) => p.target.id));
  const policies: ScpPolicy[] = [];
  const expressed = new Set<number>();
  for (const p of placements) {
    if (p.atoms.size === 0) continue;
    const statements = statementsFor(p.atoms, regions, exceptions);
    // One companion Deny per branch: an SCP on an ancestor already applies to every account beneath it.
    if (protection !== null && !p.ancestors.some((id) => carrying.has(id))) statements.push(protection);
    const documents = packStatements(statements);
    const order = [...p.rules].sort((a, b) => (a === DEFAULTS ? 1 : b === DEFAULTS ? -1 : a - b));
    for (const r of order) if (r !== DEFAULTS) expressed.add(r);
    documents.forEach((docStatements, i) => {
      const document = documentText(docStatements);
      const suffix = documents.length > 1 ? `-${i + 1}` : '';
      policies.push({ name: `eks-endpoint-guard-${p.target.id}${suffix}`, target: p.target, document, size: document.length, rules: order.map((r) => ruleName(policy, r)) });
    });
    if (documents.length > 4) notes.push(`${p.target.type} ${p.target.id} needs ${documents.length} policies: more than the 4 that fit beside FullAWSAccess; use fewer exceptions or regions.`);
  }

  // Every rule no SCP expresses is listed, with why, unless an entry above already says the guard alone applies it.
  const compiled = compiledPolicy(policy);
  policy.rules.forEach((rule, i) => {
    if (expressed.has(i)) return;
    const m = rule.match;
    const own = compiled.rules[i]!.template.settings;
    const guardAlone = m.clusters !== undefined || (m.tags !== undefined && Object.keys(m.tags).length > 0) || own.mode === 'alert' || (tree === null && m.accountTags !== undefined && Object.keys(m.accountTags).length > 0);
    if (guardAlone) return;
    const refusesNothing = WIDENINGS.every((w) => !refusable([own], w));
    if (refusesNothing && guardOnly.some((g) => g.rule === rule.name)) return;
    const reason = unexpressedReason(policy, i, judged, tree, references.byRule.get(i) ?? []);
    // The management account's entry above already says it.
    if (reason.startsWith('applies only to the management account') && guardOnly.some((g) => g.rule === rule.name && g.reason.includes('where SCPs never apply'))) return;
    if (!guardOnly.some((g) => g.rule === rule.name && g.reason === reason)) guardOnly.push({ rule: rule.name, reason });
  });
  return { policies, guardOnly, notes, warnings };
}
