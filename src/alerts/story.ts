/**
 * The story of one execution, told once and shared by the subject, the email text and the chat
 * notification: what is wrong, who caused it, what happened in one sentence, what was done, what to do
 * next. Pure.
 */
import type { Actor } from '../events/triage';
import type { ChangeRecord } from '../ledger/types';
import { findViolations } from '../policy/evaluate';
import type { EndpointTarget, Violation, Warning } from '../policy/types';
import type { AlertCase, Outcome, Trigger } from '../workflow/types';
import {
  type Endpoint,
  type SettingRow,
  changesSummary,
  distinctActors,
  endpointBrief,
  endpointChanges,
  endpointSummary,
  judgedChanges,
  judgedRows,
  preflightFix,
  preflightPhrase,
  problemPhrase,
  requestText,
  tagList,
  toEndpoint,
  toolHint,
  updateCommand,
} from './describe';
import { bounded, formatDuration, isoTime, oneLine, shellWord } from './format';

/** Something for the reader to do; a command is kept apart so it is never wrapped or reworded. */
export type Step = { text: string; command?: string };

/** An actor as an alert names them, cleaned; `unknown` where CloudTrail did not say. */
export type ActorLine = { arn: string; type: string; sourceIp: string; userAgent: string; tool: string | null };

/** One change that led to what was judged: who, when, and what they asked for. */
export type ChangeLine = ActorLine & { event: string; at: string; eventId: string; requested: string; guardRole: boolean };

/** Everything the renderers need, read once from an `AlertCase` and cleaned of control characters. */
export type Story = {
  cluster: { name: string; account: string; region: string };
  before: Endpoint | null;
  /** The second column of the settings table: the verified result, or what would be or was to be applied. */
  second: { label: 'after' | 'would be' | 'target'; endpoint: Endpoint } | null;
  target: EndpointTarget | null;
  violations: Violation[];
  /** How to head the violations: after a failed revert they may be the ones still present. */
  violationsHeading: string;
  warnings: Warning[];
  /** What is wrong, in a few words (`open to 0.0.0.0/0`). */
  problem: string;
  /** The subject's text after the colon. */
  summary: string;
  /** What happened, in one sentence (two when the guard's role was misused). */
  happened: string;
  /** What the guard did (or did not do) and why. */
  done: string[];
  /** Failure only: why, and what to do. */
  failure: { reason: string; whatToDo: Step[] } | null;
  /** Manual action only: the VPC and each preflight problem with the command that fixes it. */
  manual: { vpc: string; problems: Array<{ check: string; message: string; fix: string }> } | null;
  /** Commands and actions for the reader, most useful first. */
  nextSteps: Step[];
  /** The command that applies the target by hand, when there is a target. */
  command: string | null;
  timeToFix: string | null;
  /** Every change that led to what was judged, oldest first; empty when nobody is known (a sweep). */
  changes: ChangeLine[];
  /** Sweeps and re-checks: how the execution began, in one sentence. */
  origin: string | null;
  /** The change was made with the guard's role by someone else: the session, and what to do about it. */
  misuse: { session: string; whatToDo: Step[] } | null;
  /** A tag change that changed the rule or exemption the cluster is judged under. */
  tagChange: {
    laxer: boolean;
    by: ActorLine | null;
    set: string[];
    removed: string[];
    /** Tags set or removed in the same calls that the ledger did not keep (not in `set` / `removed`). */
    omitted: number;
    rows: SettingRow[];
    changes: string[];
    whatToDo: Step[];
  } | null;
  /** The guard will look at the cluster again. */
  recheck: { attempt: number; at: string; wait: string; incident: string } | null;
  /** A tug-of-war: how often the guard reverted, everyone involved, and what to fix at the source. */
  escalation: { reverts: number | null; minutes: number | null; actors: ActorLine[]; whatToDo: Step[] } | null;
};

const NO_SAFE_PREFIX = /^no safe automatic change: /;

// The ledger keeps up to 50 changes per cluster; past a screenful, an alert names only the most recent.
const MAX_CHANGES = 20;
const MAX_ACTORS = 20;

/** The outcome in a couple of words, after `guard role used outside the guard,` in a subject. */
const OUTCOME_WORDS: Record<Outcome, string> = {
  remediated: 'reverted',
  alerted: 'violation, not changed',
  'manual-action-required': 'manual action needed',
  failed: 'revert failed',
  escalated: 'tug-of-war',
  exempt: 'exempt',
  compliant: 'complies',
  ignored: 'no action',
};

/**
 * Reads an `AlertCase` into a `Story`. `evaluation` is taken as the judgement that decided what to do
 * (the assessment of `before`), so its violations are the ones that caused the alert; when the outcome
 * is a failure after a completed revert, the violations still present in `after` are worked out again
 * from the same settings, so the alert says what is still wrong rather than what was wrong. What the
 * case adds to any outcome (a misused guard role, a tag change that loosened the policy, a scheduled
 * re-check) is told on top of the outcome's own story, most alarming first.
 */
export function tellStory(c: AlertCase): Story {
  const story = outcomeStory(c);
  const misuse = c.guardRoleMisuse ? { session: oneLine(c.guardRoleMisuse.session, 300) || 'unknown', whatToDo: misuseSteps(c.guardRoleMisuse.session, story.cluster.region) } : null;
  const tagChange = tagChangeStory(c);
  const recheck = c.recheck ? recheckStory(c.recheck, c.at) : null;
  let { summary, happened, done, nextSteps } = story;
  if (tagChange?.laxer) {
    const by = tagChange.by ? ` by ${tagChange.by.arn}` : '';
    happened = `${happened} A tag change${by} loosened the policy for this cluster (${bounded(tagChange.changes, 3).join(', ')}).`;
    nextSteps = [...tagChange.whatToDo, ...nextSteps];
    // An info outcome was raised to a warning for the tag change alone, so the subject is about it.
    if (c.outcome === 'compliant' || c.outcome === 'exempt' || c.outcome === 'ignored') summary = tagSummary(c);
  }
  if (recheck) {
    happened = `${happened} The guard tries again at ${recheck.at} (${recheck.wait}).`;
    done = [...done, `Scheduled re-check ${recheck.attempt} for ${recheck.at} (${recheck.wait}).`];
    nextSteps = [
      ...nextSteps,
      { text: `The guard tries again by itself: re-check ${recheck.attempt} at ${recheck.at} (${recheck.wait}). Repeated attempts will not page again unless something changes; a reminder follows while it stays open.` },
    ];
  }
  if (c.reminder) {
    const since = isoTime(c.reminder.firstAlertedAt);
    summary = `still open since ${since.slice(0, 10)}: ${summary}`;
    happened = `Reminder ${c.reminder.count}: this violation was first reported at ${since} and is still open, unchanged. ${happened}`;
    nextSteps = [
      ...nextSteps,
      { text: `The guard reminds at most once every ${c.reminder.reminderHours} hours (reminderHours) while the violation stays as it is; a change to it, or a fix, is reported at once.` },
    ];
  } else if (c.closedAlert) {
    happened = `${happened} This closes the violation reported at ${isoTime(c.closedAlert.firstAlertedAt)} (${OUTCOME_WORDS[c.closedAlert.outcome as Outcome] ?? c.closedAlert.outcome}).`;
    if (c.outcome === 'compliant') summary = `fixed, ${summary}`;
  }
  if (misuse) {
    summary = `guard role used outside the guard, ${OUTCOME_WORDS[c.outcome]}`;
    happened = `The change was made with the guard's own role outside the guard: someone holds the guard's role credentials. It was judged like any other change: ${happened}`;
    nextSteps = [...misuse.whatToDo, ...nextSteps];
  }
  return { ...story, summary, happened, done, nextSteps, misuse, tagChange, recheck };
}

type OutcomeStory = Omit<Story, 'misuse' | 'tagChange' | 'recheck'>;

function outcomeStory(c: AlertCase): OutcomeStory {
  const cluster = { name: oneLine(c.cluster.name, 100) || '(unnamed)', account: oneLine(c.cluster.account, 32), region: oneLine(c.cluster.region, 32) };
  const evaluation = c.evaluation;
  const settings = evaluation?.settings ?? null;
  const before = toEndpoint(c.before ?? evaluation?.observed);
  const after = toEndpoint(c.after);
  const target = c.remediation?.target ?? evaluation?.target ?? null;
  const planned = toEndpoint(target);
  const violations = evaluation?.violations ?? [];
  const warnings = evaluation?.warnings ?? [];
  const problem = problemPhrase(before, violations, settings);
  const command = target ? updateCommand(c.cluster, target) : null;
  const where = `cluster ${cluster.name} (account ${cluster.account}, ${cluster.region})`;
  const attempt = recheckAttempt(c.trigger);
  const found =
    c.trigger.kind === 'sweep'
      ? `The scheduled sweep found that ${where}`
      : c.trigger.kind === 'recheck'
        ? `On re-check${attempt === null ? '' : ` ${attempt}`}, ${where}`
        : `After ${oneLine(c.trigger.eventName, 64)}, ${where}`;
  // A recheck that ends well closes an incident: say so first, it is what the reader was waiting for.
  const fixedOn = c.trigger.kind === 'recheck' ? `fixed on re-check${attempt === null ? '' : ` ${attempt}`}` : null;
  const timeToFix = c.timeToFixSeconds === null ? null : formatDuration(c.timeToFixSeconds);
  const applyYourself: Step[] = command ? [{ text: 'Apply the fix yourself:', command }] : [];
  const changes = changeLines(c);
  const base = {
    cluster,
    before,
    target,
    violations,
    violationsHeading: 'VIOLATIONS',
    warnings,
    problem,
    command,
    timeToFix,
    failure: null,
    manual: null,
    changes,
    origin: originOf(c, changes.length > 0),
    escalation: null,
  };
  const actorsWord = changes.length > 1 ? 'the actors above' : 'the actor above';
  const findWho = 'Find who made the change in CloudTrail event history (UpdateClusterConfig, CreateCluster)';
  const askWhy =
    changes.length === 0
      ? `${findWho} and ask whether it was intended: if it is made again without an exemption, the guard reverts it again.`
      : `Ask ${actorsWord} whether the change was intended: if it is made again without an exemption, the guard reverts it again.`;

  switch (c.outcome) {
    case 'remediated': {
      const result = after ?? planned;
      const changed = before && result ? changesSummary(endpointChanges(before, result), 'done') : '';
      const alreadyThere = c.remediation?.status === 'already-compliant';
      const since = c.trigger.kind === 'sweep' ? 'sweep found it' : c.trigger.kind === 'recheck' ? 're-check started' : 'change';
      return {
        ...base,
        second: result ? { label: 'after', endpoint: result } : null,
        summary: fixedOn ? `${fixedOn}: ${changed || 'verified compliant'}` : changed || 'verified compliant',
        happened: `${found} broke the endpoint policy (${problem}); the guard ${alreadyThere ? 'found it already at the compliant setting' : `reverted it (${changed || 'target applied'})`} and verified the fix${timeToFix ? ` ${timeToFix} after the ${since}` : ''}.`,
        done: [
          alreadyThere
            ? 'EKS reported the cluster already at the target configuration, so no update was needed.'
            : `Applied: ${planned ? endpointSummary(planned) : 'the target'} (UpdateClusterConfig, endpoint fields only).`,
          `Verified: the cluster now has ${after ? endpointSummary(after) : 'the target settings'}, which complies with the policy.`,
        ],
        // Whoever holds the guard's role is not someone to ask; the misuse steps replace this one.
        nextSteps: c.guardRoleMisuse ? [] : [{ text: askWhy }],
      };
    }
    case 'escalated':
      return { ...base, ...escalationStory(c, { where, problem, planned, after, changes }) };
    case 'alerted': {
      const noSafe = warnings.find((w) => w.code === 'NO_SAFE_REMEDIATION');
      if (!planned || noSafe) {
        const why = noSafe ? oneLine(noSafe.message.replace(NO_SAFE_PREFIX, ''), 400) : 'the policy gives no target to apply';
        return {
          ...base,
          second: null,
          summary: `${problem}, no safe fix`,
          happened: `${found} breaks the endpoint policy (${problem}) and no automatic change is safe, so nothing was changed.`,
          done: [`Nothing was changed: no safe automatic change (${why}).`],
          nextSteps: [{ text: 'Decide which endpoint settings to keep and change the cluster to comply with the policy.' }],
        };
      }
      const planText = before ? changesSummary(endpointChanges(before, planned), 'planned') : '';
      const rule = settings?.rule ? `rule ${oneLine(settings.rule, 100)}` : 'the policy defaults';
      const alertMode = settings?.mode === 'alert';
      return {
        ...base,
        second: { label: 'would be', endpoint: planned },
        summary: `${problem}, would ${planText || 'apply the target'}`,
        happened: `${found} breaks the endpoint policy (${problem}); ${alertMode ? 'alert-only mode is on' : 'the guard was not allowed to change it'}, so nothing was changed.`,
        done: [
          alertMode ? `Nothing was changed: ${rule} is in alert-only mode (mode: alert, or shadow mode for the whole deployment).` : 'Nothing was changed.',
          `In enforce mode the guard would set ${endpointSummary(planned)}.`,
        ],
        nextSteps: [
          ...applyYourself,
          ...(alertMode ? [{ text: `To let the guard revert such changes, set mode: enforce for ${rule}.` }] : []),
        ],
      };
    }
    case 'manual-action-required': {
      const problems = c.preflight?.problems ?? [];
      const vpc = oneLine(c.preflight?.vpcId ?? evaluation?.observed.vpcId ?? '', 64) || 'of the cluster';
      const fixed = problems.slice(0, 10).map((p) => ({
        check: oneLine(p.check, 40),
        message: oneLine(p.message, 600),
        fix: oneLine(p.fix, 600) || preflightFix(p.check, c.preflight?.vpcId ?? null, c.cluster.region),
      }));
      return {
        ...base,
        manual: { vpc, problems: fixed },
        second: planned ? { label: 'would be', endpoint: planned } : null,
        summary: `${preflightPhrase(problems)}, nothing changed`,
        happened: `${found} breaks the endpoint policy (${problem}), but the fix would cut clients inside the VPC off: VPC ${vpc} cannot resolve the private endpoint, so nothing was changed.`,
        done: [`Nothing was changed: the safety preflight failed for VPC ${vpc}${planned ? `, so ${endpointSummary(planned)} was not applied` : ''}.`],
        nextSteps: [
          ...fixed.map((p) => ({ text: `Fix the VPC (${p.check}):`, command: p.fix })),
          command ? { text: 'Then apply the fix (or wait for the next scheduled sweep to do it):', command } : { text: 'Then wait for the next scheduled sweep to apply the fix.' },
        ],
      };
    }
    case 'failed': {
      const remaining = c.after && settings ? findViolations(settings, c.after) : [];
      const failure = explainFailure(c, cluster, remaining.length > 0);
      return {
        ...base,
        violations: remaining.length > 0 ? remaining : violations,
        violationsHeading: remaining.length > 0 ? 'VIOLATIONS STILL PRESENT AFTER THE REVERT' : 'VIOLATIONS',
        second: after ? { label: 'after', endpoint: after } : planned ? { label: 'target', endpoint: planned } : null,
        summary: failure.summary,
        happened: `The guard could not bring ${where} into compliance (${failure.reason}); the cluster may still break the endpoint policy${violations.length > 0 ? ` (${problem})` : ''}.`,
        done: failure.done,
        failure: { reason: failure.reason, whatToDo: failure.whatToDo },
        nextSteps: [...failure.whatToDo, ...applyYourself],
      };
    }
    case 'exempt': {
      const ex = evaluation?.exemption ?? null;
      const until = ex ? oneLine(ex.expires, 40) : 'an unknown date';
      const by = ex ? (ex.source === 'tag' ? `cluster tag ${oneLine(ex.name, 128)}` : `policy exemption ${oneLine(ex.name, 100)}`) : 'an exemption';
      return {
        ...base,
        second: null,
        // The date first: it is what the reader needs, and a long problem may be cut.
        summary: violations.length > 0 ? `exempt until ${until}, ${problem}` : `exempt until ${until}`,
        happened:
          violations.length > 0
            ? `${found} breaks the endpoint policy (${problem}) but is exempt until ${until} (${by}), so nothing was changed.`
            : `${found} is exempt until ${until} (${by}); it complies anyway.`,
        done: [`Nothing was changed: exempt until ${until} (${by}).`],
        nextSteps: [{ text: `The exemption ends ${until}; after that the guard enforces the policy on this cluster.` }],
      };
    }
    case 'compliant': {
      const brief = before ? endpointBrief(before) : null;
      const complies = brief ? `complies: ${brief}` : 'complies with policy';
      return {
        ...base,
        second: null,
        summary: fixedOn ? `${fixedOn}: ${brief ?? 'complies'}` : complies,
        happened: `${found} complies with the endpoint policy; nothing ${fixedOn ? 'needed changing any more' : 'was changed'}.`,
        done: ['Nothing was changed: the cluster complies.'],
        nextSteps: [],
      };
    }
    case 'ignored':
      if (c.ignoredReason === 'CLUSTER_DELETED') {
        return {
          ...base,
          second: null,
          summary: 'cluster deleted while the guard was working on it',
          happened: `The ${where} was deleted while the guard was working on it (after ${oneLine(c.trigger.eventName, 64)}); there is nothing left to enforce.`,
          done: ['Nothing was changed: the cluster no longer exists. Nothing to do.'],
          nextSteps: [],
        };
      }
      if (c.ignoredReason === 'ALREADY_HANDLED') {
        return {
          ...base,
          second: null,
          summary: 'already handled by another run of the guard',
          happened: `The ${oneLine(c.trigger.eventName, 64)} event about ${where} was already judged by another run of the guard, whose alert names the actor; nothing more to do.`,
          done: ['Nothing was changed.'],
          nextSteps: [],
        };
      }
      return {
        ...base,
        second: null,
        summary: 'no action needed',
        happened: `The ${oneLine(c.trigger.eventName, 64)} event about ${where} needs no action.`,
        done: ['Nothing was changed.'],
        nextSteps: [],
      };
  }
}

function recheckAttempt(trigger: Trigger): number | null {
  const attempt = trigger.recheck?.attempt;
  return typeof attempt === 'number' && Number.isFinite(attempt) ? attempt : null;
}

/**
 * The changes to name: the workflow's list, or the trigger's own change when it gave none (a single
 * CloudTrail event). A sweep and a re-check have no change of their own.
 */
function changeLines(c: AlertCase): ChangeLine[] {
  const t = c.trigger;
  const own: ChangeRecord[] =
    t.kind === 'event'
      ? [{ eventId: t.eventId, eventName: t.eventName, eventTime: t.eventTime, actor: t.actor, requested: t.requested, updateId: t.updateId, tags: t.tags ?? null, guardRoleMisuse: false, seenAt: 0, handledBy: null }]
      : [];
  const records = c.actors.length > 0 ? c.actors : own;
  // The most recent changes matter most when there are many: they are what was judged.
  return records.slice(-MAX_CHANGES).map((r) => ({
    ...actorLine(r.actor),
    event: oneLine(r.eventName, 64) || 'unknown',
    at: oneLine(r.eventTime, 64) || 'unknown',
    eventId: oneLine(r.eventId, 128) || 'unknown',
    requested: requestText(r),
    guardRole: r.guardRoleMisuse,
  }));
}

function actorLine(a: Actor | null): ActorLine {
  const known = (v: string | null | undefined, max: number) => oneLine(v ?? '', max) || 'unknown';
  return { arn: known(a?.arn, 300), type: known(a?.type, 64), sourceIp: known(a?.sourceIPAddress, 100), userAgent: known(a?.userAgent, 300), tool: toolHint(a?.userAgent) };
}

/** Sweeps and re-checks have no CloudTrail event of their own: one sentence on how the run began. */
function originOf(c: AlertCase, whoKnown: boolean): string | null {
  const t = c.trigger;
  const when = oneLine(t.eventTime, 64) || 'an unknown time';
  const id = oneLine(t.eventId, 128);
  if (t.kind === 'sweep') {
    return whoKnown
      ? `Found by the scheduled sweep at ${when} (run ${id}); the changes that led to it are listed below.`
      : `Found by the scheduled sweep at ${when} (run ${id}). No CloudTrail event was seen for this change, so who made it is unknown: look up UpdateClusterConfig and CreateCluster for this cluster in CloudTrail event history.`;
  }
  if (t.kind === 'recheck') {
    const attempt = recheckAttempt(t);
    const incident = t.recheck?.incident ? ` of incident ${oneLine(t.recheck.incident, 300)}` : '';
    return `Re-check${attempt === null ? '' : ` ${attempt}`}${incident} at ${when}: the guard scheduled it because it could not bring the cluster into compliance earlier.${whoKnown ? '' : ' The change that started it is named in the first alert of the incident.'}`;
  }
  return null;
}

/** `escalated`: the guard keeps winning each round, but only fixing the source ends the fight. */
function escalationStory(
  c: AlertCase,
  { where, problem, planned, after, changes }: { where: string; problem: string; planned: Endpoint | null; after: Endpoint | null; changes: ChangeLine[] },
): Pick<Story, 'second' | 'summary' | 'happened' | 'done' | 'nextSteps' | 'escalation'> {
  const e = c.escalation;
  const reverts = e && Number.isFinite(e.reverts) ? e.reverts : null;
  const minutes = e && Number.isFinite(e.withinMinutes) ? e.withinMinutes : null;
  const actors = distinctActors([...(e?.actors ?? []), ...c.actors.map((r) => r.actor), ...(changes.length === 0 ? [c.trigger.actor] : [])])
    .slice(0, MAX_ACTORS)
    .map(actorLine);
  const count = reverts === null ? 'repeatedly' : `${reverts} time${reverts === 1 ? '' : 's'}`;
  const within = minutes === null ? '' : ` within ${minutes} minutes`;
  const revertedAgain = c.remediation?.status === 'started';
  const tools = [...new Set(actors.map((a) => a.tool).filter((t): t is string => t !== null))];
  const whatToDo: Step[] = [
    {
      text:
        `Fix it at the source: find the pipeline, Terraform or CloudFormation code, or GitOps reconciler that re-applies this endpoint setting` +
        `${tools.length > 0 ? ` (the user agents point to ${tools.join(', ')})` : ' (see the actors and user agents)'}` +
        ` and change its configuration to comply with the policy${planned ? ` (${endpointSummary(planned)})` : ''}.`,
    },
    { text: 'If the setting is intended, the policy must change instead (a rule or an exemption for this cluster, from the policy owners). Until the source or the policy changes, the guard keeps reverting it.' },
  ];
  return {
    second: after ? { label: 'after', endpoint: after } : planned ? { label: 'target', endpoint: planned } : null,
    summary: reverts !== null && minutes !== null ? `reverted ${reverts} times in ${minutes} min` : 'change keeps coming back',
    happened:
      `The guard has reverted ${where} ${count}${within} and the change came back again (${problem}): ` +
      `something keeps re-applying it, typically an IaC pipeline or a reconciler whose desired state breaks the policy. The guard keeps enforcing the policy.`,
    done: [
      ...(revertedAgain
        ? [`Reverted again: applied ${planned ? endpointSummary(planned) : 'the target'}${after ? `; the cluster now has ${endpointSummary(after)}` : ''}.`]
        : []),
      'The guard keeps enforcing: each time the setting comes back, it is reverted again. This fight pages once; later rounds come as ordinary revert alerts until the cluster has been quiet for a whole window.',
    ],
    nextSteps: whatToDo,
    escalation: { reverts, minutes, actors, whatToDo },
  };
}

/** The session name of an assumed-role ARN: what CloudTrail event history lists as the user name. */
function sessionName(sessionArn: string): string | null {
  const match = /^arn:[a-z-]+:sts::\d{12}:assumed-role\/[^/]+\/([^/]+)$/.exec(sessionArn);
  return match?.[1] ? oneLine(match[1], 64) : null;
}

function misuseSteps(sessionArn: string, region: string): Step[] {
  const name = sessionName(sessionArn);
  return [
    {
      text: `Find who used the session${name ? ` (user name ${name} in CloudTrail event history)` : ' in CloudTrail event history'}: what else it did, from where, and the AssumeRole call that issued it.`,
      ...(name ? { command: `aws cloudtrail lookup-events --region ${shellWord(region)} --lookup-attributes AttributeKey=Username,AttributeValue=${shellWord(name)}` } : {}),
    },
    {
      text: "Treat the guard's role credentials as leaked: revoke the role's active sessions (IAM console, the role, Revoke active sessions), rotate whatever credentials let someone assume it, and make its trust policy admit only the guard's functions.",
    },
  ];
}

function tagChangeStory(c: AlertCase): Story['tagChange'] {
  const t = c.tagChange;
  if (!t) return null;
  const by = t.actor ? actorLine(t.actor) : null;
  return {
    laxer: t.laxer,
    by,
    set: tagList(t.set),
    removed: bounded(t.removed.map((k) => oneLine(k, 128)), 50),
    omitted: t.omitted ?? 0,
    rows: judgedRows(t.before, t.after),
    changes: judgedChanges(t.before, t.after),
    whatToDo: t.laxer
      ? [
          {
            text: `Check that the tag change${by ? ` by ${by.arn}` : ''} was approved by the policy owners; if not, restore the previous tags so the stricter settings apply again.`,
          },
        ]
      : [],
  };
}

/** The subject after a tag change loosened the policy for a cluster that needed no other action. */
function tagSummary(c: AlertCase): string {
  const t = c.tagChange;
  if (!t) return 'tag change loosened the policy';
  if (t.after.exempt && !t.before?.exempt) {
    const until = c.evaluation?.exemption?.expires ? ` until ${oneLine(c.evaluation.exemption.expires, 40)}` : '';
    return `tag change exempted it${until}`;
  }
  if (t.after.rule !== (t.before?.rule ?? null)) return `tag change moved it to ${t.after.rule ? `rule ${oneLine(t.after.rule, 100)}` : 'the policy defaults'}`;
  if (t.after.mode === 'alert' && t.before?.mode !== 'alert') return 'tag change made it alert-only';
  return `tag change loosened the policy: ${judgedChanges(t.before, t.after)[0] ?? 'settings changed'}`;
}

function recheckStory(r: NonNullable<AlertCase['recheck']>, now: number): Story['recheck'] {
  const ms = r.nextAt - now;
  const minutes = Math.round(ms / 60_000);
  const wait = !Number.isFinite(ms) ? 'time unknown' : ms <= 0 ? 'due now' : minutes <= 1 ? 'in 1 minute' : `in ${minutes} minutes`;
  return { attempt: r.attempt, at: isoTime(r.nextAt), wait, incident: oneLine(r.incident, 300) };
}

type FailureStory = { summary: string; reason: string; done: string[]; whatToDo: Step[] };

/**
 * Why the guard failed and what a person should do about it. The state tells the most specific story, so
 * it is read first: a revert update that ended badly or was still running at the timeout, a revert AWS
 * refused, a cluster that stayed busy, a revert that finished but left the cluster non-compliant. Only
 * then the recorded failure: a wait that ran out of time, or an error caught by the state machine.
 */
function explainFailure(c: AlertCase, cluster: Story['cluster'], stillViolating: boolean): FailureStory {
  const revertId = c.remediation?.updateId ?? null;
  const attempted = c.remediation !== null || c.revertUpdate !== null;
  const revert = c.revertUpdate;
  const remediation = c.remediation;
  const region = shellWord(cluster.region);
  const name = shellWord(cluster.name);
  if (revert && (revert.status === 'Failed' || revert.status === 'Cancelled')) {
    const first = revert.errors[0];
    const detail = first ? oneLine(first.errorCode ?? first.errorMessage ?? '', 100) : '';
    const reason = `revert update ${revertId ?? '(unknown id)'} ended ${oneLine(revert.status, 20)}`;
    return {
      summary: `revert failed: update ${oneLine(revert.status, 20)}${detail ? `, ${detail}` : ''}`,
      reason: detail ? `${reason}: ${detail}` : reason,
      done: [`The guard sent UpdateClusterConfig, but EKS reports the update ${oneLine(revert.status, 20)}; its errors are listed with the update ids.`],
      whatToDo: [{ text: 'Fix the cause named in the update errors, then apply the fix again.' }],
    };
  }
  if (revert?.timedOut) {
    const status = oneLine(revert.status, 20) || 'InProgress';
    return {
      summary: `revert failed: update still ${status} at timeout`,
      reason: `revert update ${revertId ?? '(unknown id)'} was still ${status} when the wait budget ran out`,
      done: ['The guard sent UpdateClusterConfig but stopped waiting before the update finished.'],
      whatToDo: [
        { text: 'Check the update:', command: `aws eks describe-update --region ${region} --name ${name} --update-id ${shellWord(revertId ?? 'UPDATE_ID')}` },
        { text: 'If it failed, apply the fix again.' },
      ],
    };
  }
  if (remediation?.status === 'rejected') {
    const errorName = oneLine(remediation.error?.name ?? 'Error', 100);
    const message = oneLine(remediation.error?.message ?? '', 300);
    const reason = message ? `${errorName}: ${message}` : errorName;
    return {
      summary: `revert failed: ${reason}`,
      reason: `AWS refused the revert (${reason})`,
      done: [`Nothing was changed: AWS refused UpdateClusterConfig (${reason}).`],
      whatToDo: [{ text: "If it is an access error, check that the guard's remediation role may call eks:UpdateClusterConfig on this cluster." }],
    };
  }
  if (remediation?.status === 'gave-up') {
    return {
      summary: 'revert failed: cluster stayed busy with other updates',
      reason: `the cluster was busy with other updates through ${remediation.busyAttempts} attempts`,
      done: ['Nothing was changed: every attempt met another update in progress (ResourceInUseException).'],
      whatToDo: [
        { text: 'See what holds the cluster:', command: `aws eks list-updates --region ${region} --name ${name}` },
        { text: 'When it is free, apply the fix, or wait for the next scheduled sweep.' },
      ],
    };
  }
  if (c.after && stillViolating) {
    return {
      summary: 'revert failed: still non-compliant after revert',
      reason: 'the revert finished but the cluster still breaks the policy',
      done: ['The revert finished, but the cluster read afterwards still breaks the policy; another change may have raced it.'],
      whatToDo: [{ text: 'Look for a newer UpdateClusterConfig in CloudTrail event history, then apply the fix again.' }],
    };
  }
  const history: Step = { text: `Open the Step Functions execution for event ${oneLine(c.trigger.eventId, 128)} and the Lambda logs for details.` };
  if (c.failure) {
    const error = oneLine(c.failure.error, 100) || 'Error';
    const message = causeMessage(c.failure.cause);
    if (error === 'WaitTimedOut') {
      return {
        summary: `timed out: ${message || 'the wait budget ran out'}`,
        reason: message || 'the wait budget ran out',
        done: [`The guard stopped waiting (${message || 'the wait budget ran out'})${attempted ? '' : ' before judging or changing anything'}.`],
        whatToDo: [
          { text: 'See which updates are running:', command: `aws eks list-updates --region ${region} --name ${name}` },
          { text: 'The next scheduled sweep judges the cluster again.' },
        ],
      };
    }
    const reason = message ? `${error}: ${message}` : error;
    return {
      // The message says more than the error's class name in the little room a subject has.
      summary: `${attempted ? 'revert failed' : 'guard error'}: ${message || error}`,
      reason,
      done: [`An error stopped the workflow${attempted ? ' during the revert' : ' before any change was made'}: ${reason}.`],
      whatToDo: [history, { text: 'Check the cluster in the console: it may still break the policy.' }],
    };
  }
  return {
    summary: `${attempted ? 'revert failed' : 'guard error'}: no details recorded`,
    reason: 'no details were recorded',
    done: ['The workflow ended without bringing the cluster into compliance.'],
    whatToDo: [history],
  };
}

/**
 * The message inside a Step Functions `Cause`: for a Lambda error it is JSON with `errorMessage` (and a
 * stack trace, which would swamp the alert and is left to the logs); anything else is shown as is.
 */
function causeMessage(cause: string): string {
  const text = typeof cause === 'string' ? cause.slice(0, 32_768) : '';
  if (text.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') {
        return oneLine(parsed.errorMessage, 400);
      }
    } catch {
      // Not JSON after all (or cut by Step Functions' 32 KB limit): fall through and show the text.
    }
  }
  return oneLine(text, 400);
}
