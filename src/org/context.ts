/**
 * Where an account stands in the organization, as the policy's `ous` and `accountTags` see it. Pure.
 */
import { OU_ID_PATTERN, OUTSIDE_ORGANIZATION, ROOT_ID_PATTERN, type AccountContext, type Organization, type OrgAccount } from './types';

/**
 * The account context of `accountId` in `org`: its OU path and tags, or OUTSIDE_ORGANIZATION when the
 * organization does not list it (an account that left, or was never a member).
 */
export function accountContextOf(org: Organization, accountId: string): AccountContext {
  const account = org.accounts.find((a) => a.id === accountId);
  return account ? contextOfAccount(account) : OUTSIDE_ORGANIZATION;
}

/** The part of an account the policy matches on. */
export function contextOfAccount(account: OrgAccount): AccountContext {
  return { ouPath: account.ouPath, tags: account.tags };
}

/** The root id an OU or root id belongs to (`ou-ab12-34567890` → `r-ab12`), or null for another string. */
export function rootOf(id: string): string | null {
  if (ROOT_ID_PATTERN.test(id)) return id;
  if (OU_ID_PATTERN.test(id)) return `r-${id.slice(3, id.indexOf('-', 3))}`;
  return null;
}

/**
 * True when `ouPath` (root first, down to the account's parent) passes through any of `ous`: the
 * account is anywhere beneath one of them. A root id in `ous` covers every account of that root.
 */
export function isBeneath(ouPath: readonly string[], ous: ReadonlySet<string> | readonly string[]): boolean {
  const set = ous instanceof Set ? ous : new Set(ous as readonly string[]);
  return ouPath.some((id) => set.has(id));
}

/**
 * True when every account beneath `narrow` is beneath `wide`, as far as can be told without the OU
 * tree: the same id, or `wide` the root `narrow` lives under. Sound, not complete: an OU nested in
 * another OU is not known to be beneath it.
 */
export function ouCovers(wide: string, narrow: string): boolean {
  return wide === narrow || (ROOT_ID_PATTERN.test(wide) && rootOf(narrow) === wide);
}
