/**
 * Records keyed by outside writers keep every key, `__proto__` included: parsed (`ownRecord`), written
 * (`putOwn`) and stored in DynamoDB (`storableKeys` / `loadedKeys`). Up to the policy: a cluster tagged
 * `__proto__` is judged with that tag, and a policy match naming it is as narrow as written.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { z } from 'zod';
import { evaluateCluster, parseObservedCluster, parsePolicy } from '../../src/policy';
import { loadedKeys, ownRecord, putOwn, storableKeys } from '../../src/records';

const NOW = Date.parse('2026-06-01T00:00:00Z');
// Keys that an assignment, a spread or a lookup on a plain object could treat specially.
const TRICKY_KEYS = ['__proto__', '___proto__', '____proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'team'];
const key = fc.oneof(fc.constantFrom(...TRICKY_KEYS), fc.string({ minLength: 1, maxLength: 12 }));
/** A record as JSON.parse or the SDK builds one: every key an own property. */
const rawRecord = <V>(value: fc.Arbitrary<V>) => fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 8 }).map((entries) => JSON.parse(JSON.stringify(Object.fromEntries(entries))) as Record<string, V>);
const entriesOf = (r: object) => Object.entries(r);

describe('ownRecord', () => {
  const tags = ownRecord(z.string(), z.string());

  it('keeps a __proto__ key as an own property, in its place, and leaves the prototype alone', () => {
    const parsed = tags.parse(JSON.parse('{"a":"1","__proto__":"x","b":"2"}'));

    expect(Object.keys(parsed)).toEqual(['a', '__proto__', 'b']);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(parsed['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it('parses every record of strings to the same entries (property)', () => {
    fc.assert(
      fc.property(rawRecord(fc.string({ maxLength: 8 })), (raw) => {
        expect(entriesOf(tags.parse(raw))).toEqual(entriesOf(raw));
      }),
    );
  });

  it.each([
    ['a __proto__ value of the wrong type', '{"__proto__":5}', ['__proto__']],
    ['another key of the wrong type', '{"a":5,"__proto__":"x"}', ['a']],
    ['both', '{"a":5,"__proto__":[]}', ['a', '__proto__']],
    ['a list', '[]', []],
    ['a string', '"x"', []],
  ])('rejects %s, naming where', (_label, json, paths) => {
    const result = tags.safeParse(JSON.parse(json));

    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(paths.length ? paths : ['']);
  });

  it('applies the key schema to __proto__ as to any key', () => {
    const short = ownRecord(z.string().max(5), z.string());

    expect(short.safeParse(JSON.parse('{"__proto__":"x"}')).success).toBe(false);
    expect(short.safeParse(JSON.parse('{"abc":"x"}')).success).toBe(true);
  });

  it('reports a bad value nested in an object at its full path', () => {
    const schema = z.object({ match: z.object({ tags: ownRecord(z.string(), z.string()) }) });
    const result = schema.safeParse(JSON.parse('{"match":{"tags":{"__proto__":7}}}'));

    expect(result.error!.issues.map((i) => i.path)).toEqual([['match', 'tags', '__proto__']]);
  });
});

describe('putOwn', () => {
  it('sets __proto__ as a property, where an assignment would replace the prototype', () => {
    const assigned: Record<string, string> = {};
    assigned['__proto__'] = 'x';
    const put: Record<string, string> = {};
    putOwn(put, '__proto__', 'x');

    expect(Object.keys(assigned)).toEqual([]);
    expect(Object.keys(put)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(put))).toEqual(JSON.parse('{"__proto__":"x"}'));
  });
});

describe('storableKeys / loadedKeys through DynamoDB marshalling', () => {
  it('without them, marshalling drops a __proto__ key (why they exist)', () => {
    expect(Object.keys(unmarshall(marshall(JSON.parse('{"tags":{"__proto__":"x"}}'))).tags)).toEqual([]);
  });

  it('round-trips any document with any keys, nested in maps and lists (property)', () => {
    const doc = fc.record({ tags: rawRecord(fc.string({ maxLength: 4 })), list: fc.array(rawRecord(fc.integer()), { maxLength: 3 }), n: fc.integer() });
    fc.assert(
      fc.property(doc, (d) => {
        const back = loadedKeys(unmarshall(marshall(storableKeys(d))));

        expect(JSON.stringify(back)).toBe(JSON.stringify(d));
        expect(Object.getPrototypeOf(back.tags)).toBe(Object.prototype);
      }),
    );
  });
});

describe('a cluster tagged __proto__', () => {
  const described = (tags: string) =>
    parseObservedCluster(JSON.parse(`{"cluster":{"name":"web","arn":"arn:aws:eks:us-east-1:111122223333:cluster/web","status":"ACTIVE","tags":${tags},"resourcesVpcConfig":{"endpointPublicAccess":true,"endpointPrivateAccess":false,"publicAccessCidrs":["0.0.0.0/0"]}}}`));

  it('is read with that tag', () => {
    expect(described('{"__proto__":"x","team":"web"}').tags).toEqual(JSON.parse('{"__proto__":"x","team":"web"}'));
  });

  // A rule or exemption that names the tag applies to clusters that carry it, and only to them: had the
  // key been dropped, the exemption below would cover every cluster named web-*.
  const policy = parsePolicy(
    [
      'version: 1',
      'defaults: { publicAccess: restricted, allowedPublicCidrs: [203.0.113.0/24] }',
      'rules:',
      '  - name: proto-rule',
      '    match: { tags: { __proto__: "strict" } }',
      '    publicAccess: forbidden',
      'exemptions:',
      '  - name: proto-exempt',
      '    match: { clusters: ["web*"], tags: { __proto__: "lab" } }',
      '    reason: lab clusters',
      '    expires: 2099-01-01',
    ].join('\n'),
  );

  it.each([
    ['the exempting tag', '{"__proto__":"lab"}', 'exempt', null],
    ['another value', '{"__proto__":"other"}', 'violation', null],
    ['no such tag', '{"team":"web"}', 'violation', null],
    ['the rule tag', '{"__proto__":"strict"}', 'violation', 'proto-rule'],
  ])('with %s is judged as written', (_label, tags, verdict, rule) => {
    const e = evaluateCluster(policy, described(tags), { now: NOW });

    expect(e.verdict).toBe(verdict);
    expect(e.settings.rule).toBe(rule);
  });

  it('in a policy, keeps the key and rejects a bad value at its path', () => {
    expect(Object.keys(policy.exemptions[0]!.match.tags!)).toEqual(['__proto__']);
    expect(() => parsePolicy('version: 1\ndefaults: { publicAccess: forbidden }\nrules:\n  - name: r\n    match: { tags: { __proto__: [1] } }\n    publicAccess: forbidden\n')).toThrow(/rules\[0\]\.match\.tags\.__proto__|__proto__/);
  });
});
