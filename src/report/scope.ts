/**
 * Which accounts `report --organization` reads: every account of the organization Organizations says can
 * be acted on, judged by the same rule as the organization sweep (src/org/governance.ts), so the report
 * and the guard never disagree on what "the organization" is. Every account left out is returned with
 * its status, for the report to list: an account silently missing from a posture report reads as covered.
 * Pure: the organization comes in as an argument.
 */
import { contextOfAccount } from '../org/context';
import { governedAccounts } from '../org/governance';
import type { AccountContext, Organization } from '../org/types';
import type { SkippedAccount } from './types';

export type OrganizationScope = {
  /** The accounts to read, sorted. */
  accounts: string[];
  /** Where each account read stands in the organization (for rules on `ous`/`accountTags`). */
  accountContexts: Map<string, AccountContext>;
  /** The accounts not read, sorted by account. */
  skipped: SkippedAccount[];
};

/**
 * Splits the organization into the accounts the report reads and those it lists as skipped. The report
 * has no governed OUs or exclusions of its own (it reports on the whole organization), so only the
 * accounts' status leaves one out.
 */
export function organizationScope(org: Organization): OrganizationScope {
  const { governed, skipped } = governedAccounts(org, { governedOus: [], excludedAccounts: [] });
  const byId = new Map(org.accounts.map((a) => [a.id, a]));
  return {
    accounts: governed.map((a) => a.id).sort(),
    accountContexts: new Map(governed.map((a) => [a.id, contextOfAccount(a)])),
    skipped: skipped
      .map(({ account }) => {
        const a = byId.get(account)!;
        return { account, name: a.name, status: a.status };
      })
      .sort((a, b) => a.account.localeCompare(b.account)),
  };
}
