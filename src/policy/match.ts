import { compiledPolicy, compileMatch, matchState, selectTemplate, settingsFrom, type MatchState, type MatchSubject } from './compile';
import type { Match, Policy } from './schema';
import type { EffectiveSettings } from './types';

export type { MatchState, MatchSubject } from './compile';

/**
 * True when every key of the match holds: any listed account, region or cluster glob (`*`, `?`)
 * matches, every listed tag is present with that exact value, the account is beneath one of the listed
 * `ous` and carries every listed `accountTags`. An unknown account or region never matches a list that
 * names some; a block on `ous`/`accountTags` is false without an account context (`matchOf` tells
 * that `unknown` apart).
 */
export function matches(match: Match, subject: MatchSubject): boolean {
  return matchOf(match, subject) === 'match';
}

/** `match`, `no-match`, or `unknown` when the answer needs the account context the subject lacks. */
export function matchOf(match: Match, subject: MatchSubject): MatchState {
  // Evaluation uses the policy's compiled blocks; this one-off form compiles as it goes, so a block
  // built and changed by a caller is always judged as it stands.
  return matchState(compileMatch(match), subject);
}

/**
 * The settings for one cluster: the policy defaults, overlaid by the fields of the FIRST rule whose
 * match holds (later rules are not consulted, so order rules from most to least specific). The
 * result is a fresh object the caller may keep or change. Throws AccountContextUnknownError when the
 * rule depends on an account context the subject lacks.
 */
export function resolveSettings(policy: Policy, subject: MatchSubject): EffectiveSettings {
  return settingsFrom(selectTemplate(compiledPolicy(policy), subject));
}
