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
 * enforced by the guard only, with the reason.
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
import type { OrganizationTree } from './organization-file';
import { possibleSettings, refusable, type Scope, type Widening } from './scope';

/** The most characters an SCP document may have (AWS Organizations quota; whitespace counts, so documents are minified). */
export const SCP_MAX_CHARACTERS = 5120;

export type ScpTargetType = 'root' | 'ou' | 'account';
export type ScpTarget = { type: ScpTargetType; id: string };
/** One SCP to create and attach: `document` is the exact (minified) policy text; `size` its length in characters. */
export type ScpPolicy = { name: string; target: ScpTarget; document: string; size: number };
/** A part of the policy no SCP enforces, and why. */
export type GuardOnly = { rule: string; reason: string };
/** The contract of `eks-endpoint-guard scp --format json`. */
export type ScpOutput = { policies: ScpPolicy[]; guardOnly: GuardOnly[]; notes: string[] };

export type ScpOptions = {
  /** The organization to resolve `accounts`, `ous` and `accountTags` against; without it, only named targets. */
  organization?: OrganizationTree | null;
  /** Exact ARNs of the guard's central roles (the remediation function's role) that must never be refused. */
  guardRoleArns?: readonly string[];
  /** Role names (with their path, if any) the guard uses in every member account (its write role). */
  guardRoleNames?: readonly string[];
  /** Role names (with their path, if any) people assume in an emergency to widen an endpoint on purpose. */
  breakGlassRoles?: readonly string[];
};

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

/**
 * The `aws:PrincipalArn` patterns the Denies except: guard role ARNs as given, and role names in any
 * account (`arn:aws:iam::*:role/NAME`). `aws:PrincipalArn` of an assumed-role session is the role's ARN
 * including its path, so a role with a path must be named with it. Throws an InputError naming every bad value.
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
  if (problems.length > 0) throw new InputError(problems);
  const byName = [...(options.guardRoleNames ?? []), ...(options.breakGlassRoles ?? [])].map((n) => `arn:aws:iam::*:role/${n}`);
  return [...new Set([...(options.guardRoleArns ?? []), ...byName])];
}

/** Deny atoms: `widening|region`, region a name or OTHER. */
type Atoms = Set<string>;
const atom = (w: Widening, region: string) => `${w}|${region}`;

function decide(policy: Policy, base: Omit<Scope, 'region'>, regions: readonly string[]): Atoms {
  const atoms: Atoms = new Set();
  for (const region of [...regions, OTHER]) {
    const possible = possibleSettings(policy, { ...base, region: region === OTHER ? null : region });
    for (const w of WIDENINGS) if (refusable(possible, w)) atoms.add(atom(w, region));
  }
  return atoms;
}

const intersect = (sets: readonly Atoms[]): Atoms => (sets.length === 0 ? new Set() : new Set([...sets[0]!].filter((a) => sets.every((s) => s.has(a)))));
const minus = (a: Atoms, b: Atoms): Atoms => new Set([...a].filter((x) => !b.has(x)));

type Placement = { target: ScpTarget; atoms: Atoms; depth: number };

function placeWithOrganization(policy: Policy, tree: OrganizationTree, regions: readonly string[]): { placements: Placement[]; management: Atoms } {
  const org = tree.organization;
  const rootId = tree.root;
  const decided = new Map<string, Atoms>();
  let management: Atoms = new Set();
  for (const a of org.accounts) {
    const atoms = decide(policy, { account: a.id, ouPath: a.ouPath, pathComplete: true, accountTags: a.tags }, regions);
    // SCPs never apply to the management account: it must not hold a Deny back from its OU or the root.
    if (a.id === org.managementAccount) management = atoms;
    else decided.set(a.id, atoms);
  }
  const members = org.accounts.filter((a) => a.id !== org.managementAccount);
  // A target's Denies hold for every account beneath it. An empty OU adds nothing: there is no account to
  // judge, and an account moved in later is judged when the policies are generated again.
  const denied = new Map<string, Atoms>();
  const deniedAt = (id: string, parent: string | null): Atoms => {
    const known = denied.get(id);
    if (known) return known;
    const beneath = members.filter((a) => a.ouPath.includes(id)).map((a) => decided.get(a.id)!);
    const atoms = beneath.length > 0 ? intersect(beneath) : parent === null ? new Set<string>() : deniedAt(parent, parentOf(parent));
    denied.set(id, atoms);
    return atoms;
  };
  const parentOf = (id: string): string | null => (id === rootId ? null : (tree.units.find((u) => u.id === id)?.parent ?? rootId));
  const placements: Placement[] = [{ target: { type: 'root', id: rootId }, atoms: deniedAt(rootId, null), depth: 0 }];
  const depthOf = (id: string): number => (id === rootId ? 0 : 1 + depthOf(parentOf(id)!));
  for (const u of tree.units) {
    placements.push({ target: { type: 'ou', id: u.id }, atoms: minus(deniedAt(u.id, u.parent), deniedAt(u.parent, parentOf(u.parent))), depth: depthOf(u.id) });
  }
  for (const a of members) {
    const parent = a.ouPath[a.ouPath.length - 1] ?? rootId;
    placements.push({ target: { type: 'account', id: a.id }, atoms: minus(decided.get(a.id)!, deniedAt(parent, parentOf(parent))), depth: Number.MAX_SAFE_INTEGER });
  }
  return { placements, management };
}

function placeWithoutOrganization(policy: Policy, regions: readonly string[]): { placements: Placement[]; rootId: string | null } {
  const ous = [...new Set(policy.rules.flatMap((r) => r.match.ous ?? []))].sort();
  const roots = [...new Set(ous.map(rootOf).filter((r): r is string => r !== null))];
  // An OU id embeds its root's (ou-ab12-… lives under r-ab12): with one root in sight, that is the root.
  const rootId = roots.length === 1 ? roots[0]! : null;
  const known = rootId === null ? [] : [rootId];
  const rootAtoms = decide(policy, { account: null, ouPath: known, pathComplete: false, accountTags: null }, regions);
  const placements: Placement[] = [{ target: { type: 'root', id: rootId ?? 'root' }, atoms: rootAtoms, depth: 0 }];
  for (const ou of ous.filter((id) => !ROOT_ID_PATTERN.test(id))) {
    // Without the tree, an OU's nesting is unknown: it adds what holds beneath it to what the root holds.
    const path = [rootOf(ou), ou].filter((x): x is string => x !== null);
    placements.push({ target: { type: 'ou', id: ou }, atoms: minus(decide(policy, { account: null, ouPath: path, pathComplete: false, accountTags: null }, regions), rootAtoms), depth: 1 });
  }
  const accounts = [...new Set(policy.rules.flatMap((r) => r.match.accounts ?? []))].sort();
  for (const id of accounts) {
    placements.push({
      target: { type: 'account', id },
      atoms: minus(decide(policy, { account: id, ouPath: known, pathComplete: false, accountTags: null }, regions), rootAtoms),
      depth: Number.MAX_SAFE_INTEGER,
    });
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
 * what its ancestors deny, split to fit the size limit; what no SCP can enforce, each with why; and notes
 * on the condition semantics and placement. With an organization, rules on `accounts`, `ous` and
 * `accountTags` are resolved against it; without, only the root and the accounts and OUs the policy names
 * are targets, and what depends on the unknown (account tags, OU nesting) is left to the guard. Rules on
 * `regions` become an `aws:RequestedRegion` condition. Throws an InputError for a bad exception value or a
 * statement that cannot fit.
 */
export function generateScps(policy: Policy, options: ScpOptions = {}): ScpOutput {
  const exceptions = exceptionPatterns(options);
  const regions = [...new Set(policy.rules.flatMap((r) => r.match.regions ?? []))].sort();
  const tree = options.organization ?? null;
  const notes = [NOTES.semantics, NOTES.create, NOTES.update, NOTES.existing, NOTES.management, NOTES.attach];
  const guardOnly = guardOnlyEntries(policy, tree !== null);

  let placements: Placement[];
  if (tree !== null) {
    const placed = placeWithOrganization(policy, tree, regions);
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
    const placed = placeWithoutOrganization(policy, regions);
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
  notes.push(NOTES.regenerate);

  placements.sort((a, b) => a.depth - b.depth || a.target.id.localeCompare(b.target.id));
  const policies: ScpPolicy[] = [];
  for (const p of placements) {
    if (p.atoms.size === 0) continue;
    const documents = packStatements(statementsFor(p.atoms, regions, exceptions));
    documents.forEach((statements, i) => {
      const document = documentText(statements);
      const suffix = documents.length > 1 ? `-${i + 1}` : '';
      policies.push({ name: `eks-endpoint-guard-${p.target.id}${suffix}`, target: p.target, document, size: document.length });
    });
    if (documents.length > 4) notes.push(`${p.target.type} ${p.target.id} needs ${documents.length} policies: more than the 4 that fit beside FullAWSAccess; use fewer exceptions or regions.`);
  }
  return { policies, guardOnly, notes };
}
