import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { renderAlert, severityFor } from '../../src/alerts/render';
import type { ChangeRecord } from '../../src/ledger/types';
import type { AlertCase, Outcome } from '../../src/workflow/types';
import * as cases from '../fixtures/alerts/cases';

const OUTCOMES: Outcome[] = ['ignored', 'compliant', 'exempt', 'alerted', 'remediated', 'escalated', 'manual-action-required', 'failed'];
const TAG: Record<Outcome, string> = {
  remediated: '[REMEDIATED] ',
  alerted: '[VIOLATION] ',
  'manual-action-required': '[MANUAL ACTION] ',
  failed: '[FAILED] ',
  escalated: '[CRITICAL] ',
  exempt: '[EXEMPT] ',
  compliant: '[COMPLIANT] ',
  ignored: '[IGNORED] ',
};

/** The subject's tag: a misused guard role is critical whatever the outcome; a loosening tag lifts an info outcome. */
function expectedTag(c: AlertCase): string {
  if (c.guardRoleMisuse) return '[CRITICAL] ';
  if (c.tagChange?.laxer && severityFor(c.outcome) === 'info') return '[POLICY LOOSENED] ';
  return TAG[c.outcome];
}
const SNS_MAX_BYTES = 256 * 1024;

const fixtures: AlertCase[] = Object.values(cases).filter((v): v is AlertCase => typeof v === 'object' && v !== null && 'outcome' in v);

// Any UTF-16 content, control characters and lone surrogates included: names and messages come from AWS
// and from people, and the subject rules must hold whatever they contain.
const anyText = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
const clusterName = fc.oneof(anyText(100), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/));
const cidrs40 = fc.array(fc.tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 8, max: 32 })), { minLength: 40, maxLength: 40 }).map((xs) => xs.map(([a, b, p]) => `${a}.${b}.0.0/${p}`));
const longMessages = (max: number) => fc.array(anyText(1_000), { maxLength: max });

const stressedCase = fc
  .record({
    base: fc.constantFrom(...fixtures),
    outcome: fc.constantFrom(...OUTCOMES),
    name: clusterName,
    before: cidrs40,
    after: cidrs40,
    violations: longMessages(60),
    warnings: longMessages(30),
    errors: longMessages(30),
    cause: anyText(32_768),
    userAgent: anyText(1_000),
    arn: anyText(2_048),
    problems: longMessages(5),
    howTo: fc.option(anyText(5_000), { nil: undefined }),
    // The ledger keeps up to 50 changes and 50 reverts' actors; a tag change can set 50 tags.
    changes: fc.array(fc.record({ arn: anyText(2_048), userAgent: anyText(1_000), request: fc.array(anyText(64), { maxLength: 50 }) }), { maxLength: 50 }),
    tags: fc.dictionary(anyText(128), anyText(256), { maxKeys: 50 }),
    misuse: fc.option(anyText(2_048), { nil: null }),
    escalated: fc.boolean(),
    laxer: fc.boolean(),
    recheck: fc.option(fc.record({ attempt: fc.nat(1_000), ahead: fc.integer({ min: -1e9, max: 1e9 }), incident: anyText(1_000) }), { nil: null }),
  })
  .map(({ base, outcome, name, before, after, violations, warnings, errors, cause, userAgent, arn, problems, howTo, changes, tags, misuse, escalated, laxer, recheck }) => {
    const evaluation = base.evaluation ?? cases.remediatedPublicClosed.evaluation!;
    const actor = (a: string, ua: string) => ({ arn: a, type: 'AssumedRole', sourceIPAddress: '198.51.100.23', userAgent: ua });
    const actors: ChangeRecord[] = changes.map((ch, i) =>
      cases.changeOf(base.trigger, { eventId: `e${i}`, actor: actor(ch.arn, ch.userAgent), requested: { publicAccessCidrs: ch.request }, tags: { set: tags, removed: ch.request } }),
    );
    const judged = cases.tagChangeExempt.tagChange!.after;
    const alertCase: AlertCase = {
      ...base,
      outcome,
      actors,
      guardRoleMisuse: misuse === null ? null : { session: misuse },
      escalation: escalated ? { reverts: changes.length, withinMinutes: 30, actors: actors.map((a) => a.actor!) } : null,
      tagChange: { actor: actor(arn, userAgent), set: tags, removed: Object.keys(tags), before: { ...judged, rule: name, allowedPublicCidrs: before }, after: { ...judged, rule: userAgent, allowedPublicCidrs: after }, laxer },
      recheck: recheck === null ? null : { attempt: recheck.attempt, nextAt: base.at + recheck.ahead, incident: recheck.incident },
      cluster: { ...base.cluster, name },
      trigger: { ...base.trigger, actor: { arn, type: 'AssumedRole', sourceIPAddress: '198.51.100.23', userAgent }, requested: { publicAccessCidrs: before } },
      before: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: before },
      after: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: after },
      evaluation: {
        ...evaluation,
        settings: { ...evaluation.settings, allowedPublicCidrs: after },
        violations: violations.map((message, i) => ({ code: 'PUBLIC_CIDR_NOT_ALLOWED', cidr: before[i % 40], message })),
        warnings: warnings.map((message) => ({ code: 'NODE_EGRESS_RISK', message })),
        target: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: after },
      },
      preflight: { safe: false, checked: true, vpcId: 'vpc-1', problems: problems.map((message) => ({ check: 'enableDnsHostnames', message, fix: message })) },
      revertUpdate: { done: true, status: 'Failed', errors: errors.map((m) => ({ errorCode: m.slice(0, 50), errorMessage: m })), polls: 3, waitSeconds: 0, timedOut: false },
      failure: { error: 'Lambda.Unknown', cause },
    };
    return { alertCase, howTo };
  });

describe('renderAlert (properties)', () => {
  it('always gives a one-line printable-ASCII subject under 100 characters, starting with the outcome tag', () => {
    fc.assert(
      fc.property(stressedCase, ({ alertCase, howTo }) => {
        const { subject } = renderAlert(alertCase, { exemptionHowTo: howTo });
        expect(subject.length).toBeLessThan(100);
        expect(subject).toMatch(/^[\x20-\x7e]+$/);
        expect(subject.startsWith(expectedTag(alertCase))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the whole SNS message (text for default and email, chat JSON, subject, attributes) far below 256 KiB', () => {
    fc.assert(
      fc.property(stressedCase, ({ alertCase, howTo }) => {
        const alert = renderAlert(alertCase, { exemptionHowTo: howTo });
        // MessageStructure=json as a publisher would send it; the text is counted twice on purpose.
        const message = JSON.stringify({ default: alert.text, email: alert.text, https: JSON.stringify(alert.chat) });
        const bytes = Buffer.byteLength(message, 'utf8') + Buffer.byteLength(alert.subject) + Buffer.byteLength(JSON.stringify(alert.attributes));
        expect(bytes).toBeLessThan(SNS_MAX_BYTES);
        // No control characters but line breaks anywhere a person reads.
        // eslint-disable-next-line no-control-regex
        expect(alert.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
        const content = (alert.chat as { content: { title: string; description: string; keywords: string[] } }).content;
        expect(content.title).toBe(alert.subject);
        expect(content.description.length).toBeLessThanOrEqual(3_000);
        expect(content.description).toMatch(/\nhttps:\/\/console\.\S+$/);
        // eslint-disable-next-line no-control-regex
        expect(content.keywords.join('')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }),
      { numRuns: 200 },
    );
  });
});
