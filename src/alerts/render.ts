/**
 * Renders one alert per execution outcome for SNS: a subject, a plain-text body for email, a chat
 * custom notification (Amazon Q Developer in chat applications) and message attributes for subscription
 * filter policies. Written for a person woken at night: what happened first, then who, what changed,
 * what was done and what to do. Pure: time comes in the `AlertCase`, nothing is logged or sent.
 */
import { DEFAULT_EXEMPTION_TAG } from '../policy/schema';
import type { Alert, AlertCase, Outcome, Severity } from '../workflow/types';
import { LEDGER_LIMITS } from '../ledger/types';
import { consoleUrl, type Endpoint } from './describe';
import { asciiOnly, bounded, clip, clipWords, codeSpan, formatDuration, isoTime, multiLine, oneLine, showInvisible, wrap } from './format';
import { type ChangeLine, type Step, type Story, tellStory } from './story';

/** Deployment-specific parts of an alert; everything else comes from the `AlertCase`. */
export type RenderOptions = {
  /** Replaces the default "how to request an exemption" text, e.g. with a link to the team's request form. */
  exemptionHowTo?: string;
  /** The AWS console base URL; by default the console of the cluster region's partition. */
  consoleBaseUrl?: string;
  /** The policy's `exemptionTag`; by default the tag named by the evaluation's exemption, else the product default. */
  exemptionTag?: string;
};

/** Why an alert is out of the ordinary, as the `reason` message attribute (for subscription filters). */
export type AlertReason = NonNullable<Alert['attributes']['reason']>;

const TAGS: Record<Outcome, string> = {
  remediated: '[REMEDIATED]',
  alerted: '[VIOLATION]',
  'manual-action-required': '[MANUAL ACTION]',
  failed: '[FAILED]',
  escalated: '[CRITICAL]',
  exempt: '[EXEMPT]',
  compliant: '[COMPLIANT]',
  ignored: '[IGNORED]',
};
// Mail rules file [COMPLIANT] and [EXEMPT] away unread; an alert raised above its outcome's severity
// must not carry the tag that gets it filed.
const MISUSE_TAG = '[CRITICAL]';
const LOOSENED_TAG = '[POLICY LOOSENED]';

// SNS: "less than 100 characters".
const SUBJECT_MAX = 99;
// A cluster name is cut no shorter than this, so the subject still says which cluster it is.
const SUBJECT_NAME_MIN = 24;
// Lists are bounded so one alert stays far below the 256 KiB SNS limit whatever AWS or the policy holds.
const MAX_CIDRS = 50;
const MAX_VIOLATIONS = 50;
const MAX_WARNINGS = 20;
const MAX_UPDATE_ERRORS = 20;
// A backstop over the bounds above: 24,000 UTF-16 units are at most 72 KB of UTF-8, so the text can be
// sent twice (SNS `default` and `email`) next to the chat JSON and still fit.
const TEXT_MAX = 24_000;
// Chat clients cut long messages (Slack: 3,000 characters per text block); the email carries the rest.
const CHAT_DESCRIPTION_MAX = 3_000;
const CHAT_STEP_MAX = 1_000;
const CHAT_MAX_STEPS = 6;
const CHAT_CONTEXT_VALUE_MAX = 500;
const CHAT_MAX_CHANGES = 5;
const WIDTH = 78;

/**
 * The severity an outcome deserves. `failed`, `manual-action-required` and `escalated` are critical:
 * the cluster may still break the policy, and only a person can fix it (for a tug-of-war, whoever owns
 * the pipeline that keeps re-applying the setting). `alerted` is a warning rather than critical because
 * alert-only (shadow) mode produces one for every violation during a roll-out, and paging on each would
 * train people to ignore pages; `remediated` is a warning because the exposure already ended but someone
 * should still ask why it happened. The rest need no action.
 */
export function severityFor(outcome: Outcome): Severity {
  switch (outcome) {
    case 'failed':
    case 'manual-action-required':
    case 'escalated':
      return 'critical';
    case 'alerted':
    case 'remediated':
      return 'warning';
    case 'exempt':
    case 'compliant':
    case 'ignored':
      return 'info';
  }
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * The severity a whole case deserves: the outcome's, raised by what came with it. A change made with
 * the guard's own role by someone else is critical whatever the outcome, because it means the role's
 * credentials are out of the guard's hands; a tag change that loosened the rule or exempted the cluster
 * is at least a warning, because a tag is a much easier lever than the reviewed policy file.
 */
export function alertSeverity(c: Pick<AlertCase, 'outcome' | 'guardRoleMisuse' | 'tagChange'>): Severity {
  if (c.guardRoleMisuse) return 'critical';
  const own = severityFor(c.outcome);
  return c.tagChange?.laxer && own === 'info' ? 'warning' : own;
}

/**
 * The `reason` attribute: the most alarming thing about the case beyond its outcome, or null for an
 * ordinary one. One value, so a filter policy can route on it (a misused guard role to security, say).
 */
export function alertReason(c: Pick<AlertCase, 'outcome' | 'guardRoleMisuse' | 'tagChange' | 'ignoredReason' | 'recheck'>): AlertReason | null {
  if (c.guardRoleMisuse) return 'GUARD_ROLE_MISUSE';
  if (c.outcome === 'escalated') return 'ESCALATED';
  if (c.tagChange?.laxer) return 'TAG_CHANGE_LAXER';
  if (c.outcome === 'ignored' && c.ignoredReason === 'CLUSTER_DELETED') return 'CLUSTER_DELETED';
  if (c.recheck) return 'RECHECK_SCHEDULED';
  return null;
}

/**
 * Renders the alert for one outcome. The severity is the case's own (the caller may have raised it),
 * raised further to `alertSeverity` when the caller did not, never lowered. Every value that comes from
 * AWS or from people (names, tags, ARNs, user agents, error messages) is cleaned of control characters,
 * has its invisible and direction-changing characters shown by code point, and is clipped, and every
 * list is bounded, so the subject always meets SNS's rules (ASCII, under 100 characters, one line), no
 * text can be made to read other than it says, and the whole message stays far below 256 KiB.
 * `evaluation` is read as the judgement that decided the action, `before` as the settings it judged.
 */
export function renderAlert(c: AlertCase, options: RenderOptions = {}): Alert {
  const story = tellStory(c);
  const floor = alertSeverity(c);
  const severity = RANK[floor] > RANK[c.severity] ? floor : c.severity;
  const reason = alertReason(c);
  const url = consoleUrl(c.cluster, options.consoleBaseUrl);
  const subject = renderSubject(c, story);
  const exemption = exemptionHelp(c, options);
  return {
    subject,
    text: renderText(c, story, url, exemption),
    chat: renderChat(c, story, { subject, url, exemption, severity, reason }),
    attributes: {
      kind: c.reminder ? 'reminder' : 'outcome',
      severity,
      outcome: c.outcome,
      account: story.cluster.account,
      region: story.cluster.region,
      cluster: story.cluster.name,
      ...(reason ? { reason } : {}),
    },
  };
}

function subjectTag(c: AlertCase): string {
  if (c.guardRoleMisuse) return MISUSE_TAG;
  if (c.tagChange?.laxer && severityFor(c.outcome) === 'info') return LOOSENED_TAG;
  return TAGS[c.outcome];
}

/**
 * `[TAG] name account/region: summary`, and for a tug-of-war `[CRITICAL] EKS endpoint tug-of-war on
 * name (account/region): reverted N times in M min`. A long cluster name gives way first (down to a
 * readable prefix), then the summary: the tag and the account and region are what routing and triage
 * key on.
 */
function renderSubject(c: AlertCase, story: Story): string {
  const where = asciiOnly(`${story.cluster.account}/${story.cluster.region}`);
  const name = asciiOnly(story.cluster.name);
  const summary = asciiOnly(oneLine(story.summary, 200));
  if (c.outcome === 'escalated' && !story.misuse) {
    const long = `${TAGS.escalated} EKS endpoint tug-of-war on`;
    // The filler words go before anything is cut: the name, where and the counts are what on-call needs.
    const head = `${long} ${name} (${where}): ${summary}`.length <= SUBJECT_MAX ? long : `${TAGS.escalated} tug-of-war on`;
    return fitSubject(head, name, `(${where}):`, summary);
  }
  return fitSubject(subjectTag(c), name, `${where}:`, summary);
}

function fitSubject(head: string, fullName: string, where: string, fullSummary: string): string {
  const fixed = head.length + 1 + 1 + where.length + 1;
  let name = fullName;
  if (fixed + name.length + fullSummary.length > SUBJECT_MAX) {
    name = clip(name, Math.max(SUBJECT_NAME_MIN, SUBJECT_MAX - fixed - fullSummary.length));
  }
  const summary = clipWords(fullSummary, Math.max(0, SUBJECT_MAX - fixed - name.length));
  return clip(`${head} ${name} ${where} ${summary}`.trim(), SUBJECT_MAX);
}

type ExemptionHelp = { lines: string[]; short: string };

/**
 * How to request an exemption, as text lines and as one line for chat: the override if given, else
 * the policy owners' way, an exemption in the reviewed policy file. No ready-made tagging command: a
 * tag is a lever anyone with eks:TagResource can pull, so the alert does not hand it out, and where the
 * policy allows tag exemptions at all they are capped (`maxTagExemptionDays`) and reported.
 */
function exemptionHelp(c: AlertCase, options: RenderOptions): ExemptionHelp {
  if (options.exemptionHowTo) {
    const lines = multiLine(options.exemptionHowTo, 4_000).split('\n');
    return { lines, short: `To request an exemption: ${oneLine(options.exemptionHowTo, CHAT_STEP_MAX)}` };
  }
  const tagFromEvaluation = c.evaluation?.exemption?.source === 'tag' ? c.evaluation.exemption.name : null;
  const tag = oneLine(options.exemptionTag ?? tagFromEvaluation ?? DEFAULT_EXEMPTION_TAG, 128);
  const name = oneLine(c.cluster.name, 100);
  const prose = (text: string) => wrap(text, WIDTH - 2);
  const days = c.evaluation?.settings.maxTagExemptionDays;
  const tagRule =
    days === 0
      ? `This cluster's policy allows no tag exemptions (maxTagExemptionDays: 0), so the cluster tag ${tag} does not exempt it.`
      : `Where the policy allows tag exemptions, the cluster tag ${tag}=YYYY-MM-DD exempts the cluster for a short time only: the exemption lasts at most ${typeof days === 'number' ? `${days} days here` : 'the policy limit'} (maxTagExemptionDays), whatever date the tag names, and a tag that loosens the policy is reported to on-call.`;
  return {
    lines: [
      ...prose('If this endpoint setting is intended, ask the policy owners for an exemption: they review it, add it to the policy file and redeploy the guard. An entry looks like this:'),
      '    exemptions:',
      `      - name: ${JSON.stringify(`${name}-endpoint`)}`,
      `        match: { accounts: [${JSON.stringify(oneLine(c.cluster.account, 32))}], regions: [${JSON.stringify(oneLine(c.cluster.region, 32))}], clusters: [${JSON.stringify(name)}] }`,
      '        reason: "why, with a ticket"',
      '        expires: YYYY-MM-DD',
      ...prose(tagRule),
    ],
    short: `If the setting is intended, ask the policy owners for an exemption in the policy file (they review it). Tag exemptions (${codeSpan(`${tag}=YYYY-MM-DD`)}), where the policy allows them, are capped at its maxTagExemptionDays.`,
  };
}

function renderText(c: AlertCase, story: Story, url: string, exemption: ExemptionHelp): string {
  const sections: string[][] = [['WHAT HAPPENED', ...wrap(story.happened, WIDTH, '  ')]];
  if (story.misuse) sections.push(misuseSection(story, story.misuse));
  if (story.escalation) sections.push(escalationSection(story.escalation));
  if (story.origin) sections.push(['HOW IT WAS FOUND', ...wrap(story.origin, WIDTH, '  ')]);
  if (story.changes.length > 0) sections.push(whoSection(story.changes, Math.max(c.actors.length, story.changes.length)));
  if (story.tagChange) sections.push(tagChangeSection(story.tagChange));
  sections.push(settingsSection(story));
  if (story.violations.length > 0) {
    sections.push([story.violationsHeading, ...bullets(story.violations.map((v) => v.message), MAX_VIOLATIONS)]);
  }
  if (story.warnings.length > 0) sections.push(['WARNINGS', ...bullets(story.warnings.map((w) => w.message), MAX_WARNINGS)]);
  sections.push(['WHAT WAS DONE', ...story.done.flatMap((d) => wrap(d, WIDTH, '  '))]);
  if (story.recheck) sections.push(recheckSection(story.recheck));
  if (c.outcome === 'manual-action-required') sections.push(manualSection(story));
  if (story.failure) {
    sections.push([
      'FAILURE',
      ...longField('Reason', story.failure.reason),
      '  What to do:',
      ...stepLines(story.failure.whatToDo, '    '),
      ...(story.command ? ['  To apply the fix by hand:', `    ${story.command}`] : []),
    ]);
  }
  if (c.outcome === 'alerted' && story.command) sections.push(['TO FIX IT BY HAND', `  ${story.command}`]);
  sections.push(updatesSection(c), timingSection(c, story), policySection(c));
  if (c.outcome === 'exempt') sections.push(exemptionSection(c, story));
  else if (needsAction(c.outcome)) sections.push(['HOW TO REQUEST AN EXEMPTION', ...exemption.lines.map((l) => `  ${l}`)]);
  sections.push(['CONSOLE', `  ${url}`]);
  sections.push([`-- eks-endpoint-guard, event ${oneLine(c.trigger.eventId, 128)}, alert written ${isoTime(c.at)}`]);
  // Every value was cleaned where it was read; this pass is the backstop for one that was not.
  const text = showInvisible(sections.map((s) => s.join('\n')).join('\n\n'));
  return text.length <= TEXT_MAX ? text : `${clip(text, TEXT_MAX - 80)}\n\n[message cut to fit SNS; see the execution history]`;
}

function misuseSection(story: Story, misuse: NonNullable<Story['misuse']>): string[] {
  return [
    'GUARD ROLE USED OUTSIDE THE GUARD',
    field('Session', misuse.session),
    ...wrap(
      `This session of one of the guard's own roles made a change the guard did not make, so someone other than the guard holds credentials for that role. The change was judged like any other change (see WHAT WAS DONE: ${story.done[0] ?? 'nothing recorded'})`,
      WIDTH,
      '  ',
    ),
    '  What to do:',
    ...stepLines(misuse.whatToDo, '    '),
  ];
}

function escalationSection(e: NonNullable<Story['escalation']>): string[] {
  const count = e.reverts === null ? 'unknown' : `${e.reverts}${e.minutes === null ? '' : ` within ${e.minutes} minutes`}, and the change came back again`;
  const lines = ['TUG-OF-WAR', field('Reverts', count), '  Actors and user agents involved:'];
  if (e.actors.length === 0) lines.push('    - none recorded: look up UpdateClusterConfig for this cluster in CloudTrail event history');
  for (const a of e.actors) {
    lines.push(`    - ${a.arn} (${a.type})`, field('User agent', `${a.userAgent}${a.tool ? ` (looks like ${a.tool})` : ''}`, '      '), field('Source IP', a.sourceIp, '      '));
  }
  return [...lines, '  The guard keeps enforcing, but only a fix at the source ends the fight:', ...stepLines(e.whatToDo, '    ')];
}

function recheckSection(r: NonNullable<Story['recheck']>): string[] {
  return [
    'RE-CHECK',
    field('Next attempt', `${r.at} (${r.wait})`),
    field('Attempt', `re-check ${r.attempt}`),
    ...(r.incident ? [field('Incident', r.incident)] : []),
    ...wrap('The guard looks at the cluster again then and fixes it if it can. Repeated attempts will not page again unless something changes; a reminder follows while it stays open.', WIDTH, '  '),
  ];
}

function tagChangeSection(t: NonNullable<Story['tagChange']>): string[] {
  const lines = [t.laxer ? 'TAG CHANGE LOOSENED THE POLICY' : 'TAG CHANGE', field('Changed by', t.by?.arn ?? 'unknown')];
  if (t.by) lines.push(field('User agent', t.by.userAgent));
  if (t.set.length > 0) lines.push(...longField('Tags set', t.set.join(', ')));
  if (t.removed.length > 0) lines.push(...longField('Tags removed', t.removed.join(', ')));
  if (t.omitted > 0) lines.push(...longField('Not listed', `${t.omitted} more tag${t.omitted === 1 ? '' : 's'} set or removed (the ledger keeps ${LEDGER_LIMITS.tagsPerChange} per call)`));
  const width = Math.min(40, Math.max('before'.length, ...t.rows.map((r) => r.before.length))) + 2;
  const row = (label: string, before: string, after: string) => `  ${label.padEnd(16)}${before.padEnd(width)}${after}`.trimEnd();
  lines.push(row('', 'before', 'after'), ...t.rows.map((r) => row(r.label, r.before, r.after)));
  lines.push(...longField('What changed', t.changes.join('; ')));
  return [...lines, ...stepLines(t.whatToDo, '  ')];
}

function exemptionSection(c: AlertCase, story: Story): string[] {
  const ex = c.evaluation?.exemption;
  if (!ex) return ['EXEMPTION', '  The evaluation recorded no exemption details.'];
  return [
    'EXEMPTION',
    field('Source', ex.source === 'tag' ? 'cluster tag' : 'policy exemption'),
    field(ex.source === 'tag' ? 'Tag' : 'Name', oneLine(ex.name, 128)),
    ...longField('Reason', oneLine(ex.reason, 500)),
    field('Expires', oneLine(ex.expires, 40)),
    ...stepLines(story.nextSteps, '  '),
  ];
}

function needsAction(outcome: Outcome): boolean {
  return outcome === 'remediated' || outcome === 'alerted' || outcome === 'manual-action-required' || outcome === 'failed' || outcome === 'escalated';
}

function field(label: string, value: string, indent = '  '): string {
  return `${indent}${`${label}:`.padEnd(14)} ${value}`;
}

/** A labelled field whose prose value wraps under itself, not under the label. */
function longField(label: string, value: string, indent = '  '): string[] {
  const [first = '', ...rest] = wrap(value, WIDTH, ' '.repeat(indent.length + 15));
  return [field(label, first.trimStart(), indent), ...rest];
}

function bullets(items: readonly string[], max: number, indent = '  '): string[] {
  return bounded(items.map((i) => oneLine(i, 1_000)), max).flatMap((item) => {
    const [first = '', ...rest] = wrap(item, WIDTH, `${indent}  `);
    return [`${indent}- ${first.trimStart()}`, ...rest];
  });
}

/** Steps as bullets: the prose wrapped, each command whole on its own line so it can be pasted. */
function stepLines(steps: readonly Step[], indent: string): string[] {
  return steps.slice(0, 10).flatMap((step) => [
    ...bullets([step.text], 1, indent),
    ...(step.command ? [`${indent}    ${step.command}`] : []),
  ]);
}

/**
 * Who changed the cluster: one change as labelled fields (the common case, read at a glance), several
 * numbered oldest first, each with its own actor, time and request, since any of them may be the one
 * that broke the policy.
 */
function whoSection(changes: readonly ChangeLine[], total: number): string[] {
  const [only] = changes;
  if (changes.length === 1 && only && total === 1) return ['WHO AND WHEN', ...changeFields(only, '  ')];
  const shown = total > changes.length ? `the last ${changes.length} of ${total} changes` : `${changes.length} changes`;
  return [
    'WHO AND WHEN',
    `  Led to what was judged: ${shown}, oldest first.`,
    ...changes.flatMap((ch, i) => [`  ${`${i + 1}.`.padEnd(3)}${ch.event} at ${ch.at}`, ...changeFields(ch, '     ', false)]),
  ];
}

function changeFields(ch: ChangeLine, indent: string, withEvent = true): string[] {
  return [
    field('Actor', ch.arn, indent),
    field('Actor type', ch.type, indent),
    field('Source IP', ch.sourceIp, indent),
    field('User agent', ch.userAgent, indent),
    ...(withEvent ? [field('Event', `${ch.event} at ${ch.at}`, indent)] : []),
    field('Event id', ch.eventId, indent),
    ...longField('Requested', ch.requested, indent),
    ...(ch.guardRole ? [field('Note', "made with the guard's role, not by the guard", indent)] : []),
  ];
}

function onOff(on: boolean): string {
  return on ? 'on' : 'off';
}

/** Before and after (or what would be) side by side, one CIDR per row; no table markup, just columns. */
function settingsSection(story: Story): string[] {
  const columns: Array<{ label: string; endpoint: Endpoint | null }> = [{ label: story.second ? 'before' : 'current', endpoint: story.before }];
  if (story.second) columns.push(story.second);
  const cells = columns.map(({ label, endpoint }) => ({
    label,
    pub: endpoint ? onOff(endpoint.publicOn) : 'unknown',
    priv: endpoint ? onOff(endpoint.privateOn) : 'unknown',
    cidrs: !endpoint ? ['unknown'] : endpoint.publicOn ? bounded(endpoint.cidrs, MAX_CIDRS) : ['- (public off)'],
  }));
  const widths = cells.map((col) => Math.min(46, Math.max(col.label.length, ...col.cidrs.map((x) => x.length))) + 2);
  const row = (label: string, values: string[]) =>
    `  ${label.padEnd(16)}${values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('')}`.trimEnd();
  const rows = Math.max(...cells.map((col) => col.cidrs.length));
  const cidrRows = Array.from({ length: rows }, (_, i) => row(i === 0 ? 'Public CIDRs' : '', cells.map((col) => col.cidrs[i] ?? '')));
  return [
    'ENDPOINT SETTINGS',
    row('', cells.map((col) => col.label)),
    row('Public access', cells.map((col) => col.pub)),
    row('Private access', cells.map((col) => col.priv)),
    ...cidrRows,
  ];
}

function manualSection(story: Story): string[] {
  const manual = story.manual;
  const lines = ['MANUAL ACTION REQUIRED'];
  if (!manual || manual.problems.length === 0) {
    lines.push('  The preflight gave no details; check the VPC DNS attributes and DHCP options.');
  } else {
    lines.push(...wrap(`VPC ${manual.vpc} must resolve the private endpoint before the guard can change the cluster:`, WIDTH, '  '));
    manual.problems.forEach((p, i) => {
      const [first = '', ...rest] = wrap(`${p.check}: ${p.message}`, WIDTH, '     ');
      // Commands stay on one line: a wrapped command cannot be pasted.
      lines.push(`  ${i + 1}. ${first.trimStart()}`, ...rest, '     Fix:', `       ${p.fix}`);
    });
  }
  if (story.command) lines.push('  Then apply the fix (or wait for the next scheduled sweep, which tries again):', `    ${story.command}`);
  else lines.push('  Then wait for the next scheduled sweep, which tries again.');
  return lines;
}

function updatesSection(c: AlertCase): string[] {
  const t = c.trigger;
  const changeId = t.updateId
    ? `${oneLine(t.updateId, 128)} (${oneLine(t.eventName, 64)})`
    : t.kind === 'sweep'
      ? 'none (found by the sweep)'
      : t.kind === 'recheck'
        ? 'none (a re-check)'
        : t.eventName === 'CreateCluster'
        ? 'none (CreateCluster has no update)'
        : 'not recorded in the event';
  const lines = ['UPDATES', field('Change', changeId)];
  const r = c.remediation;
  if (r || c.revertUpdate) {
    const id = r?.updateId ? oneLine(r.updateId, 128) : r?.status === 'already-compliant' ? 'none (already at the target)' : 'none (no update started)';
    const status = c.revertUpdate ? ` - ${oneLine(c.revertUpdate.status, 20)}${c.revertUpdate.timedOut ? ' (stopped waiting)' : ''}` : '';
    lines.push(field('Revert', `${id}${status}`));
    const errors = (c.revertUpdate?.errors ?? []).map((e) => [e.errorCode, e.errorMessage].filter(Boolean).join(': ') || 'unnamed error');
    if (errors.length > 0) lines.push('  Revert errors:', ...bullets(errors, MAX_UPDATE_ERRORS, '    '));
  }
  return lines;
}

function timingSection(c: AlertCase, story: Story): string[] {
  const changedAt = Date.parse(c.trigger.eventTime);
  const since = Number.isNaN(changedAt) ? null : formatDuration((c.at - changedAt) / 1000);
  // A sweep's or a re-check's time is when it ran; when the change itself happened is told apart.
  const { start, label } = { sweep: { start: 'finding', label: 'Found at' }, recheck: { start: 're-check', label: 'Re-check at' }, event: { start: 'change', label: 'Changed at' } }[c.trigger.kind];
  const lines = ['TIMING', field(label, oneLine(c.trigger.eventTime, 64) || 'unknown')];
  const first = story.changes[0];
  if (first && (story.changes.length > 1 || c.trigger.kind !== 'event') && first.at !== oneLine(c.trigger.eventTime, 64)) lines.push(field('First change', first.at));
  if (story.timeToFix) lines.push(field('Time to fix', `${story.timeToFix} (${start} to verified fix)`));
  lines.push(field('Alert', `${isoTime(c.at)}${since && since !== 'unknown' ? ` (${since} after the ${start})` : ''}`));
  return lines;
}

function policySection(c: AlertCase): string[] {
  const s = c.evaluation?.settings;
  if (!s) return ['POLICY', '  Not evaluated (the workflow stopped before judging the cluster).'];
  const allowed = s.allowedPublicCidrs.length > 0 ? bounded(s.allowedPublicCidrs.map((x) => oneLine(x, 64)), MAX_CIDRS).join(', ') : 'none';
  return [
    'POLICY',
    field('Rule', s.rule ? oneLine(s.rule, 100) : 'defaults (no rule matched)'),
    field('Mode', s.mode),
    field('Requires', `public access ${s.publicAccess}, private access ${s.privateAccess}`),
    ...longField('Allowed CIDRs', `${allowed} (at most ${s.maxPublicCidrs})`),
  ];
}

type ChatParts = { subject: string; url: string; exemption: ExemptionHelp; severity: Severity; reason: AlertReason | null };

/**
 * The custom-notification shape Amazon Q Developer in chat applications requires (anything else is
 * dropped): a short markdown description with the same facts as the email's first sections, the next
 * steps as a list, and metadata that threads every alert about one cluster together.
 */
function renderChat(c: AlertCase, story: Story, { subject, url, exemption, severity, reason }: ChatParts): Record<string, unknown> {
  const { account, region, name } = story.cluster;
  const remediation = c.remediation;
  const revertId = remediation?.updateId ? oneLine(remediation.updateId, 128) : null;
  const clusterArn = c.evaluation?.cluster.arn ? oneLine(c.evaluation.cluster.arn, 300) : null;
  // The story's own steps come first; the exemption hint and the console link always make the list.
  const own = story.nextSteps.map((s) => chatStep(s));
  const steps = needsAction(c.outcome) ? [...own.slice(0, CHAT_MAX_STEPS - 2), exemption.short] : own.slice(0, CHAT_MAX_STEPS - 1);
  const nextSteps = [...steps, `Open the cluster: ${url}`].map((s) => clip(showInvisible(s), CHAT_STEP_MAX));
  const lastActor = story.changes.at(-1);
  const context: Record<string, string | null> = {
    account,
    region,
    cluster: name,
    outcome: c.outcome,
    severity,
    reason,
    eventId: oneLine(c.trigger.eventId, 128),
    eventName: oneLine(c.trigger.eventName, 64),
    eventTime: oneLine(c.trigger.eventTime, 64),
    trigger: c.trigger.kind,
    actor: c.trigger.actor?.arn ?? (lastActor && lastActor.arn !== 'unknown' ? lastActor.arn : null),
    sourceIp: c.trigger.actor?.sourceIPAddress ?? (lastActor && lastActor.sourceIp !== 'unknown' ? lastActor.sourceIp : null),
    changes: story.changes.length > 1 ? String(Math.max(c.actors.length, story.changes.length)) : null,
    guardRoleSession: story.misuse?.session ?? null,
    reverts: story.escalation?.reverts === null || story.escalation === null ? null : String(story.escalation.reverts),
    withinMinutes: story.escalation?.minutes === null || story.escalation === null ? null : String(story.escalation.minutes),
    recheckAt: story.recheck?.at ?? null,
    recheckAttempt: story.recheck ? String(story.recheck.attempt) : null,
    changeUpdateId: c.trigger.updateId,
    revertUpdateId: revertId,
    revertStatus: c.revertUpdate?.status ?? null,
    rule: c.evaluation?.settings.rule ?? null,
    mode: c.evaluation?.settings.mode ?? null,
    timeToFix: story.timeToFix,
    consoleUrl: url,
  };
  return {
    version: '1.0',
    source: 'custom',
    id: clip(`${oneLine(c.trigger.eventId, 128)}-${c.outcome}`, 160),
    content: {
      textType: 'client-markdown',
      title: subject,
      description: chatDescription(c, story, url),
      nextSteps,
      keywords: [c.outcome, severity, account, region, name, ...(reason ? [reason] : [])],
    },
    metadata: {
      threadId: `${account}/${region}/${name}`,
      summary: subject,
      eventType: c.outcome,
      relatedResources: [clusterArn, revertId, story.misuse?.session ?? null].filter((r): r is string => !!r && r !== 'unknown'),
      additionalContext: Object.fromEntries(
        Object.entries(context)
          .map(([k, v]) => [k, v === null ? '' : oneLine(v, CHAT_CONTEXT_VALUE_MAX)] as const)
          .filter(([, v]) => v !== ''),
      ),
    },
  };
}

/** A step for chat; a command too long to show whole is left to the email rather than cut. */
function chatStep(step: Step): string {
  const full = step.command ? `${step.text} ${codeSpan(step.command)}` : step.text;
  return full.length <= CHAT_STEP_MAX ? full : `${clip(step.text, CHAT_STEP_MAX - 40)} (the command is in the email alert)`;
}

function chatActor(a: { arn: string; type: string; sourceIp: string }): string {
  return [
    a.arn !== 'unknown' ? codeSpan(a.arn) : 'unknown actor',
    a.type !== 'unknown' ? `(${a.type})` : '',
    a.sourceIp !== 'unknown' ? `from ${codeSpan(a.sourceIp)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function chatDescription(c: AlertCase, story: Story, url: string): string {
  const lines = [story.happened];
  if (story.misuse) {
    lines.push(`*Guard role used outside the guard:* session ${codeSpan(story.misuse.session)}; someone holds the guard's role credentials. The change was judged like any other.`);
  }
  const e = story.escalation;
  if (e) {
    const counts = e.reverts !== null && e.minutes !== null ? `reverted ${e.reverts} times in ${e.minutes} min` : 'the change keeps coming back';
    lines.push(`*Tug-of-war:* ${counts}; the guard keeps enforcing. Involved:`);
    lines.push(...bounded(e.actors.map((a) => `${chatActor(a)} via ${codeSpan(a.userAgent)}${a.tool ? ` (${a.tool})` : ''}`), CHAT_MAX_CHANGES).map((l) => `• ${l}`));
  }
  if (story.origin) lines.push(`*How found:* ${story.origin}`);
  const [only] = story.changes;
  // A tug-of-war's list above names everyone involved already.
  if (!e && story.changes.length === 1 && only) {
    lines.push(`*Who:* ${chatActor(only)} via ${only.event} at ${only.at}`);
  } else if (!e && story.changes.length > 1) {
    lines.push(`*Who (${story.changes.length} changes, oldest first):*`);
    const who = story.changes.map((ch) => `${chatActor(ch)} via ${ch.event} at ${ch.at}: ${ch.requested}`);
    lines.push(...bounded(who.slice(-CHAT_MAX_CHANGES), CHAT_MAX_CHANGES).map((l) => `• ${l}`));
    if (who.length > CHAT_MAX_CHANGES) lines.push(`• and ${who.length - CHAT_MAX_CHANGES} earlier (in the email alert)`);
  }
  const t = story.tagChange;
  if (t) {
    const tags = [t.set.length > 0 ? `set ${t.set.map((x) => codeSpan(x)).join(', ')}` : '', t.removed.length > 0 ? `removed ${t.removed.map((x) => codeSpan(x)).join(', ')}` : '', t.omitted > 0 ? `${t.omitted} more not listed` : '']
      .filter(Boolean)
      .join('; ');
    // The actor is named once when the tag change is the only change (the usual case).
    const by = t.by && !(story.changes.length === 1 && only?.arn === t.by.arn) ? ` by ${chatActor(t.by)}` : '';
    lines.push(`*Tag change${t.laxer ? ' loosened the policy' : ''}:*${by}${tags ? ` ${tags};` : ''} ${t.changes.join(', ')}`);
  }
  const before = story.before ? endpointLine(story.before) : 'unknown';
  lines.push(story.second ? `*Endpoint:* ${before} → ${story.second.label === 'after' ? '' : `${story.second.label} `}${endpointLine(story.second.endpoint)}` : `*Endpoint:* ${before}`);
  if (story.violations.length > 0) {
    lines.push('*Violations:*', ...bounded(story.violations.map((v) => oneLine(v.message, 300)), 5).map((m) => `• ${m}`));
  }
  lines.push(`*Done:* ${story.done.join(' ')}`);
  if (story.failure) lines.push(`*Failure:* ${story.failure.reason}`);
  if (story.recheck) {
    lines.push(`*Re-check:* ${story.recheck.attempt} at ${story.recheck.at} (${story.recheck.wait}); repeated attempts will not page again unless something changes`);
  }
  if (story.timeToFix) lines.push(`*Time to fix:* ${story.timeToFix}`);
  const ids = [
    c.trigger.updateId ? `change ${codeSpan(oneLine(c.trigger.updateId, 128))}` : '',
    c.remediation?.updateId ? `revert ${codeSpan(oneLine(c.remediation.updateId, 128))}${c.revertUpdate ? ` (${oneLine(c.revertUpdate.status, 20)})` : ''}` : '',
  ].filter(Boolean);
  if (ids.length > 0) lines.push(`*Updates:* ${ids.join(', ')}`);
  const errors = c.revertUpdate?.errors ?? [];
  if (errors.length > 0) lines.push(`*Update errors:* ${bounded(errors.map((e) => oneLine([e.errorCode, e.errorMessage].filter(Boolean).join(': '), 200)), 3).join('; ')}`);
  const s = c.evaluation?.settings;
  if (s) lines.push(`*Policy:* ${s.rule ? `rule ${codeSpan(oneLine(s.rule, 100))}` : 'defaults'}, mode ${s.mode}`);
  // Every value was cleaned where it was read; this pass is the backstop for one that was not.
  return fitLines(lines.map(showInvisible), url, CHAT_DESCRIPTION_MAX);
}

/**
 * Joins whole lines while they fit, always ending with `last`: a line cut in the middle could leave a
 * code span open and garble the rest of the chat message, and the console link must survive.
 */
function fitLines(lines: readonly string[], last: string, max: number): string {
  const note = '(more in the email alert)';
  const budget = max - last.length - note.length - 2;
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const piece = kept.length === 0 ? clip(line, Math.max(0, budget)) : line;
    if (used + piece.length + 1 > budget) return [...kept, note, last].join('\n');
    kept.push(piece);
    used += piece.length + 1;
  }
  return [...kept, last].join('\n');
}

function endpointLine(e: Endpoint): string {
  const more = e.cidrs.length > 5 ? ` and ${e.cidrs.length - 5} more` : '';
  const cidrs = `${e.cidrs.slice(0, 5).map((x) => codeSpan(x)).join(', ')}${more}`;
  return `public ${e.publicOn ? `on (${cidrs})` : 'off'}, private ${onOff(e.privateOn)}`;
}
