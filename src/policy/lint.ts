import { ouCovers } from '../org/context';
import { compileMatch, matchState, type MatchSubject } from './compile';
import { compileGlob } from './glob';
import { expiryInstant, type Match, type Policy } from './schema';
import type { PolicyWarning, PolicyWarningCode } from './types';

/** An exemption ending within this many days of the check is reported as expiring soon. */
export const EXPIRY_WARNING_DAYS = 14;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Everything `validate` may warn about in a valid policy: the codes of types.ts and those found here. */
export type PolicyLintCode = PolicyWarningCode | 'RULE_SHADOWED' | 'RULE_MATCHES_NOTHING' | 'EXEMPTION_MATCHES_NOTHING' | 'MATCH_NEEDS_ORGANIZATION';
export type PolicyLint = Omit<PolicyWarning, 'code'> & { code: PolicyLintCode };

/**
 * What is legal in a policy but probably not meant, judged at the instant `now` (epoch ms):
 * exemptions that have expired (`EXEMPTION_EXPIRED`) or end within 14 days (`EXEMPTION_EXPIRING`);
 * rules that match on cluster `tags` alone (`RULE_MATCHES_TAGS_ONLY`): tags are set by whoever may tag
 * the cluster, so such a rule lets cluster owners choose their own rule (account tags, set in the
 * management account, and OUs do not count as tags here); and rules that can never apply
 * because an earlier rule matches every cluster they match (`RULE_SHADOWED`, see `matchImplies`). In
 * policy order: exemptions first, then rules. Pure; an empty list when nothing applies.
 */
export function policyWarnings(policy: Policy, now: number): PolicyLint[] {
  const warnings: PolicyLint[] = [];
  policy.exemptions.forEach((e, i) => {
    const until = expiryInstant(e.expires);
    // The schema admits only expiries that have an instant; a null here would be a hand-built policy.
    if (until === null) return;
    if (until <= now) {
      warnings.push({ code: 'EXEMPTION_EXPIRED', message: `exemptions[${i}] ${e.name}: expired at ${e.expires}; it exempts nothing and can be removed` });
    } else if (until - now <= EXPIRY_WARNING_DAYS * DAY_MS) {
      const days = Math.ceil((until - now) / DAY_MS);
      warnings.push({
        code: 'EXEMPTION_EXPIRING',
        message: `exemptions[${i}] ${e.name}: expires at ${e.expires}, within ${EXPIRY_WARNING_DAYS} days (${days} day${days === 1 ? '' : 's'} left)`,
      });
    }
  });
  policy.rules.forEach((r, i) => {
    // An empty mapping (`accountTags: {}`) narrows nothing, so it does not count as a key.
    const keys = Object.entries(r.match).filter(([, v]) => v !== undefined && (Array.isArray(v) || Object.keys(v).length > 0)).map(([k]) => k);
    if (keys.length === 1 && keys[0] === 'tags') {
      warnings.push({
        code: 'RULE_MATCHES_TAGS_ONLY',
        message: `rules[${i}] ${r.name}: matches on tags alone, so cluster owners choose their own rule: anyone who can tag a cluster can move it into this rule (add accounts, ous, accountTags, regions or clusters to the match)`,
      });
    }
    const earlier = policy.rules.findIndex((e, j) => j < i && matchImplies(e.match, r.match));
    if (earlier !== -1) {
      warnings.push({
        code: 'RULE_SHADOWED',
        message: `rules[${i}] ${r.name} is never used: rules[${earlier}] ${policy.rules[earlier]!.name} matches every cluster it matches`,
      });
    }
  });
  return warnings;
}

/**
 * True when the cluster name glob `wide` matches every name `narrow` matches. Sound, not complete: it
 * says true only for shapes where that is certain (the same glob; a glob of stars alone; a glob without
 * wildcards that `wide` matches; `prefix*` over a glob whose literal start begins with that prefix,
 * `*suffix` likewise at the end), and false for anything it cannot prove.
 */
export function globCovers(wide: string, narrow: string): boolean {
  if (wide === narrow || /^\*+$/.test(wide)) return true;
  if (!/[*?]/.test(narrow)) return compileGlob(wide)(narrow);
  const stars = wide.split('*').length - 1;
  if (wide.includes('?') || stars !== 1) return false;
  const first = narrow.search(/[*?]/);
  const last = Math.max(narrow.lastIndexOf('*'), narrow.lastIndexOf('?'));
  if (wide.endsWith('*')) return narrow.slice(0, first).startsWith(wide.slice(0, -1));
  if (wide.startsWith('*')) return narrow.slice(last + 1).endsWith(wide.slice(1));
  return false;
}

const hasTags = (m: Match) => m.tags !== undefined && Object.keys(m.tags).length > 0;
const hasAccountTags = (m: Match) => m.accountTags !== undefined && Object.keys(m.accountTags).length > 0;
const includesAll = (wide: Record<string, string>, narrow: Record<string, string>) => Object.entries(wide).every(([k, v]) => Object.hasOwn(narrow, k) && narrow[k] === v);

/**
 * True when every cluster `later` matches is matched by `earlier` too, so a rule with `later` after one
 * with `earlier` never applies. Each key `earlier` names must be named by `later` as narrowly or more:
 * its accounts and regions a subset, its tags and account tags a superset (same values), each of its
 * cluster globs covered by one of `earlier`'s (`globCovers`), and each of its OUs one of `earlier`'s or
 * in a root `earlier` lists (`ouCovers`: without the OU tree, an OU nested in a listed OU is not known
 * to be beneath it). A key only `later` names narrows it further. Sound: it may miss a shadowed rule,
 * but never reports one that can apply.
 */
export function matchImplies(earlier: Match, later: Match): boolean {
  if (earlier.accounts !== undefined) {
    if (later.accounts === undefined || !later.accounts.every((a) => earlier.accounts!.includes(a))) return false;
  }
  if (earlier.regions !== undefined) {
    if (later.regions === undefined || !later.regions.every((r) => earlier.regions!.includes(r))) return false;
  }
  if (hasTags(earlier)) {
    if (!hasTags(later) || !includesAll(earlier.tags!, later.tags!)) return false;
  }
  if (hasAccountTags(earlier)) {
    if (!hasAccountTags(later) || !includesAll(earlier.accountTags!, later.accountTags!)) return false;
  }
  if (earlier.ous !== undefined) {
    if (later.ous === undefined || !later.ous.every((o) => earlier.ous!.some((w) => ouCovers(w, o)))) return false;
  }
  if (earlier.clusters !== undefined) {
    if (later.clusters === undefined || !later.clusters.every((g) => earlier.clusters!.some((w) => globCovers(w, g)))) return false;
  }
  return true;
}

/**
 * What a policy says about an inventory of clusters (`validate --inventory`): rules and exemptions whose
 * match holds for none of them (`RULE_MATCHES_NOTHING`, `EXEMPTION_MATCHES_NOTHING`): a misspelt name,
 * an account that left, a cluster long deleted, an OU id of another organization. Judged by the match
 * alone, as evaluation judges it (a cluster of unknown account or region never matches a list of
 * accounts or regions). A block on `ous`/`accountTags` that no cluster matches for sure but some might,
 * their account context being unknown (no organization given), is `MATCH_NEEDS_ORGANIZATION` instead:
 * whether it matches anything cannot be told. Pure.
 */
export function inventoryWarnings(policy: Policy, clusters: readonly MatchSubject[]): PolicyLint[] {
  const warnings: PolicyLint[] = [];
  const count = `${clusters.length} cluster${clusters.length === 1 ? '' : 's'}`;
  /** 'some' when a cluster matches for sure, else how many might (their account context unknown). */
  const judge = (match: Match): 'some' | number => {
    const compiled = compileMatch(match);
    let unknown = 0;
    for (const c of clusters) {
      const state = matchState(compiled, c);
      if (state === 'match') return 'some';
      if (state === 'unknown') unknown += 1;
    }
    return unknown;
  };
  const unknownMessage = (what: string, unknown: number) =>
    `${what} matches on ous/accountTags: none of the ${count} of the inventory is known to match, and for ${unknown} of them it depends on their account's place in the organization, which was not given`;
  policy.rules.forEach((r, i) => {
    const found = judge(r.match);
    if (found === 0) warnings.push({ code: 'RULE_MATCHES_NOTHING', message: `rules[${i}] ${r.name} matches none of the ${count} of the inventory` });
    else if (found !== 'some') warnings.push({ code: 'MATCH_NEEDS_ORGANIZATION', message: unknownMessage(`rules[${i}] ${r.name}`, found) });
  });
  policy.exemptions.forEach((e, i) => {
    const found = judge(e.match);
    if (found === 0) {
      warnings.push({ code: 'EXEMPTION_MATCHES_NOTHING', message: `exemptions[${i}] ${e.name} matches none of the ${count} of the inventory; it exempts nothing there and may be removed` });
    } else if (found !== 'some') warnings.push({ code: 'MATCH_NEEDS_ORGANIZATION', message: unknownMessage(`exemptions[${i}] ${e.name}`, found) });
  });
  return warnings;
}
