/**
 * Renders one alert per execution outcome for SNS: a subject, a plain-text body for email, a chat
 * custom notification (Amazon Q Developer in chat applications) and message attributes for subscription
 * filter policies. Written for a person woken at night: what happened first, then who, what changed,
 * what was done and what to do. Pure: time comes in the `AlertCase`, nothing is logged or sent.
 */
import { DEFAULT_EXEMPTION_TAG } from '../policy/schema';
import type { Alert, AlertCase, Outcome, Severity } from '../workflow/types';
import { consoleUrl, derivedClusterArn, type Endpoint } from './describe';
import { asciiOnly, bounded, clip, clipWords, codeSpan, formatDuration, isoTime, multiLine, oneLine, shellWord, wrap } from './format';
import { type Step, type Story, tellStory } from './story';

/** Deployment-specific parts of an alert; everything else comes from the `AlertCase`. */
export type RenderOptions = {
  /** Replaces the default "how to request an exemption" text, e.g. with a link to the team's request form. */
  exemptionHowTo?: string;
  /** The AWS console base URL; by default the console of the cluster region's partition. */
  consoleBaseUrl?: string;
  /** The policy's `exemptionTag`; by default the tag named by the evaluation's exemption, else the product default. */
  exemptionTag?: string;
};

const TAGS: Record<Outcome, string> = {
  remediated: '[REMEDIATED]',
  alerted: '[VIOLATION]',
  'manual-action-required': '[MANUAL ACTION]',
  failed: '[FAILED]',
  exempt: '[EXEMPT]',
  compliant: '[COMPLIANT]',
  ignored: '[IGNORED]',
};

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
const WIDTH = 78;

/**
 * The severity an outcome deserves. `failed` and `manual-action-required` are critical: the cluster
 * may still break the policy and only a person can fix it. `alerted` is a warning rather than critical
 * because alert-only (shadow) mode produces one for every violation during a roll-out, and paging on each
 * would train people to ignore pages; `remediated` is a warning because the exposure already ended but
 * someone should still ask why it happened. The rest need no action.
 */
export function severityFor(outcome: Outcome): Severity {
  switch (outcome) {
    case 'failed':
    case 'manual-action-required':
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

/**
 * Renders the alert for one outcome. The severity is the case's own (the caller may have raised it), not
 * recomputed. Every value that comes from AWS or from people (names, ARNs, user agents, error messages)
 * is cleaned of control characters and clipped, and every list is bounded, so the subject always meets
 * SNS's rules (ASCII, under 100 characters, one line) and the whole message stays far below 256 KiB.
 * `evaluation` is read as the judgement that decided the action, `before` as the settings it judged.
 */
export function renderAlert(c: AlertCase, options: RenderOptions = {}): Alert {
  const story = tellStory(c);
  const url = consoleUrl(c.cluster, options.consoleBaseUrl);
  const subject = renderSubject(c.outcome, story);
  const exemption = exemptionHelp(c, options);
  return {
    subject,
    text: renderText(c, story, url, exemption),
    chat: renderChat(c, story, subject, url, exemption),
    attributes: {
      severity: c.severity,
      outcome: c.outcome,
      account: story.cluster.account,
      region: story.cluster.region,
      cluster: story.cluster.name,
    },
  };
}

/**
 * `[TAG] name account/region: summary`. A long cluster name gives way first (down to a readable
 * prefix), then the summary: the tag and the account and region are what routing and triage key on.
 */
function renderSubject(outcome: Outcome, story: Story): string {
  const tag = TAGS[outcome];
  const where = asciiOnly(`${story.cluster.account}/${story.cluster.region}`);
  let name = asciiOnly(story.cluster.name);
  let summary = asciiOnly(oneLine(story.summary, 200));
  const fixed = tag.length + 1 + 1 + where.length + 2;
  if (fixed + name.length + summary.length > SUBJECT_MAX) {
    name = clip(name, Math.max(SUBJECT_NAME_MIN, SUBJECT_MAX - fixed - summary.length));
  }
  summary = clipWords(summary, Math.max(0, SUBJECT_MAX - fixed - name.length));
  return clip(`${tag} ${name} ${where}: ${summary}`.trim(), SUBJECT_MAX);
}

type ExemptionHelp = { lines: string[]; short: string };

/**
 * How to request an exemption, as text lines and as one line for chat: the override if given, else the
 * two ways the policy allows (a policy exemption, or the exemption tag with an end date).
 */
function exemptionHelp(c: AlertCase, options: RenderOptions): ExemptionHelp {
  if (options.exemptionHowTo) {
    const lines = multiLine(options.exemptionHowTo, 4_000).split('\n');
    return { lines, short: `To request an exemption: ${oneLine(options.exemptionHowTo, CHAT_STEP_MAX)}` };
  }
  const tagFromEvaluation = c.evaluation?.exemption?.source === 'tag' ? c.evaluation.exemption.name : null;
  const tag = oneLine(options.exemptionTag ?? tagFromEvaluation ?? DEFAULT_EXEMPTION_TAG, 128);
  const name = oneLine(c.cluster.name, 100);
  const arn = oneLine(c.evaluation?.cluster.arn ?? '', 300) || derivedClusterArn(c.cluster);
  return {
    lines: [
      'If this endpoint setting is intended, ask the policy owners for one of:',
      '- a policy exemption (name, match, reason, expires), then redeploy:',
      '    exemptions:',
      `      - name: ${JSON.stringify(`${name}-endpoint`)}`,
      `        match: { accounts: [${JSON.stringify(oneLine(c.cluster.account, 32))}], regions: [${JSON.stringify(oneLine(c.cluster.region, 32))}], clusters: [${JSON.stringify(name)}] }`,
      '        reason: "why, with a ticket"',
      '        expires: YYYY-MM-DD',
      `- or the cluster tag ${tag}=YYYY-MM-DD (exempt through that day, UTC):`,
      `    aws eks tag-resource --region ${shellWord(oneLine(c.cluster.region, 32))} --resource-arn ${shellWord(arn)} --tags ${shellWord(`${tag}=YYYY-MM-DD`)}`,
    ],
    short: `If the setting is intended, request an exemption: a policy exemption (name, match, reason, expires) or the cluster tag ${codeSpan(`${tag}=YYYY-MM-DD`)}`,
  };
}

function renderText(c: AlertCase, story: Story, url: string, exemption: ExemptionHelp): string {
  const sections: string[][] = [
    ['WHAT HAPPENED', ...wrap(story.happened, WIDTH, '  ')],
    c.trigger.kind === 'sweep' ? sweepSection(c) : whoSection(c),
    settingsSection(story),
  ];
  if (story.violations.length > 0) {
    sections.push([story.violationsHeading, ...bullets(story.violations.map((v) => v.message), MAX_VIOLATIONS)]);
  }
  if (story.warnings.length > 0) sections.push(['WARNINGS', ...bullets(story.warnings.map((w) => w.message), MAX_WARNINGS)]);
  sections.push(['WHAT WAS DONE', ...story.done.flatMap((d) => wrap(d, WIDTH, '  '))]);
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
  const text = sections.map((s) => s.join('\n')).join('\n\n');
  return text.length <= TEXT_MAX ? text : `${clip(text, TEXT_MAX - 80)}\n\n[message cut to fit SNS; see the execution history]`;
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
  return outcome === 'remediated' || outcome === 'alerted' || outcome === 'manual-action-required' || outcome === 'failed';
}

function field(label: string, value: string): string {
  return `  ${`${label}:`.padEnd(14)} ${value}`;
}

/** A labelled field whose prose value wraps under itself, not under the label. */
function longField(label: string, value: string): string[] {
  const [first = '', ...rest] = wrap(value, WIDTH, ' '.repeat(17));
  return [field(label, first.trimStart()), ...rest];
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

function whoSection(c: AlertCase): string[] {
  const a = c.trigger.actor;
  const known = (v: string | null | undefined, max = 300) => oneLine(v ?? '', max) || 'unknown';
  return [
    'WHO AND WHEN',
    field('Actor', known(a?.arn)),
    field('Actor type', known(a?.type, 64)),
    field('Source IP', known(a?.sourceIPAddress, 100)),
    field('User agent', known(a?.userAgent, 300)),
    field('Event', `${known(c.trigger.eventName, 64)} at ${known(c.trigger.eventTime, 64)}`),
    field('Event id', known(c.trigger.eventId, 128)),
    field('Requested', requestedText(c)),
  ];
}

function sweepSection(c: AlertCase): string[] {
  return [
    'HOW IT WAS FOUND',
    ...wrap(
      `Found by the scheduled sweep at ${oneLine(c.trigger.eventTime, 64)} (run ${oneLine(c.trigger.eventId, 128)}). ` +
        'No CloudTrail event was seen for this change, so who made it is unknown: look up UpdateClusterConfig and CreateCluster for this cluster in CloudTrail event history.',
      WIDTH,
      '  ',
    ),
  ];
}

function requestedText(c: AlertCase): string {
  const r = c.trigger.requested;
  if (!r) return 'no endpoint fields';
  const parts: string[] = [];
  if (r.endpointPublicAccess !== undefined) parts.push(`public ${onOff(r.endpointPublicAccess)}`);
  if (r.endpointPrivateAccess !== undefined) parts.push(`private ${onOff(r.endpointPrivateAccess)}`);
  if (r.publicAccessCidrs) parts.push(`CIDRs ${bounded(r.publicAccessCidrs.map((x) => oneLine(x, 64)), MAX_CIDRS).join(', ')}`);
  return parts.join(', ') || 'no endpoint fields';
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
  // A sweep's time is when it found the problem; when the change itself happened is unknown.
  const start = c.trigger.kind === 'sweep' ? 'finding' : 'change';
  const lines = ['TIMING', field(c.trigger.kind === 'sweep' ? 'Found at' : 'Changed at', oneLine(c.trigger.eventTime, 64) || 'unknown')];
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

/**
 * The custom-notification shape Amazon Q Developer in chat applications requires (anything else is
 * dropped): a short markdown description with the same facts as the email's first sections, the next
 * steps as a list, and metadata that threads every alert about one cluster together.
 */
function renderChat(c: AlertCase, story: Story, subject: string, url: string, exemption: ExemptionHelp): Record<string, unknown> {
  const { account, region, name } = story.cluster;
  const remediation = c.remediation;
  const revertId = remediation?.updateId ? oneLine(remediation.updateId, 128) : null;
  const clusterArn = c.evaluation?.cluster.arn ? oneLine(c.evaluation.cluster.arn, 300) : null;
  // The story's own steps come first; the exemption hint and the console link always make the list.
  const own = story.nextSteps.map((s) => chatStep(s));
  const steps = needsAction(c.outcome) ? [...own.slice(0, CHAT_MAX_STEPS - 2), exemption.short] : own.slice(0, CHAT_MAX_STEPS - 1);
  const nextSteps = [...steps, `Open the cluster: ${url}`].map((s) => clip(s, CHAT_STEP_MAX));
  const context: Record<string, string | null> = {
    account,
    region,
    cluster: name,
    outcome: c.outcome,
    severity: c.severity,
    eventId: oneLine(c.trigger.eventId, 128),
    eventName: oneLine(c.trigger.eventName, 64),
    eventTime: oneLine(c.trigger.eventTime, 64),
    trigger: c.trigger.kind,
    actor: c.trigger.actor?.arn ?? null,
    sourceIp: c.trigger.actor?.sourceIPAddress ?? null,
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
      keywords: [c.outcome, c.severity, account, region, name],
    },
    metadata: {
      threadId: `${account}/${region}/${name}`,
      summary: subject,
      eventType: c.outcome,
      relatedResources: [clusterArn, revertId].filter((r): r is string => !!r),
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

function chatDescription(c: AlertCase, story: Story, url: string): string {
  const lines = [story.happened];
  const a = c.trigger.actor;
  if (c.trigger.kind === 'sweep') {
    lines.push(`*Found by:* the scheduled sweep at ${oneLine(c.trigger.eventTime, 64)}; who made the change is unknown`);
  } else {
    const who = [
      a?.arn ? codeSpan(oneLine(a.arn, 300)) : 'unknown actor',
      a?.type ? `(${oneLine(a.type, 64)})` : '',
      a?.sourceIPAddress ? `from ${codeSpan(oneLine(a.sourceIPAddress, 100))}` : '',
      `via ${oneLine(c.trigger.eventName, 64)} at ${oneLine(c.trigger.eventTime, 64)}`,
    ];
    lines.push(`*Who:* ${who.filter(Boolean).join(' ')}`);
  }
  const before = story.before ? endpointLine(story.before) : 'unknown';
  lines.push(story.second ? `*Endpoint:* ${before} → ${story.second.label === 'after' ? '' : `${story.second.label} `}${endpointLine(story.second.endpoint)}` : `*Endpoint:* ${before}`);
  if (story.violations.length > 0) {
    lines.push('*Violations:*', ...bounded(story.violations.map((v) => oneLine(v.message, 300)), 5).map((m) => `• ${m}`));
  }
  lines.push(`*Done:* ${story.done.join(' ')}`);
  if (story.failure) lines.push(`*Failure:* ${story.failure.reason}`);
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
  return fitLines(lines, url, CHAT_DESCRIPTION_MAX);
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
