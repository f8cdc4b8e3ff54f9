/**
 * The compiled form of a policy: every glob, account and region list, CIDR allowlist and expiry turned
 * into what evaluation needs, once, so judging a cluster parses and compiles nothing. It lives in a
 * WeakMap keyed by the policy object rather than on the object, so a policy prints, compares and
 * serializes exactly as it did before compiling existed, and is freed with the policy.
 */
import { GuardError } from '../errors';
import type { AccountContext } from '../org/types';
import { parseAllowlist, type Cidr } from './cidr';
import { compileGlob, type GlobMatcher } from './glob';
import { DEFAULT_ESCALATION, DEFAULT_MAX_TAG_EXEMPTION_DAYS, DEFAULT_REMINDER_HOURS, expiryInstant, type Match, type Policy, type PolicyExemption } from './schema';
import type { EffectiveSettings } from './types';

/**
 * The facts a `match` block is judged on. `accountContext` is where the account stands in the
 * organization (OU path, account tags); null or absent means not known (the organization was not
 * read), which is not the same as an account outside the organization (OUTSIDE_ORGANIZATION).
 */
export type MatchSubject = { name: string; account: string | null; region: string | null; tags: Record<string, string>; accountContext?: AccountContext | null };

/**
 * A match block's answer for one subject. `unknown`: the cluster-side keys hold, but the block also
 * names `ous` or `accountTags` and the subject's account context is not known, so whether it matches
 * cannot be told. Never read as a no: a rule skipped on a guess would hand the cluster to a later,
 * possibly laxer, rule or to the defaults.
 */
export type MatchState = 'match' | 'no-match' | 'unknown';

/** What a rule or an exemption that could not be judged without the organization is. */
export type UnknownMatch = { kind: 'rule' | 'exemption'; index: number; name: string };

/**
 * A decision that depends on the account's place in the organization, asked without it. Evaluation
 * throws this instead of guessing; whoever can read the organization reads it and judges again.
 */
export class AccountContextUnknownError extends GuardError {
  override readonly name = 'AccountContextUnknownError';
  constructor(
    readonly subject: { name: string; account: string | null; region: string | null },
    readonly needs: UnknownMatch,
  ) {
    const where = `${needs.kind === 'rule' ? 'rules' : 'exemptions'}[${needs.index}] ${needs.name}`;
    super(
      `cluster ${subject.name} (${subject.account ?? 'unknown account'}/${subject.region ?? 'unknown region'}): ${where} matches on ous/accountTags and the account's place in the organization is not known; the guard does not judge on a guess (read the organization and judge again)`,
    );
  }
}

/** A match block ready to judge: null fields are keys the block does not name. */
export type CompiledMatch = {
  accounts: ReadonlySet<string> | null;
  regions: ReadonlySet<string> | null;
  clusters: readonly GlobMatcher[] | null;
  tags: readonly (readonly [string, string])[] | null;
  ous: ReadonlySet<string> | null;
  accountTags: readonly (readonly [string, string])[] | null;
  /**
   * The characters every one of `clusters` needs in a name, as two 32-bit words of `charBit` positions
   * (0 and 0 when the block names no globs): a name whose own characters lack one of them matches none
   * of the globs, so a rule is ruled out with two AND operations before any glob runs (see `ruleChoice`).
   */
  needLo: number;
  needHi: number;
};

/**
 * Effective settings fixed at compile time, with the allowlist already parsed and already written out as
 * violation messages quote it (`allowedText`), so a violating cluster costs no join per CIDR.
 */
export type SettingsTemplate = { settings: Readonly<EffectiveSettings>; allowed: readonly Cidr[]; allowedText: string };

export type CompiledRule = { name: string; match: CompiledMatch; template: SettingsTemplate };
export type CompiledExemption = { entry: PolicyExemption; match: CompiledMatch; until: number | null };

export type CompiledPolicy = {
  defaults: SettingsTemplate;
  rules: readonly CompiledRule[];
  /** Null for a policy small enough that trying every rule in turn is as fast. */
  index: RuleIndex | null;
  /** Each rule's `needLo` and `needHi`, side by side in policy order (rule i at 2i and 2i+1): the character filter reads them without touching the rule objects. */
  needs: Int32Array;
  exemptions: readonly CompiledExemption[];
  exemptionTag: string;
  /** True when some rule or exemption matches on `ous` or `accountTags`: only then is the organization read. */
  usesOrganization: boolean;
};

const STAR = 42; // '*'
const QUESTION = 63; // '?'

// The 64 characters an EKS name may hold (letters, digits, `-`, `_`) each get a bit of their own, so
// the filter is exact for real names; any other character shares a bit by its low six bits, which only
// makes the filter let more rules through to the real match, never fewer.
const CHAR_BITS = (() => {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c += 1) table[c] = c & 63;
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
  for (let i = 0; i < alphabet.length; i += 1) table[alphabet.charCodeAt(i)] = i;
  return table;
})();
const charBit = (c: number): number => (c < 128 ? CHAR_BITS[c]! : c & 63);

/**
 * Compiles one match block. Any listed account, region or glob may hold; every listed tag must be
 * present with exactly that value. Pure; the result does not refer back to `match`.
 */
export function compileMatch(match: Match): CompiledMatch {
  // A name matching some glob holds every literal character of that glob, so it holds the characters
  // all the globs share: intersecting the globs' masks keeps this a necessary condition for the block.
  let needLo = 0;
  let needHi = 0;
  if (match.clusters) {
    needLo = -1;
    needHi = -1;
    for (const glob of match.clusters) {
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < glob.length; i += 1) {
        const c = glob.charCodeAt(i);
        if (c === STAR || c === QUESTION) continue;
        const bit = charBit(c);
        if (bit < 32) lo |= 1 << bit;
        else hi |= 1 << (bit - 32);
      }
      needLo &= lo;
      needHi &= hi;
    }
  }
  return {
    accounts: match.accounts ? new Set(match.accounts) : null,
    regions: match.regions ? new Set(match.regions) : null,
    clusters: match.clusters ? match.clusters.map(compileGlob) : null,
    tags: match.tags ? Object.entries(match.tags) : null,
    ous: match.ous ? new Set(match.ous) : null,
    // An empty mapping names nothing: it must not make the block depend on the organization.
    accountTags: match.accountTags && Object.keys(match.accountTags).length > 0 ? Object.entries(match.accountTags) : null,
    needLo,
    needHi,
  };
}

/** True when the block names `ous` or `accountTags`, so judging it needs the account's context. */
export const needsAccountContext = (m: CompiledMatch): boolean => m.ous !== null || m.accountTags !== null;

/**
 * True when every key of the compiled match holds for the subject, false otherwise, including when
 * the block needs an account context the subject lacks (`matchState` tells that case apart). An
 * unknown account or region never matches a list that names some.
 */
export function matchesCompiled(m: CompiledMatch, subject: MatchSubject): boolean {
  return matchState(m, subject) === 'match';
}

/**
 * Judges a compiled match block: every key must hold. The cluster's own keys are judged first, so a
 * block one of them rules out is a plain `no-match` whatever the organization says; only a block they
 * all admit asks for the account context, and is `unknown` without one. The cheap set lookups go
 * first, the globs last.
 */
export function matchState(m: CompiledMatch, subject: MatchSubject): MatchState {
  if (m.accounts !== null && (subject.account === null || !m.accounts.has(subject.account))) return 'no-match';
  if (m.regions !== null && (subject.region === null || !m.regions.has(subject.region))) return 'no-match';
  if (m.tags !== null) {
    // A key inherited from Object.prototype (`constructor`) is never a string, so it cannot equal a value.
    for (const [key, value] of m.tags) if (subject.tags[key] !== value) return 'no-match';
  }
  if (m.clusters !== null) {
    let any = false;
    for (const glob of m.clusters) {
      if (glob(subject.name)) {
        any = true;
        break;
      }
    }
    if (!any) return 'no-match';
  }
  if (m.ous === null && m.accountTags === null) return 'match';
  const context = subject.accountContext;
  if (context === null || context === undefined) return 'unknown';
  if (m.ous !== null && !context.ouPath.some((id) => m.ous!.has(id))) return 'no-match';
  if (m.accountTags !== null) {
    for (const [key, value] of m.accountTags) if (!Object.hasOwn(context.tags, key) || context.tags[key] !== value) return 'no-match';
  }
  return 'match';
}

function template(settings: EffectiveSettings): SettingsTemplate {
  Object.freeze(settings.allowedPublicCidrs);
  Object.freeze(settings.escalation);
  return { settings: Object.freeze(settings), allowed: parseAllowlist(settings.allowedPublicCidrs), allowedText: settings.allowedPublicCidrs.join(', ') };
}

/**
 * Builds the compiled form of a policy: for the defaults and for each rule, the full effective
 * settings (the rule's fields overlaid on the defaults, field by field; escalation's two halves each
 * on their own), with parsed allowlists; compiled match blocks; and each exemption's end instant.
 * Pure: the policy is read, never changed.
 */
export function compilePolicy(policy: Policy): CompiledPolicy {
  const d = policy.defaults;
  const defaults = template({
    rule: null,
    mode: d.mode,
    publicAccess: d.publicAccess,
    privateAccess: d.privateAccess,
    allowedPublicCidrs: [...d.allowedPublicCidrs],
    maxPublicCidrs: d.maxPublicCidrs,
    // A policy built by hand rather than parsed may predate these keys: give it their defaults.
    maxTagExemptionDays: d.maxTagExemptionDays ?? DEFAULT_MAX_TAG_EXEMPTION_DAYS,
    escalation: {
      reverts: d.escalation?.reverts ?? DEFAULT_ESCALATION.reverts,
      withinMinutes: d.escalation?.withinMinutes ?? DEFAULT_ESCALATION.withinMinutes,
    },
  });
  const base = defaults.settings;
  const rules = policy.rules.map(
    (r): CompiledRule => ({
      name: r.name,
      match: compileMatch(r.match),
      template: template({
        rule: r.name,
        mode: r.mode ?? base.mode,
        publicAccess: r.publicAccess ?? base.publicAccess,
        privateAccess: r.privateAccess ?? base.privateAccess,
        allowedPublicCidrs: [...(r.allowedPublicCidrs ?? base.allowedPublicCidrs)],
        maxPublicCidrs: r.maxPublicCidrs ?? base.maxPublicCidrs,
        maxTagExemptionDays: r.maxTagExemptionDays ?? base.maxTagExemptionDays,
        escalation: {
          reverts: r.escalation?.reverts ?? base.escalation.reverts,
          withinMinutes: r.escalation?.withinMinutes ?? base.escalation.withinMinutes,
        },
      }),
    }),
  );
  const exemptions = policy.exemptions.map((e): CompiledExemption => ({ entry: e, match: compileMatch(e.match), until: expiryInstant(e.expires) }));
  const index = policy.rules.length > INDEX_MIN_RULES ? buildIndex(policy.rules.map((r) => r.match)) : null;
  const needs = new Int32Array(rules.length * 2);
  rules.forEach((r, i) => {
    needs[2 * i] = r.match.needLo;
    needs[2 * i + 1] = r.match.needHi;
  });
  const usesOrganization = [...rules.map((r) => r.match), ...exemptions.map((e) => e.match)].some(needsAccountContext);
  return Object.freeze({ defaults, rules: Object.freeze(rules), index, needs, exemptions: Object.freeze(exemptions), exemptionTag: policy.exemptionTag, usesOrganization });
}

type CacheEntry = { compiled: CompiledPolicy; rules: unknown; exemptions: unknown; defaults: unknown; exemptionTag: string; counts: [number, number] };
const cache = new WeakMap<object, CacheEntry>();

/**
 * The compiled form of `policy`, built on first use and then remembered for that object. Policies
 * from `parsePolicy`/`validatePolicy` are frozen, so their compiled form can never go stale. A policy
 * built by hand is compiled the same way; if its top-level parts are replaced or its lists grow or
 * shrink, it is compiled again, but edits deeper inside a hand-built policy after its first use are not
 * seen: build a new policy object instead.
 */
export function compiledPolicy(policy: Policy): CompiledPolicy {
  const hit = cache.get(policy);
  if (
    hit !== undefined &&
    hit.rules === policy.rules &&
    hit.exemptions === policy.exemptions &&
    hit.defaults === policy.defaults &&
    hit.exemptionTag === policy.exemptionTag &&
    hit.counts[0] === policy.rules.length &&
    hit.counts[1] === policy.exemptions.length
  ) {
    return hit.compiled;
  }
  const compiled = compilePolicy(policy);
  cache.set(policy, {
    compiled,
    rules: policy.rules,
    exemptions: policy.exemptions,
    defaults: policy.defaults,
    exemptionTag: policy.exemptionTag,
    counts: [policy.rules.length, policy.exemptions.length],
  });
  return compiled;
}

/**
 * Which rules could match a subject, so that a policy of a thousand rules is not tried rule by rule.
 * Every key of a match block is necessary (any listed account, any listed region, every listed tag,
 * any listed glob), so each rule is filed under ONE of its keys, the one fewest other rules share:
 * its accounts, its regions, one of its tag pairs, or its globs. A glob is filed by its literal prefix
 * (what comes before the first wildcard) or, when that is longer, its literal suffix (after the last);
 * a glob with wildcards at both ends, by one three-character piece of a literal run, the one fewest
 * globs share (the name must contain it). A rule with none of these (a glob such as `*a*`) is always a
 * candidate. A subject's candidates are the rules filed under its account, its region, its tags, the
 * prefixes, suffixes and three-character pieces of its name, and those always tried; they are tried in
 * policy order, so the first candidate that matches is the first rule that matches. Before its match
 * block is judged, a candidate whose globs all need a character the name lacks is passed over (the
 * character filter, `CompiledPolicy.needs`): that is how rules no index can file (`*9*9*7*`) stay cheap.
 */
export type RuleIndex = {
  byAccount: ReadonlyMap<string, readonly number[]>;
  byRegion: ReadonlyMap<string, readonly number[]>;
  byTag: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
  byPrefix: ReadonlyMap<string, readonly number[]>;
  bySuffix: ReadonlyMap<string, readonly number[]>;
  byGram: ReadonlyMap<string, readonly number[]>;
  /** The distinct lengths of the keys of `byPrefix` and of `bySuffix`, ascending. */
  prefixLengths: readonly number[];
  suffixLengths: readonly number[];
  always: readonly number[];
};

// Below this many rules, trying each in turn costs no more than consulting the index.
const INDEX_MIN_RULES = 16;
const GRAM = 3;

type Bucket = 'account' | 'region' | 'prefix' | 'suffix' | 'gram' | 'tag';
/** One way to file a rule: under every one of its keys (a tag key is `[name, value]` as JSON). */
type Filing = { bucket: Bucket; key: string }[];

/** The distinct three-character pieces of a glob's literal runs. */
function gramsOf(glob: string): string[] {
  const grams = new Set<string>();
  for (const run of glob.split(/[*?]+/)) for (let i = 0; i + GRAM <= run.length; i += 1) grams.add(run.slice(i, i + GRAM));
  return [...grams];
}

function globFiling(glob: string, gramSharing: ReadonlyMap<string, number>): { bucket: 'prefix' | 'suffix' | 'gram'; key: string } | null {
  const first = glob.search(/[*?]/);
  if (first === -1) return { bucket: 'prefix', key: glob };
  const prefix = glob.slice(0, first);
  const suffix = glob.slice(Math.max(glob.lastIndexOf('*'), glob.lastIndexOf('?')) + 1);
  if (prefix !== '' || suffix !== '') return suffix.length > prefix.length ? { bucket: 'suffix', key: suffix } : { bucket: 'prefix', key: prefix };
  let best: string | null = null;
  for (const gram of gramsOf(glob)) if (best === null || gramSharing.get(gram)! < gramSharing.get(best)!) best = gram;
  return best === null ? null : { bucket: 'gram', key: best };
}

function filingsOf(m: Match, gramSharing: ReadonlyMap<string, number>): Filing[] {
  const filings: Filing[] = [];
  if (m.accounts) filings.push([...new Set(m.accounts)].map((key) => ({ bucket: 'account' as const, key })));
  if (m.regions) filings.push([...new Set(m.regions)].map((key) => ({ bucket: 'region' as const, key })));
  if (m.clusters) {
    const globs = m.clusters.map((g) => globFiling(g, gramSharing));
    if (globs.every((g) => g !== null)) filings.push(globs as Filing);
  }
  for (const pair of Object.entries(m.tags ?? {})) filings.push([{ bucket: 'tag', key: JSON.stringify(pair) }]);
  return filings;
}

function buildIndex(matches: readonly Match[]): RuleIndex {
  const gramSharing = new Map<string, number>();
  for (const m of matches) for (const glob of m.clusters ?? []) for (const gram of gramsOf(glob)) gramSharing.set(gram, (gramSharing.get(gram) ?? 0) + 1);
  const filings = matches.map((m) => filingsOf(m, gramSharing));
  const sharing = new Map<string, number>();
  const id = (e: { bucket: Bucket; key: string }) => `${e.bucket}\u0000${e.key}`;
  for (const options of filings) for (const f of options) for (const e of f) sharing.set(id(e), (sharing.get(id(e)) ?? 0) + 1);
  const cost = (f: Filing) => f.reduce((sum, e) => sum + sharing.get(id(e))!, 0);

  const maps: Record<Exclude<Bucket, 'tag'>, Map<string, number[]>> = { account: new Map(), region: new Map(), prefix: new Map(), suffix: new Map(), gram: new Map() };
  const byTag = new Map<string, Map<string, number[]>>();
  const always: number[] = [];
  const file = (map: Map<string, number[]>, key: string, i: number) => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [i]);
    else if (list[list.length - 1] !== i) list.push(i);
  };
  filings.forEach((options, i) => {
    let best: Filing | null = null;
    for (const f of options) if (best === null || cost(f) < cost(best)) best = f;
    if (best === null) return void always.push(i);
    for (const { bucket, key } of best) {
      if (bucket !== 'tag') {
        file(maps[bucket], key, i);
        continue;
      }
      const [name, value] = JSON.parse(key) as [string, string];
      let values = byTag.get(name);
      if (values === undefined) byTag.set(name, (values = new Map()));
      file(values, value, i);
    }
  });
  const lengths = (map: Map<string, number[]>) => [...new Set([...map.keys()].map((k) => k.length))].sort((a, b) => a - b);
  return {
    byAccount: maps.account,
    byRegion: maps.region,
    byTag,
    byPrefix: maps.prefix,
    bySuffix: maps.suffix,
    byGram: maps.gram,
    prefixLengths: lengths(maps.prefix),
    suffixLengths: lengths(maps.suffix),
    always,
  };
}

/**
 * Every candidate list of the index for this subject; each list is in policy order. Written without
 * helper closures: it runs once per evaluated cluster.
 */
function candidateLists(index: RuleIndex, subject: MatchSubject): (readonly number[])[] {
  const lists: (readonly number[])[] = [];
  let list: readonly number[] | undefined;
  if (subject.account !== null && (list = index.byAccount.get(subject.account)) !== undefined) lists.push(list);
  if (subject.region !== null && (list = index.byRegion.get(subject.region)) !== undefined) lists.push(list);
  if (index.byTag.size > 0) {
    for (const key in subject.tags) {
      if (Object.hasOwn(subject.tags, key) && (list = index.byTag.get(key)?.get(subject.tags[key]!)) !== undefined) lists.push(list);
    }
  }
  const name = subject.name;
  for (const length of index.prefixLengths) {
    if (length > name.length) break;
    if ((list = index.byPrefix.get(name.slice(0, length))) !== undefined) lists.push(list);
  }
  for (const length of index.suffixLengths) {
    if (length > name.length) break;
    if ((list = index.bySuffix.get(name.slice(name.length - length))) !== undefined) lists.push(list);
  }
  if (index.byGram.size > 0) {
    for (let i = 0; i + GRAM <= name.length; i += 1) if ((list = index.byGram.get(name.slice(i, i + GRAM))) !== undefined) lists.push(list);
  }
  if (index.always.length > 0) lists.push(index.always);
  return lists;
}

/**
 * The rule that applies, decided in policy order: the first rule whose match holds (`index`, or -1 for
 * the defaults), or, when a rule that cannot be judged without the account context comes before any
 * rule that holds, `unknown` with that rule's position: the answer depends on the organization. The
 * one place rule order is decided.
 */
export function ruleChoice(compiled: CompiledPolicy, subject: MatchSubject): { index: number; unknown: boolean } {
  const rules = compiled.rules;
  if (compiled.index === null) {
    for (let i = 0; i < rules.length; i += 1) {
      const state = matchState(rules[i]!.match, subject);
      if (state !== 'no-match') return { index: i, unknown: state === 'unknown' };
    }
    return NO_RULE;
  }
  // The name's characters, once per subject: a candidate whose globs need a character the name lacks is
  // skipped without running them (rules no index can file, such as `*9*9*7*`, are mostly skipped here).
  const name = subject.name;
  let haveLo = 0;
  let haveHi = 0;
  for (let i = 0; i < name.length; i += 1) {
    const bit = charBit(name.charCodeAt(i));
    if (bit < 32) haveLo |= 1 << bit;
    else haveHi |= 1 << (bit - 32);
  }
  // Skipping on the filter cannot turn an `unknown` into a wrong no-match: a block none of whose globs
  // can hold is a no-match whatever the organization says, as `matchState` itself would find.
  const needs = compiled.needs;
  const lists = candidateLists(compiled.index, subject);
  if (lists.length === 1) {
    // One list (the usual case for a name-filed rule set): no merge needed.
    const list = lists[0]!;
    for (let h = 0; h < list.length; h += 1) {
      const i = list[h]!;
      if (((needs[2 * i]! & ~haveLo) | (needs[2 * i + 1]! & ~haveHi)) !== 0) continue;
      const state = matchState(rules[i]!.match, subject);
      if (state !== 'no-match') return { index: i, unknown: state === 'unknown' };
    }
    return NO_RULE;
  }
  // Walk the candidate lists together in increasing rule position (a k-way merge; k is small).
  const heads = new Array<number>(lists.length).fill(0);
  let last = -1;
  for (;;) {
    let next = -1;
    let from = -1;
    for (let l = 0; l < lists.length; l += 1) {
      const list = lists[l]!;
      const h = heads[l]!;
      if (h < list.length && (next === -1 || list[h]! < next)) {
        next = list[h]!;
        from = l;
      }
    }
    if (next === -1) return NO_RULE;
    heads[from]! += 1;
    if (next === last) continue;
    last = next;
    // A rule left out of every candidate list has a cluster-side key the subject fails, so it is a
    // plain no-match: an unknown one is always among the candidates, in its place in policy order.
    if (((needs[2 * next]! & ~haveLo) | (needs[2 * next + 1]! & ~haveHi)) !== 0) continue;
    const state = matchState(rules[next]!.match, subject);
    if (state !== 'no-match') return { index: next, unknown: state === 'unknown' };
  }
}

const NO_RULE: { index: number; unknown: boolean } = Object.freeze({ index: -1, unknown: false });

/**
 * The position of the first rule whose match holds, or -1 for the defaults. Throws
 * AccountContextUnknownError when that depends on an account context the subject lacks.
 */
export function firstMatchingRule(compiled: CompiledPolicy, subject: MatchSubject): number {
  const choice = ruleChoice(compiled, subject);
  if (choice.unknown) throw new AccountContextUnknownError(subject, { kind: 'rule', index: choice.index, name: compiled.rules[choice.index]!.name });
  return choice.index;
}

/** The template of the first rule whose match holds, else the defaults'; throws as `firstMatchingRule` does. */
export function selectTemplate(compiled: CompiledPolicy, subject: MatchSubject): SettingsTemplate {
  const i = firstMatchingRule(compiled, subject);
  return i === -1 ? compiled.defaults : compiled.rules[i]!.template;
}

/** True when judging clusters against `policy` may need the organization (some match names ous or accountTags). */
export function policyUsesOrganization(policy: Policy): boolean {
  return compiledPolicy(policy).usesOrganization;
}

/** A fresh, caller-owned copy of template settings (lists and nested objects copied too). */
export function settingsFrom(t: SettingsTemplate): EffectiveSettings {
  const s = t.settings;
  return {
    rule: s.rule,
    mode: s.mode,
    publicAccess: s.publicAccess,
    privateAccess: s.privateAccess,
    allowedPublicCidrs: [...s.allowedPublicCidrs],
    maxPublicCidrs: s.maxPublicCidrs,
    maxTagExemptionDays: s.maxTagExemptionDays,
    escalation: { reverts: s.escalation.reverts, withinMinutes: s.escalation.withinMinutes },
  };
}

/**
 * The reminder cadence of the rule that decided (null: the defaults): how often on-call hears again of a
 * violation the guard does not close. Not part of a judgement (the verdict and `check` do not depend on
 * it), so it is looked up by the rule's name when the workflow records an outcome.
 */
export function reminderHoursOf(policy: Policy | undefined, rule: string | null): number {
  // A policy built by hand rather than parsed may predate the key, or be a test's partial stand-in.
  const own = rule === null ? undefined : policy?.rules?.find((r) => r.name === rule)?.reminderHours;
  return own ?? policy?.defaults?.reminderHours ?? DEFAULT_REMINDER_HOURS;
}
