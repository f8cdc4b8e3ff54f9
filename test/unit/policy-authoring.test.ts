/**
 * Writing a policy (issue "posture where security teams look", item 8): errors in the product's own
 * words with the line and column of the key or entry, "did you mean" for near misses, the quoting hint
 * for account ids that lost a leading zero, region names checked against the AWS SDK's partition data,
 * shadowed rules, and an inventory of clusters that rules and exemptions are checked against.
 */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { partition } from '@aws-sdk/core/client';
import { InputError, PolicyError } from '../../src/errors';
import { matches, parsePolicy, validatePolicy, type MatchSubject } from '../../src/policy';
import { AWS_REGIONS } from '../../src/policy/aws-regions';
import { parseInventory } from '../../src/policy/inventory';
import { globCovers, inventoryWarnings, matchImplies, policyWarnings } from '../../src/policy/lint';
import { closestNames, didYouMean, regionProblem } from '../../src/policy/messages';
import type { Match } from '../../src/policy/schema';

const AUTHORING = new URL('../fixtures/policies/authoring/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, AUTHORING), 'utf8');
const NOW = Date.parse('2026-06-01T00:00:00Z');

function problemsOf(text: string, source: string): string[] {
  try {
    parsePolicy(text, source);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    return err.problems;
  }
  throw new Error(`${source} was accepted but must be rejected`);
}

const policyWith = (extra: Record<string, unknown>) => ({ version: 1, defaults: { publicAccess: 'forbidden' }, ...extra });

describe('errors name the file, line and column, in the policy\'s words', () => {
  it('points at the key of a bad value: policy.yaml:7:5', () => {
    expect(problemsOf(read('closed.yaml'), 'policy.yaml')).toEqual([
      'policy.yaml:7:5: rules[0].publicAccess: must be one of forbidden, restricted, unrestricted (got "closed")',
    ]);
  });

  it('gives JSON policies positions too', () => {
    const text = '{\n  "version": 1,\n  "defaults": {\n    "publicAccess": "closed"\n  }\n}\n';
    expect(problemsOf(text, 'p.json')).toEqual(['p.json:4:5: defaults.publicAccess: must be one of forbidden, restricted, unrestricted (got "closed")']);
  });

  it('lists the problems in the order of the file, all at once', () => {
    const text = ['version: 2', 'exemptionTags: x', 'defaults:', '  publicAccess: forbidden', '  mode: alrt', 'rules: nope'].join('\n');
    const problems = problemsOf(text, 'p.yaml');
    expect(problems.map((p) => p.split(': ')[0])).toEqual(['p.yaml:1:1', 'p.yaml:2:1', 'p.yaml:5:3', 'p.yaml:6:1']);
  });

  it('points a missing key at its parent, and a list entry at the entry', () => {
    const text = 'version: 1\ndefaults:\n  mode: alert\nrules:\n  - name: r\n    match: { clusters: [ok, "b{ad"] }\n';
    const problems = problemsOf(text, 'p.yaml');
    expect(problems).toEqual([
      'p.yaml:2:1: defaults.publicAccess: required but missing (one of forbidden, restricted, unrestricted)',
      expect.stringMatching(/^p\.yaml:6:29: rules\[0\]\.match\.clusters\[1\]: not a cluster name glob .*\(got "b\{ad"\)$/),
    ]);
  });

  it('places YAML syntax errors and unresolved aliases too', () => {
    expect(problemsOf('version: 1\nversion: 1\n', 'p.yaml')).toEqual(['p.yaml:2:1: not valid YAML: Map keys must be unique']);
    expect(problemsOf('version: 1\nrules:\n  - { name: r, match: { clusters: [*-prod] } }\n', 'p.yaml')).toEqual([
      expect.stringMatching(/^p\.yaml:3:36: not valid YAML: Unresolved alias .*quote globs that start with \*/),
    ]);
  });

  it('validatePolicy (no text, no positions) says the same things, by path', () => {
    expect(() => validatePolicy(policyWith({ rules: [{ name: 'r', match: { clusters: ['x'] }, publicAccess: 'closed' }] }))).toThrow(
      'rules[0].publicAccess: must be one of forbidden, restricted, unrestricted (got "closed")',
    );
  });

  it.each([
    ['a string for a list', { defaults: { publicAccess: 'restricted', allowedPublicCidrs: '203.0.113.0/24' } }, 'defaults.allowedPublicCidrs: must be a list, got a string ("203.0.113.0/24")'],
    ['a list for a mapping', { defaults: ['forbidden'] }, 'defaults: must be a mapping, got a list (["forbidden"])'],
    ['null for a mapping', { defaults: null }, 'defaults: must be a mapping, got an empty value (null) (null)'],
    ['a fraction for a whole number', { defaults: { publicAccess: 'unrestricted', maxPublicCidrs: 2.5 } }, 'defaults.maxPublicCidrs: must be a whole number from 1 to 40 (got 2.5)'],
    ['a number out of range', { defaults: { publicAccess: 'forbidden', escalation: { withinMinutes: 0 } } }, 'defaults.escalation.withinMinutes: must be a whole number from 1 to 10080 (got 0)'],
    ['an empty name', { rules: [{ name: '', match: { clusters: ['x'] } }] }, 'rules[0].name: must not be empty (got "")'],
    ['a version other than 1', { version: 2 }, 'version: must be 1 (got 2)'],
    ['an empty list', { rules: [{ name: 'r', match: { regions: [] } }] }, 'rules[0].match.regions: must list at least one entry (got [])'],
    ['an over-long exemption tag', { exemptionTag: 'x'.repeat(129) }, 'exemptionTag: must be at most 128 characters long'],
  ])('%s', (_what, doc, expected) => {
    let problems: string[] = [];
    try {
      validatePolicy(policyWith(doc));
    } catch (err) {
      problems = (err as PolicyError).problems;
    }
    expect(problems).toEqual([expect.stringContaining(expected)]);
    expect(problems[0]).not.toMatch(/Invalid|expected \w+, received|Too (big|small)/);
  });
});

describe('did you mean', () => {
  it.each([
    ['allowedPublicCidr', ['allowedPublicCidrs', 'publicAccess', 'mode'], ['allowedPublicCidrs']],
    ['cluster', ['accounts', 'regions', 'clusters', 'tags'], ['clusters']],
    ['PublicAccess', ['publicAccess', 'privateAccess'], ['publicAccess']],
    ['us-esat-1', AWS_REGIONS, ['us-east-1']],
    ['eu-west1', AWS_REGIONS, ['eu-west-1']],
    ['us-east-3', AWS_REGIONS, ['us-east-1', 'us-east-2']],
    ['ticket', ['name', 'match', 'reason', 'expires'], []],
    ['closed', ['forbidden', 'restricted', 'unrestricted'], []],
    ['xx-nowhere-9', AWS_REGIONS, []],
  ] as const)('%s → %j', (input, candidates, expected) => {
    expect(closestNames(input, candidates)).toEqual(expected);
  });

  it('says nothing for an exact match or a non-string', () => {
    expect(didYouMean('mode', ['mode'])).toBe('');
    expect(didYouMean(3, ['mode'])).toBe('');
    expect(didYouMean('mod', ['mode'])).toBe(' (did you mean mode?)');
  });

  it('suggests the key of the same mapping, at every level of the policy', () => {
    const problems = problemsOf(
      ['version: 1', 'defaults:', '  publicAccess: forbidden', '  escalation: { revert: 2 }', 'rules:', '  - name: r', '    match: { acounts: ["111122223333"] }', '    privateAcess: optional'].join('\n'),
      'p.yaml',
    );
    expect(problems).toEqual([
      'p.yaml:4:17: defaults.escalation.revert: unknown key (did you mean reverts?) (got 2)',
      'p.yaml:7:14: rules[0].match.acounts: unknown key (did you mean accounts?) (got ["111122223333"])',
      'p.yaml:8:5: rules[0].privateAcess: unknown key (did you mean privateAccess?) (got "optional")',
    ]);
  });
});

describe('account ids that YAML read as numbers', () => {
  it.each([
    ['012345678901', 'not a 12-digit AWS account id (got 12345678901): quote account ids in YAML ("012345678901") so a leading zero is kept'],
    ['000000000042', 'not a 12-digit AWS account id (got 42): quote account ids in YAML ("000000000042") so a leading zero is kept'],
    ['123456789012', 'an account id must be a string (got the number 123456789012): quote account ids in YAML ("123456789012")'],
    ['1234567890123', 'not a 12-digit AWS account id (got 1234567890123)'],
  ])('unquoted %s', (written, message) => {
    const text = `version: 1\ndefaults: { publicAccess: forbidden }\nrules:\n  - { name: r, match: { accounts: [${written}] } }\n`;
    expect(problemsOf(text, 'p.yaml')).toEqual([`p.yaml:4:36: rules[0].match.accounts[0]: ${message}`]);
  });

  it('a quoted id is accepted, leading zero and all', () => {
    const policy = parsePolicy('version: 1\ndefaults: { publicAccess: forbidden }\nrules:\n  - { name: r, match: { accounts: ["012345678901"] } }\n');
    expect(policy.rules[0]!.match.accounts).toEqual(['012345678901']);
  });

  it('JSON gets advice for JSON', () => {
    const problems = problemsOf('{"version": 1, "defaults": {"publicAccess": "forbidden"}, "exemptions": [{"name": "e", "match": {"accounts": [123456789012]}, "reason": "r", "expires": "2027-01-01"}]}', 'p.json');
    expect(problems).toEqual([expect.stringContaining('exemptions[0].match.accounts[0]: an account id must be a string (got the number 123456789012): write account ids as strings ("123456789012")')]);
  });
});

describe('region names come from the AWS SDK\'s partition data', () => {
  const sdkRegions = (): string[] => {
    // The SDK ships the data in one module (exported only through its endpoint resolver): read it as a file.
    const dir = dirname(createRequire(import.meta.url).resolve('@aws-sdk/core/package.json'));
    const text = readFileSync(join(dir, 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js'), 'utf8');
    const info = JSON.parse(text.replace(/^export const partitionsInfo = /, '').replace(/;\s*$/, '')) as { partitions: { regions: Record<string, unknown> }[] };
    return [...new Set(info.partitions.flatMap((p) => Object.keys(p.regions)).filter((r) => /^[a-z]{2,4}(-[a-z]+)+-\d+$/.test(r)))].sort();
  };
  const renderRegionsModule = (regions: string[]) => {
    const file = readFileSync(new URL('../../src/policy/aws-regions.ts', import.meta.url), 'utf8');
    return file.replace(/\[\n[\s\S]*?\n\]\);\n$/, `[\n${regions.map((r) => `  '${r}',`).join('\n')}\n]);\n`);
  };

  it('src/policy/aws-regions.ts lists exactly the regions of the installed SDK (UPDATE_AWS_REGIONS=1 rewrites it)', () => {
    const regions = sdkRegions();
    const expected = renderRegionsModule(regions);
    if (process.env.UPDATE_AWS_REGIONS === '1') writeFileSync(new URL('../../src/policy/aws-regions.ts', import.meta.url), expected);
    expect([...AWS_REGIONS]).toEqual(regions);
    expect(regions.length).toBeGreaterThan(30);
  });

  it('every listed region is one the SDK\'s own partition() lookup knows by name', () => {
    for (const region of AWS_REGIONS) expect({ region, known: 'description' in partition(region) }).toEqual({ region, known: true });
  });

  it.each(AWS_REGIONS.map((r) => [r]))('%s is accepted in a match', (region) => {
    expect(() => validatePolicy(policyWith({ rules: [{ name: 'r', match: { regions: [region] } }] }))).not.toThrow();
  });

  it.each([
    ['us-esat-1', 'not a known AWS region (did you mean us-east-1?)'],
    ['eu-centrl-1', 'not a known AWS region (did you mean eu-central-1?)'],
    ['xx-nowhere-9', 'not a known AWS region'],
    ['aws-global', 'not an AWS region name'],
    ['Eu-West-1', 'not an AWS region name (did you mean eu-west-1?)'],
  ])('%s is refused: %s', (region, message) => {
    expect(regionProblem(region)).toBe(message);
    let problems: string[] = [];
    try {
      validatePolicy(policyWith({ exemptions: [{ name: 'e', match: { regions: ['eu-west-1', region] }, reason: 'r', expires: '2027-01-01' }] }));
    } catch (err) {
      problems = (err as PolicyError).problems;
    }
    expect(problems).toEqual([`exemptions[0].match.regions[1]: ${message} (got ${JSON.stringify(region)})`]);
  });
});

describe('RULE_SHADOWED: a rule an earlier rule always takes first', () => {
  it('warns about exactly the shadowed rules of the fixture, naming the earlier rule', () => {
    const warnings = policyWarnings(parsePolicy(read('shadowed.yaml'), 'shadowed.yaml'), NOW);
    expect(warnings).toEqual([
      { code: 'RULE_SHADOWED', message: 'rules[2] prod-eu is never used: rules[0] prod matches every cluster it matches' },
      { code: 'RULE_SHADOWED', message: 'rules[4] shared-tools is never used: rules[3] shared-account matches every cluster it matches' },
    ]);
  });

  it.each([
    ['the same glob', 'prod-*', 'prod-*', true],
    ['a star', '*', 'a?b*', true],
    ['stars', '**', 'x', true],
    ['a literal the glob matches', 'prod-*', 'prod-api', true],
    ['a literal it does not', 'prod-*', 'production', false],
    ['a longer literal prefix', 'prod-*', 'prod-eu-*', true],
    ['a prefix with a ? after it', 'prod-*', 'prod-?', true],
    ['a shorter prefix', 'prod-eu-*', 'prod-*', false],
    ['prod* is wider than prod-*', 'prod-*', 'prod*', false],
    ['a suffix', '*-api', 'eu-*-api', true],
    ['a suffix not kept', '*-api', 'eu-*', false],
    ['a middle star (not judged)', 'a*z', 'a*z', true],
    ['a middle star over another (not judged)', 'a*z', 'ab*yz', false],
    ['a ? glob over a literal it matches', 'p?d', 'pod', true],
    ['a ? glob over a glob (not judged)', 'p?d*', 'pod*', false],
  ])('globCovers: %s (%s over %s): %s', (_what, wide, narrow, covers) => {
    expect(globCovers(wide, narrow)).toBe(covers);
  });

  it.each([
    ['fewer accounts, more keys', { accounts: ['111111111111', '222222222222'] }, { accounts: ['111111111111'], regions: ['eu-west-1'] }, true],
    ['an account not listed earlier', { accounts: ['111111111111'] }, { accounts: ['111111111111', '222222222222'] }, false],
    ['a key the later rule leaves open', { regions: ['eu-west-1'] }, { clusters: ['prod-*'] }, false],
    ['more tags later', { tags: { env: 'prod' } }, { tags: { env: 'prod', team: 'a' }, clusters: ['x'] }, true],
    ['another tag value', { tags: { env: 'prod' } }, { tags: { env: 'dev' } }, false],
    ['every glob covered', { clusters: ['prod-*', 'qa-*'] }, { clusters: ['qa-1', 'prod-eu-*'] }, true],
    ['one glob not covered', { clusters: ['prod-*'] }, { clusters: ['prod-1', 'qa-1'] }, false],
    ['the same match', { regions: ['eu-west-1'], tags: { env: 'prod' } }, { tags: { env: 'prod' }, regions: ['eu-west-1'] }, true],
  ] as const)('matchImplies: %s: %s', (_what, earlier, later, implied) => {
    expect(matchImplies(earlier as Match, later as Match)).toBe(implied);
  });

  // Few distinct values, so that matches overlap and implications are common.
  const accounts = ['111111111111', '222222222222', '333333333333'];
  const regions = ['eu-west-1', 'us-east-1'];
  const parts = ['prod', 'a', 'ab', '-', 'x1'];
  const globArb = fc.array(fc.constantFrom(...parts, '*', '?'), { minLength: 1, maxLength: 4 }).map((p) => p.join(''));
  const nameArb = fc.array(fc.constantFrom(...parts), { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
  const tagsArb = fc.dictionary(fc.constantFrom('env', 'team'), fc.constantFrom('prod', 'dev'), { minKeys: 1, maxKeys: 2 });
  const matchArb = fc
    .record(
      {
        accounts: fc.uniqueArray(fc.constantFrom(...accounts), { minLength: 1, maxLength: 3 }),
        regions: fc.uniqueArray(fc.constantFrom(...regions), { minLength: 1, maxLength: 2 }),
        clusters: fc.array(globArb, { minLength: 1, maxLength: 3 }),
        tags: tagsArb,
      },
      { requiredKeys: [] },
    )
    .filter((m) => Object.keys(m).length > 0) as fc.Arbitrary<Match>;
  const subjectArb: fc.Arbitrary<MatchSubject> = fc.record({
    name: nameArb,
    account: fc.option(fc.constantFrom(...accounts), { nil: null }),
    region: fc.option(fc.constantFrom(...regions), { nil: null }),
    tags: fc.dictionary(fc.constantFrom('env', 'team', 'x'), fc.constantFrom('prod', 'dev'), { maxKeys: 3 }),
  });

  it('property: never wrong: when matchImplies says so, every cluster the later match holds for, the earlier holds for', () => {
    let implied = 0;
    fc.assert(
      fc.property(matchArb, matchArb, fc.array(subjectArb, { minLength: 1, maxLength: 20 }), (earlier, later, subjects) => {
        if (!matchImplies(earlier, later)) return;
        implied += 1;
        for (const s of subjects) if (matches(later, s)) expect({ earlier, later, s, held: matches(earlier, s) }).toEqual({ earlier, later, s, held: true });
      }),
      { numRuns: 3000 },
    );
    // The property is only worth something if it was exercised.
    expect(implied).toBeGreaterThan(30);
  });

  it('property: a glob covered by another matches no name the other does not', () => {
    fc.assert(
      fc.property(globArb, globArb, fc.array(nameArb, { minLength: 1, maxLength: 20 }), (wide, narrow, names) => {
        if (!globCovers(wide, narrow)) return;
        for (const name of names) if (matches({ clusters: [narrow] }, { name, account: null, region: null, tags: {} })) expect(matches({ clusters: [wide] }, { name, account: null, region: null, tags: {} })).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('an inventory of clusters: rules and exemptions that match none of them', () => {
  const policy = parsePolicy(read('inventory-policy.yaml'), 'inventory-policy.yaml');
  const expected = [
    { code: 'RULE_MATCHES_NOTHING', message: 'rules[1] partner matches none of the 3 clusters of the inventory' },
    { code: 'EXEMPTION_MATCHES_NOTHING', message: 'exemptions[1] old-name matches none of the 3 clusters of the inventory; it exempts nothing there and may be removed' },
  ];

  it.each([['inventory.json'], ['inventory-describe.json']])('%s: reads every cluster, account and region from its ARN', (file) => {
    const clusters = parseInventory(JSON.parse(read(file)));
    expect(clusters).toEqual([
      { name: 'prod-api', account: '111122223333', region: 'us-east-1', tags: { env: 'prod' } },
      { name: 'dev-web', account: '111122223333', region: 'eu-west-1', tags: { env: 'dev' } },
      { name: 'legacy-billing', account: '777788889999', region: 'eu-west-1', tags: {} },
    ]);
    expect(inventoryWarnings(policy, clusters)).toEqual(expected);
  });

  it('an empty inventory: everything matches nothing', () => {
    expect(inventoryWarnings(policy, parseInventory([])).map((w) => w.code)).toEqual(['RULE_MATCHES_NOTHING', 'RULE_MATCHES_NOTHING', 'RULE_MATCHES_NOTHING', 'EXEMPTION_MATCHES_NOTHING', 'EXEMPTION_MATCHES_NOTHING']);
  });

  it('a cluster without an ARN has no account or region, so it matches no list of them', () => {
    const clusters = parseInventory({ clusters: [{ name: 'prod-api' }] });
    expect(clusters).toEqual([{ name: 'prod-api', account: null, region: null, tags: {} }]);
    expect(inventoryWarnings(policy, clusters).map((w) => w.message.split(' matches')[0])).toEqual(['rules[0] prod', 'rules[1] partner', 'rules[2] eu', 'exemptions[0] billing-vpn', 'exemptions[1] old-name']);
  });

  it('refuses what is not an inventory, naming every bad entry', () => {
    expect(() => parseInventory({ items: [] })).toThrow(InputError);
    let problems: string[] = [];
    try {
      parseInventory(JSON.parse(read('inventory-bad.json')));
    } catch (err) {
      problems = (err as InputError).problems;
    }
    expect(problems).toEqual([
      'clusters[0].name: required, the cluster\'s name (got missing)',
      'clusters[1]: not a cluster (got "prod-api")',
      'clusters[2].tags: must be a mapping of tag names to string values (got {"cost":12})',
    ]);
  });
});
