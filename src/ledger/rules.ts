/**
 * The ledger's rules, as pure functions from one record to the next. The workflow applies them through
 * `LedgerPort.mutate`, so each is one compare-and-set write: two executions can never both take a lease,
 * and no record is lost when two writers meet.
 */
import type { Actor } from '../events/triage';
import type { ClusterRef, EffectiveSettings } from '../policy/types';
import { LEDGER_LIMITS, type ChangeRecord, type ClusterLedger, type JudgedSettings, type OpenAlert, type OwnUpdate, type RecheckSeries, type RevertRecord } from './types';

/** The record of a cluster the guard has never written about. */
export function emptyLedger(cluster: ClusterRef): ClusterLedger {
  return { cluster, lease: null, ownUpdates: [], reverts: [], changes: [], lastJudged: null, judgements: [], recheck: null, escalatedAt: null, openAlert: null };
}

const keepLast = <T>(items: T[], limit: number): T[] => (items.length > limit ? items.slice(items.length - limit) : items);

/**
 * Adds a change seen in CloudTrail, once per CloudTrail event id (a redelivered event changes nothing);
 * returns null when it is already there. Oldest entries fall off past LEDGER_LIMITS.changes.
 */
export function withChange(ledger: ClusterLedger, change: ChangeRecord): ClusterLedger | null {
  if (ledger.changes.some((c) => c.eventId === change.eventId)) return null;
  const changes = [...ledger.changes, boundedChange(change)].sort((a, b) => a.eventTime.localeCompare(b.eventTime));
  return fitLedger({ ...ledger, changes: keepLast(changes, LEDGER_LIMITS.changes) });
}

const clip = (text: string | null) => (text !== null && text.length > LEDGER_LIMITS.textChars ? `${text.slice(0, LEDGER_LIMITS.textChars - 3)}...` : text);
const clipActor = (actor: Actor | null): Actor | null =>
  actor && { arn: clip(actor.arn), type: clip(actor.type), sourceIPAddress: clip(actor.sourceIPAddress), userAgent: clip(actor.userAgent) };

/**
 * What one change may store: its strings and its tags bounded, so that whoever may tag a cluster cannot
 * grow its record past what DynamoDB accepts (and stop the guard from writing it).
 */
export function boundedChange(change: ChangeRecord): ChangeRecord {
  let tags: ChangeRecord['tags'] = null;
  if (change.tags) {
    const set = Object.entries(change.tags.set);
    const { removed } = change.tags;
    const omitted = (change.tags.omitted ?? 0) + Math.max(0, set.length - LEDGER_LIMITS.tagsPerChange) + Math.max(0, removed.length - LEDGER_LIMITS.tagsPerChange);
    tags = {
      set: Object.fromEntries(set.slice(0, LEDGER_LIMITS.tagsPerChange).map(([k, v]) => [clip(k)!, clip(v)!])),
      removed: removed.slice(0, LEDGER_LIMITS.tagsPerChange).map((k) => clip(k)!),
      ...(omitted > 0 ? { omitted } : {}),
    };
  }
  return { ...change, eventId: clip(change.eventId)!, eventName: clip(change.eventName)!, actor: clipActor(change.actor), updateId: clip(change.updateId), tags };
}

/** The record's size as DynamoDB would count it, closely enough (its JSON, in UTF-8 bytes). */
export function ledgerBytes(ledger: ClusterLedger): number {
  return Buffer.byteLength(JSON.stringify(ledger), 'utf8');
}

/**
 * Drops the oldest entries (changes already judged first, then reverts, then own updates) until the
 * record fits LEDGER_LIMITS.recordBytes. What goes is history; leases, the series and the latest
 * judgement are never dropped.
 */
export function fitLedger(ledger: ClusterLedger): ClusterLedger {
  let fitted = ledger;
  while (ledgerBytes(fitted) > LEDGER_LIMITS.recordBytes) {
    const handled = fitted.changes.findIndex((c) => c.handledBy !== null);
    if (handled >= 0) fitted = { ...fitted, changes: fitted.changes.filter((_, i) => i !== handled) };
    else if (fitted.reverts.length > 1) fitted = { ...fitted, reverts: fitted.reverts.slice(1) };
    else if (fitted.changes.length > 1) fitted = { ...fitted, changes: fitted.changes.slice(1) };
    else if (fitted.ownUpdates.length > 1) fitted = { ...fitted, ownUpdates: fitted.ownUpdates.slice(1) };
    else break;
  }
  return fitted;
}

export type LeaseAttempt = { acquired: boolean; holder: string | null; expiresAt: number | null };

/**
 * Takes (or renews) the cluster's lease for `holder` when it is free, expired or already theirs.
 * A lease that expired belonged to an execution that died without releasing it (aborted, timed out):
 * waiting for it any longer would leave the cluster unguarded.
 */
export function tryLease(ledger: ClusterLedger, holder: string, now: number, ttlMs: number): { next: ClusterLedger | null; result: LeaseAttempt } {
  const lease = ledger.lease;
  if (lease && lease.holder !== holder && lease.expiresAt > now) {
    return { next: null, result: { acquired: false, holder: lease.holder, expiresAt: lease.expiresAt } };
  }
  const acquiredAt = lease?.holder === holder ? lease.acquiredAt : now;
  const next = { ...ledger, lease: { holder, acquiredAt, expiresAt: now + ttlMs } };
  return { next, result: { acquired: true, holder, expiresAt: now + ttlMs } };
}

/** Gives the lease back; a lease someone else holds (ours expired and was taken over) is left alone. */
export function withoutLease(ledger: ClusterLedger, holder: string): ClusterLedger | null {
  return ledger.lease?.holder === holder ? { ...ledger, lease: null } : null;
}

/** True when `holder` still holds an unexpired lease: the only state in which it may change the cluster. */
export function holdsLease(ledger: ClusterLedger, holder: string, now: number): boolean {
  return ledger.lease?.holder === holder && ledger.lease.expiresAt > now;
}

/**
 * Marks every change not yet covered by a judgement, made before the cluster was read, as handled by
 * `execution`, and returns them: these are the actors whose changes led to what was judged. A cluster is
 * judged only once no update is running (DescribeCluster ACTIVE), so every change made before that read
 * has taken effect in what was read. CloudTrail times have whole seconds: a change in the same second as
 * the read may have come after it, so it is left to its own execution (a second alert rather than an
 * unjudged change), except `own`, the change this execution exists for, which certainly came before.
 */
export function claimChanges(ledger: ClusterLedger, execution: string, observedAt: number, own: string | null = null): { next: ClusterLedger | null; result: ChangeRecord[] } {
  const observedSecond = Math.floor(observedAt / 1000) * 1000;
  const claimed: ChangeRecord[] = [];
  const changes = ledger.changes.map((c) => {
    if (c.handledBy === execution) {
      claimed.push(c);
      return c;
    }
    const at = Date.parse(c.eventTime);
    const before = c.eventId === own || (!Number.isNaN(at) && at < observedSecond);
    if (c.handledBy !== null || !before) return c;
    const mine = { ...c, handledBy: execution };
    claimed.push(mine);
    return mine;
  });
  const changed = claimed.some((c) => !ledger.changes.includes(c));
  return { next: changed ? { ...ledger, changes } : null, result: claimed };
}

/** The change with this CloudTrail event id, if the ledger has it. */
export function changeOf(ledger: ClusterLedger, eventId: string): ChangeRecord | null {
  return ledger.changes.find((c) => c.eventId === eventId) ?? null;
}

/** Records an update the guard is about to make, before the call: triage then recognises its CloudTrail event. */
export function withOwnUpdate(ledger: ClusterLedger, update: OwnUpdate): ClusterLedger | null {
  const existing = ledger.ownUpdates.find((u) => u.token === update.token);
  if (existing && existing.updateId === update.updateId) return null;
  const ownUpdates = existing ? ledger.ownUpdates.map((u) => (u.token === update.token ? { ...u, updateId: update.updateId ?? u.updateId } : u)) : [...ledger.ownUpdates, update];
  return { ...ledger, ownUpdates: keepLast(ownUpdates, LEDGER_LIMITS.ownUpdates) };
}

/** The clientRequestTokens of the guard's recorded updates: what triage accepts as the guard's own. */
export function ownTokens(ledger: ClusterLedger): string[] {
  return ledger.ownUpdates.map((u) => u.token);
}

/** Adds a completed revert (once per execution). */
export function withRevert(ledger: ClusterLedger, revert: RevertRecord): ClusterLedger | null {
  if (ledger.reverts.some((r) => r.execution === revert.execution)) return null;
  const bounded = { ...revert, actors: uniqueActors(revert.actors).slice(0, LEDGER_LIMITS.actorsPerRevert).map((a) => clipActor(a)!) };
  return fitLedger({ ...ledger, reverts: keepLast([...ledger.reverts, bounded], LEDGER_LIMITS.reverts) });
}

/** Reverts completed within the last `minutes` before `now`. */
export function revertsWithin(ledger: ClusterLedger, now: number, minutes: number): RevertRecord[] {
  const since = now - minutes * 60_000;
  return ledger.reverts.filter((r) => r.at >= since && r.at <= now);
}

export type EscalationDecision = { escalate: boolean; reverts: number; actors: Actor[]; ongoing: boolean };

/**
 * Tug-of-war: once the guard has reverted a cluster `reverts` times within `withinMinutes`, the next
 * outcome is `escalated`, once. While the fight goes on (a revert within the window of the previous
 * one), the cluster stays escalated and later reverts are ordinary outcomes again, so a pipeline that
 * re-opens the cluster every few minutes pages once, not every round. A whole quiet window ends it.
 */
export function decideEscalation(ledger: ClusterLedger, now: number, settings: EffectiveSettings['escalation']): EscalationDecision {
  const recent = revertsWithin(ledger, now, settings.withinMinutes);
  const actors = uniqueActors(recent.flatMap((r) => r.actors));
  const windowMs = settings.withinMinutes * 60_000;
  // The current fight: the run of reverts, back from now, with no quiet window between two of them.
  let fightStart: number | null = null;
  let next = now;
  for (let i = ledger.reverts.length - 1; i >= 0; i -= 1) {
    const at = ledger.reverts[i]!.at;
    if (next - at > windowMs) break;
    fightStart = at;
    next = at;
  }
  const ongoing = ledger.escalatedAt !== null && fightStart !== null && ledger.escalatedAt >= fightStart;
  return { escalate: !ongoing && recent.length >= settings.reverts, reverts: recent.length, actors, ongoing };
}

/** Actors by ARN and user agent, first seen first: one line per distinct pipeline or person. */
export function uniqueActors(actors: (Actor | null)[]): Actor[] {
  const seen = new Set<string>();
  const out: Actor[] = [];
  for (const a of actors) {
    if (!a) continue;
    const key = `${a.arn}|${a.userAgent}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

/** What a judgement is remembered as; a later tag change is compared with it. */
export function judgedSettings(settings: EffectiveSettings, exempt: boolean, tags: Record<string, string>, at: number, execution?: string): JudgedSettings {
  return {
    ...(execution ? { execution } : {}),
    at,
    rule: settings.rule,
    mode: settings.mode,
    publicAccess: settings.publicAccess,
    privateAccess: settings.privateAccess,
    allowedPublicCidrs: [...settings.allowedPublicCidrs],
    maxPublicCidrs: settings.maxPublicCidrs,
    exempt,
    tags: { ...tags },
  };
}

/** Adds a judgement to the short history a later tag change is compared with. */
export function withJudgement(ledger: ClusterLedger, judged: JudgedSettings): ClusterLedger {
  return { ...ledger, judgements: keepLast([...(ledger.judgements ?? []), judged], LEDGER_LIMITS.judgements) };
}

/**
 * The settings the cluster was judged under before a change made at `eventTime`: the newest judgement
 * from an earlier CloudTrail second (one in the same second may already have seen the change), or null.
 */
export function judgedBefore(ledger: ClusterLedger, eventTime: string): JudgedSettings | null {
  const at = Date.parse(eventTime);
  if (Number.isNaN(at)) return null;
  const second = Math.floor(at / 1000) * 1000;
  const all = [...(ledger.judgements ?? []), ...(ledger.lastJudged ? [ledger.lastJudged] : [])].filter((j) => j.at < second);
  return all.sort((a, b) => a.at - b.at).at(-1) ?? null;
}

const PUBLIC_ORDER = { forbidden: 0, restricted: 1, unrestricted: 2 } as const;

/**
 * True when `after` lets the cluster do something `before` did not: an exemption gained, alert-only
 * instead of enforce, a more open public level, private access no longer required, a CIDR allowed
 * that was not, or a higher CIDR limit. The allowlists are compared as text: a block that is only
 * re-written (split or merged) reads as laxer, which errs on the side of telling someone.
 */
export function isLaxer(before: JudgedSettings, after: JudgedSettings): boolean {
  if (after.exempt && !before.exempt) return true;
  if (before.exempt) return false;
  if (before.mode === 'enforce' && after.mode === 'alert') return true;
  if (PUBLIC_ORDER[after.publicAccess] > PUBLIC_ORDER[before.publicAccess]) return true;
  if (before.privateAccess === 'required' && after.privateAccess === 'optional') return true;
  if (after.publicAccess === 'restricted' && before.publicAccess === 'restricted' && after.allowedPublicCidrs.some((c) => !before.allowedPublicCidrs.includes(c))) return true;
  return after.maxPublicCidrs > before.maxPublicCidrs;
}

/** Re-check delays: the first within 15 minutes, doubling, then hourly for as long as it takes. */
export const RECHECK_DELAYS_SECONDS = [600, 1200, 2400, 3600] as const;

/** Seconds before re-check number `attempt` (1-based). */
export function recheckDelaySeconds(attempt: number): number {
  return RECHECK_DELAYS_SECONDS[Math.min(attempt, RECHECK_DELAYS_SECONDS.length) - 1]!;
}

/**
 * The escalation stage of a re-check series: 0 at the first failure, then 1 after 6 hours of failing,
 * 2 after 24 hours, and one more per further day. On-call hears once per stage, and when the reason
 * changes: repeated attempts do not repeat the page.
 */
export function recheckStage(series: RecheckSeries, now: number): number {
  const hours = (now - series.startedAt) / 3_600_000;
  if (hours < 6) return 0;
  if (hours < 24) return 1;
  return 1 + Math.floor(hours / 24);
}

export type RecheckPlan = { series: RecheckSeries; delaySeconds: number; alert: boolean };

/**
 * The next step of a re-check series after a failure that may pass: start one (alerting), or continue
 * the running one (alerting only on a new stage or a new reason).
 */
export function nextRecheck(ledger: ClusterLedger, execution: string, reason: string, now: number): RecheckPlan {
  const current = ledger.recheck;
  if (!current) {
    const delaySeconds = recheckDelaySeconds(1);
    return {
      series: { incident: execution, startedAt: now, attempts: 1, nextAt: now + delaySeconds * 1000, pending: null, reason, lastExecution: execution, lastAlerted: true, alertedAt: now, alertedStage: 0 },
      delaySeconds,
      alert: true,
    };
  }
  // The same execution again (a retried step): the same plan, not one more attempt.
  if (current.lastExecution === execution) {
    return { series: current, delaySeconds: recheckDelaySeconds(current.attempts), alert: current.lastAlerted };
  }
  const attempts = current.attempts + 1;
  const delaySeconds = recheckDelaySeconds(attempts);
  const stage = recheckStage(current, now);
  const alert = stage > current.alertedStage || reason !== current.reason;
  return {
    series: { ...current, attempts, nextAt: now + delaySeconds * 1000, reason, lastExecution: execution, lastAlerted: alert, alertedAt: alert ? now : current.alertedAt, alertedStage: Math.max(stage, current.alertedStage) },
    delaySeconds,
    alert,
  };
}

/** What makes two open violations the same for on-call: no times, no execution names. */
export type OpenAlertSubject = {
  outcome: string;
  rule: string | null;
  mode: string;
  endpointPublicAccess: boolean;
  endpointPrivateAccess: boolean;
  publicAccessCidrs: readonly string[];
  violations: readonly string[];
  /** A refused revert's error name (a different refusal is news). */
  failure: string | null;
};

/** The fingerprint of an open violation: CIDRs and violation codes sorted, so their order is no change. */
export function openAlertFingerprint(s: OpenAlertSubject): string {
  return JSON.stringify([s.outcome, s.rule, s.mode, s.endpointPublicAccess, s.endpointPrivateAccess, [...s.publicAccessCidrs].sort(), [...new Set(s.violations)].sort(), s.failure]);
}

export type OpenAlertDecision = { next: OpenAlert; decision: OpenAlert['lastDecision'] };

const RECENT_DECISIONS = 8;
const remember = (open: OpenAlert | null, execution: string, decision: NonNullable<OpenAlert['recent']>[number]['decision']) => [...(open?.recent ?? []), { execution, decision }].slice(-RECENT_DECISIONS);

/** What `execution` decided about this open alert before (a retried step), or null. */
export function earlierDecision(open: OpenAlert | null, execution: string): NonNullable<OpenAlert['recent']>[number]['decision'] | null {
  return open?.recent?.findLast((r) => r.execution === execution)?.decision ?? (open && !open.recent && open.lastExecution === execution ? open.lastDecision : null);
}

/**
 * Whether an open violation is told now: `alert` when it is new (no open alert, a closed one, a
 * different fingerprint, or `fresh`: a cluster just created, whatever a deleted namesake left behind),
 * `reminder` when the same one was last told `reminderHours` ago or more, `quiet` otherwise. The same
 * execution asking again (a retried step) gets the answer it got before.
 */
export function decideOpenAlert(current: OpenAlert | null, fingerprint: string, outcome: string, execution: string, now: number, reminderHours: number, fresh = false): OpenAlertDecision {
  const before = earlierDecision(current, execution);
  if (current && before && before !== 'closed') return { next: current, decision: before };
  if (fresh || !current || current.closedBy || current.fingerprint !== fingerprint) {
    return { next: { fingerprint, outcome, firstAlertedAt: now, lastAlertedAt: now, reminders: 0, lastExecution: execution, lastDecision: 'alert', recent: remember(current, execution, 'alert') }, decision: 'alert' };
  }
  if (now - current.lastAlertedAt >= reminderHours * 3_600_000) {
    return { next: { ...current, lastAlertedAt: now, reminders: current.reminders + 1, lastExecution: execution, lastDecision: 'reminder', recent: remember(current, execution, 'reminder') }, decision: 'reminder' };
  }
  return { next: { ...current, lastExecution: execution, lastDecision: 'quiet', recent: remember(current, execution, 'quiet') }, decision: 'quiet' };
}

/** Closes an open alert (the outcome fixed it, or the cluster is gone): once, the same on a retry. */
export function closeOpenAlert(current: OpenAlert | null, execution: string): { next: OpenAlert | null; closed: OpenAlert | null } {
  if (!current) return { next: null, closed: null };
  if (earlierDecision(current, execution) === 'closed') return { next: current, closed: current };
  if (current.closedBy) return { next: current, closed: null };
  const next = { ...current, closedBy: execution, recent: remember(current, execution, 'closed') };
  return { next, closed: next };
}
