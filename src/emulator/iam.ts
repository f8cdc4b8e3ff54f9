import * as z from 'zod';
import { InputError } from '../errors';
import type { Principal } from './identity';

/**
 * IAM roles as far as STS AssumeRole needs them: who a role trusts, whether its trust carries the
 * aws:PrincipalOrgID condition, and whether its sessions may assume roles outside their organization.
 *
 * Backward compatible by design: an account with no declared role and no `strictRoles` stays lenient
 * (any caller may assume any role name in it, as the emulator always allowed). An account becomes
 * strict when the state marks it `strictRoles: true` or any role is declared in it, in the state or at
 * run time; it stays strict when its roles are deleted again, because a stack that is torn down leaves
 * no role behind, not a wildcard.
 */

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const roleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (1-64 letters, digits and +=,.@_-)');
const rolePath = z.string().regex(/^\/([\w+=,.@-]+\/)*$/, 'must be an IAM path such as / or /service/ (starting and ending with /)');

/** A trusted principal: `*`, an account (`arn:aws:iam::ACCOUNT:root` or the bare 12-digit id), a user, role or role session ARN. */
const trustedPrincipal = z
  .string()
  .regex(
    /^(\*|\d{12}|arn:aws:iam::\d{12}:(root|user\/([\w+=,.@-]+\/)*[\w+=,.@-]+|role\/([\w+=,.@-]+\/)*[\w+=,.@-]+)|arn:aws:sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/,
    'must be "*", an account id, arn:aws:iam::ACCOUNT:root, a user or role ARN, or an assumed-role session ARN',
  );

export const roleSchema = z.strictObject({
  account: accountId,
  name: roleName,
  path: rolePath.default('/'),
  /**
   * Principals the trust policy allows to call sts:AssumeRole. A role ARN admits every session of that
   * role (IAM role names are unique in an account, whatever their path); an account admits all of its
   * principals. Empty: nobody may assume the role (a role only a service assumes).
   */
  trust: z.array(trustedPrincipal).default([]),
  /** The trust policy also requires aws:PrincipalOrgID to be the organization of the role's own account. */
  orgCondition: z.boolean().default(false),
  /**
   * The role's own identity policy allows sts:AssumeRole only on roles of its organization
   * (aws:ResourceOrgID equal to aws:PrincipalOrgID), so its sessions cannot assume roles elsewhere.
   */
  assumeOnlyInOrganization: z.boolean().default(false),
});

export type RoleInput = z.input<typeof roleSchema>;
export type RoleState = z.output<typeof roleSchema>;
export type RoleRecord = RoleState & { arn: string };

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]+)$/;

export const roleArnOf = (r: { account: string; name: string; path: string }) => `arn:aws:iam::${r.account}:role${r.path}${r.name}`;

/** Whether one trust-policy principal admits the caller. */
export function trustAdmits(entry: string, caller: Principal): boolean {
  if (entry === '*') return true;
  if (/^\d{12}$/.test(entry)) return entry === caller.account;
  const root = /^arn:aws:iam::(\d{12}):root$/.exec(entry);
  if (root) return root[1] === caller.account;
  if (entry.startsWith('arn:aws:sts::')) return entry === caller.arn;
  const m = /^arn:aws:iam::(\d{12}):(user|role)\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(entry);
  if (!m || m[1] !== caller.account) return false;
  return m[2] === 'user' ? caller.type === 'IAMUser' && caller.userName === m[3] : caller.type === 'AssumedRole' && caller.role.name === m[3];
}

export type AssumeDecision = { allowed: true } | { allowed: false; why: string };

/** Cross-references of `roles:`; `declared` holds every account the state declares (organization members included). */
export function roleReferenceProblems(roles: RoleState[], declared: Set<string>, organizationIdOf: (account: string) => string | null | undefined): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  roles.forEach((role, i) => {
    const at = `roles[${i}]`;
    if (!declared.has(role.account)) problems.push(`${at}.account: account ${role.account} is not declared in accounts`);
    const key = `${role.account}/${role.name}`;
    if (seen.has(key)) problems.push(`${at}.name: role ${role.name} is declared twice in ${role.account} (IAM role names are unique in an account)`);
    seen.add(key);
    if ((role.orgCondition || role.assumeOnlyInOrganization) && !organizationIdOf(role.account)) {
      const field = role.orgCondition ? 'orgCondition' : 'assumeOnlyInOrganization';
      problems.push(`${at}.${field}: account ${role.account} is not in the organization, so no call could satisfy the condition; add it to organization.accounts`);
    }
  });
  return problems;
}

/** The roles of every account, and which accounts refuse roles they do not declare. */
export class Roles {
  private roles = new Map<string, RoleRecord>();
  private strict = new Set<string>();

  load(roles: RoleState[], strictAccounts: string[]): void {
    this.roles.clear();
    this.strict = new Set(strictAccounts);
    for (const role of roles) this.set(role);
  }

  private set(role: RoleState): RoleRecord {
    const record = { ...role, trust: [...role.trust], arn: roleArnOf(role) };
    this.roles.set(`${role.account}/${role.name}`, record);
    this.strict.add(role.account);
    return record;
  }

  /** Creates or replaces a role (by account and name); its account becomes strict. Throws an InputError naming each bad field. */
  put(input: RoleInput, organizationIdOf: (account: string) => string | null): RoleRecord {
    const parsed = roleSchema.safeParse(input);
    if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => `role${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`));
    const problems = roleReferenceProblems([parsed.data], new Set([parsed.data.account]), organizationIdOf);
    if (problems.length > 0) throw new InputError(problems.map((p) => p.replace(/^roles\[0\]/, 'role')));
    return this.set(parsed.data);
  }

  /** Deletes a role; returns whether there was one. The account stays strict. */
  delete(account: string, name: string): boolean {
    return this.roles.delete(`${account}/${name}`);
  }

  list(): RoleRecord[] {
    return [...this.roles.values()].map((r) => ({ ...r, trust: [...r.trust] })).sort((a, b) => a.arn.localeCompare(b.arn));
  }

  strictAccounts(): string[] {
    return [...this.strict].sort();
  }

  /** Whether AssumeRole into `account` admits only its declared roles. */
  isStrict(account: string): boolean {
    return this.strict.has(account);
  }

  /** The declared role with exactly this ARN (path included), if any. */
  role(roleArn: string): RoleRecord | undefined {
    const m = ROLE_ARN.exec(roleArn);
    const found = m ? this.roles.get(`${m[1]}/${m[3]}`) : undefined;
    return found?.arn === roleArn ? { ...found, trust: [...found.trust] } : undefined;
  }

  /**
   * Decides sts:AssumeRole of `roleArn` by `caller`, as IAM would: the caller's own role may confine it
   * to its organization (aws:ResourceOrgID); a strict account admits only declared roles whose trust
   * names the caller and, with `orgCondition`, only callers of the role's organization.
   */
  decideAssume(caller: Principal, roleArn: string, organizationIdOf: (account: string) => string | null): AssumeDecision {
    const m = ROLE_ARN.exec(roleArn);
    if (!m) return { allowed: false, why: 'not a role ARN' };
    const targetAccount = m[1]!;
    const callerOrg = organizationIdOf(caller.account);
    const callerRole = caller.type === 'AssumedRole' ? this.roles.get(`${caller.account}/${caller.role.name}`) : undefined;
    if (callerRole?.assumeOnlyInOrganization && (callerOrg === null || organizationIdOf(targetAccount) !== callerOrg)) {
      return { allowed: false, why: `${callerRole.arn} may only assume roles in its organization (aws:ResourceOrgID)` };
    }
    if (!this.strict.has(targetAccount)) return { allowed: true };
    const role = this.roles.get(`${targetAccount}/${m[3]}`);
    if (!role || role.arn !== roleArn) return { allowed: false, why: `no role ${roleArn}` };
    if (!role.trust.some((entry) => trustAdmits(entry, caller))) return { allowed: false, why: `the trust policy of ${role.arn} does not name the caller` };
    if (role.orgCondition && (callerOrg === null || callerOrg !== organizationIdOf(role.account))) {
      return { allowed: false, why: `the caller is not in the organization of ${role.account} (aws:PrincipalOrgID)` };
    }
    return { allowed: true };
  }
}
