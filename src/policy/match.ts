import { compiledPolicy, compileMatch, matchesCompiled, selectTemplate, settingsFrom, type MatchSubject } from './compile';
import type { Match, Policy } from './schema';
import type { EffectiveSettings } from './types';

export type { MatchSubject } from './compile';

/**
 * True when every key of the match holds: any listed account, region or cluster glob (`*`, `?`)
 * matches, and every listed tag is present with that exact value. An unknown account or region never
 * matches a list that names some.
 */
export function matches(match: Match, subject: MatchSubject): boolean {
  // Evaluation uses the policy's compiled blocks; this one-off form compiles as it goes, so a block
  // built and changed by a caller is always judged as it stands.
  return matchesCompiled(compileMatch(match), subject);
}

/**
 * The settings for one cluster: the policy defaults, overlaid by the fields of the FIRST rule whose
 * match holds (later rules are not consulted, so order rules from most to least specific). The
 * result is a fresh object the caller may keep or change.
 */
export function resolveSettings(policy: Policy, subject: MatchSubject): EffectiveSettings {
  return settingsFrom(selectTemplate(compiledPolicy(policy), subject));
}
