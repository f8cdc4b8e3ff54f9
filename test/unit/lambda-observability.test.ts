/**
 * What a handler built with lambdaHandler (src/lambda.ts) writes: every log line with the Lambda context
 * and the invocation's correlation key, which the next invocation does not inherit; the metrics its use
 * case recorded as CloudWatch EMF documents, once the invocation ends (also when it fails).
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { loadConfig } from '../../src/config';
import { correlationIdOf } from '../../src/observability/correlation';
import { emitMetrics, METRICS_NAMESPACE, outcomeMetrics, coverageMetrics, SERVICE_NAME } from '../../src/observability/metrics';
import { parsePolicy } from '../../src/policy';
import type { CoverageInput } from '../../src/sweep/coverage';
import type { CoveragePort } from '../../src/sweep/ports';

// Lambda's own setting: without it Powertools cannot tell a cold start (it reports none). Set before the
// handler modules below are imported, since their Logger is built when they load.
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
const { buildDependencies, setDependencies } = await import('../../src/dependencies');
const { lambdaHandler } = await import('../../src/lambda');
const { handler: recordCoverageHandler } = await import('../../handlers/record-coverage');

const POLICY = parsePolicy(readFileSync(new URL('../fixtures/workflow/policy.yaml', import.meta.url), 'utf8'), 'workflow policy');

let requests = 0;
function lambdaContext(functionName: string): Context {
  requests += 1;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111122223333:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `request-${requests}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Line = Record<string, unknown>;
type Emf = Line & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } };

/** Every JSON line written to stdout or stderr while `run` runs, split into log lines and EMF documents. */
async function captured(run: () => Promise<unknown>): Promise<{ logs: Line[]; emf: Emf[]; error: unknown }> {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
  let error: unknown = null;
  try {
    await run();
  } catch (e) {
    error = e;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const lines = written.join('').split('\n').filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as Line);
  return { logs: lines.filter((l) => !('_aws' in l)), emf: lines.filter((l): l is Emf => '_aws' in l), error };
}

const kept: unknown[] = [];
const coverage: CoveragePort = {
  keep: async (record) => void kept.push(record),
  warn: async () => 'warning-1',
};

// A tiny use case: two log lines and the metrics of a remediated outcome, or a failure after them.
const step = lambdaHandler('ObserveStep', {}, async (event: { executionName?: string; fail?: boolean; metrics?: boolean }, deps) => {
  deps.log.info('step started', { executionName: event.executionName ?? null });
  if (event.metrics !== false) emitMetrics(deps.metrics, outcomeMetrics({ outcome: 'remediated', timeToFixSeconds: 312, exposureSeconds: 300 }));
  if (event.fail) throw Object.assign(new Error('the cluster is gone'), { name: 'ClusterNotFoundError' });
  deps.log.warn('step finished', {});
  return { ok: true };
});

beforeAll(() => {
  // The deployment's own Logger and Metrics (no log of the test's own): what a Lambda cold start builds.
  setDependencies(buildDependencies(loadConfig({ AWS_REGION: 'us-east-1', POLICY_FILE: 'unused.yaml' }), { coverage: () => coverage }, { policy: POLICY }));
});

beforeEach(() => {
  delete process.env.POWERTOOLS_DEV;
  delete process.env.POWERTOOLS_METRICS_DISABLED;
});
afterEach(() => {
  kept.length = 0;
});
afterAll(() => {
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
});

describe('a handler built with lambdaHandler', () => {
  it('puts the Lambda context and the execution name on every log line, and writes the metrics as EMF', async () => {
    const context = lambdaContext('eks-endpoint-guard-dev-remediateCluster');

    const { logs, emf, error } = await captured(() => step({ executionName: 'evt-1f2e3d4c' }, context));

    expect(error).toBeNull();
    expect(logs.map((l) => l.message)).toEqual(['step started', 'step finished']);
    for (const line of logs) {
      expect(line).toMatchObject({
        service: SERVICE_NAME,
        correlationId: 'evt-1f2e3d4c',
        function_request_id: context.awsRequestId,
        function_name: context.functionName,
        function_arn: context.invokedFunctionArn,
        cold_start: true,
      });
    }
    // Outcomes has a dimension of its own, so a document of its own; the others share one.
    expect(emf.map((d) => d._aws.CloudWatchMetrics[0]!.Namespace)).toEqual([METRICS_NAMESPACE, METRICS_NAMESPACE]);
    const outcomes = emf.find((d) => 'Outcomes' in d)!;
    expect(outcomes).toMatchObject({ Outcomes: 1, Outcome: 'remediated', service: SERVICE_NAME });
    expect(outcomes._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [['service', 'Outcome']], Metrics: [{ Name: 'Outcomes', Unit: 'Count' }] });
    const durations = emf.find((d) => 'TimeToFixSeconds' in d)!;
    expect(durations).toMatchObject({ TimeToFixSeconds: 312, ExposureSeconds: 300, service: SERVICE_NAME });
    expect(durations._aws.CloudWatchMetrics[0]).toMatchObject({
      Dimensions: [['service']],
      Metrics: [
        { Name: 'TimeToFixSeconds', Unit: 'Seconds' },
        { Name: 'ExposureSeconds', Unit: 'Seconds' },
      ],
    });
  });

  it('gives the next invocation its own correlation id and request id, never the last one\'s', async () => {
    const first = lambdaContext('eks-endpoint-guard-dev-triageEvent');
    const second = lambdaContext('eks-endpoint-guard-dev-triageEvent');
    const third = lambdaContext('eks-endpoint-guard-dev-triageEvent');

    const a = await captured(() => step({ executionName: 'evt-first', metrics: false }, first));
    const b = await captured(() => step({ executionName: 'evt-second', metrics: false }, second));
    // An event with nothing to correlate on: no key at all, rather than the previous invocation's.
    const c = await captured(() => step({ metrics: false }, third));

    expect(a.logs.map((l) => [l.correlationId, l.function_request_id, l.cold_start])).toEqual([
      ['evt-first', first.awsRequestId, false],
      ['evt-first', first.awsRequestId, false],
    ]);
    expect(b.logs.map((l) => [l.correlationId, l.function_request_id])).toEqual([
      ['evt-second', second.awsRequestId],
      ['evt-second', second.awsRequestId],
    ]);
    expect(c.logs).toHaveLength(2);
    for (const line of c.logs) {
      expect(line).not.toHaveProperty('correlationId');
      expect(line.function_request_id).toBe(third.awsRequestId);
    }
    // Nothing recorded, nothing written: no empty EMF document and no warning about it.
    expect([...a.emf, ...b.emf, ...c.emf]).toEqual([]);
  });

  it('logs a failed step with its correlation id, still writes its metrics, and clears the key after', async () => {
    const context = lambdaContext('eks-endpoint-guard-dev-verifyRemediation');

    const failed = await captured(() => step({ executionName: 'evt-doomed', fail: true }, context));
    const next = await captured(() => step({ metrics: false }, lambdaContext('eks-endpoint-guard-dev-verifyRemediation')));

    expect(failed.error).toMatchObject({ name: 'ClusterNotFoundError' });
    expect(failed.logs).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'step started', correlationId: 'evt-doomed', function_request_id: context.awsRequestId }),
      expect.objectContaining({ level: 'ERROR', message: 'step failed', step: 'ObserveStep', errorName: 'ClusterNotFoundError', correlationId: 'evt-doomed', function_request_id: context.awsRequestId }),
    ]);
    expect(failed.emf.map((d) => Object.keys(d).filter((k) => k !== '_aws' && k !== 'service' && k !== 'Outcome'))).toEqual([['Outcomes'], ['TimeToFixSeconds', 'ExposureSeconds']]);
    for (const line of next.logs) expect(line).not.toHaveProperty('correlationId');
  });

  it('correlates the real RecordCoverage handler\'s lines on the sweep time', async () => {
    const input: CoverageInput = {
      sweepTime: '2026-01-01T06:00:00Z',
      organizationId: 'o-a1b2c3d4e5',
      regions: ['us-east-1'],
      accounts: ['111122223333', '444455556666'],
      skipped: [],
      unitCount: 2,
      outcomes: [{ c: { a: '111122223333', r: 'us-east-1', l: 1, j: 1 } }, { c: { a: '444455556666', r: 'us-east-1', st: 'uncovered', l: 0, j: 0, e: 'AssumeRole failed: AccessDenied' } }],
    };
    const context = lambdaContext('eks-endpoint-guard-dev-recordCoverage');

    const { logs, error } = await captured(() => recordCoverageHandler(input, context));

    expect(error).toBeNull();
    expect(kept).toHaveLength(1);
    expect(logs.map((l) => l.message)).toEqual(['sweep coverage', 'sweep coverage incomplete']);
    for (const line of logs) expect(line).toMatchObject({ correlationId: '2026-01-01T06:00:00Z', function_request_id: context.awsRequestId, function_name: context.functionName });
  });

  it('writes a sweep\'s coverage metrics in one EMF document, dimensioned by service alone', async () => {
    const coverageStep = lambdaHandler('ObserveCoverage', {}, async (event: { sweepTime: string }, deps) => {
      emitMetrics(deps.metrics, coverageMetrics({ complete: false, units: { total: 4, covered: 3, partial: 0, uncovered: 1, failed: 0 }, clusters: { listed: 9, judged: 9, violations: 2, started: 2, notJudged: 0, notJudgedByReason: {}, notJudgedSample: [] } }));
      return event.sweepTime;
    });

    const { emf } = await captured(() => coverageStep({ sweepTime: '2026-01-01T12:00:00Z' }, lambdaContext('eks-endpoint-guard-dev-recordCoverage')));

    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ service: SERVICE_NAME, SweepClustersJudged: 9, SweepClustersNotJudged: 0, SweepViolations: 2, SweepUnitsUncovered: 1, SweepCoveragePercent: 75 });
    expect(emf[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [['service']] });
    expect(emf[0]!._aws.CloudWatchMetrics[0]!.Metrics).toContainEqual({ Name: 'SweepCoveragePercent', Unit: 'Percent' });
  });
});

describe('correlationIdOf', () => {
  it.each<[string, unknown, string | null]>([
    ['an enforcement step: the execution name', { executionName: 'evt-abc', cluster: { name: 'prod' }, trigger: { eventId: 'abc' } }, 'evt-abc'],
    ['a sweep unit: the sweep time', { unit: { account: '111122223333', region: 'us-east-1' }, sweepTime: '2026-01-01T06:00:00Z', continuation: null }, '2026-01-01T06:00:00Z'],
    ['RecordCoverage: the sweep time', { sweepTime: '2026-01-01T06:00:00Z', outcomes: [] }, '2026-01-01T06:00:00Z'],
    ['ListSweepUnits from the schedule: its time', { input: { id: 'sched-1', source: 'aws.events', time: '2026-01-01T06:00:00Z' }, startTime: '2026-01-01T06:00:03.120Z' }, '2026-01-01T06:00:00Z'],
    ['ListSweepUnits started by hand: the execution start', { input: {}, startTime: '2026-01-01T06:00:03.120Z' }, '2026-01-01T06:00:03.120Z'],
    ['the intake: the CloudTrail event id', { id: 'eb-1', source: 'aws.eks', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventID: 'ct-1' } }, 'ct-1'],
    ['the intake, an event without a CloudTrail id: the EventBridge id', { id: 'eb-2', source: 'aws.eks', detail: {} }, 'eb-2'],
    ['anything else: none', { hello: 'world' }, null],
    ['an empty execution name is none', { executionName: '' }, null],
    ['not an object: none', 'evt-abc', null],
    ['null: none', null, null],
  ])('%s', (_name, event, expected) => {
    expect(correlationIdOf(event)).toBe(expected);
  });
});
