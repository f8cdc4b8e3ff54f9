import fc from 'fast-check';
import { AwsRequestRejectedError, TransientAwsError } from '../../src/errors';
import { buildReport, reportExitCode } from '../../src/report/build';
import { collectPosture, mapBounded, type Collected, type PostureReader } from '../../src/report/collect';
import { A, B, described, MIXED, NOW, policy, report } from '../fixtures/report/cases';

describe('buildReport', () => {
  it('judges every cluster with the policy and keeps errors as rows', () => {
    const r = report();

    expect(r.clusters.map((c) => [c.account, c.region, c.name, c.verdict, c.rule])).toEqual([
      [A, 'eu-west-1', 'dev-web', 'compliant', null],
      [A, 'us-east-1', 'prod-api', 'compliant', 'prod-private-only'],
      [A, 'us-east-1', 'prod-web', 'violation', 'prod-private-only'],
      [B, 'eu-west-1', 'gone', 'error', null],
      [B, 'us-east-1', 'legacy-billing', 'exempt', null],
    ]);
    expect(r.errors).toEqual([{ account: '777788889999', region: 'us-east-1', error: expect.objectContaining({ code: 'AccessDenied' }) }]);
    expect(r.summary).toMatchObject({ compliant: 2, violation: 1, exempt: 1, error: 2 });
  });

  it('has the documented top-level shape, schema version 1', () => {
    const r = report();

    expect(Object.keys(r)).toEqual(['schemaVersion', 'generatedAt', 'policy', 'scope', 'summary', 'clusters', 'errors', 'skipped']);
    expect(r.skipped).toEqual([]);
    expect(r).toMatchObject({ schemaVersion: 1, generatedAt: '2026-12-01T00:00:00.000Z', policy: { file: 'policy.yaml', sha256: 'ab'.repeat(32) } });
    expect(Object.keys(r.clusters[0]!)).toEqual(['account', 'region', 'name', 'arn', 'verdict', 'status', 'rule', 'mode', 'action', 'observed', 'tags', 'violations', 'warnings', 'exemption', 'target', 'error']);
  });

  it('lists every account and region of the scope in the summary, with zeros where nothing is', () => {
    const r = report([described({ name: 'prod-web' })], { accounts: [B, A], regions: ['us-east-1', 'eu-west-1'] });

    expect(r.summary.byAccountRegion).toEqual([
      { account: A, region: 'eu-west-1', compliant: 0, violation: 0, exempt: 0, error: 0 },
      { account: A, region: 'us-east-1', compliant: 0, violation: 1, exempt: 0, error: 0 },
      { account: B, region: 'eu-west-1', compliant: 0, violation: 0, exempt: 0, error: 0 },
      { account: B, region: 'us-east-1', compliant: 0, violation: 0, exempt: 0, error: 0 },
    ]);
  });

  it('judges a cluster in the account and region it was read in, not the ones its ARN claims', () => {
    const entry = described({ name: 'prod-web', account: B });
    (entry.description as { arn: string }).arn = `arn:aws:eks:us-east-1:${A}:cluster/prod-web`;

    const [row] = report([entry]).clusters;

    expect(row).toMatchObject({ account: B, region: 'us-east-1', arn: `arn:aws:eks:us-east-1:${B}:cluster/prod-web` });
  });

  it('turns a DescribeCluster response the policy cannot read into an UNREADABLE error row', () => {
    const entry: Collected = { kind: 'cluster', account: A, region: 'us-east-1', name: 'odd', description: { name: 'odd', resourcesVpcConfig: { endpointPublicAccess: 'yes' } } };

    const [row] = report([entry]).clusters;

    expect(row).toMatchObject({ verdict: 'error', error: { code: 'UNREADABLE', message: expect.stringContaining('endpointPublicAccess') }, arn: `arn:aws:eks:us-east-1:${A}:cluster/odd` });
  });

  it('judges exemptions at the given instant: past its expiry the exempt cluster violates', () => {
    const entry = described({ name: 'legacy-billing', account: B });
    const at = (iso: string) => buildReport({ policy, policyFile: 'p', policySha256: 'x', scope: { accounts: [B], regions: ['us-east-1'] }, collected: [entry], now: Date.parse(iso) }).clusters[0]!.verdict;

    expect([at('2099-12-30T00:00:00Z'), at('2100-01-01T00:00:00Z')]).toEqual(['exempt', 'violation']);
  });

  it('counts every row and scope error exactly once (property)', () => {
    const verdictEntry = fc.constantFrom<Collected>(...MIXED);
    fc.assert(
      fc.property(fc.array(verdictEntry, { maxLength: 20 }), (entries) => {
        const unique = entries.map((e, i) => ('name' in e ? { ...e, name: `${e.name}-${i}` } : { ...e, region: `us-east-${i + 1}` })) as Collected[];
        const r = report(unique);
        const s = r.summary;
        expect(s.compliant + s.violation + s.exempt + s.error).toBe(r.clusters.length + r.errors.length);
        const perPlace = r.summary.byAccountRegion.reduce((n, p) => n + p.compliant + p.violation + p.exempt + p.error, 0);
        expect(perPlace).toBe(unique.length);
      }),
    );
  });
});

describe('reportExitCode', () => {
  it.each([
    [{ compliant: 0, violation: 0, exempt: 0, error: 0 }, 0],
    [{ compliant: 3, violation: 0, exempt: 0, error: 0 }, 0],
    [{ compliant: 3, violation: 0, exempt: 2, error: 0 }, 0],
    [{ compliant: 3, violation: 1, exempt: 2, error: 0 }, 1],
    [{ compliant: 3, violation: 0, exempt: 0, error: 1 }, 1],
    [{ compliant: 0, violation: 0, exempt: 1, error: 0 }, 0],
  ])('%j exits %d', (summary, code) => {
    expect(reportExitCode(summary)).toBe(code);
  });

  it('is 1 exactly when something violates or could not be judged (property)', () => {
    const n = fc.nat({ max: 50 });
    fc.assert(
      fc.property(n, n, n, n, (compliant, violation, exempt, error) => {
        expect(reportExitCode({ compliant, violation, exempt, error }) === 1).toBe(violation + error > 0);
      }),
    );
  });
});

describe('collectPosture', () => {
  const fakeReader = (world: Record<string, string[]>, failing: Record<string, Error> = {}): PostureReader & { inFlight: number; maxInFlight: number } => {
    const r = {
      inFlight: 0,
      maxInFlight: 0,
      async track<T>(f: () => T): Promise<T> {
        r.inFlight++;
        r.maxInFlight = Math.max(r.maxInFlight, r.inFlight);
        await new Promise((res) => setTimeout(res, 1));
        r.inFlight--;
        return f();
      },
      listClusters: (account: string, region: string) =>
        r.track(() => {
          const err = failing[`${account}/${region}`];
          if (err) throw err;
          return world[`${account}/${region}`] ?? [];
        }),
      describeCluster: (c: { name: string; account: string; region: string }) =>
        r.track(() => {
          const err = failing[`${c.account}/${c.region}/${c.name}`];
          if (err) throw err;
          return { name: c.name };
        }),
    };
    return r;
  };

  it('lists then describes every cluster, in scope and name order, never more calls in flight than allowed', async () => {
    const reader = fakeReader({ [`${A}/us-east-1`]: ['b', 'a', 'c'], [`${B}/us-east-1`]: ['x', 'y'], [`${B}/eu-west-1`]: ['z'] });
    const progress: number[] = [];

    const got = await collectPosture({ accounts: [A, B], regions: ['us-east-1', 'eu-west-1'] }, reader, { concurrency: 2, onProgress: (p) => progress.push(p.done) });

    expect(got.map((c) => ('name' in c ? `${c.account}/${c.region}/${c.name}` : c.kind))).toEqual([
      `${A}/us-east-1/a`,
      `${A}/us-east-1/b`,
      `${A}/us-east-1/c`,
      `${B}/us-east-1/x`,
      `${B}/us-east-1/y`,
      `${B}/eu-west-1/z`,
    ]);
    expect(reader.maxInFlight).toBe(2);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('keeps a scope that cannot be listed and a cluster that cannot be described as error entries', async () => {
    const reader = fakeReader(
      { [`${A}/us-east-1`]: ['a', 'b'] },
      {
        [`${B}/us-east-1`]: new AwsRequestRejectedError('AssumeRole failed: AccessDenied', 'AccessDenied'),
        [`${A}/us-east-1/b`]: new TransientAwsError('DescribeCluster failed: ThrottlingException', { cause: Object.assign(new Error('slow down'), { name: 'ThrottlingException' }) }),
      },
    );

    const got = await collectPosture({ accounts: [A, B], regions: ['us-east-1'] }, reader);

    expect(got).toEqual([
      { kind: 'scope-error', account: B, region: 'us-east-1', error: { code: 'AccessDenied', message: 'AssumeRole failed: AccessDenied' } },
      { kind: 'cluster', account: A, region: 'us-east-1', name: 'a', description: { name: 'a' } },
      { kind: 'cluster-error', account: A, region: 'us-east-1', name: 'b', error: { code: 'ThrottlingException', message: 'DescribeCluster failed: ThrottlingException' } },
    ]);
  });

  it('fails the run on an error that is not one of ours (a bug is not an error row)', async () => {
    const reader = fakeReader({}, { [`${A}/us-east-1`]: new TypeError('undefined is not a function') });

    await expect(collectPosture({ accounts: [A], regions: ['us-east-1'] }, reader)).rejects.toThrow(TypeError);
  });

  it('mapBounded keeps the order of its items whatever order the work finishes in (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 5 }), { maxLength: 30 }), fc.integer({ min: 1, max: 8 }), async (delays, limit) => {
        const out = await mapBounded(delays, limit, async (d, i) => {
          await new Promise((res) => setTimeout(res, d));
          return i;
        });
        expect(out).toEqual(delays.map((_, i) => i));
      }),
      { numRuns: 30 },
    );
  });

  it('returns nothing for an empty scope', async () => {
    await expect(collectPosture({ accounts: [], regions: ['us-east-1'] }, fakeReader({}))).resolves.toEqual([]);
  });
});
