/**
 * The outcome event: one EventBridge event per execution's outcome, put on the home account's default bus
 * so users route outcomes with ordinary rules (PagerDuty through API destinations, Slack, ticketing, a
 * SIEM). Pure: the detail is read off the same AlertCase the SNS alert is rendered from, so the event and
 * the alert cannot disagree. The detail is a public contract: `schemaVersion` changes when a field changes
 * meaning or goes away (adding a field does not change it).
 */
import { derivedClusterArn } from '../alerts/describe';
import { clusterThreadId } from '../alerts/detection';
import type { DetectionEventDetail } from './detection';
import type { EndpointConfig } from '../policy/types';
import type { AlertCase, IgnoredReason, Outcome, Severity, Trigger } from './types';

export const OUTCOME_EVENT_SOURCE = 'eks-endpoint-guard';
export const OUTCOME_EVENT_DETAIL_TYPE = 'Endpoint Guard Outcome';
export const OUTCOME_EVENT_SCHEMA_VERSION = 1;

/**
 * EventBridge's limit for one PutEvents entry (and one request): 256 KB, counted as the UTF-8 bytes of
 * Source, DetailType, Detail and each Resources entry (plus 14 for Time). The detail is kept well below it.
 */
export const EVENTBRIDGE_ENTRY_MAX_BYTES = 262_144;

// Bounds on what one event lists. A real outcome is far below each (EKS takes 40 CIDRs, a change lists
// one or two actors); the bounds exist so a pathological execution state cannot make the entry too big
// for PutEvents, which would lose the event. Each list says how many entries it left out.
const MAX_ACTORS = 20;
const MAX_VIOLATIONS = 50;
const MAX_CIDRS = 60;
const MAX_STRING = 1024;
const MAX_CAUSE = 4096;

export type OutcomeEventActor = { arn: string | null; type: string | null; eventName: string; eventTime: string; eventId: string; sourceIP: string | null; guardRoleMisuse: boolean };

export type OutcomeEventDetail = {
  schemaVersion: typeof OUTCOME_EVENT_SCHEMA_VERSION;
  /** The Step Functions execution: the same on every retry of NotifyOutcome, so consumers de-duplicate on it. */
  executionName: string;
  /** The same for every notice, alert and event of one cluster (the chat thread): `account/region/name`. */
  threadId: string;
  cluster: { account: string; region: string; name: string; arn: string };
  outcome: Outcome;
  /** Set when this outcome is a reminder of an open violation told before (the SNS alert says so too). */
  reminder: { firstAlertedTime: string; count: number } | null;
  /**
   * Whether the SNS alert was sent for this outcome: false for an unchanged open violation within
   * reminderHours (a repeat; route on it to avoid paging twice) and for good news nobody asked for.
   */
  published: boolean | null;
  severity: Severity;
  /** A failed outcome's `error: cause`, or an ignored outcome's reason; null otherwise. */
  reason: string | null;
  failure: { error: string; cause: string } | null;
  ignoredReason: IgnoredReason | null;
  /** The policy rule that decided (null: the defaults), and its mode. */
  rule: string | null;
  mode: 'enforce' | 'alert' | null;
  action: 'none' | 'remediate' | 'alert' | null;
  trigger: { kind: Trigger['kind']; eventId: string; eventName: string; eventTime: string; updateId: string | null };
  /** Every change that led to what was judged, oldest first (at most 20). */
  actors: OutcomeEventActor[];
  actorsOmitted: number;
  before: EndpointConfig | null;
  after: EndpointConfig | null;
  violations: { code: string; cidr: string | null }[];
  violationsOmitted: number;
  exemption: { source: 'policy' | 'tag'; name: string; reason: string; expires: string } | null;
  /** What the guard did: the revert's update id and how it ended (null when it did not act). */
  remediation: { status: string; updateId: string | null; updateStatus: string | null; attempt: number | null } | null;
  timings: {
    /** When the change was made (CloudTrail eventTime), or when the sweep ran. */
    changeTime: string;
    /** When the revert was verified (null unless the guard verified one). */
    verifiedTime: string | null;
    /** Seconds from the change to the verified fix (remediated and escalated outcomes). */
    timeToFixSeconds: number | null;
    /** When the outcome was reported. */
    reportedTime: string;
  };
  guardRoleMisuse: { session: string } | null;
  tagChange: { laxer: boolean; set: Record<string, string>; removed: string[] } | null;
  escalation: { reverts: number; withinMinutes: number; actors: (string | null)[] } | null;
  recheck: { attempt: number; nextAt: string; incident: string } | null;
  /** True when lists or strings were cut to keep the entry under EventBridge's limit. */
  truncated: boolean;
};

/** What the AlertCase does not carry: the execution's name and when its revert was verified. */
export type OutcomeEventContext = { executionName: string; verifiedAt: number | null; published?: boolean };

/** The one-line reason of an outcome: a failure's `error: cause`, an ignored outcome's reason, else null. */
export function outcomeReason(alertCase: Pick<AlertCase, 'failure' | 'ignoredReason'>): string | null {
  return alertCase.failure ? `${alertCase.failure.error}: ${alertCase.failure.cause}` : alertCase.ignoredReason;
}

/**
 * Whether an outcome gets an event: every execution's outcome, except an ALREADY_HANDLED one, which is a
 * duplicate (another execution's judgement, and its event, covered the same change). A repeated failure
 * RecordOutcome chose not to alert again still gets its event: consumers keep their own state.
 */
export function wantsOutcomeEvent(alertCase: Pick<AlertCase, 'ignoredReason'>): boolean {
  return alertCase.ignoredReason !== 'ALREADY_HANDLED';
}

const iso = (ms: number) => new Date(ms).toISOString();

function bounded<T>(items: readonly T[], max: number): { kept: T[]; omitted: number } {
  return { kept: items.slice(0, max), omitted: Math.max(0, items.length - max) };
}

/** The cluster's ARN: DescribeCluster's when the guard read it, else built the way EKS builds it. */
export function outcomeClusterArn(alertCase: Pick<AlertCase, 'cluster' | 'evaluation'>): string {
  return alertCase.evaluation?.cluster.arn ?? derivedClusterArn(alertCase.cluster);
}

/** Builds the event's detail from the AlertCase; unbounded (see `boundOutcomeDetail`). */
function rawDetail(c: AlertCase, context: OutcomeEventContext): OutcomeEventDetail {
  const actors = bounded(c.actors, MAX_ACTORS);
  const violations = bounded(c.evaluation?.violations ?? [], MAX_VIOLATIONS);
  const exemption = c.evaluation?.exemption ?? null;
  return {
    schemaVersion: OUTCOME_EVENT_SCHEMA_VERSION,
    executionName: context.executionName,
    threadId: clusterThreadId(c.cluster),
    cluster: { account: c.cluster.account, region: c.cluster.region, name: c.cluster.name, arn: outcomeClusterArn(c) },
    outcome: c.outcome,
    reminder: c.reminder ? { firstAlertedTime: new Date(c.reminder.firstAlertedAt).toISOString(), count: c.reminder.count } : null,
    published: context.published ?? null,
    severity: c.severity,
    reason: outcomeReason(c),
    failure: c.failure,
    ignoredReason: c.ignoredReason,
    rule: c.evaluation?.settings.rule ?? null,
    mode: c.evaluation?.settings.mode ?? null,
    action: c.evaluation?.action ?? null,
    trigger: { kind: c.trigger.kind, eventId: c.trigger.eventId, eventName: c.trigger.eventName, eventTime: c.trigger.eventTime, updateId: c.trigger.updateId },
    actors: actors.kept.map((a) => ({
      arn: a.actor?.arn ?? null,
      type: a.actor?.type ?? null,
      eventName: a.eventName,
      eventTime: a.eventTime,
      eventId: a.eventId,
      sourceIP: a.actor?.sourceIPAddress ?? null,
      guardRoleMisuse: a.guardRoleMisuse,
    })),
    actorsOmitted: actors.omitted,
    before: c.before,
    after: c.after,
    violations: violations.kept.map((v) => ({ code: v.code, cidr: v.cidr ?? null })),
    violationsOmitted: violations.omitted,
    exemption: exemption ? { source: exemption.source, name: exemption.name, reason: exemption.reason, expires: exemption.expires } : null,
    remediation: c.remediation
      ? { status: c.remediation.status, updateId: c.remediation.updateId, updateStatus: c.revertUpdate?.status ?? null, attempt: c.remediation.attempt ?? null }
      : null,
    timings: {
      changeTime: c.trigger.eventTime,
      verifiedTime: context.verifiedAt !== null ? iso(context.verifiedAt) : null,
      timeToFixSeconds: c.timeToFixSeconds,
      reportedTime: iso(c.at),
    },
    guardRoleMisuse: c.guardRoleMisuse,
    tagChange: c.tagChange ? { laxer: c.tagChange.laxer, set: c.tagChange.set, removed: c.tagChange.removed } : null,
    escalation: c.escalation ? { reverts: c.escalation.reverts, withinMinutes: c.escalation.withinMinutes, actors: c.escalation.actors.slice(0, MAX_ACTORS).map((a) => a.arn) } : null,
    recheck: c.recheck ? { attempt: c.recheck.attempt, nextAt: iso(c.recheck.nextAt), incident: c.recheck.incident } : null,
    truncated: actors.omitted > 0 || violations.omitted > 0,
  };
}

/** Cuts a string to `max` UTF-16 units (not through a surrogate pair), marking the cut. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = s.slice(0, max);
  return `${/[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head}...`;
}

/** Every string cut to `maxString` (causes to `maxCause`), every array to `maxItems`; reports whether anything was cut. */
function shrink(value: unknown, limits: { maxString: number; maxItems: number }, key = ''): { value: unknown; cut: boolean } {
  if (typeof value === 'string') {
    const max = key === 'cause' || key === 'reason' ? Math.max(limits.maxString, MAX_CAUSE) : limits.maxString;
    return value.length > max ? { value: cut(value, max), cut: true } : { value, cut: false };
  }
  if (Array.isArray(value)) {
    let wasCut = value.length > limits.maxItems;
    const items = value.slice(0, limits.maxItems).map((v) => {
      const r = shrink(v, limits);
      wasCut ||= r.cut;
      return r.value;
    });
    return { value: items, cut: wasCut };
  }
  if (value !== null && typeof value === 'object') {
    let wasCut = false;
    const entries = Object.entries(value).slice(0, key === 'set' ? limits.maxItems : undefined).map(([k, v]) => {
      const r = shrink(v, limits, k);
      // Tag keys are data too (only `set` has keys that are not the detail's own field names).
      const name = key === 'set' && k.length > limits.maxString ? cut(k, limits.maxString) : k;
      wasCut ||= r.cut || name !== k;
      return [name, r.value] as const;
    });
    if (key === 'set' && Object.keys(value).length > limits.maxItems) wasCut = true;
    return { value: Object.fromEntries(entries), cut: wasCut };
  }
  return { value, cut: false };
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The detail of an outcome's event, within `budget` bytes of JSON. Lists are bounded first (actors,
 * violations), then strings and CIDR lists (a tag value or an error cause of megabytes is not news), and
 * only if it is still too big are the tighter bounds applied again; `truncated` says so.
 */
export function buildOutcomeDetail(alertCase: AlertCase, context: OutcomeEventContext, budget = EVENTBRIDGE_ENTRY_MAX_BYTES - 4096): OutcomeEventDetail {
  const raw = rawDetail(alertCase, context);
  let limits = { maxString: MAX_STRING, maxItems: MAX_CIDRS };
  let result = shrink(raw, limits);
  let detail = { ...(result.value as OutcomeEventDetail), truncated: raw.truncated || result.cut };
  for (let round = 0; bytes(JSON.stringify(detail)) > budget && round < 8; round++) {
    // Not below 256 characters: outcome names, cluster ARNs (a name has at most 100) and timestamps stay whole.
    limits = { maxString: Math.max(256, Math.floor(limits.maxString / 4)), maxItems: Math.max(1, Math.floor(limits.maxItems / 4)) };
    result = shrink(raw, limits);
    detail = { ...(result.value as OutcomeEventDetail), truncated: true };
  }
  return { ...detail, actorsOmitted: alertCase.actors.length - detail.actors.length, violationsOmitted: (alertCase.evaluation?.violations.length ?? 0) - detail.violations.length };
}

/** One PutEvents entry, as the adapter sends it (the bus is the adapter's). */
export type GuardEvent = { source: string; detailType: string; resources: string[]; detail: OutcomeEventDetail | DetectionEventDetail };
/** The outcome event of one execution. */
export type OutcomeEvent = GuardEvent & { detail: OutcomeEventDetail };

/** The outcome event of an AlertCase, or null when the outcome gets none (see `wantsOutcomeEvent`). */
export function buildOutcomeEvent(alertCase: AlertCase, context: OutcomeEventContext): OutcomeEvent | null {
  if (!wantsOutcomeEvent(alertCase)) return null;
  const detail = buildOutcomeDetail(alertCase, context);
  return { source: OUTCOME_EVENT_SOURCE, detailType: OUTCOME_EVENT_DETAIL_TYPE, resources: [detail.cluster.arn], detail };
}
