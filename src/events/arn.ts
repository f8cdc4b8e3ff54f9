/**
 * The little ARN handling that triage needs: recognising IAM role ARNs and telling whether a CloudTrail
 * principal (an STS assumed-role session or its issuing role) is one of the guard's own roles.
 * A colon split is all an ARN needs; no library is worth a dependency for it.
 */

/** An IAM role as far as identity goes: role names are unique per account whatever their path. */
export type RoleIdentity = { partition: string; account: string; roleName: string };

// Partitions are `aws`, `aws-cn`, `aws-us-gov` and the isolated `aws-iso*` / `aws-eusc` ones; all share the shape.
const PARTITION = /^aws(?:-[a-z]+)*$/;
const ACCOUNT = /^\d{12}$/;
// IAM role names: 1-64 of [A-Za-z0-9+=,.@_-]. Paths are `/`-delimited printable ASCII.
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_PATH = /^[\x21-\x7e]*$/;

type ArnParts = { partition: string; service: string; region: string; account: string; resource: string };

function splitArn(arn: string): ArnParts | null {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  const [, partition = '', service = '', region = '', account = ''] = parts;
  // The resource part may itself contain colons (not for IAM/STS, but keep it whole for exact comparisons).
  const resource = parts.slice(5).join(':');
  if (!PARTITION.test(partition) || !ACCOUNT.test(account)) return null;
  return { partition, service, region, account, resource };
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
