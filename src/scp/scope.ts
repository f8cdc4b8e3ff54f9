/**
 * What a service control policy may deny in one place: the settings that can apply to a cluster there,
 * judged from what an SCP can know. An SCP sees the account it is attached above and the requested region
 * (`aws:RequestedRegion`), but not the cluster's name or tags, so a rule that matches on those might or
 * might not apply, and every setting it might bring has to be allowed for. Pure.
 */
import { compiledPolicy } from '../policy/compile';
import type { Match, Policy } from '../policy/schema';
import type { EffectiveSettings } from '../policy/types';
import { isBeneath, ouCovers } from '../org/context';

/**
 * A set of accounts and one region, as far as the generator knows them. An attached SCP applies to every
 * account beneath its target, so a scope describes all of them at once:
 * - `account`: the one account, or null for any account beneath the target;
 * - `ouPath`: ids every account of the scope is known to be beneath; `pathComplete` when that is all of them;
 * - `accountTags`: the account's tags, or null when unknown (no organization file);
 * - `region`: a region some rule names, or null for every region no rule names.
 */
export type Scope = {
  account: string | null;
  ouPath: readonly string[];
  pathComplete: boolean;
  accountTags: Readonly<Record<string, string>> | null;
  region: string | null;
};

type Tri = 'yes' | 'no' | 'maybe';

/** Whether a match block holds in the scope: for sure, never, or depending on what the SCP cannot see. */
export function matchInScope(m: Match, scope: Scope): Tri {
  const parts: Tri[] = [];
  if (m.accounts) parts.push(scope.account === null ? 'maybe' : m.accounts.includes(scope.account) ? 'yes' : 'no');
  // `null` stands for the regions no rule names, so a list of regions never holds there.
  if (m.regions) parts.push(scope.region !== null && m.regions.includes(scope.region) ? 'yes' : 'no');
  if (m.ous) {
    if (scope.pathComplete) parts.push(isBeneath(scope.ouPath, m.ous) ? 'yes' : 'no');
    else parts.push(m.ous.some((wide) => scope.ouPath.some((known) => ouCovers(wide, known))) ? 'yes' : 'maybe');
  }
  if (m.accountTags && Object.keys(m.accountTags).length > 0) {
    const tags = scope.accountTags;
    parts.push(tags === null ? 'maybe' : Object.entries(m.accountTags).every(([k, v]) => Object.hasOwn(tags, k) && tags[k] === v) ? 'yes' : 'no');
  }
  // The cluster's name and tags are not in any condition key an SCP can test reliably.
  if (m.clusters) parts.push('maybe');
  if (m.tags && Object.keys(m.tags).length > 0) parts.push('maybe');
  if (parts.includes('no')) return 'no';
  return parts.includes('maybe') ? 'maybe' : 'yes';
}

/** The index of a rule in `policy.rules`, or DEFAULTS for the policy's defaults. */
export const DEFAULTS = -1;

/**
 * Which rules may decide a cluster in the scope, in policy order: each rule that may match before the
 * first that surely does (rules are first-match), then that rule, or the defaults (DEFAULTS) when none
 * surely matches. What the SCPs say for a scope rests on exactly these rules.
 */
export function possibleRules(policy: Policy, scope: Scope): number[] {
  const out: number[] = [];
  for (let i = 0; i < policy.rules.length; i += 1) {
    const holds = matchInScope(policy.rules[i]!.match, scope);
    if (holds === 'no') continue;
    out.push(i);
    if (holds === 'yes') return out;
  }
  out.push(DEFAULTS);
  return out;
}

/**
 * Every effective setting that may apply to a cluster in the scope: the settings of possibleRules.
 * Over-approximates when one uncertain rule hides another; that only ever makes the generator deny less,
 * never more.
 */
export function possibleSettings(policy: Policy, scope: Scope): Readonly<EffectiveSettings>[] {
  const compiled = compiledPolicy(policy);
  return possibleRules(policy, scope).map((i) => (i === DEFAULTS ? compiled.defaults.settings : compiled.rules[i]!.template.settings));
}

/** The two widenings an SCP can refuse, by the condition key that expresses each. */
export type Widening = 'publicOn' | 'privateOff';

/**
 * True when every setting that may apply forbids the widening and is enforced. Alert-mode settings are
 * left out on purpose: there the guard only reports, and an SCP would turn a report into a refusal.
 */
export function refusable(settings: readonly Readonly<EffectiveSettings>[], widening: Widening): boolean {
  return settings.every((s) => s.mode === 'enforce' && (widening === 'publicOn' ? s.publicAccess === 'forbidden' : s.privateAccess === 'required'));
}
