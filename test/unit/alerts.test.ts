import { describe, expect, it } from '@jest/globals';
import { type AlertReason, alertReason, alertSeverity, renderAlert, severityFor } from '../../src/alerts/render';
import type { AlertCase, Outcome, Severity } from '../../src/workflow/types';
import {
  ACTOR,
  CHANGE_UPDATE_ID,
  CROSSPLANE,
  DNS_FIX,
  EVENT_TIME,
  EXEMPT_UNTIL,
  FIRST_CHANGE_ID,
  FIRST_CHANGE_TIME,
  INCIDENT,
  MISUSED_SESSION,
  RECHECK_TIME,
  REVERT_UPDATE_ID,
  SWEEP_ID,
  TAGGER,
  TERRAFORM,
  VPC_ID,
  alertedAlertMode,
  alertedNoSafeRemediation,
  changeOf,
  compliant,
  compliantOnRecheck,
  escalatedTugOfWar,
  eventTrigger,
  exemptByTag,
  failedRecheckScheduled,
  failedUnexpectedError,
  failedUpdateFailed,
  guardRoleMisuseRemediated,
  ignoredClusterDeleted,
  manualActionDnsHostnames,
  remediatedCidrsNarrowed,
  remediatedOnRecheck,
  remediatedPublicClosed,
  remediatedTwoActors,
  sweepRemediated,
  tagChangeExempt,
  tagChangeLaxerCompliant,
} from '../fixtures/alerts/cases';

/** The lines of one headed section of the email text, up to the next blank line. */
function section(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no section ${heading} in:\n${text}`);
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

const CONSOLE_PROD = 'https://console.aws.amazon.com/eks/home?region=eu-west-1#/clusters/prod-api';
const DEFAULT_HOW_TO = 'eks-endpoint-guard/exempt-until=YYYY-MM-DD';
// The default how-to sends people to the policy owners and never hands out a tagging command.
const HOW_TO_FACTS = [DEFAULT_HOW_TO, 'ask the policy owners for an', 'policy file', 'maxTagExemptionDays'];

type Chat = {
  version: string;
  source: string;
  id: string;
  content: { textType: string; title: string; description: string; nextSteps: string[]; keywords: string[] };
  metadata: { threadId: string; summary: string; eventType: string; relatedResources: string[]; additionalContext: Record<string, unknown> };
};
const chatOf = (alert: { chat: Record<string, unknown> }) => alert.chat as Chat;

type Row = {
  name: string;
  alertCase: AlertCase;
  subject: string;
  severity: Severity;
  /** Facts that must appear in the given section of the text, as printed (columns and whole commands). */
  facts: Record<string, string[]>;
  /** Prose that must appear in the given section however it is wrapped. */
  prose?: Record<string, string[]>;
  absent?: string[];
  /** In chat nextSteps (joined). */
  steps?: string[];
  /** In the chat description. */
  chat?: string[];
  /** The `reason` attribute and keyword, when the case has one. */
  reason?: AlertReason;
};

const eventFacts = [ACTOR.arn, ACTOR.type, ACTOR.sourceIPAddress, ACTOR.userAgent, EVENT_TIME, 'UpdateClusterConfig', 'f4d046b0-7d95-47bf-8349-c98a95a738e9'];

const rows: Row[] = [
  {
    name: 'remediated: public endpoint closed',
    alertCase: remediatedPublicClosed,
    subject: '[REMEDIATED] prod-api 111122223333/eu-west-1: public endpoint closed',
    severity: 'warning',
    facts: {
      'WHO AND WHEN': [...eventFacts, 'public on, CIDRs 0.0.0.0/0'],
      'ENDPOINT SETTINGS': ['before', 'after', '0.0.0.0/0', '- (public off)'],
      VIOLATIONS: ['public endpoint access is on, but the policy forbids it', 'private endpoint access is off, but the policy requires it'],
      'WHAT WAS DONE': ['Applied: public off, private on', 'Verified'],
      UPDATES: [CHANGE_UPDATE_ID, `${REVERT_UPDATE_ID} - Successful`],
      TIMING: ['4m 12s (change to verified fix)'],
      POLICY: ['prod-private-only', 'enforce', 'public access forbidden'],
      'HOW TO REQUEST AN EXEMPTION': [...HOW_TO_FACTS, 'expires: YYYY-MM-DD', 'reason:', 'match:', 'at most 30 days here'],
      CONSOLE: [CONSOLE_PROD],
    },
    absent: ['tag-resource', 'RE-CHECK', 'TUG-OF-WAR', 'GUARD ROLE', 'TAG CHANGE', 'HOW IT WAS FOUND'],
    chat: [ACTOR.sourceIPAddress, `*Who:* \`${ACTOR.arn}\``],
  },
  {
    name: 'remediated: public CIDRs narrowed',
    alertCase: remediatedCidrsNarrowed,
    subject: '[REMEDIATED] sandbox-data 444455556666/us-east-1: public CIDRs narrowed to 203.0.113.0/24',
    severity: 'warning',
    facts: {
      'WHO AND WHEN': ['arn:aws:sts::444455556666:assumed-role/TerraformDeploy/ci-run-4711', 'Terraform/1.9.5'],
      'ENDPOINT SETTINGS': ['0.0.0.0/0', '203.0.113.0/24'],
      VIOLATIONS: ['public endpoint CIDR 0.0.0.0/0 admits the whole internet'],
      TIMING: ['1h 2m 5s'],
      CONSOLE: ['https://console.aws.amazon.com/eks/home?region=us-east-1#/clusters/sandbox-data'],
    },
  },
  {
    name: 'alerted: alert-only mode says what would be done',
    alertCase: alertedAlertMode,
    subject: '[VIOLATION] prod-api 111122223333/eu-west-1: open to 0.0.0.0/0, would close public endpoint',
    severity: 'warning',
    facts: {
      'WHO AND WHEN': eventFacts,
      'ENDPOINT SETTINGS': ['would be'],
      'WHAT WAS DONE': ['alert-only mode', 'In enforce mode the guard would set public off, private on'],
      'TO FIX IT BY HAND': [`aws eks update-cluster-config --region eu-west-1 --name prod-api --resources-vpc-config '{"endpointPublicAccess":false,"endpointPrivateAccess":true}'`],
      UPDATES: [CHANGE_UPDATE_ID],
      'HOW TO REQUEST AN EXEMPTION': HOW_TO_FACTS,
      CONSOLE: [CONSOLE_PROD],
    },
    absent: [REVERT_UPDATE_ID, 'tag-resource'],
    steps: ['set mode: enforce for rule prod-private-only', 'aws eks update-cluster-config'],
  },
  {
    name: 'alerted: no safe remediation',
    alertCase: alertedNoSafeRemediation,
    subject: '[VIOLATION] prod-api 111122223333/eu-west-1: 12 public CIDRs, limit 10, no safe fix',
    severity: 'warning',
    facts: {
      'ENDPOINT SETTINGS': ['current', '192.0.2.0/28', '192.0.2.176/28'],
      VIOLATIONS: ['public endpoint allows 12 CIDR blocks, more than the limit of 10'],
      WARNINGS: ['no safe automatic change'],
      'WHAT WAS DONE': ['Nothing was changed', 'allowlist to choose which to keep'],
      'HOW TO REQUEST AN EXEMPTION': HOW_TO_FACTS,
    },
    absent: ['TO FIX IT BY HAND', 'would be', 'tag-resource'],
  },
  {
    name: 'manual action required: VPC lacks DNS hostnames',
    alertCase: manualActionDnsHostnames,
    subject: '[MANUAL ACTION] prod-api 111122223333/eu-west-1: VPC lacks DNS hostnames, nothing changed',
    severity: 'critical',
    facts: {
      'WHO AND WHEN': eventFacts,
      'MANUAL ACTION REQUIRED': [VPC_ID, 'enableDnsHostnames', `       ${DNS_FIX}`, 'aws eks update-cluster-config'],
      'WHAT WAS DONE': ['Nothing was changed', 'safety preflight failed'],
      'HOW TO REQUEST AN EXEMPTION': HOW_TO_FACTS,
      CONSOLE: [CONSOLE_PROD],
    },
    steps: [DNS_FIX],
  },
  {
    name: 'failed: the revert update ended Failed with errors',
    alertCase: failedUpdateFailed,
    subject: '[FAILED] prod-api 111122223333/eu-west-1: revert failed: update Failed, InsufficientFreeAddresses',
    severity: 'critical',
    facts: {
      'WHO AND WHEN': eventFacts,
      'ENDPOINT SETTINGS': ['before', 'after'],
      'VIOLATIONS STILL PRESENT AFTER THE REVERT': ['public endpoint access is on, but the policy forbids it'],
      FAILURE: ['InsufficientFreeAddresses', 'What to do', 'aws eks update-cluster-config'],
      UPDATES: [
        `${REVERT_UPDATE_ID} - Failed`,
        'InsufficientFreeAddresses: One or more of the subnets does not have',
        'EniLimitReached',
      ],
      'HOW TO REQUEST AN EXEMPTION': HOW_TO_FACTS,
    },
  },
  {
    name: 'failed: unexpected error caught by the state machine',
    alertCase: failedUnexpectedError,
    subject: '[FAILED] prod-api 111122223333/eu-west-1: revert failed: DescribeUpdate throttled: Rate exceeded',
    severity: 'critical',
    facts: {
      FAILURE: ['TransientAwsError: DescribeUpdate throttled: Rate exceeded', 'Step Functions execution', 'f4d046b0-7d95-47bf-8349-c98a95a738e9'],
      UPDATES: [`${REVERT_UPDATE_ID} - InProgress`],
      'WHAT WAS DONE': ['during the revert'],
    },
    // The stack trace is for the logs, not for the person reading the alert.
    absent: ['/var/task/index.mjs', '"errorType"'],
  },
  {
    name: 'exempt by tag',
    alertCase: exemptByTag,
    subject: `[EXEMPT] legacy-billing 444455556666/eu-central-1: exempt until ${EXEMPT_UNTIL}, open to 0.0.0.0/0`,
    severity: 'info',
    facts: {
      EXEMPTION: ['cluster tag', 'acme/endpoint-exempt-until', EXEMPT_UNTIL],
      VIOLATIONS: ['public endpoint access is on, but the policy forbids it'],
      'WHAT WAS DONE': ['Nothing was changed'],
      CONSOLE: ['https://console.aws.amazon.com/eks/home?region=eu-central-1#/clusters/legacy-billing'],
    },
    absent: ['HOW TO REQUEST AN EXEMPTION'],
  },
  {
    name: 'compliant',
    alertCase: compliant,
    subject: '[COMPLIANT] sandbox-data 444455556666/us-east-1: complies: public 203.0.113.0/24, private on',
    severity: 'info',
    facts: {
      'ENDPOINT SETTINGS': ['current', '203.0.113.0/24'],
      'WHAT WAS DONE': ['Nothing was changed'],
    },
    absent: ['VIOLATIONS', 'HOW TO REQUEST AN EXEMPTION', 'Revert:'],
  },
  {
    name: 'remediated after the scheduled sweep found it',
    alertCase: sweepRemediated,
    subject: '[REMEDIATED] prod-api 111122223333/eu-west-1: public endpoint closed',
    severity: 'warning',
    facts: {
      'HOW IT WAS FOUND': ['scheduled sweep', '2026-03-02T12:00:00Z', SWEEP_ID, 'CloudTrail'],
      UPDATES: ['none (found by the sweep)', REVERT_UPDATE_ID],
      TIMING: ['Found at', '5m 1s (finding to verified fix)'],
      'WHAT HAPPENED': ['The scheduled sweep found'],
    },
    absent: ['WHO AND WHEN', 'Actor:'],
    chat: ['*How found:* Found by the scheduled sweep', 'who made it is unknown'],
  },
  {
    name: 'two changes led to what was judged: both actors are named, oldest first',
    alertCase: remediatedTwoActors,
    subject: '[REMEDIATED] prod-api 111122223333/eu-west-1: public endpoint closed',
    severity: 'warning',
    facts: {
      'WHO AND WHEN': [
        'Led to what was judged: 2 changes, oldest first.',
        `  1. UpdateClusterConfig at ${FIRST_CHANGE_TIME}`,
        TERRAFORM.arn!,
        'Terraform/1.9.5',
        FIRST_CHANGE_ID,
        'Requested:     private off',
        `  2. UpdateClusterConfig at ${EVENT_TIME}`,
        ACTOR.arn,
        ACTOR.userAgent,
        'Requested:     public on, CIDRs 0.0.0.0/0',
      ],
      TIMING: [`Changed at:    ${EVENT_TIME}`, `First change:  ${FIRST_CHANGE_TIME}`],
    },
    chat: ['*Who (2 changes, oldest first):*', TERRAFORM.arn!, `${ACTOR.arn}\` (AssumedRole) from \`${ACTOR.sourceIPAddress}\``, ': private off', ': public on, CIDRs 0.0.0.0/0'],
    steps: ['Ask the actors above'],
  },
  {
    name: 'escalated: a tug-of-war names every actor and says to fix the source',
    alertCase: escalatedTugOfWar,
    subject: '[CRITICAL] EKS endpoint tug-of-war on prod-api (111122223333/eu-west-1): reverted 3 times in 30 min',
    severity: 'critical',
    reason: 'ESCALATED',
    facts: {
      'TUG-OF-WAR': [
        'Reverts:       3 within 30 minutes, and the change came back again',
        `    - ${TERRAFORM.arn} (AssumedRole)`,
        `User agent:    ${TERRAFORM.userAgent} (looks like Terraform)`,
        `    - ${CROSSPLANE.arn} (AssumedRole)`,
        `${CROSSPLANE.userAgent} (looks like Crossplane)`,
        CROSSPLANE.sourceIPAddress!,
      ],
      'WHO AND WHEN': [TERRAFORM.arn!],
      'HOW TO REQUEST AN EXEMPTION': HOW_TO_FACTS,
    },
    prose: {
      'WHAT HAPPENED': ['reverted cluster prod-api (account 111122223333, eu-west-1) 3 times within 30 minutes and the change came back again', 'The guard keeps enforcing the policy'],
      'TUG-OF-WAR': [
        'only a fix at the source ends the fight',
        'Fix it at the source',
        'the user agents point to Terraform, Crossplane',
        'change its configuration to comply with the policy (public off, private on)',
        'If the setting is intended, the policy must change instead',
      ],
      'WHAT WAS DONE': ['Reverted again: applied public off, private on', 'The guard keeps enforcing', 'This fight pages once'],
    },
    chat: ['*Tug-of-war:* reverted 3 times in 30 min', TERRAFORM.arn!, CROSSPLANE.arn!, '(Crossplane)'],
    steps: ['Fix it at the source', 'the policy must change instead'],
  },
  {
    name: 'guard role used outside the guard: critical whatever the outcome, names the session',
    alertCase: guardRoleMisuseRemediated,
    subject: '[CRITICAL] prod-api 111122223333/eu-west-1: guard role used outside the guard, reverted',
    severity: 'critical',
    reason: 'GUARD_ROLE_MISUSE',
    facts: {
      'GUARD ROLE USED OUTSIDE THE GUARD': [
        `Session:       ${MISUSED_SESSION}`,
        '        aws cloudtrail lookup-events --region eu-west-1 --lookup-attributes AttributeKey=Username,AttributeValue=i-0abc123def4567890',
      ],
      'WHO AND WHEN': [MISUSED_SESSION, "Note:          made with the guard's role, not by the guard"],
    },
    prose: {
      'WHAT HAPPENED': ["made with the guard's own role outside the guard: someone holds the guard's role credentials. It was judged like any other change", 'the guard reverted it'],
      'GUARD ROLE USED OUTSIDE THE GUARD': [
        "someone other than the guard holds credentials for that role",
        'The change was judged like any other change (see WHAT WAS DONE: Applied: public off, private on',
        'Revoke active sessions',
        'trust policy',
      ],
    },
    absent: ['Ask the actor above'],
    chat: ['*Guard role used outside the guard:*', MISUSED_SESSION],
    steps: ['AttributeKey=Username', 'Revoke active sessions'],
  },
  {
    name: 'a tag change moved the cluster to a laxer rule: a warning naming who, the tags and the rules',
    alertCase: tagChangeLaxerCompliant,
    subject: '[POLICY LOOSENED] prod-api 111122223333/eu-west-1: tag change moved it to rule sandbox-open',
    severity: 'warning',
    reason: 'TAG_CHANGE_LAXER',
    facts: {
      'WHO AND WHEN': [TAGGER.arn!, 'TagResource', 'Requested:     tags set env=sandbox'],
      'TAG CHANGE LOOSENED THE POLICY': [
        `Changed by:    ${TAGGER.arn}`,
        'Tags set:      env=sandbox',
        'before                           after',
        'Rule            prod-private-only                sandbox-open',
        'Public access   forbidden                        restricted',
        'Private access  required                         optional',
        'Exempt          no                               no',
      ],
    },
    prose: {
      'WHAT HAPPENED': ['complies', `A tag change by ${TAGGER.arn} loosened the policy for this cluster (rule prod-private-only -> sandbox-open`],
      'TAG CHANGE LOOSENED THE POLICY': [
        'What changed: rule prod-private-only -> sandbox-open; public access forbidden -> restricted; private access required -> optional',
        'approved by the policy owners; if not, restore the previous tags',
      ],
    },
    absent: ['HOW TO REQUEST AN EXEMPTION'],
    chat: ['*Tag change loosened the policy:*', '`env=sandbox`', 'rule prod-private-only -> sandbox-open'],
    steps: ['was approved by the policy owners'],
  },
  {
    name: 'a tag change exempted the cluster: raised from info to a warning',
    alertCase: tagChangeExempt,
    subject: `[POLICY LOOSENED] legacy-billing 444455556666/eu-central-1: tag change exempted it until ${EXEMPT_UNTIL}`,
    severity: 'warning',
    reason: 'TAG_CHANGE_LAXER',
    facts: {
      'TAG CHANGE LOOSENED THE POLICY': [`Tags set:      acme/endpoint-exempt-until=${EXEMPT_UNTIL}`, 'Tags removed:  owner', 'Exempt          no', 'What changed:  now exempt'],
      EXEMPTION: ['cluster tag', EXEMPT_UNTIL],
    },
    chat: ['removed `owner`', 'now exempt'],
  },
  {
    name: 'failed, with a re-check scheduled: when, and that repeats will not page',
    alertCase: failedRecheckScheduled,
    subject: '[FAILED] prod-api 111122223333/eu-west-1: revert failed: update Failed, InsufficientFreeAddresses',
    severity: 'critical',
    reason: 'RECHECK_SCHEDULED',
    facts: {
      'RE-CHECK': ['Next attempt:  2026-03-02T09:28:47.000Z (in 10 minutes)', 'Attempt:       re-check 1', `Incident:      ${INCIDENT}`],
      FAILURE: ['InsufficientFreeAddresses'],
    },
    prose: {
      'WHAT HAPPENED': ['The guard tries again at 2026-03-02T09:28:47.000Z (in 10 minutes).'],
      'RE-CHECK': ['Repeated attempts will not page again unless something changes'],
      'WHAT WAS DONE': ['Scheduled re-check 1 for 2026-03-02T09:28:47.000Z (in 10 minutes)'],
    },
    chat: ['*Re-check:* 1 at 2026-03-02T09:28:47.000Z (in 10 minutes); repeated attempts will not page again unless something changes'],
    steps: ['tries again by itself', 'will not page again'],
  },
  {
    name: 'remediated on a re-check: says which one fixed it',
    alertCase: remediatedOnRecheck,
    subject: '[REMEDIATED] prod-api 111122223333/eu-west-1: fixed on re-check 2: public endpoint closed',
    severity: 'warning',
    facts: {
      UPDATES: ['none (a re-check)', REVERT_UPDATE_ID],
      TIMING: [`Re-check at:   ${RECHECK_TIME}`, '(re-check to verified fix)'],
    },
    prose: {
      'WHAT HAPPENED': ['On re-check 2, cluster prod-api'],
      'HOW IT WAS FOUND': [`Re-check 2 of incident ${INCIDENT} at ${RECHECK_TIME}`, 'first alert of the incident'],
    },
    absent: ['WHO AND WHEN', 'RE-CHECK\n'],
    chat: ['*How found:* Re-check 2'],
    steps: ['Find who made the change in CloudTrail'],
  },
  {
    name: 'compliant on a re-check: the incident is over',
    alertCase: compliantOnRecheck,
    subject: '[COMPLIANT] prod-api 111122223333/eu-west-1: fixed on re-check 2: public 203.0.113.0/24, private on',
    severity: 'info',
    facts: {},
    prose: { 'WHAT HAPPENED': ['On re-check 2, cluster prod-api', 'complies with the endpoint policy'], 'HOW IT WAS FOUND': ['Re-check 2 of incident'] },
    absent: ['HOW TO REQUEST AN EXEMPTION'],
    chat: ['*How found:* Re-check 2'],
  },
  {
    name: 'ignored: the cluster was deleted while the guard worked on it',
    alertCase: ignoredClusterDeleted,
    subject: '[IGNORED] prod-api 111122223333/eu-west-1: cluster deleted while the guard was working on it',
    severity: 'info',
    reason: 'CLUSTER_DELETED',
    facts: {},
    prose: {
      'WHAT HAPPENED': ['The cluster prod-api (account 111122223333, eu-west-1) was deleted while the guard was working on it'],
      'WHAT WAS DONE': ['the cluster no longer exists. Nothing to do.'],
    },
    absent: ['HOW TO REQUEST AN EXEMPTION', 'VIOLATIONS'],
    chat: [ACTOR.sourceIPAddress],
  },
];

describe('renderAlert', () => {
  describe.each(rows)('$name', ({ alertCase, subject, severity, facts, prose, absent, steps, chat: chatFacts, reason }) => {
    const alert = renderAlert(deepFreeze(structuredClone(alertCase)), {});

    it('has a short one-line ASCII subject with the outcome tag and the summary', () => {
      expect(alert.subject).toBe(subject);
      expect(alert.subject.length).toBeLessThan(100);
      expect(alert.subject).toMatch(/^[\x20-\x7e]+$/);
    });

    it('says the key facts in the right sections of the text', () => {
      for (const [heading, expected] of Object.entries(facts)) {
        const body = section(alert.text, heading);
        for (const fact of expected) expect(body).toContain(fact);
      }
      for (const [heading, expected] of Object.entries(prose ?? {})) {
        const body = section(alert.text, heading).replace(/\s+/g, ' ');
        for (const fact of expected) expect(body).toContain(fact);
      }
      for (const missing of absent ?? []) expect(alert.text).not.toContain(missing);
      expect(alert.text.startsWith('WHAT HAPPENED\n')).toBe(true);
    });

    it('builds the chat custom notification in exactly the required shape', () => {
      const chat = chatOf(alert);
      const { name, account, region } = alertCase.cluster;
      expect(Object.keys(chat).sort()).toEqual(['content', 'id', 'metadata', 'source', 'version']);
      expect(Object.keys(chat.content).sort()).toEqual(['description', 'keywords', 'nextSteps', 'textType', 'title']);
      expect(Object.keys(chat.metadata).sort()).toEqual(['additionalContext', 'eventType', 'relatedResources', 'summary', 'threadId']);
      expect(chat).toMatchObject({
        version: '1.0',
        source: 'custom',
        id: `${alertCase.trigger.eventId}-${alertCase.outcome}`,
        content: { textType: 'client-markdown', title: subject, keywords: [alertCase.outcome, severity, account, region, name, ...(reason ? [reason] : [])] },
        metadata: {
          threadId: `${account}/${region}/${name}`,
          summary: subject,
          eventType: alertCase.outcome,
          additionalContext: { account, region, cluster: name, severity, ...(reason ? { reason } : {}) },
        },
      });
      if (alertCase.evaluation) expect(chat.metadata.relatedResources).toContain(`arn:aws:eks:${region}:${account}:cluster/${name}`);
      if (alertCase.remediation?.updateId) expect(chat.metadata.relatedResources).toContain(alertCase.remediation.updateId);
      expect(Object.values(chat.metadata.additionalContext).every((v) => typeof v === 'string' && v !== '')).toBe(true);
      for (const fact of chatFacts ?? []) expect(chat.content.description).toContain(fact);
      expect(chat.content.description.length).toBeLessThanOrEqual(3000);
      expect(chat.content.nextSteps.at(-1)).toContain('https://console.');
      for (const step of steps ?? []) expect(chat.content.nextSteps.join('\n')).toContain(step);
      expect(JSON.parse(JSON.stringify(chat))).toEqual(chat);
    });

    it('sets the message attributes for subscription filter policies', () => {
      const { name, account, region } = alertCase.cluster;
      expect(alert.attributes).toStrictEqual({ kind: 'outcome', severity, outcome: alertCase.outcome, account, region, cluster: name, ...(reason ? { reason } : {}) });
    });

    it('is deterministic: the same case renders the same alert', () => {
      expect(renderAlert(structuredClone(alertCase), {})).toEqual(alert);
    });
  });

  it('uses the exemptionHowTo override instead of the default text, in email and chat', () => {
    const howTo = 'File a request at https://wiki.example.com/eks-exemptions (on-call: #platform)';
    const alert = renderAlert(remediatedPublicClosed, { exemptionHowTo: howTo });
    expect(section(alert.text, 'HOW TO REQUEST AN EXEMPTION')).toContain(howTo);
    expect(alert.text).not.toContain(DEFAULT_HOW_TO);
    expect((alert.chat as { content: { nextSteps: string[] } }).content.nextSteps.join('\n')).toContain('wiki.example.com/eks-exemptions');
  });

  it('says how many tags of the change the ledger did not keep, in email and chat', () => {
    const cut = { ...tagChangeLaxerCompliant, tagChange: { ...tagChangeLaxerCompliant.tagChange!, omitted: 3 } };
    const alert = renderAlert(cut, {});

    expect(section(alert.text, 'TAG CHANGE LOOSENED THE POLICY')).toMatch(/Not listed:\s+3 more tags set or removed \(the ledger keeps 10 per call\)\n/);
    expect(JSON.stringify(alert.chat)).toContain('3 more not listed');
    expect(renderAlert(tagChangeLaxerCompliant, {}).text).not.toContain('Not listed');
  });

  it("names the policy's exemption tag when it is given, without a ready-made tagging command", () => {
    const alert = renderAlert(alertedAlertMode, { exemptionTag: 'acme/exempt-until' });
    const howTo = section(alert.text, 'HOW TO REQUEST AN EXEMPTION');
    expect(howTo).toContain('acme/exempt-until=YYYY-MM-DD');
    expect(howTo).toContain('policy owners');
    expect(alert.text).not.toMatch(/tag-resource|--tags/);
    expect(chatOf(alert).content.nextSteps.join('\n')).toMatch(/policy owners.*`acme\/exempt-until=YYYY-MM-DD`.*maxTagExemptionDays/);
  });

  it('says so when the policy allows no tag exemptions at all', () => {
    const evaluation = { ...alertedAlertMode.evaluation!, settings: { ...alertedAlertMode.evaluation!.settings, maxTagExemptionDays: 0 } };
    const howTo = section(renderAlert({ ...alertedAlertMode, evaluation }, {}).text, 'HOW TO REQUEST AN EXEMPTION');
    expect(howTo).toMatch(/allows no tag\s+exemptions/);
    expect(howTo).not.toContain('=YYYY-MM-DD');
  });

  it('links to the console of the given base URL, and to the partition console by default', () => {
    const custom = renderAlert(remediatedPublicClosed, { consoleBaseUrl: 'https://myorg.awsapps.example/' });
    expect(section(custom.text, 'CONSOLE')).toContain('https://myorg.awsapps.example/eks/home?region=eu-west-1#/clusters/prod-api');
    const china = renderAlert({ ...remediatedPublicClosed, cluster: { ...remediatedPublicClosed.cluster, region: 'cn-north-1' } }, {});
    expect(section(china.text, 'CONSOLE')).toContain('https://console.amazonaws.cn/eks/home?region=cn-north-1#/clusters/prod-api');
  });

  it('keeps the subject under 100 characters for a 100-character cluster name, keeping tag, account and region', () => {
    const name = `payments-${'x'.repeat(91)}`;
    const alert = renderAlert({ ...remediatedPublicClosed, cluster: { ...remediatedPublicClosed.cluster, name } }, {});
    expect(alert.subject.length).toBeLessThan(100);
    expect(alert.subject).toMatch(/^\[REMEDIATED\] payments-x+\.\.\. 111122223333\/eu-west-1: public endpoint closed$/);
    expect(alert.attributes.cluster).toBe(name);
  });

  it('does not let a crafted user agent add lines to the text or the subject', () => {
    const evil = { ...ACTOR, userAgent: 'curl/8\r\nSubject: [COMPLIANT] all good\u0007\u001b[31m' };
    const trigger = { ...remediatedPublicClosed.trigger, actor: evil };
    const alert = renderAlert({ ...remediatedPublicClosed, trigger, actors: [changeOf(trigger)] }, {});
    expect(alert.text.split('\n').some((l) => l.startsWith('Subject:'))).toBe(false);
    // eslint-disable-next-line no-control-regex
    expect(alert.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(section(alert.text, 'WHO AND WHEN')).toContain('curl/8 Subject: [COMPLIANT] all good');
  });

  it('bounds long CIDR lists: 50 shown, then how many more', () => {
    const cidrs = Array.from({ length: 60 }, (_, i) => `10.${i}.0.0/16`);
    const before = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: cidrs };
    const alert = renderAlert({ ...alertedNoSafeRemediation, before }, {});
    const settings = section(alert.text, 'ENDPOINT SETTINGS');
    expect(settings).toContain('10.49.0.0/16');
    expect(settings).not.toContain('10.50.0.0/16');
    expect(settings).toContain('... and 10 more');
  });

  it('describes a revert that AWS refused, with the error and an access hint', () => {
    const rejected: AlertCase = {
      ...failedUnexpectedError,
      remediation: { status: 'rejected', updateId: null, target: null, busyAttempts: 0, waitSeconds: 0, error: { name: 'AccessDeniedException', message: 'not authorized to perform eks:UpdateClusterConfig' } },
      revertUpdate: null,
      failure: { error: 'AccessDeniedException', cause: 'not authorized to perform eks:UpdateClusterConfig' },
    };
    const alert = renderAlert(rejected, {});
    expect(alert.subject).toBe('[FAILED] prod-api 111122223333/eu-west-1: revert failed: AccessDeniedException: not authorized...');
    expect(section(alert.text, 'FAILURE')).toMatch(/remediation role may\s+call eks:UpdateClusterConfig on this cluster/);
    expect(section(alert.text, 'UPDATES')).toContain('none (no update started)');
  });

  it('describes a revert update that was still running when the wait ran out, with the command to check it', () => {
    const timedOut: AlertCase = {
      ...failedUnexpectedError,
      revertUpdate: { done: false, status: 'InProgress', errors: [], polls: 30, waitSeconds: 0, timedOut: true },
      failure: { error: 'WaitTimedOut', cause: 'gave up waiting for the revert to finish' },
    };
    const alert = renderAlert(timedOut, {});
    expect(alert.subject).toContain('revert failed: update still InProgress at timeout');
    expect(section(alert.text, 'FAILURE')).toContain(`    aws eks describe-update --region eu-west-1 --name prod-api --update-id ${REVERT_UPDATE_ID}`);
  });
});

describe('severity and reason beyond the outcome', () => {
  it.each<[string, AlertCase, Severity]>([
    ['a misused guard role on a remediation', { ...guardRoleMisuseRemediated, severity: 'warning' }, 'critical'],
    ['a misused guard role on a compliant change', { ...compliant, guardRoleMisuse: { session: MISUSED_SESSION } }, 'critical'],
    ['a laxer tag change on a compliant cluster', { ...tagChangeLaxerCompliant, severity: 'info' }, 'warning'],
    ['a laxer tag change on an exempt cluster', { ...tagChangeExempt, severity: 'info' }, 'warning'],
    ['a tag change that is not laxer', { ...tagChangeLaxerCompliant, severity: 'info', tagChange: { ...tagChangeLaxerCompliant.tagChange!, laxer: false } }, 'info'],
    ['a laxer tag change on a failure (already critical)', { ...failedUpdateFailed, tagChange: tagChangeLaxerCompliant.tagChange }, 'critical'],
    ['a caller that raised the severity itself', { ...compliant, severity: 'critical' }, 'critical'],
  ])('%s renders as %s, never lower than the case says', (_name, alertCase, expected) => {
    expect(renderAlert(alertCase, {}).attributes.severity).toBe(expected);
    expect(chatOf(renderAlert(alertCase, {})).content.keywords[1]).toBe(expected);
  });

  it('alertSeverity is the floor the workflow can use to set AlertCase.severity', () => {
    expect(alertSeverity(remediatedPublicClosed)).toBe('warning');
    expect(alertSeverity(guardRoleMisuseRemediated)).toBe('critical');
    expect(alertSeverity(tagChangeExempt)).toBe('warning');
    expect(alertSeverity(escalatedTugOfWar)).toBe('critical');
    expect(alertSeverity(ignoredClusterDeleted)).toBe('info');
  });

  it.each<[string, AlertCase, AlertReason | null]>([
    ['ordinary remediation', remediatedPublicClosed, null],
    ['misused guard role', guardRoleMisuseRemediated, 'GUARD_ROLE_MISUSE'],
    ['misuse wins over a tug-of-war', { ...escalatedTugOfWar, guardRoleMisuse: { session: MISUSED_SESSION } }, 'GUARD_ROLE_MISUSE'],
    ['tug-of-war', escalatedTugOfWar, 'ESCALATED'],
    ['laxer tag change', tagChangeLaxerCompliant, 'TAG_CHANGE_LAXER'],
    ['cluster deleted', ignoredClusterDeleted, 'CLUSTER_DELETED'],
    ['already handled', { ...ignoredClusterDeleted, ignoredReason: 'ALREADY_HANDLED' }, null],
    ['re-check scheduled', failedRecheckScheduled, 'RECHECK_SCHEDULED'],
  ])('reason for %s is %s', (_name, alertCase, reason) => {
    expect(alertReason(alertCase)).toBe(reason);
    const { attributes } = renderAlert(alertCase, {});
    if (reason) expect(attributes.reason).toBe(reason);
    else expect('reason' in attributes).toBe(false);
  });
});

describe('renderAlert: the new facts in detail', () => {
  it('drops the filler words of a tug-of-war subject before cutting any fact', () => {
    const alert = renderAlert({ ...escalatedTugOfWar, cluster: { ...escalatedTugOfWar.cluster, region: 'ap-southeast-1' } }, {});
    expect(alert.subject).toBe('[CRITICAL] tug-of-war on prod-api (111122223333/ap-southeast-1): reverted 3 times in 30 min');
  });

  it('keeps a tug-of-war subject with a 100-character name under 100 characters, tag and where intact', () => {
    const name = `payments-${'x'.repeat(91)}`;
    const alert = renderAlert({ ...escalatedTugOfWar, cluster: { ...escalatedTugOfWar.cluster, name } }, {});
    expect(alert.subject.length).toBeLessThan(100);
    expect(alert.subject).toMatch(/^\[CRITICAL\] tug-of-war on payments-x+\.\.\. \(111122223333\/eu-west-1\): reverted/);
  });

  it('names a tug-of-war with no recorded actors honestly and still says what to fix', () => {
    const alert = renderAlert({ ...escalatedTugOfWar, actors: [], escalation: { reverts: 4, withinMinutes: 60, actors: [] }, trigger: { ...escalatedTugOfWar.trigger, actor: null } }, {});
    const body = section(alert.text, 'TUG-OF-WAR');
    expect(body).toContain('none recorded');
    expect(body).toContain('Fix it at the source');
    expect(alert.subject).toContain('reverted 4 times in 60 min');
  });

  it.each<[number, string]>([
    [600_000, 'in 10 minutes'],
    [61_000, 'in 1 minute'],
    [20_000, 'in 1 minute'],
    [0, 'due now'],
    [-5_000, 'due now'],
  ])('says when the next re-check is, %d ms ahead: "%s"', (ahead, words) => {
    const at = failedRecheckScheduled.at;
    const alert = renderAlert({ ...failedRecheckScheduled, recheck: { attempt: 3, nextAt: at + ahead, incident: INCIDENT } }, {});
    expect(section(alert.text, 'RE-CHECK')).toContain(`Next attempt:  ${new Date(at + ahead).toISOString()} (${words})`);
    expect(section(alert.text, 'RE-CHECK')).toContain('re-check 3');
  });

  it('lists many changes bounded: the most recent 20 in the email, 5 in chat', () => {
    const actors = Array.from({ length: 30 }, (_, i) =>
      changeOf({ ...eventTrigger, eventId: `event-${i}`, eventTime: `2026-03-02T09:${String(10 + i).padStart(2, '0')}:00Z`, actor: { ...ACTOR, arn: `arn:aws:iam::111122223333:user/u${i}` } }),
    );
    const alert = renderAlert({ ...remediatedPublicClosed, actors }, {});
    const who = section(alert.text, 'WHO AND WHEN');
    expect(who).toContain('the last 20 of 30 changes, oldest first');
    expect(who).not.toContain('user/u9\n');
    expect(who).toContain('user/u10');
    expect(who).toContain('user/u29');
    const description = chatOf(alert).content.description;
    expect(description).toContain('user/u29');
    expect(description).not.toContain('user/u24`');
    expect(description).toContain('and 15 earlier (in the email alert)');
  });

  it('shows what a tag change did when the guard never judged the cluster before', () => {
    const tagChange = { ...tagChangeExempt.tagChange!, before: null };
    const alert = renderAlert({ ...tagChangeExempt, tagChange }, {});
    const body = section(alert.text, 'TAG CHANGE LOOSENED THE POLICY');
    expect(body).toMatch(/Exempt\s+unknown\s+yes/);
    expect(body).toContain('now exempt');
  });

  it('tells a tag change that did not loosen anything without raising it', () => {
    const tagChange = { ...tagChangeLaxerCompliant.tagChange!, laxer: false };
    const alert = renderAlert({ ...tagChangeLaxerCompliant, severity: 'info', tagChange }, {});
    expect(alert.subject.startsWith('[COMPLIANT] ')).toBe(true);
    expect(section(alert.text, 'TAG CHANGE')).not.toContain('restore the previous tags');
    expect(alert.text).not.toContain('TAG CHANGE LOOSENED');
  });

  it('gives no lookup command for a session ARN it cannot read, but still says what to do', () => {
    const alert = renderAlert({ ...guardRoleMisuseRemediated, guardRoleMisuse: { session: 'not-an-arn' } }, {});
    const body = section(alert.text, 'GUARD ROLE USED OUTSIDE THE GUARD');
    expect(body).toContain('Session:       not-an-arn');
    expect(body).not.toContain('lookup-events');
    expect(body).toContain('Revoke active sessions');
  });
});

describe('severityFor', () => {
  it.each<[Outcome, Severity]>([
    ['failed', 'critical'],
    ['manual-action-required', 'critical'],
    ['escalated', 'critical'],
    ['alerted', 'warning'],
    ['remediated', 'warning'],
    ['exempt', 'info'],
    ['compliant', 'info'],
    ['ignored', 'info'],
  ])('%s is %s', (outcome, severity) => {
    expect(severityFor(outcome)).toBe(severity);
  });
});
