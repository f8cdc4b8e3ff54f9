import fc from 'fast-check';
import { matchesEventPattern, validateEventPattern } from '../../src/emulator/event-pattern';
import { INTAKE_RULE_PATTERN } from '../../src/events/rule';

// Events and patterns below are the examples of the EventBridge user guide (content filtering, arrays,
// null values and empty strings, comparison operators), with the outcome the guide states.
const EC2_EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};
const NULLS_EVENT = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};
const withDetail = (detail: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...EC2_EVENT, ...extra, detail });

const EMPLOYEES = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};

type Case = [name: string, pattern: unknown, event: unknown, expected: boolean];

const DOC_CASES: Case[] = [
  ['exact source, detail-type and state', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } }, EC2_EVENT, true],
  ['exact value is case-sensitive', { detail: { state: ['Terminated'] } }, EC2_EVENT, false],
  ['a list of values is an OR', { source: ['aws.ec2', 'aws.fargate'] }, EC2_EVENT, true],
  ['a field the event lacks does not match', { detail: { 'c-count': [5] } }, EC2_EVENT, false],
  [
    'event arrays: the intersection with the pattern array is not empty',
    { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f', 'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f'] },
    {
      ...EC2_EVENT,
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    true,
  ],
  ['event arrays: an empty intersection does not match', { resources: ['arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f'] }, EC2_EVENT, false],
  ['empty string', { detail: { eventVersion: [''] } }, NULLS_EVENT, true],
  ['null', { detail: { responseElements: [null] } }, NULLS_EVENT, true],
  ['an empty-string pattern does not match null', { detail: { responseElements: [''] } }, NULLS_EVENT, false],
  ['a null pattern does not match an empty string', { detail: { eventVersion: [null] } }, NULLS_EVENT, false],
  ['prefix', { time: [{ prefix: '2017-10-02' }] }, { ...EC2_EVENT, time: '2017-10-02T18:43:48Z' }, true],
  ['prefix that does not match', { time: [{ prefix: '2017-10-02' }] }, EC2_EVENT, false],
  ['prefix ignoring case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, withDetail({ service: 'eventbridge' }), true],
  ['prefix ignoring case, other casing', { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, withDetail({ service: 'EVENTBRIDGE' }), true],
  ['suffix', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' }, true],
  ['suffix is case-sensitive', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.PNG' }, false],
  ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, withDetail({ FileName: 'image.PNG' }), true],
  ['equals-ignore-case', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alice' }, true],
  ['equals-ignore-case is whole-string', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alicia' }, false],
  ['wildcard', { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/central' }, true],
  ['wildcard that does not match', { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, { EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/central' }, false],
  ['wildcard in the middle', { FilePath: [{ wildcard: 'dir/*.png' }] }, { FilePath: 'dir/sub/image.png' }, true],
  ['escaped star is literal', { Name: [{ wildcard: 'a\\*b' }] }, { Name: 'a*b' }, true],
  ['escaped star does not match other text', { Name: [{ wildcard: 'a\\*b' }] }, { Name: 'axxb' }, false],
  ['anything-but a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({ state: 'running' }), true],
  ['anything-but a string refuses it', { detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({ state: 'initializing' }), false],
  ['anything-but a number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 124 }), true],
  ['anything-but a number refuses it', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 123 }), false],
  ['anything-but a list of strings', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, withDetail({ state: 'stopped' }), false],
  ['anything-but a list of strings admits others', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, withDetail({ state: 'running' }), true],
  ['anything-but a list of numbers', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, withDetail({ 'x-limit': 200 }), false],
  ['anything-but on an event array with one other value', { price: [{ 'anything-but': [100, 500] }] }, { price: [100, 50] }, true],
  ['anything-but on an event array of excluded values', { price: [{ 'anything-but': [100, 500] }] }, { price: [100, 500] }, false],
  ['anything-but needs the field', { detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({}), false],
  ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, withDetail({ state: 'initializing' }), false],
  ['anything-but prefix admits others', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, withDetail({ state: 'running' }), true],
  ['anything-but prefix, region not in the US', { Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'eu-west-1' }, true],
  ['anything-but suffix', { FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'a.png' }, false],
  ['anything-but suffix admits others', { FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'a.jpg' }, true],
  ['anything-but ignoring case', { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, { state: 'INITIALIZING' }, false],
  ['anything-but ignoring case, a list', { state: [{ 'anything-but': { 'equals-ignore-case': ['a', 'B'] } }] }, { state: 'b' }, false],
  ['anything-but wildcard', { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: '/usr/lib/x' }, false],
  ['anything-but wildcard admits others', { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: '/usr/bin/x' }, true],
  ['numeric range, all true', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, withDetail({ 'c-count': 5, 'd-count': 9, 'x-limit': 301.8 }), true],
  ['numeric range, lower bound excluded', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, withDetail({ 'c-count': 0 }), false],
  ['numeric range, upper bound excluded', { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, withDetail({ 'd-count': 10 }), false],
  ['numeric does not match a numeric string', { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, withDetail({ 'c-count': '3' }), false],
  ['exact number matches by value', { detail: { 'x-limit': [3.018e2] } }, withDetail({ 'x-limit': 301.8 }), true],
  ['exact number does not match a string', { detail: { 'x-limit': [301.8] } }, withDetail({ 'x-limit': '301.8' }), false],
  ['cidr IPv4', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, withDetail({ sourceIPAddress: '10.0.0.255' }), true],
  ['cidr IPv4 outside', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, withDetail({ sourceIPAddress: '10.0.1.0' }), false],
  ['cidr IPv6', { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } }, withDetail({ sourceIPAddress: '2001:db8::1' }), true],
  ['cidr does not match a non-address', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, withDetail({ sourceIPAddress: 'eks.amazonaws.com' }), false],
  ['exists true', { detail: { state: [{ exists: true }] } }, { ...EC2_EVENT, detail: { 'instance-id': 'i-abcd1111', state: 'pending' } }, true],
  ['exists true on a missing field', { detail: { state: [{ exists: true }] } }, withDetail({ 'c-count': { c1: 100 } }), false],
  ['exists false on a missing field', { detail: { 'c-count': [{ exists: false }] } }, withDetail({ state: ['initializing', 'running'] }), true],
  ['exists false on an intermediate node (not a leaf)', { detail: { 'c-count': [{ exists: false }] } }, withDetail({ state: ['initializing', 'running'], 'c-count': { c1: 100 } }), true],
  ['exists false on a present leaf', { detail: { state: [{ exists: false }] } }, EC2_EVENT, false],
  ['exists true on null (null is a value)', { detail: { responseElements: [{ exists: true }] } }, NULLS_EVENT, true],
  ['exists false under a missing parent', { detail: { errorCode: [{ exists: false }] } }, { source: 'aws.eks' }, true],
  [
    '$or at the top level',
    { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }] },
    { 'd-count': 3 },
    true,
  ],
  ['$or with no alternative true', { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] }, { 'c-count': 9, 'd-count': 11 }, false],
  ['$or inside detail, with a sibling field', { source: ['aws.ec2'], detail: { $or: [{ state: ['terminated'] }, { 'instance-id': ['i-none'] }] } }, EC2_EVENT, true],
  ['$or with the sibling field false', { source: ['aws.s3'], detail: { $or: [{ state: ['terminated'] }, { 'instance-id': ['i-none'] }] } }, EC2_EVENT, false],
  ['arrays of objects: one element must satisfy the whole sub-pattern', { a: { b: ['x'], c: ['z'] } }, { a: [{ b: 'x', c: 'w' }, { b: 'y', c: 'z' }] }, false],
  ['arrays of objects: an element satisfying it', { a: { b: ['x'], c: ['z'] } }, { a: [{ b: 'x', c: 'w' }, { b: 'x', c: 'z' }] }, true],
  // Array-consistent matching, as Event Ruler (the engine behind EventBridge) documents it.
  ['array of objects: a field of one element', { employees: { firstName: ['Anna'] } }, EMPLOYEES, true],
  ['array of objects: nested arrays are crushed too', { employees: { lastName: ['Jones'] } }, { employees: [EMPLOYEES.employees.slice(0, 2), EMPLOYEES.employees.slice(2)] }, true],
  ['array of objects: fields of two different elements never match together', { employees: { firstName: ['Anna'], lastName: ['Jones'] } }, EMPLOYEES, false],
  ['a boolean value', { detail: { enabled: [true] } }, withDetail({ enabled: true }), true],
  ['a boolean is not its string', { detail: { enabled: ['true'] } }, withDetail({ enabled: true }), false],
  ['a duplicate key: the last one counts (as JSON.parse keeps it)', JSON.parse('{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}'), withDetail({ location: 'eu-west' }), true],
];

describe('matchesEventPattern, on the EventBridge documentation examples', () => {
  it.each(DOC_CASES)('%s', (_name, pattern, event, expected) => {
    expect(validateEventPattern(pattern)).toEqual([]);
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });
});

describe('validateEventPattern', () => {
  const INVALID: [pattern: unknown, problem: RegExp][] = [
    ['not an object', /must be a JSON object/],
    [[{ source: ['x'] }], /must be a JSON object/],
    [{}, /must not be empty/],
    [{ source: 'aws.ec2' }, /^source: "source" must be an object or an array/],
    [{ source: [] }, /^source: Empty arrays are not allowed/],
    [{ detail: {} }, /^detail: Empty objects are not allowed/],
    [{ source: [['aws.ec2']] }, /^source\[0\]: Match value must be/],
    [{ source: [{ contains: 'ec2' }] }, /Unrecognized match type contains/],
    [{ source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one key/],
    [{ source: [{ prefix: 5 }] }, /"prefix" match pattern must be a string/],
    [{ source: [{ prefix: { 'equals-ignore-case': 5 } }] }, /"prefix" match pattern/],
    [{ source: [{ 'equals-ignore-case': ['a'] }] }, /"equals-ignore-case" match pattern must be a string/],
    [{ source: [{ wildcard: 'a**b' }] }, /Consecutive wildcard/],
    [{ source: [{ wildcard: 'a\\b' }] }, /Invalid escape/],
    [{ source: [{ 'anything-but': ['a', 1] }] }, /strings only or of numbers only/],
    [{ source: [{ 'anything-but': [] }] }, /must not be an empty list/],
    [{ source: [{ 'anything-but': { prefix: ['a', 'b'] } }] }, /prefix must be a string/],
    [{ source: [{ 'anything-but': { numeric: ['>', 1] } }] }, /does not support "numeric"/],
    [{ source: [{ 'anything-but': true }] }, /Value of anything-but must be/],
    [{ n: [{ numeric: ['>', 0, '>', 5] }] }, /two lower bounds/],
    [{ n: [{ numeric: ['>', 10, '<', 5] }] }, /range is empty/],
    [{ n: [{ numeric: ['=', 1, '<', 5] }] }, /"=" cannot be combined/],
    [{ n: [{ numeric: ['!=', 1] }] }, /unknown operator "!="/],
    [{ n: [{ numeric: ['>', '1'] }] }, /must be followed by a number/],
    [{ n: [{ numeric: ['>'] }] }, /list of one or two comparisons/],
    [{ n: [{ numeric: ['>', 5.0e9 + 1] }] }, /must be between -5000000000 and 5000000000/],
    [{ n: [{ exists: 'yes' }] }, /exists match pattern must be either true or false/],
    [{ ip: [{ cidr: '10.0.0.0' }] }, /Malformed CIDR "10.0.0.0"/],
    [{ ip: [{ cidr: '300.0.0.0/8' }] }, /Malformed CIDR/],
    [{ $or: [{ a: ['x'] }] }, /"\$or" must be a list of at least two objects/],
    [{ $or: { a: ['x'] } }, /"\$or" must be a list/],
  ];
  it.each(INVALID)('refuses %j', (pattern, problem) => {
    const problems = validateEventPattern(pattern);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
    expect(() => matchesEventPattern(pattern, {})).toThrow(RangeError);
  });

  it('names every problem of a pattern with its path, not only the first', () => {
    expect(validateEventPattern({ source: [], detail: { state: [{ prefix: 1 }], n: [{ numeric: ['<'] }] } })).toEqual([
      'source: Empty arrays are not allowed',
      expect.stringMatching(/^detail\.state\[0\]: "prefix" match pattern/),
      expect.stringMatching(/^detail\.n\[0\]: Value of numeric/),
    ]);
  });

  it('accepts the intake rule pattern the product deploys', () => {
    expect(validateEventPattern(INTAKE_RULE_PATTERN)).toEqual([]);
  });
});

// --- properties ---

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const key = fc.stringMatching(/^[a-z][a-z-]{0,5}$/).filter((k) => k !== '$or');
const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -1e9, max: 1e9 }), fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const { tree } = fc.letrec<{ tree: Json; node: Json }>((tie) => ({
  tree: fc.dictionary(key, tie('node'), { minKeys: 1, maxKeys: 4 }) as fc.Arbitrary<Json>,
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(scalar, { minLength: 1, maxLength: 3 }), tie('tree')),
}));
const event = tree as fc.Arbitrary<Record<string, Json>>;

/** One condition that the scalar `v` satisfies, chosen by `pick`. */
function conditionFor(v: string | number | boolean | null, pick: number): unknown {
  if (typeof v === 'string') {
    return [v, { prefix: v.slice(0, pick % (v.length + 1)) }, { suffix: v.slice(v.length - (pick % (v.length + 1))) }, { 'equals-ignore-case': v.toUpperCase() }, { wildcard: `*${v.slice(1).replace(/[\\*]/g, '\\$&')}` }, { exists: true }][pick % 6];
  }
  if (typeof v === 'number') return [v, { numeric: ['>=', v, '<', v + 1] }, { numeric: ['=', v] }, { exists: true }, { 'anything-but': v + 1 }][pick % 5];
  return [v, { exists: true }][pick % 2];
}

/** A pattern drawn from the event's own values (one field per object, one element per array). */
function patternFrom(e: Record<string, Json>, pick: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(e);
  const chosen = keys.filter((_, i) => (pick >> i) % 2 === 0 || i === 0);
  for (const k of chosen) {
    let v = e[k]!;
    if (Array.isArray(v)) v = v[pick % v.length]!;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = patternFrom(v, pick + 1);
    else if (!Array.isArray(v)) out[k] = [conditionFor(v, pick)];
  }
  return Object.keys(out).length ? out : { [`absent-${pick}`]: [{ exists: false }] };
}

describe('matchesEventPattern properties', () => {
  it('a pattern built from an event’s own values is valid and always matches it', () => {
    fc.assert(
      fc.property(event, fc.nat(1000), (e, pick) => {
        const pattern = patternFrom(e, pick);
        expect(validateEventPattern(pattern)).toEqual([]);
        expect(matchesEventPattern(pattern, e)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('on a single string value, a field matches exactly one of [v] and [{anything-but: v}]', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (v, actual) => {
        const e = { detail: { f: actual } };
        expect(matchesEventPattern({ detail: { f: [v] } }, e)).not.toBe(matchesEventPattern({ detail: { f: [{ 'anything-but': v }] } }, e));
      }),
    );
  });

  it('{exists: true} and {exists: false} on the same field never both match', () => {
    fc.assert(
      fc.property(event, key, (e, k) => {
        expect(matchesEventPattern({ [k]: [{ exists: true }] }, e)).not.toBe(matchesEventPattern({ [k]: [{ exists: false }] }, e));
      }),
    );
  });
});
