/**
 * Which accounts of the organization one deployment governs: the accounts beneath its governed OUs,
 * less the excluded ones and those Organizations says cannot be acted on. Pure: the organization sweep
 * decides from this what to fan out, and reports every account it leaves out with the reason.
 */
import { isBeneath } from './context';
import type { Organization, OrgAccount } from './types';

export type SkipReason = 'SUSPENDED' | 'PENDING_CLOSURE' | 'EXCLUDED' | 'OUTSIDE_GOVERNED_OUS';

export type GovernanceSettings = {
  /** OU or root ids (stack parameter GovernedOus); empty means the whole organization. */
  governedOus: readonly string[];
  /** Account ids never acted on (stack parameter ExcludedAccounts). */
  excludedAccounts: readonly string[];
};

export type Governance = {
  /** In organization order. */
  governed: OrgAccount[];
  /** Every account not governed, with the first reason that applies (see governedAccounts). */
  skipped: { account: string; reason: SkipReason }[];
  /**
   * Excluded ids the organization does not list: a typo here would leave the account meant governed,
   * so it is reported rather than ignored.
   */
  unknownExclusions: string[];
  /**
   * GovernedOus entries no account of the organization lies beneath (no account's OU path holds the
   * id, nor is it the organization's root): a typo (`ou-ab12-workl0ad`), an OU of another organization,
   * or an empty OU. Such an entry governs nothing, and when it is the only one the guard is silently
   * off; so it is reported, and the sweep's coverage is not complete while it stands.
   */
  unknownOus: string[];
};

/**
 * Splits the organization's accounts into governed and skipped. Reasons are judged in this order,
 * the first that applies is reported: EXCLUDED (the operator said so, whatever else holds), SUSPENDED
 * and PENDING_CLOSURE (Organizations status: the account's roles cannot be trusted to answer, and it
 * is on its way out), OUTSIDE_GOVERNED_OUS (not beneath any governed OU or root). The management
 * account is judged like any other: it is governed when it lies beneath a governed OU (it sits under
 * the root, so only a root id or an empty list governs it).
 */
export function governedAccounts(org: Organization, settings: GovernanceSettings): Governance {
  const excluded = new Set(settings.excludedAccounts);
  const ous = new Set(settings.governedOus);
  const governed: OrgAccount[] = [];
  const skipped: Governance['skipped'] = [];
  for (const account of org.accounts) {
    const reason: SkipReason | null = excluded.has(account.id)
      ? 'EXCLUDED'
      : account.status === 'SUSPENDED'
        ? 'SUSPENDED'
        : account.status === 'PENDING_CLOSURE'
          ? 'PENDING_CLOSURE'
          : ous.size > 0 && !isBeneath(account.ouPath, ous)
            ? 'OUTSIDE_GOVERNED_OUS'
            : null;
    if (reason === null) governed.push(account);
    else skipped.push({ account: account.id, reason });
  }
  const members = new Set(org.accounts.map((a) => a.id));
  const unknownExclusions = [...excluded].filter((id) => !members.has(id));
  // The ids some account lies beneath: every OU on an account's path, and its root (the path's first).
  const known = new Set(org.accounts.flatMap((a) => a.ouPath));
  const unknownOus = [...ous].filter((id) => !known.has(id));
  return { governed, skipped, unknownExclusions, unknownOus };
}

/** One unit of sweep work per governed account and region, account-major, in the order given. */
export function governedUnits(governed: readonly OrgAccount[], regions: readonly string[]): { account: string; region: string }[] {
  return governed.flatMap((a) => regions.map((region) => ({ account: a.id, region })));
}
