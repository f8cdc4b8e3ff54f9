import * as z from 'zod';
import { ownRecord } from '../records';

/**
 * The `organization:` section of the emulator's state file: one AWS Organization, its OUs (nested by
 * parent name or id under an implicit root), its member accounts with status and tags, the management
 * account and the delegated administrators. Cross-references are checked by
 * `organizationReferenceProblems`, so the schema stays a plain zod object.
 */

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
// Patterns from the Organizations API reference (the SDK model's documentation).
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;

/** Account states of the Organizations API (`State`); the legacy `Status` field is derived from it. */
export const ACCOUNT_STATES = ['ACTIVE', 'SUSPENDED', 'PENDING_ACTIVATION', 'PENDING_CLOSURE', 'CLOSED'] as const;

const tags = ownRecord(z.string().min(1).max(128), z.string().max(256)).refine((t) => Object.keys(t).length <= 50, 'at most 50 tags');

const unitSchema = z.strictObject({
  name: z.string().min(1, 'must be a non-empty OU name').max(128, 'must be at most 128 characters'),
  /** Name or id of the parent OU; the root when omitted. */
  parent: z.string().min(1).optional(),
  /** Generated deterministically from the OU's path when omitted. */
  id: z.string().regex(OU_ID, 'must be an OU id such as ou-ab12-11111111 (ou-, the root id without r-, a dash, 8 to 32 lowercase letters or digits)').optional(),
  tags: tags.default({}),
});

const memberSchema = z.strictObject({
  id: accountId,
  /** Also the account's name in `accounts:` when that gives none; must agree with it when both do. */
  name: z.string().min(1).max(50).optional(),
  email: z.string().regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address').optional(),
  /** Name or id of the OU the account sits in; the root when omitted. */
  unit: z.string().min(1).optional(),
  status: z.enum(ACCOUNT_STATES).default('ACTIVE'),
  joinedMethod: z.enum(['INVITED', 'CREATED']).default('CREATED'),
  tags: tags.default({}),
});

export const organizationStateSchema = z.strictObject({
  /** Generated deterministically from the management account when omitted. */
  id: z.string().regex(ORGANIZATION_ID, 'must be an organization id such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits)').optional(),
  /** Generated from the first explicit OU id (or the organization id) when omitted. */
  rootId: z.string().regex(ROOT_ID, 'must be a root id such as r-ab12 (r- and 4 to 32 lowercase letters or digits)').optional(),
  managementAccount: accountId,
  /** Member accounts registered as delegated administrators: they may read the organization like the management account. */
  delegatedAdministrators: z.array(accountId).default([]),
  units: z.array(unitSchema).default([]),
  /**
   * Makes every account of the organization strict for AssumeRole (only declared roles that trust the
   * caller), as accounts are in AWS: a member without the member stack then has no role to assume.
   */
  strictRoles: z.boolean().default(false),
  /** Member accounts; the management account is a member even when not listed (list it to give it a unit, name or tags). */
  accounts: z.array(memberSchema).default([]),
});

export type OrganizationState = z.input<typeof organizationStateSchema>;
export type ResolvedOrganizationState = z.output<typeof organizationStateSchema>;
export type OrganizationMemberState = ResolvedOrganizationState['accounts'][number];

/** Every account of the organization: the management account first, then the members in state order. */
export function organizationAccountIds(org: ResolvedOrganizationState): string[] {
  return [...new Set([org.managementAccount, ...org.accounts.map((a) => a.id)])];
}

/**
 * Problems zod cannot see: duplicate ids and names, unit and account references that name no OU (or
 * more than one), cycles among OUs, OU ids from another root, delegated administrators outside the
 * organization. Paths are relative to the state document (`organization.units[1].parent: ...`).
 */
export function organizationReferenceProblems(org: ResolvedOrganizationState, at = 'organization'): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  const names = new Map<string, number[]>();
  org.units.forEach((unit, i) => {
    if (unit.id) {
      if (ids.has(unit.id)) problems.push(`${at}.units[${i}].id: OU ${unit.id} is declared twice`);
      ids.set(unit.id, i);
    }
    names.set(unit.name, [...(names.get(unit.name) ?? []), i]);
  });
  const explicitRoots = new Set(org.units.flatMap((u) => (u.id ? [u.id.split('-')[1]!] : [])));
  const root = org.rootId?.slice(2) ?? [...explicitRoots][0];
  org.units.forEach((unit, i) => {
    if (unit.id && root && unit.id.split('-')[1] !== root) {
      problems.push(`${at}.units[${i}].id: ${unit.id} must start with ou-${root}- like every OU of root r-${root} (AWS embeds the root in OU ids)`);
    }
  });
  /** The index of the unit a reference names, or undefined with a problem recorded. */
  const resolve = (ref: string, where: string): number | undefined => {
    const byId = ids.get(ref);
    if (byId !== undefined) return byId;
    const byName = names.get(ref) ?? [];
    if (byName.length === 1) return byName[0];
    if (byName.length > 1) problems.push(`${where}: more than one OU is named ${ref}; refer to it by id`);
    else problems.push(`${where}: no OU has the name or id ${ref} in ${at}.units`);
    return undefined;
  };
  const parents = org.units.map((unit, i) => (unit.parent === undefined ? undefined : resolve(unit.parent, `${at}.units[${i}].parent`)));
  org.units.forEach((unit, i) => {
    // Walk up: reaching this unit again means a cycle (the OU tree would have no way to the root).
    const seen = new Set<number>([i]);
    for (let p = parents[i]; p !== undefined; p = parents[p]) {
      if (seen.has(p)) {
        problems.push(`${at}.units[${i}].parent: OU ${unit.name} is its own ancestor; OUs form a tree under the root`);
        break;
      }
      seen.add(p);
    }
  });
  // AWS refuses two OUs of the same name under one parent (DuplicateOrganizationalUnitException).
  const siblings = new Set<string>();
  org.units.forEach((unit, i) => {
    const key = `${parents[i] ?? 'root'}/${unit.name}`;
    if (siblings.has(key)) problems.push(`${at}.units[${i}].name: another OU named ${unit.name} has the same parent`);
    siblings.add(key);
  });

  const members = new Set<string>();
  org.accounts.forEach((account, i) => {
    if (members.has(account.id)) problems.push(`${at}.accounts[${i}].id: account ${account.id} is listed twice`);
    members.add(account.id);
    if (account.unit !== undefined) resolve(account.unit, `${at}.accounts[${i}].unit`);
  });
  members.add(org.managementAccount);
  const admins = new Set<string>();
  org.delegatedAdministrators.forEach((id, i) => {
    const where = `${at}.delegatedAdministrators[${i}]`;
    if (admins.has(id)) problems.push(`${where}: account ${id} is listed twice`);
    admins.add(id);
    if (id === org.managementAccount) problems.push(`${where}: ${id} is the management account, which cannot be a delegated administrator`);
    else if (!members.has(id)) problems.push(`${where}: account ${id} is not in ${at}.accounts; a delegated administrator must be a member account`);
  });
  return problems;
}
