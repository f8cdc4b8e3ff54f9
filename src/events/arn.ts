/**
 * The ARN handling that triage needs: recognising IAM role ARNs, telling whether a CloudTrail principal (an
 * STS assumed-role session or its issuing role) is one of the guard's roles, and reading the EKS resource
 * ARNs that TagResource / UntagResource name. Splitting into partition, service, region, account and resource
 * is left to `@aws-sdk/util-arn-parser`; what is checked here is what the guard relies on (a known partition
 * shape, a 12-digit account, IAM's role-name rules, EKS's cluster-name rules).
 */
import { parse, validate } from '@aws-sdk/util-arn-parser';
import type { ClusterRef } from '../policy/types';

/** An IAM role as far as identity goes: role names are unique per account whatever their path. */
export type RoleIdentity = { partition: string; account: string; roleName: string };

/** Who acts for the guard: its exact roles, and the role it assumes in member accounts. */
export type GuardRoles = {
  /** The guard's exact role ARNs (its function roles in the home account). */
  selfRoleArns: readonly string[];
  /** The member-account role name the guard assumes; it counts as the guard only in accounts other than homeAccount. */
  crossAccountRoleName?: string | null;
  /** The account the guard is deployed in. */
  homeAccount?: string | null;
};

/** An EKS resource ARN, `arn:PARTITION:eks:REGION:ACCOUNT:TYPE/ID`; `resourceId` keeps any further `/` parts. */
export type EksResourceArn = { partition: string; region: string; account: string; resourceType: string; resourceId: string };

// Partitions are `aws`, `aws-cn`, `aws-us-gov` and the isolated `aws-iso*` / `aws-eusc` ones; all share the shape.
const PARTITION = /^aws(?:-[a-z]+)*$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z0-9]+)+$/;
// IAM role names: 1-64 of [A-Za-z0-9+=,.@_-]. Paths are `/`-delimited printable ASCII.
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_PATH = /^[\x21-\x7e]*$/;
// EKS cluster names: 1-100 characters, alphanumeric first, then alphanumerics, `-` and `_`.
const CLUSTER_NAME = /^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/;

type ArnParts = { partition: string; service: string; region: string; account: string; resource: string };

function splitArn(arn: string): ArnParts | null {
  if (!validate(arn)) return null;
  const { partition, service, region, accountId, resource } = parse(arn);
  if (!PARTITION.test(partition) || !ACCOUNT.test(accountId)) return null;
  return { partition, service, region, account: accountId, resource };
}

/** True for a 12-digit AWS account ID. Used to validate `--home-account` and configuration at load time. */
export function isAccountId(value: string): boolean {
  return ACCOUNT.test(value);
}

/** True for a valid IAM role name (1-64 of letters, digits and `+=,.@_-`), as `--cross-account-role-name` must be. */
export function isRoleName(value: string): boolean {
  return ROLE_NAME.test(value);
}

/**
 * Parses an IAM role ARN, `arn:PARTITION:iam::ACCOUNT:role[/path]/NAME`, into the partition, account and
 * role name, or returns null when the string is not one. The path is dropped on purpose: STS session ARNs
 * carry the bare role name, and IAM forbids two roles of the same name in one account, so account plus
 * name identifies a role. Used to validate `--self-role-arn` and guard configuration at load time.
 */
export function parseRoleArn(arn: string): RoleIdentity | null {
  const parts = splitArn(arn);
  if (!parts || parts.service !== 'iam' || parts.region !== '' || !parts.resource.startsWith('role/')) return null;
  const rest = parts.resource.slice('role/'.length);
  const cut = rest.lastIndexOf('/');
  // The IAM path starts and ends with `/`: `role/NAME` has path `/`, `role/a/b/NAME` has path `/a/b/`.
  const path = `/${rest.slice(0, cut + 1)}`;
  const roleName = rest.slice(cut + 1);
  if (!ROLE_NAME.test(roleName) || !ROLE_PATH.test(path) || path.includes('//')) return null;
  return { partition: parts.partition, account: parts.account, roleName };
}

/**
 * Returns the role behind a CloudTrail principal ARN: an STS assumed-role session
 * `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION` or an IAM role ARN (what
 * `sessionContext.sessionIssuer.arn` holds). Anything else (IAM users, root, federated users,
 * malformed strings) yields null, because only a role can be the guard itself.
 */
export function principalRole(arn: string): RoleIdentity | null {
  const parts = splitArn(arn);
  if (!parts) return null;
  if (parts.service === 'iam') return parseRoleArn(arn);
  if (parts.service !== 'sts' || !parts.resource.startsWith('assumed-role/')) return null;
  const [, roleName = '', session = ''] = parts.resource.split('/');
  if (!ROLE_NAME.test(roleName) || session === '') return null;
  return { partition: parts.partition, account: parts.account, roleName };
}

/**
 * Tells whether a principal ARN from a CloudTrail record is one of the given own role ARNs: exact
 * equality first (which also covers an entry that is not an IAM role ARN), then the same partition,
 * account and role name. Role names are compared case-sensitively: a miss only makes the guard evaluate
 * its own change again, whereas a false match would let someone else's change through unchecked.
 */
export function isOwnRole(principalArn: string, ownRoleArns: readonly string[]): boolean {
  if (ownRoleArns.includes(principalArn)) return true;
  const actor = principalRole(principalArn);
  if (!actor) return false;
  return ownRoleArns.some((own) => {
    const role = parseRoleArn(own);
    return role !== null && role.partition === actor.partition && role.account === actor.account && role.roleName === actor.roleName;
  });
}

/**
 * Tells whether a CloudTrail principal ARN is one of the roles the guard acts through: one of its exact
 * `selfRoleArns` (as `isOwnRole` decides), or a role named `crossAccountRoleName` in a member account. The
 * cross-account name never counts in the home account: anyone there may create a role of that name, and
 * only the guard's function roles act there. When the home account is not known, the accounts of the
 * `selfRoleArns` stand in for it, and when those name partitions, the role must be in one of them too.
 * Being a guard role is not enough to be the guard's own change: triage also requires a recorded token.
 */
export function isGuardPrincipal(principalArn: string, roles: GuardRoles): boolean {
  if (isOwnRole(principalArn, roles.selfRoleArns)) return true;
  const crossName = roles.crossAccountRoleName;
  if (!crossName) return false;
  const actor = principalRole(principalArn);
  if (!actor || actor.roleName !== crossName) return false;
  const own = roles.selfRoleArns.map(parseRoleArn).filter((role): role is RoleIdentity => role !== null);
  if (own.length > 0 && !own.some((role) => role.partition === actor.partition)) return false;
  if (roles.homeAccount) return actor.account !== roles.homeAccount;
  return !own.some((role) => role.account === actor.account);
}

/**
 * Parses an EKS resource ARN (`arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`, `nodegroup/CLUSTER/NAME/ID`,
 * `addon/...`, ...) into its parts, or returns null when the string is not an EKS ARN with a region, a
 * 12-digit account and a `TYPE/ID` resource. The resource type is not checked against a list: EKS adds
 * resource types, and triage only needs to tell a cluster from the rest.
 */
export function parseEksArn(arn: string): EksResourceArn | null {
  const parts = splitArn(arn);
  if (!parts || parts.service !== 'eks' || !REGION.test(parts.region)) return null;
  const cut = parts.resource.indexOf('/');
  if (cut <= 0 || cut === parts.resource.length - 1) return null;
  return {
    partition: parts.partition,
    region: parts.region,
    account: parts.account,
    resourceType: parts.resource.slice(0, cut),
    resourceId: parts.resource.slice(cut + 1),
  };
}

/**
 * The cluster a parsed EKS ARN names when it is a cluster ARN (`cluster/NAME`, NAME a valid EKS cluster
 * name), null when its resource is a cluster ARN of the wrong shape. Callers check `resourceType` first:
 * this tells a well-formed cluster ARN from a malformed one, not a cluster from a node group.
 */
export function clusterOfArn(arn: EksResourceArn): ClusterRef | null {
  if (arn.resourceType !== 'cluster' || !CLUSTER_NAME.test(arn.resourceId)) return null;
  return { name: arn.resourceId, account: arn.account, region: arn.region };
}
