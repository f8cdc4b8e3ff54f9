/** Cases an independent audit of the policy language found wrong; each stays fixed. */
import { readFileSync } from 'node:fs';
import { PolicyError } from '../../src/errors';
import { evaluateCluster, parseObservedCluster, parsePolicy } from '../../src/policy';

const DIR = 'test/fixtures/policies/regressions';
function problemsOf(file: string): string[] {
  try {
    parsePolicy(readFileSync(`${DIR}/${file}`, 'utf8'), file);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).problems;
  }
  throw new Error(`${file} was accepted`);
}

test.each([
  ['world-open-long-prefix.yaml', ['defaults.allowedPublicCidrs[0]: admits the whole internet', 'defaults.allowedPublicCidrs[1]: admits the whole internet']],
  ['unquoted-glob.yaml', ['not valid YAML: Unresolved alias', 'quote globs that start with *']],
  ['trailing-comma.json', ['trailing-comma.json: not valid JSON']],
  ['glob-syntax.yaml', ['rules[0].match.clusters[0]: not a cluster name glob', 'rules[0].match.clusters[1]: not a cluster name glob']],
])('%s is refused with every problem named', (file, expected) => {
  const problems = problemsOf(file).join('\n');
  for (const text of expected) expect(problems).toContain(text);
  expect(problems).not.toMatch(/regions/); // eusc-de-east-1 is a real region name
});

test('schema errors and overlay errors are reported together, not one round at a time', () => {
  const problems = problemsOf('schema-and-overlay-errors.yaml');
  expect(problems).toEqual([
    expect.stringContaining('defaults.bogus: unknown key'),
    expect.stringContaining('rules[0].allowedPublicCidrs: publicAccess is restricted but allowedPublicCidrs is empty'),
    expect.stringContaining('rules[1].allowedPublicCidrs: 2 CIDR blocks exceed maxPublicCidrs 1'),
  ]);
});

test('an alias bomb is refused as bad YAML, not a crash', () => {
  const anchors = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i += 1) anchors.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(10).fill(`*${'abcdefghi'[i - 1]}`).join(', ')}]`);
  expect(() => parsePolicy(`${anchors.join('\n')}\nversion: 1\n`, 'bomb.yaml')).toThrow(/not valid YAML/);
});

test('a bare date under a %YAML 1.1 directive still lasts through the end of that day, UTC', () => {
  const policy = parsePolicy(readFileSync(`${DIR}/yaml11-date.yaml`, 'utf8'), 'yaml11-date.yaml');
  const cluster = parseObservedCluster({ cluster: { name: 'c1', arn: 'arn:aws:eks:us-east-1:123456789012:cluster/c1', resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true } } });
  expect(evaluateCluster(policy, cluster, { now: Date.parse('2027-03-31T23:59:59Z') }).verdict).toBe('exempt');
  expect(evaluateCluster(policy, cluster, { now: Date.parse('2027-04-01T00:00:00Z') }).verdict).toBe('violation');
});

test('a many-star glob in a rule no longer stalls evaluation of a long name that almost matches', () => {
  // With picomatch this took minutes: its regex backtracks exponentially in the number of stars.
  const policy = parsePolicy(
    ['version: 1', 'defaults: {publicAccess: forbidden}', 'rules:', `  - {name: stars, match: {clusters: ["${'a*'.repeat(10)}b"]}, mode: alert}`].join('\n'),
    'stars.yaml',
  );
  const at = (name: string) =>
    evaluateCluster(policy, parseObservedCluster({ cluster: { name, resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } } }), { now: 0 }).settings.rule;
  expect(at('a'.repeat(100))).toBeNull();
  expect(at(`${'a'.repeat(99)}b`)).toBe('stars');
});
