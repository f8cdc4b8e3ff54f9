/**
 * Planning a sweep: which accounts and regions are judged, which accounts are skipped and why. Pure.
 */
import { InputError } from '../errors';
import { governedAccounts } from '../org/governance';
import type { Organization } from '../org/types';
import type { Policy } from '../policy';
import type { SkippedAccount, SweepPlan, SweepUnit } from './types';

export type PlanOptions = {
  /** Regions every governed account is swept in. */
  regions: readonly string[];
  /** OU (or root) ids whose accounts are governed; empty: the whole organization. */
  governedOus: readonly string[];
  excludedAccounts: readonly string[];
};

/**
 * The account tag keys any rule or exemption of the policy matches on (`match.accountTags`): a unit
 * carries only these, so a unit's size does not grow with tags no rule reads.
 */
export function accountTagKeys(policy: Policy): Set<string> {
  const keys = new Set<string>();
  const matches = [...policy.rules.map((r) => r.match), ...policy.exemptions.map((e) => e.match)];
  for (const match of matches) for (const key of Object.keys((match as { accountTags?: Record<string, string> } | undefined)?.accountTags ?? {})) keys.add(key);
  return keys;
}

/** Whether any rule or exemption matches on `ous` or `accountTags`, so evaluation needs the account context. */
export function usesOrganization(policy: Policy): boolean {
  const matches = [...policy.rules.map((r) => r.match), ...policy.exemptions.map((e) => e.match)] as ({ ous?: unknown; accountTags?: unknown } | undefined)[];
  return matches.some((m) => m?.ous !== undefined || m?.accountTags !== undefined);
}

function pick(tags: Record<string, string>, keys: Set<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => keys.has(k)));
}

/**
 * One unit per governed account × region, in a stable order (account, then region), and the accounts
 * skipped with their reasons. Which accounts are governed is decided by the organization's governance
 * rules (suspended and excluded accounts, the governed OUs); regions are deduplicated and required.
 */
export function planSweep(org: Organization, policy: Policy, options: PlanOptions, sweepTime: string): SweepPlan {
  const regions = [...new Set(options.regions.map((r) => r.trim()).filter(Boolean))];
  if (regions.length === 0) throw new InputError(['the organization sweep needs at least one governed region (GOVERNED_REGIONS is empty)']);
  if (Number.isNaN(Date.parse(sweepTime))) throw new InputError([`sweep time ${JSON.stringify(sweepTime)} is not an ISO 8601 time (the schedule event's "time")`]);
  const { governed, skipped, unknownExclusions, unknownOus } = governedAccounts(org, { governedOus: options.governedOus, excludedAccounts: options.excludedAccounts });
  const byId = new Map(org.accounts.map((a) => [a.id, a]));
  const keys = accountTagKeys(policy);
  const readsOrganization = usesOrganization(policy);
  const accounts = [...governed].sort((a, b) => a.id.localeCompare(b.id));
  const units: SweepUnit[] = accounts.flatMap((account) =>
    regions.map((region) => ({ account: account.id, region, accountContext: readsOrganization ? { ouPath: [...account.ouPath], tags: pick(account.tags, keys) } : null })),
  );
  return {
    sweepTime,
    organizationId: org.id,
    regions,
    accounts: accounts.map((a) => a.id),
    units,
    unknownExclusions,
    unknownOus,
    configurationProblems: configurationProblems(org, accounts.length, unknownOus, unknownExclusions),
    planFailure: null,
    skipped: skipped.map((s) => ({ account: s.account, name: byId.get(s.account)?.name ?? '', reason: s.reason })),
  };
}

/**
 * The scope's problems as on-call reads them. An unknown governed OU governs nothing: when it is the
 * only one, the sweep governs no account and would otherwise report "complete" with nothing judged.
 * An unknown exclusion leaves the account it was meant for governed. Both are typos more often than
 * not, so they are named, with the setting to fix.
 */
export function configurationProblems(org: Organization, governedCount: number, unknownOus: readonly string[], unknownExclusions: readonly string[]): string[] {
  const problems = [
    ...unknownOus.map((id) => `GovernedOus entry ${id} matches no account of organization ${org.id} (not its root, and no account lies beneath it): a typo, another organization's OU, or an empty OU; it governs nothing`),
    ...unknownExclusions.map((id) => `ExcludedAccounts entry ${id} is not an account of organization ${org.id}: a typo would leave the account meant to be excluded governed`),
  ];
  if (governedCount === 0 && org.accounts.length > 0) problems.push(`the sweep governs none of the ${org.accounts.length} account(s) of organization ${org.id}: check GovernedOus and ExcludedAccounts`);
  return problems;
}
