import picomatch from 'picomatch';
import type { Match, Policy } from './schema';
import type { EffectiveSettings } from './types';

// Only `*` and `?` are glob syntax here (the schema allows no other special characters; this is belt and braces).
const GLOB_OPTIONS = { dot: true, nobrace: true, noextglob: true, nonegate: true, noglobstar: true } as const;

/** The facts a `match` block is judged on. */
export type MatchSubject = { name: string; account: string | null; region: string | null; tags: Record<string, string> };

/**
 * True when every key of the match holds: any listed account, region or cluster glob (`*`, `?`)
 * matches, and every listed tag is present with that exact value. An unknown account or region never
 * matches a list that names some.
 */
export function matches(match: Match, subject: MatchSubject): boolean {
  if (match.accounts && !(subject.account !== null && match.accounts.includes(subject.account))) return false;
  if (match.regions && !(subject.region !== null && match.regions.includes(subject.region))) return false;
  if (match.clusters && !picomatch.isMatch(subject.name, match.clusters, GLOB_OPTIONS)) return false;
  if (match.tags && !Object.entries(match.tags).every(([k, v]) => subject.tags[k] === v)) return false;
  return true;
}

/**
 * The settings for one cluster: the policy defaults, overlaid by the fields of the FIRST rule whose
 * match holds (later rules are not consulted, so order rules from most to least specific).
 */
export function resolveSettings(policy: Policy, subject: MatchSubject): EffectiveSettings {
  const rule = policy.rules.find((r) => matches(r.match, subject));
  const d = policy.defaults;
  return {
    rule: rule?.name ?? null,
    mode: rule?.mode ?? d.mode,
    publicAccess: rule?.publicAccess ?? d.publicAccess,
    privateAccess: rule?.privateAccess ?? d.privateAccess,
    allowedPublicCidrs: [...(rule?.allowedPublicCidrs ?? d.allowedPublicCidrs)],
    maxPublicCidrs: rule?.maxPublicCidrs ?? d.maxPublicCidrs,
  };
}
