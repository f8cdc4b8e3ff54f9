import { describe, expect, it } from '@jest/globals';
import { renderAlert, severityFor } from '../../src/alerts/render';
import type { Alert, AlertCase, Outcome, Severity } from '../../src/workflow/types';
import {
  ACTOR,
  CHANGE_UPDATE_ID,
  DNS_FIX,
  EVENT_TIME,
  EXEMPT_UNTIL,
  REVERT_UPDATE_ID,
  SWEEP_ID,
  VPC_ID,
  alertedAlertMode,
  alertedNoSafeRemediation,
  compliant,
  exemptByTag,
  failedUnexpectedError,
  failedUpdateFailed,
  manualActionDnsHostnames,
  remediatedCidrsNarrowed,
  remediatedPublicClosed,
  sweepRemediated,
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

type Row = {
  name: string;
  alertCase: AlertCase;
  subject: string;
  severity: Severity;
  /** Facts that must appear in the given section of the text (`*` for anywhere). */
  facts: Record<string, string[]>;
  absent?: string[];
  /** In chat nextSteps (joined). */
  steps?: string[];
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
      'HOW TO REQUEST AN EXEMPTION': [DEFAULT_HOW_TO, 'expires: YYYY-MM-DD', 'reason:', 'match:'],
      CONSOLE: [CONSOLE_PROD],
    },
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
      'HOW TO REQUEST AN EXEMPTION': [DEFAULT_HOW_TO],
      CONSOLE: [CONSOLE_PROD],
    },
    absent: [REVERT_UPDATE_ID],
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
      'HOW TO REQUEST AN EXEMPTION': [DEFAULT_HOW_TO],
    },
    absent: ['TO FIX IT BY HAND', 'would be'],
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
      'HOW TO REQUEST AN EXEMPTION': [DEFAULT_HOW_TO],
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
      'HOW TO REQUEST AN EXEMPTION': [DEFAULT_HOW_TO],
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
  },
];

describe('renderAlert', () => {
  describe.each(rows)('$name', ({ alertCase, subject, severity, facts, absent, steps }) => {
    const alert: Alert = renderAlert(deepFreeze(structuredClone(alertCase)), {});

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
      for (const missing of absent ?? []) expect(alert.text).not.toContain(missing);
      expect(alert.text.startsWith('WHAT HAPPENED\n')).toBe(true);
    });

    it('builds the chat custom notification in exactly the required shape', () => {
      const chat = alert.chat as {
        version: string;
        source: string;
        id: string;
        content: { textType: string; title: string; description: string; nextSteps: string[]; keywords: string[] };
        metadata: { threadId: string; summary: string; eventType: string; relatedResources: string[]; additionalContext: Record<string, unknown> };
      };
      const { name, account, region } = alertCase.cluster;
      expect(Object.keys(chat).sort()).toEqual(['content', 'id', 'metadata', 'source', 'version']);
      expect(Object.keys(chat.content).sort()).toEqual(['description', 'keywords', 'nextSteps', 'textType', 'title']);
      expect(Object.keys(chat.metadata).sort()).toEqual(['additionalContext', 'eventType', 'relatedResources', 'summary', 'threadId']);
      expect(chat).toMatchObject({
        version: '1.0',
        source: 'custom',
        id: `${alertCase.trigger.eventId}-${alertCase.outcome}`,
        content: { textType: 'client-markdown', title: subject, keywords: [alertCase.outcome, severity, account, region, name] },
        metadata: { threadId: `${account}/${region}/${name}`, summary: subject, eventType: alertCase.outcome, additionalContext: { account, region, cluster: name } },
      });
      expect(chat.metadata.relatedResources).toContain(`arn:aws:eks:${region}:${account}:cluster/${name}`);
      if (alertCase.remediation?.updateId) expect(chat.metadata.relatedResources).toContain(alertCase.remediation.updateId);
      expect(Object.values(chat.metadata.additionalContext).every((v) => typeof v === 'string' && v !== '')).toBe(true);
      expect(chat.content.description).toContain(alertCase.trigger.kind === 'sweep' ? 'scheduled sweep' : ACTOR.sourceIPAddress);
      expect(chat.content.description.length).toBeLessThanOrEqual(3000);
      expect(chat.content.nextSteps.at(-1)).toContain('https://console.');
      for (const step of steps ?? []) expect(chat.content.nextSteps.join('\n')).toContain(step);
      expect(JSON.parse(JSON.stringify(chat))).toEqual(chat);
    });

    it('sets the message attributes for subscription filter policies', () => {
      const { name, account, region } = alertCase.cluster;
      expect(alert.attributes).toEqual({ severity, outcome: alertCase.outcome, account, region, cluster: name });
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

  it("names the policy's exemption tag when it is given", () => {
    const alert = renderAlert(alertedAlertMode, { exemptionTag: 'acme/exempt-until' });
    expect(section(alert.text, 'HOW TO REQUEST AN EXEMPTION')).toContain('--tags acme/exempt-until=YYYY-MM-DD');
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
    const alert = renderAlert({ ...remediatedPublicClosed, trigger: { ...remediatedPublicClosed.trigger, actor: evil } }, {});
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

describe('severityFor', () => {
  it.each<[Outcome, Severity]>([
    ['failed', 'critical'],
    ['manual-action-required', 'critical'],
    ['alerted', 'warning'],
    ['remediated', 'warning'],
    ['exempt', 'info'],
    ['compliant', 'info'],
    ['ignored', 'info'],
  ])('%s is %s', (outcome, severity) => {
    expect(severityFor(outcome)).toBe(severity);
  });
});
