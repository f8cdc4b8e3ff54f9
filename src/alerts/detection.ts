/**
 * The detection notice: a violation the guard has just judged and is about to revert, told before the
 * revert so that on-call (and whoever routes the event) hears of it at once rather than minutes later,
 * after verification. It goes to chat (threaded with the outcome that follows: the same `threadId` per
 * cluster) and as an event; e-mail subscriptions filter it out by its `kind` attribute, since the
 * outcome alert arrives soon after. Pure, like the outcome renderer.
 */
import type { ChangeRecord } from '../ledger/types';
import type { Evaluation } from '../policy/types';
import type { Alert, Trigger } from '../workflow/types';
import { changesSummary, consoleUrl, endpointChanges, endpointSummary, problemPhrase, toEndpoint } from './describe';
import { asciiOnly, bounded, clip, isoTime, oneLine, showInvisible, wrap } from './format';

export const DETECTION_TAG = '[DETECTED]';
const SUBJECT_MAX = 99;
const CHAT_TEXT_MAX = 3500;

export type DetectionCase = {
  cluster: { account: string; region: string; name: string };
  trigger: Trigger;
  evaluation: Evaluation;
  /** The changes that led to what was judged (claimed by this execution), oldest first. */
  actors: ChangeRecord[];
  executionName: string;
  /** When the notice is written (epoch ms). */
  at: number;
};

/** The thread a cluster's notices and alerts share in chat: one per cluster. */
export function clusterThreadId(cluster: { account: string; region: string; name: string }): string {
  return `${cluster.account}/${cluster.region}/${cluster.name}`;
}

function whoLines(actors: readonly ChangeRecord[]): string[] {
  const named = actors.filter((a) => a.actor?.arn);
  return bounded(
    named.map((a) => `${oneLine(a.actor!.arn, 300)} (${oneLine(a.eventName, 64)} at ${oneLine(a.eventTime, 64)}${a.actor!.sourceIPAddress ? ` from ${oneLine(a.actor!.sourceIPAddress, 64)}` : ''})`),
    5,
  );
}

/** Renders the detection notice of one violation the guard is about to revert. */
export function renderDetection(c: DetectionCase): Alert {
  const { account, region, name } = c.cluster;
  const e = c.evaluation;
  const before = toEndpoint(e.observed);
  const target = toEndpoint(e.target);
  const problem = problemPhrase(before, e.violations, e.settings);
  const plan = before && target ? changesSummary(endpointChanges(before, target), 'planned') : 'apply the policy target';
  const where = asciiOnly(`${account}/${region}`);
  const head = `${DETECTION_TAG} ${asciiOnly(oneLine(name, 60))} ${where}:`;
  const subject = clip(`${head} ${asciiOnly(oneLine(problem, 120))}, reverting`, SUBJECT_MAX);
  const url = consoleUrl(c.cluster);
  const who = whoLines(c.actors);
  const settings = before ? endpointSummary(before) : 'unknown';
  const violations = bounded(e.violations.map((v) => oneLine(v.message, 300)), 10);
  const text = showInvisible(
    [
      ['DETECTED', ...wrap(`Cluster ${name} (account ${account}, ${region}) breaks the endpoint policy (${problem}). The guard is reverting it now: it will ${plan}. The outcome follows in this thread once the revert is verified.`, 100, '  ')],
      ['WHO', ...(who.length > 0 ? who.map((w) => `  ${w}`) : [`  ${c.trigger.kind === 'sweep' ? 'found by the scheduled sweep (no CloudTrail event named an actor)' : 'unknown'}`])],
      ['SETTINGS', `  ${settings}`, `  rule ${oneLine(e.settings.rule ?? '(defaults)', 200)}, mode ${e.settings.mode}`],
      ['VIOLATIONS', ...violations.map((v) => `  - ${v}`)],
      ['CONSOLE', `  ${url}`],
      [`-- eks-endpoint-guard, execution ${oneLine(c.executionName, 200)}, detected ${isoTime(c.at)}`],
    ]
      .map((s) => s.join('\n'))
      .join('\n\n'),
  );
  const description = clip(
    showInvisible([`**${oneLine(problem, 200)}**: reverting (${plan}).`, ...(who.length > 0 ? [`Changed by ${who[0]}`] : []), `Now: ${settings}.`, ...violations.slice(0, 3).map((v) => `- ${v}`)].join('\n')),
    CHAT_TEXT_MAX,
  );
  const chat = {
    version: '1.0',
    source: 'custom',
    id: clip(`${oneLine(c.trigger.eventId, 128)}-detected`, 160),
    content: { textType: 'client-markdown', title: subject, description, nextSteps: [`The guard is reverting it; the outcome follows in this thread.`, `Open the cluster: ${url}`], keywords: ['detected', account, region, name] },
    metadata: {
      threadId: clusterThreadId(c.cluster),
      summary: subject,
      eventType: 'detected',
      relatedResources: [e.cluster.arn].filter((r): r is string => typeof r === 'string' && r !== ''),
      additionalContext: { account, region, cluster: oneLine(name, 100), rule: oneLine(e.settings.rule ?? '(defaults)', 200), executionName: oneLine(c.executionName, 200) },
    },
  };
  return { subject, text, chat, attributes: { kind: 'detection', severity: 'warning', outcome: 'detected', account, region, cluster: name } };
}
