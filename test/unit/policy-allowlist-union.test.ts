/**
 * An allowlist whose entries TOGETHER admit every address of a family (0.0.0.0/1 + 128.0.0.0/1, four
 * /2s, the IPv6 halves) is refused at load exactly like 0.0.0.0/0 itself, naming the entries.
 */
import fc from 'fast-check';
import { PolicyError } from '../../src/errors';
import { validatePolicy } from '../../src/policy';

function problemsOf(allowed: string[], where: 'defaults' | 'rule' = 'defaults'): string[] {
  const doc =
    where === 'defaults'
      ? { version: 1, defaults: { publicAccess: 'restricted', allowedPublicCidrs: allowed, maxPublicCidrs: 40 } }
      : { version: 1, defaults: { publicAccess: 'forbidden' }, rules: [{ name: 'r', match: { clusters: ['x'] }, publicAccess: 'restricted', allowedPublicCidrs: allowed }] };
  try {
    validatePolicy(doc);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).problems;
  }
}

const quarters = ['0.0.0.0/2', '64.0.0.0/2', '128.0.0.0/2', '192.0.0.0/2'];

describe('allowlists whose union is the whole internet', () => {
  it.each([
    ['the two IPv4 halves', ['0.0.0.0/1', '128.0.0.0/1'], 'ipv4'],
    ['the four IPv4 quarters', quarters, 'ipv4'],
    ['the quarters in another order, beside a narrower block', ['203.0.113.0/24', '192.0.0.0/2', '0.0.0.0/2', '128.0.0.0/2', '64.0.0.0/2'], 'ipv4'],
    ['a half and two quarters', ['0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/2'], 'ipv4'],
    ['a half, a quarter and two eighths', ['128.0.0.0/1', '0.0.0.0/2', '64.0.0.0/3', '96.0.0.0/3'], 'ipv4'],
    ['overlapping blocks that together cover', ['0.0.0.0/1', '0.0.0.0/2', '128.0.0.0/1'], 'ipv4'],
    ['the two IPv6 halves', ['::/1', '8000::/1'], 'ipv6'],
    ['the IPv6 halves among IPv4 blocks', ['203.0.113.0/24', '::/1', '198.51.100.0/24', '8000::/1'], 'ipv6'],
  ] as const)('%s: refused, naming the entries of that family and "together admit the whole internet"', (_what, allowed, family) => {
    const problems = problemsOf([...allowed]);
    expect(problems).toHaveLength(1);
    const [line] = problems;
    expect(line).toMatch(/^defaults\.allowedPublicCidrs: /);
    expect(line).toContain('together admit the whole internet');
    for (const entry of allowed) {
      const named = line!.split(' together ')[0]!;
      expect({ entry, named: named.includes(entry) }).toEqual({ entry, named: entry.includes(':') === (family === 'ipv6') });
    }
  });

  it('refuses a covering allowlist in a rule overlay, at the rule’s path', () => {
    const problems = problemsOf(['0.0.0.0/1', '128.0.0.0/1'], 'rule');
    expect(problems).toEqual([expect.stringMatching(/^rules\[0\]\.allowedPublicCidrs: .*together admit the whole internet/)]);
  });

  it('refuses both families at once, one line each', () => {
    const problems = problemsOf(['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1']);
    expect(problems).toHaveLength(2);
    // What the line names before "together" (the value of the whole list follows it, as in every error).
    const named = problems.map((p) => p.split(' together ')[0]!.replace('defaults.allowedPublicCidrs: ', ''));
    expect(named.sort()).toEqual(['0.0.0.0/1, 128.0.0.0/1', '::/1, 8000::/1']);
  });

  it.each([
    ['three of the four quarters', quarters.slice(0, 3)],
    ['one half', ['0.0.0.0/1']],
    ['both halves but one leaves out a /32', ['0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/3', '224.0.0.0/4', '240.0.0.0/5', '248.0.0.0/6', '252.0.0.0/7', '254.0.0.0/8', '255.0.0.0/9']],
    ['an IPv4 half and an IPv6 half (different families never combine)', ['0.0.0.0/1', '8000::/1']],
    ['ordinary office ranges', ['203.0.113.0/24', '198.51.100.0/24', '2001:db8::/32']],
  ])('%s: accepted', (_what, allowed) => {
    expect(problemsOf(allowed)).toEqual([]);
  });

  it('0.0.0.0/0 alone is still one problem, at its entry, not also a union problem', () => {
    expect(problemsOf(['0.0.0.0/0'])).toEqual([expect.stringMatching(/^defaults\.allowedPublicCidrs\[0\]: admits the whole internet/)]);
    expect(problemsOf(['0.0.0.0/0', '10.0.0.0/8'])).toHaveLength(1);
  });

  it('an invalid entry does not count toward the union, and is reported on its own', () => {
    const problems = problemsOf(['0.0.0.0/1', '128.0.0.1/1']);
    expect(problems).toEqual([expect.stringMatching(/^defaults\.allowedPublicCidrs\[1\]: not a network address/)]);
  });

  it('property: refused exactly when the IPv4 blocks cover all 2^32 addresses (interval arithmetic as the oracle)', () => {
    // Short prefixes, so that random lists cover the whole space often enough to test both answers.
    const blockArb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.nat()).map(([prefix, n]) => {
      const size = 2 ** (32 - prefix);
      const start = (n % 2 ** prefix) * size;
      const text = `${[24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join('.')}/${prefix}`;
      return { text, start, end: start + size };
    });
    let refusedSeen = 0;
    fc.assert(
      fc.property(fc.uniqueArray(blockArb, { minLength: 1, maxLength: 10, selector: (b) => b.text }), (blocks) => {
        const sorted = [...blocks].sort((a, b) => a.start - b.start);
        let reach = 0;
        for (const b of sorted) if (b.start <= reach) reach = Math.max(reach, b.end);
        const covers = reach >= 2 ** 32;
        const refused = problemsOf(blocks.map((b) => b.text)).some((p) => p.includes('together admit the whole internet'));
        if (refused) refusedSeen += 1;
        expect(refused).toBe(covers);
      }),
      { numRuns: 500 },
    );
    expect(refusedSeen).toBeGreaterThan(10);
  });
});
