/**
 * Which metrics an outcome and a sweep's coverage record produce (src/observability/metrics.ts): names,
 * units, values and dimensions, and which are left out when unknown.
 */
import { describe, expect, it } from '@jest/globals';
import { mergeCoverage, type CoverageInput } from '../../src/sweep/coverage';
import { alertPublishFailureMetrics, coverageMetrics, emitMetrics, exposureSecondsOf, METRIC_NAMES, noMetrics, outcomeMetrics, outcomeMetricsOf, type Metric } from '../../src/observability/metrics';
import type { AlertCase, Outcome, Trigger } from '../../src/workflow/types';

const trigger = (kind: Trigger['kind']): Trigger => ({ kind, eventId: 'e-1', eventName: 'UpdateClusterConfig', eventTime: '2026-03-02T09:14:27Z', updateId: null, requested: null, actor: null, waitFor: 'none' });
const byName = (metrics: Metric[]) => Object.fromEntries(metrics.map((m) => [m.name, m]));

describe('outcomeMetrics', () => {
  it.each<[string, Parameters<typeof outcomeMetrics>[0], Metric[]]>([
    [
      'a remediated outcome: its count, time to fix and exposure',
      { outcome: 'remediated', timeToFixSeconds: 312, exposureSeconds: 312 },
      [
        { name: 'Outcomes', unit: 'Count', value: 1, dimensions: { Outcome: 'remediated' } },
        { name: 'TimeToFixSeconds', unit: 'Seconds', value: 312 },
        { name: 'ExposureSeconds', unit: 'Seconds', value: 312 },
      ],
    ],
    [
      'a sweep-found fix: time to fix without a known exposure',
      { outcome: 'escalated', timeToFixSeconds: 45, exposureSeconds: null },
      [
        { name: 'Outcomes', unit: 'Count', value: 1, dimensions: { Outcome: 'escalated' } },
        { name: 'TimeToFixSeconds', unit: 'Seconds', value: 45 },
      ],
    ],
    ['an alerted outcome: the count alone', { outcome: 'alerted', timeToFixSeconds: null, exposureSeconds: null }, [{ name: 'Outcomes', unit: 'Count', value: 1, dimensions: { Outcome: 'alerted' } }]],
    ['a fix in no time still counts its zero seconds', { outcome: 'remediated', timeToFixSeconds: 0, exposureSeconds: 0 }, [
      { name: 'Outcomes', unit: 'Count', value: 1, dimensions: { Outcome: 'remediated' } },
      { name: 'TimeToFixSeconds', unit: 'Seconds', value: 0 },
      { name: 'ExposureSeconds', unit: 'Seconds', value: 0 },
    ]],
  ])('%s', (_name, facts, expected) => {
    expect(outcomeMetrics(facts)).toEqual(expected);
  });
});

describe('exposureSecondsOf', () => {
  it.each<[Outcome, Trigger['kind'], number | null, number | null]>([
    ['remediated', 'event', 312, 312],
    ['escalated', 'event', 95, 95],
    // The sweep's and a re-check's eventTime is when the guard looked, not when the endpoint was opened.
    ['remediated', 'sweep', 40, null],
    ['remediated', 'recheck', 40, null],
    // Outcomes that leave the violation open (or never had one) have no end to the exposure.
    ['alerted', 'event', null, null],
    ['failed', 'event', null, null],
    ['manual-action-required', 'event', null, null],
    ['compliant', 'event', null, null],
    ['exempt', 'event', null, null],
    ['ignored', 'event', null, null],
  ])('%s after a %s trigger (time to fix %p): %p', (outcome, kind, timeToFixSeconds, expected) => {
    expect(exposureSecondsOf({ outcome, trigger: trigger(kind), timeToFixSeconds })).toBe(expected);
  });

  it('feeds outcomeMetricsOf, which reads the alert case', () => {
    const alertCase = { outcome: 'remediated', trigger: trigger('sweep'), timeToFixSeconds: 40 } satisfies Pick<AlertCase, 'outcome' | 'trigger' | 'timeToFixSeconds'>;

    expect(Object.keys(byName(outcomeMetricsOf(alertCase)))).toEqual(['Outcomes', 'TimeToFixSeconds']);
    expect(byName(outcomeMetricsOf({ ...alertCase, trigger: trigger('event') })).ExposureSeconds).toEqual({ name: 'ExposureSeconds', unit: 'Seconds', value: 40 });
  });
});

const PLAN = { sweepTime: '2026-01-01T06:00:00Z', organizationId: 'o-a1b2c3d4e5', regions: ['us-east-1', 'eu-west-1'], accounts: ['111122223333', '444455556666'], skipped: [] } as const;

describe('coverageMetrics', () => {
  it.each<[string, CoverageInput, Record<string, number>]>([
    [
      'a complete sweep',
      { ...PLAN, regions: [...PLAN.regions], accounts: [...PLAN.accounts], skipped: [], unitCount: 2, outcomes: [{ c: { a: '111122223333', r: 'us-east-1', l: 3, j: 3, v: 1, s: 1 } }, { c: { a: '444455556666', r: 'us-east-1', l: 2, j: 2 } }] },
      { SweepClustersJudged: 5, SweepClustersNotJudged: 0, SweepViolations: 1, SweepUnitsUncovered: 0, SweepCoveragePercent: 100 },
    ],
    [
      'an uncovered account and a throttled cluster (a deleted one is no gap)',
      {
        ...PLAN,
        regions: [...PLAN.regions],
        accounts: [...PLAN.accounts],
        skipped: [],
        unitCount: 4,
        outcomes: [
          { c: { a: '111122223333', r: 'us-east-1', l: 4, j: 2, v: 2, st: 'partial', n: 2, nr: { THROTTLED: 1, DELETED: 1 }, ns: [] } },
          { c: { a: '111122223333', r: 'eu-west-1', l: 1, j: 1 } },
          { c: { a: '444455556666', r: 'us-east-1', st: 'uncovered', l: 0, j: 0, e: 'AssumeRole failed: AccessDenied' } },
          { c: { a: '444455556666', r: 'eu-west-1', st: 'uncovered', l: 0, j: 0, e: 'AssumeRole failed: AccessDenied' } },
        ],
      },
      // 1 covered of 4 planned account-regions.
      { SweepClustersJudged: 3, SweepClustersNotJudged: 1, SweepViolations: 2, SweepUnitsUncovered: 2, SweepCoveragePercent: 25 },
    ],
    [
      'a unit the Map never reported counts against the coverage',
      { ...PLAN, regions: [...PLAN.regions], accounts: [...PLAN.accounts], skipped: [], unitCount: 2, outcomes: [{ c: { a: '111122223333', r: 'us-east-1', l: 1, j: 1 } }] },
      { SweepClustersJudged: 1, SweepClustersNotJudged: 0, SweepViolations: 0, SweepUnitsUncovered: 0, SweepCoveragePercent: 50 },
    ],
    [
      'a sweep that could not read the organization covers nothing',
      { ...PLAN, regions: [], accounts: [], skipped: [], unitCount: 0, outcomes: [], planFailure: { Error: 'AccessDeniedException', Cause: 'not the management account' } },
      { SweepClustersJudged: 0, SweepClustersNotJudged: 0, SweepViolations: 0, SweepUnitsUncovered: 0, SweepCoveragePercent: 0 },
    ],
    [
      'a complete sweep of an organization with nothing to sweep covers everything',
      { ...PLAN, regions: ['us-east-1'], accounts: [], skipped: [], unitCount: 0, outcomes: [] },
      { SweepClustersJudged: 0, SweepClustersNotJudged: 0, SweepViolations: 0, SweepUnitsUncovered: 0, SweepCoveragePercent: 100 },
    ],
  ])('%s', (_name, input, expected) => {
    const metrics = coverageMetrics(mergeCoverage(input, '2026-01-01T06:20:00Z'));

    expect(Object.fromEntries(metrics.map((m) => [m.name, m.value]))).toEqual(expected);
    expect(Object.fromEntries(metrics.map((m) => [m.name, m.unit]))).toEqual({ SweepClustersJudged: 'Count', SweepClustersNotJudged: 'Count', SweepViolations: 'Count', SweepUnitsUncovered: 'Count', SweepCoveragePercent: 'Percent' });
    expect(metrics.every((m) => m.dimensions === undefined)).toBe(true);
  });
});

describe('the metric names and the sinks', () => {
  it('names every metric once, within CloudWatch\'s 255 characters', () => {
    const names = Object.values(METRIC_NAMES);

    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]{0,254}$/);
  });

  it('counts a failed alert publish as one', () => {
    expect(alertPublishFailureMetrics()).toEqual([{ name: 'AlertPublishFailures', unit: 'Count', value: 1 }]);
  });

  it('hands every metric to the sink, in order; no sink, or noMetrics, drops them', () => {
    const added: Metric[] = [];
    const metrics = outcomeMetrics({ outcome: 'remediated', timeToFixSeconds: 10, exposureSeconds: 10 });

    emitMetrics({ add: (m) => added.push(m) }, metrics);
    emitMetrics(undefined, metrics);
    emitMetrics(noMetrics, metrics);

    expect(added).toEqual(metrics);
  });
});
