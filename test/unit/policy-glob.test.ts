/**
 * Cluster name globs: `*` any run (including none), `?` exactly one character, case-sensitive, whole
 * name. The matcher must agree with two independent oracles on random cases, and must stay correct
 * (and, being linear, quick) on the inputs that make backtracking matchers explode.
 */
import fc from 'fast-check';
import { compileGlob, globMatches } from '../../src/policy';

/** The textbook dynamic program: dp[i][j] = the first i glob characters match the first j name characters. */
function dpOracle(glob: string, name: string): boolean {
  let prev = new Array<boolean>(name.length + 1).fill(false);
  prev[0] = true;
  for (let i = 1; i <= glob.length; i += 1) {
    const g = glob[i - 1];
    const row = new Array<boolean>(name.length + 1).fill(false);
    row[0] = g === '*' && prev[0]!;
    for (let j = 1; j <= name.length; j += 1) {
      row[j] = g === '*' ? prev[j]! || row[j - 1]! : (g === '?' || g === name[j - 1]) && prev[j - 1]!;
    }
    prev = row;
  }
  return prev[name.length]!;
}

/** A RegExp built from the glob: fine as an oracle on short inputs, where backtracking costs nothing. */
function regexOracle(glob: string, name: string): boolean {
  const source = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's').test(name);
}

describe('globMatches: the semantics, case by case', () => {
  it.each([
    ['prod-*', 'prod-api', true],
    ['prod-*', 'prod-', true], // `*` may match nothing
    ['prod-*', 'prod', false],
    ['prod-*', 'xprod-a', false], // whole name: no implicit leading star
    ['*-prod', 'api-prod', true],
    ['*-prod', 'api-prod-2', false], // whole name: no implicit trailing star
    ['qa-?', 'qa-7', true],
    ['qa-?', 'qa-17', false], // `?` is exactly one character
    ['qa-?', 'qa-', false],
    ['Prod-*', 'prod-api', false], // case-sensitive
    ['prod-*', 'PROD-api', false],
    ['*', '', true],
    ['*', 'anything_at-all', true],
    ['', '', true],
    ['', 'a', false],
    ['?', '', false],
    ['**', 'ab', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a*b', 'aab', true],
    ['*a*a', 'aa', true],
    ['*a*a', 'a', false],
    ['exact_name', 'exact_name', true],
    ['exact_name', 'exact_nam', false],
    ['?*?', 'ab', true],
    ['?*?', 'a', false],
  ])('%j vs %j → %s', (glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
    expect(compileGlob(glob)(name)).toBe(expected);
    expect(dpOracle(glob, name)).toBe(expected); // the oracle itself is right on the table
  });

  it('treats a star in the name as an ordinary character', () => {
    expect(globMatches('a?c', 'a*c')).toBe(true);
    expect(globMatches('abc', 'a*c')).toBe(false);
    expect(globMatches('a*', '*')).toBe(false);
  });
});

describe('globMatches agrees with the oracles on random globs and names', () => {
  // A small alphabet makes near-misses and repeated letters (where greedy matching goes wrong) common.
  const letter = fc.constantFrom('a', 'b', '-', 'A');
  const globArb = fc.array(fc.oneof({ weight: 3, arbitrary: letter }, { weight: 2, arbitrary: fc.constant('*') }, { weight: 1, arbitrary: fc.constant('?') }), { maxLength: 12 }).map((cs) => cs.join(''));
  const nameArb = fc.array(letter, { maxLength: 16 }).map((cs) => cs.join(''));
  /** A name built to match the glob, so that true answers are as well tested as false ones. */
  const matchingPair = globArb.chain((glob) =>
    fc.tuple(...[...glob].map((c) => (c === '*' ? nameArb.map((s) => s.slice(0, 4)) : c === '?' ? letter : fc.constant(c)))).map((parts) => [glob, parts.join('')] as const),
  );

  it('on 2,000 random pairs, against the dynamic program', () => {
    fc.assert(
      fc.property(globArb, nameArb, (glob, name) => {
        expect(globMatches(glob, name)).toBe(dpOracle(glob, name));
      }),
      { numRuns: 2000 },
    );
  });

  it('on 1,000 random pairs, against a regular expression, compiled form included', () => {
    fc.assert(
      fc.property(globArb, nameArb, (glob, name) => {
        const expected = regexOracle(glob, name);
        expect(globMatches(glob, name)).toBe(expected);
        expect(compileGlob(glob)(name)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('on 1,000 names built to match their glob (and a one-character change of each)', () => {
    fc.assert(
      fc.property(matchingPair, fc.nat(), ([glob, name], at) => {
        expect(globMatches(glob, name)).toBe(true);
        expect(compileGlob(glob)(name)).toBe(true);
        if (name.length > 0) {
          const i = at % name.length;
          const changed = `${name.slice(0, i)}${name[i] === 'b' ? 'a' : 'b'}${name.slice(i + 1)}`;
          expect(globMatches(glob, changed)).toBe(dpOracle(glob, changed));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('globMatches on the inputs that make a backtracking matcher exponential', () => {
  // Not a timing test: a backtracking matcher would still give these answers, only after minutes; the
  // jest timeout would catch that, and bench/policy.ts reports the time.
  const rows: [string, string, string, boolean][] = [
    ['10 stars, no b in the name', `${'a*'.repeat(10)}b`, 'a'.repeat(100), false],
    ['10 stars, last character wrong', `${'a*'.repeat(10)}b`, `${'a'.repeat(99)}c`, false],
    ['10 stars, last character right', `${'a*'.repeat(10)}b`, `${'a'.repeat(99)}b`, true],
    ['50 stars (100 characters), no b', `${'*a'.repeat(49)}*b`, 'a'.repeat(100), false],
    ['50 stars, last character right', `${'*a'.repeat(49)}*b`, `${'a'.repeat(99)}b`, true],
    ['50 stars, too few a', `${'*a'.repeat(49)}*b`, `${'a'.repeat(48)}b`, false],
    ['50 stars, exactly enough a', `${'*a'.repeat(49)}*b`, `${'a'.repeat(49)}b`, true],
    ['one star and a long tail, near miss', `*${'a'.repeat(98)}b`, `${'a'.repeat(99)}c`, false],
  ];
  it.each(rows)('%s', (_what, glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
    expect(compileGlob(glob)(name)).toBe(expected);
    expect(dpOracle(glob, name)).toBe(expected);
  });
});
