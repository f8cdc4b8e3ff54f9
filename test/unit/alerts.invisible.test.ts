import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { renderAlert } from '../../src/alerts/render';
import type { Actor } from '../../src/events/triage';
import type { Alert, AlertCase } from '../../src/workflow/types';
import * as cases from '../fixtures/alerts/cases';

/**
 * Characters that draw nothing or reorder the text around them. The named ranges are listed by hand
 * (bidi embeddings and overrides, isolates, zero-width characters, word joiner, BOM, Arabic letter
 * mark) so the test does not rely on the pattern the renderer uses; the rest of Unicode's Cf
 * category is found by scanning every code point.
 */
const NAMED: Array<[number, number]> = [
  [0x202a, 0x202e],
  [0x2066, 0x2069],
  [0x200b, 0x200f],
  [0x2060, 0x2060],
  [0xfeff, 0xfeff],
  [0x061c, 0x061c],
];
const expand = ([from, to]: [number, number]) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));
const NAMED_CHARS = NAMED.flatMap(expand);
const CF_CHARS = Array.from({ length: 0x110000 }, (_, cp) => cp)
  .filter((cp) => cp < 0xd800 || cp > 0xdfff)
  .map((cp) => String.fromCodePoint(cp))
  .filter((ch) => /\p{Cf}/u.test(ch));
const FORBIDDEN = new Set([...NAMED_CHARS, ...CF_CHARS]);

/** Every forbidden character in `text`, as code points, for a readable failure. */
function forbiddenIn(text: string): string[] {
  return [...text].filter((ch) => FORBIDDEN.has(ch)).map((ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase()}`);
}

function allRendered(alert: Alert): string {
  return [alert.subject, alert.text, JSON.stringify(alert.chat), JSON.stringify(alert.attributes)].join('\n');
}

const fixtures: AlertCase[] = Object.values(cases).filter((v): v is AlertCase => typeof v === 'object' && v !== null && 'outcome' in v);

// Text that looks like a name or an ARN with invisible characters mixed in, and arbitrary UTF-16 besides.
const spoofText = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NAMED_CHARS) },
    { weight: 2, arbitrary: fc.constantFrom(...CF_CHARS) },
    { weight: 4, arbitrary: fc.constantFrom('p', 'r', 'o', 'd', '-', '/', ':', ' ', '0') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 120,
});
const spoofActor = fc.record({ arn: spoofText, userAgent: spoofText }).map(({ arn, userAgent }): Actor => ({ arn, type: 'AssumedRole', sourceIPAddress: '198.51.100.23', userAgent }));

const spoofedCase = fc
  .record({
    base: fc.constantFrom(...fixtures),
    name: spoofText,
    tagKey: spoofText,
    tagValue: spoofText,
    actor: spoofActor,
    others: fc.array(spoofActor, { minLength: 1, maxLength: 4 }),
    session: spoofText,
    rule: spoofText,
    misuse: fc.boolean(),
  })
  .map(({ base, name, tagKey, tagValue, actor, others, session, rule, misuse }): AlertCase => {
    const tags = { [tagKey]: tagValue };
    const trigger = { ...base.trigger, actor, tags: { set: tags, removed: [tagKey] } };
    const judged = cases.tagChangeExempt.tagChange!.after;
    return {
      ...base,
      cluster: { ...base.cluster, name },
      trigger,
      actors: [cases.changeOf(trigger), ...others.map((a, i) => cases.changeOf(trigger, { eventId: `e${i}`, actor: a, tags: { set: tags, removed: [tagValue] } }))],
      guardRoleMisuse: misuse ? { session } : null,
      tagChange: { actor, set: tags, removed: [tagKey], before: { ...judged, rule, tags }, after: { ...judged, rule: tagValue, tags }, laxer: true },
      escalation: { reverts: 3, withinMinutes: 30, actors: [actor, ...others] },
      evaluation: base.evaluation && {
        ...base.evaluation,
        settings: { ...base.evaluation.settings, rule },
        observed: { ...base.evaluation.observed, tags },
        exemption: base.evaluation.exemption && { ...base.evaluation.exemption, name: tagKey, reason: tagValue },
      },
    };
  });

describe('invisible and direction-changing characters', () => {
  it('the character list covers what it must (a sanity check of the test itself)', () => {
    expect(CF_CHARS).toEqual(expect.arrayContaining(['\u202e', '\u2066', '\u200b', '\u2060', '\ufeff', '\u061c', '\u00ad', '\u{e0001}']));
  });

  it('never reach the subject, the email text, the chat JSON or the attributes, whatever names, tags, ARNs and user agents hold', () => {
    fc.assert(
      fc.property(spoofedCase, (alertCase) => {
        const alert = renderAlert(alertCase, {});
        expect(forbiddenIn(allRendered(alert))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never reach the text through a custom exemption how-to either', () => {
    fc.assert(
      fc.property(fc.constantFrom(...fixtures), spoofText, (alertCase, howTo) => {
        expect(forbiddenIn(allRendered(renderAlert(alertCase, { exemptionHowTo: howTo, exemptionTag: howTo })))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('are shown by code point, so the reader sees the trick instead of a reversed name', () => {
    const name = 'prod\u202eipa-tset';
    const arn = 'arn:aws:sts::111122223333:assumed-role/Admin/\u200balice\u{e0041}';
    const actor = { ...cases.ACTOR, arn, userAgent: 'aws-cli/2\u2066x\u2069' };
    const trigger = { ...cases.remediatedPublicClosed.trigger, actor };
    const alert = renderAlert({ ...cases.remediatedPublicClosed, cluster: { ...cases.PROD, name }, trigger, actors: [cases.changeOf(trigger)] }, {});
    expect(alert.subject).toContain('prod<U+202E>ipa-tset');
    expect(alert.text).toContain('cluster prod<U+202E>ipa-tset (account');
    expect(alert.text).toContain('Admin/<U+200B>alice<U+E0041>');
    expect(alert.text).toContain('aws-cli/2<U+2066>x<U+2069>');
    const chat = alert.chat as { content: { description: string }; metadata: { threadId: string } };
    expect(chat.content.description).toContain('Admin/<U+200B>alice<U+E0041>');
    expect(chat.metadata.threadId).toBe('111122223333/eu-west-1/prod<U+202E>ipa-tset');
    expect(alert.attributes.cluster).toBe('prod<U+202E>ipa-tset');
  });

  it('in a tag change, shows the invisible parts of the tags that were set and removed', () => {
    const tagChange = { ...cases.tagChangeLaxerCompliant.tagChange!, set: { 'env\u200d': 'sand\ufeffbox' }, removed: ['ow\u2060ner'] };
    const text = renderAlert({ ...cases.tagChangeLaxerCompliant, tagChange }, {}).text;
    expect(text).toContain('Tags set:      env<U+200D>=sand<U+FEFF>box');
    expect(text).toContain('Tags removed:  ow<U+2060>ner');
  });
});
