/**
 * The guard's CloudWatch metrics, as data: their names (shared with the dashboard in serverless.yml),
 * which metrics an outcome or a sweep's coverage record produces, and the sink the use cases hand them
 * to. Pure: the Powertools-backed sink lives in src/observability/powertools.ts.
 */
import type { CoverageRecord } from '../sweep/types';
import type { AlertCase, Outcome } from '../workflow/types';

/** The CloudWatch namespace of every metric below (Powertools adds the `service` dimension to each). */
export const METRICS_NAMESPACE = 'EksEndpointGuard';
/** The `service` of every log line and the `service` dimension of every metric (POWERTOOLS_SERVICE_NAME in serverless.yml). */
export const SERVICE_NAME = 'eks-endpoint-guard';
/** The dimension `Outcomes` is split by. */
export const OUTCOME_DIMENSION = 'Outcome';

/** Every metric the guard emits, by one name each; the dashboard's widgets name the same strings. */
export const METRIC_NAMES = {
  /** One per NotifyOutcome, by `Outcome`. */
  outcomes: 'Outcomes',
  /** From the change (CloudTrail eventTime) to the verified fix, remediated and escalated outcomes only. */
  timeToFix: 'TimeToFixSeconds',
  /** How long the endpoint was open against the policy, when that is known (see exposureSecondsOf). */
  exposure: 'ExposureSeconds',
  sweepClustersJudged: 'SweepClustersJudged',
  /** Listed clusters the sweep could not judge (clusters deleted meanwhile are no gap and not counted). */
  sweepClustersNotJudged: 'SweepClustersNotJudged',
  sweepViolations: 'SweepViolations',
  /** Account-regions whose member role is missing or refuses. */
  sweepUnitsUncovered: 'SweepUnitsUncovered',
  /** The share of planned account-regions fully covered (every cluster listed and judged). */
  sweepCoverage: 'SweepCoveragePercent',
  /** Each failed SNS publish of an alert (each attempt: a retry that then succeeds still counts). */
  alertPublishFailures: 'AlertPublishFailures',
  /** Each Security Hub finding refused for good (Security Hub not enabled there, the findings role missing). */
  findingsNotImported: 'FindingsNotImported',
  /** Each wait the Express update tracker failed, so the workflow waited minutes in a Wait state instead. */
  trackerFailures: 'TrackerFailures',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
export type MetricUnit = 'Count' | 'Seconds' | 'Percent';

/** One data point. Dimensions are few and bounded (never an account or a cluster: each value is a metric billed). */
export type Metric = { name: MetricName; unit: MetricUnit; value: number; dimensions?: Record<string, string> };

/** Where use cases put metrics, without knowing how they reach CloudWatch. */
export type MetricsSink = { add(metric: Metric): void };

/** A sink that drops everything: the local runner, tests, and use cases given no sink. */
export const noMetrics: MetricsSink = { add() {} };

/** Hands every metric to the sink; an absent sink (a use case's deps without one) drops them. */
export function emitMetrics(sink: MetricsSink | undefined, metrics: readonly Metric[]): void {
  if (!sink) return;
  for (const metric of metrics) sink.add(metric);
}

/** What an outcome's metrics are made of. */
export type OutcomeFacts = { outcome: Outcome; timeToFixSeconds: number | null; exposureSeconds: number | null };

/**
 * The metrics of one outcome: `Outcomes` (1, by `Outcome`), and `TimeToFixSeconds` and
 * `ExposureSeconds` only when known. Account, region and cluster are no dimensions: every distinct
 * value would be a metric of its own, billed, and the log line of the same invocation (its
 * correlationId) says which cluster it was.
 */
export function outcomeMetrics(facts: OutcomeFacts): Metric[] {
  const metrics: Metric[] = [{ name: METRIC_NAMES.outcomes, unit: 'Count', value: 1, dimensions: { [OUTCOME_DIMENSION]: facts.outcome } }];
  if (facts.timeToFixSeconds !== null) metrics.push({ name: METRIC_NAMES.timeToFix, unit: 'Seconds', value: facts.timeToFixSeconds });
  if (facts.exposureSeconds !== null) metrics.push({ name: METRIC_NAMES.exposure, unit: 'Seconds', value: facts.exposureSeconds });
  return metrics;
}

/**
 * How long the endpoint was open against the policy: from the change's CloudTrail eventTime to the
 * verified revert, which is the time to fix of a remediated or escalated outcome triggered by a
 * CloudTrail event. Null (unknown) otherwise: an outcome that leaves the violation open has no end yet,
 * and a sweep's or a re-check's eventTime is when the guard looked, not when the endpoint was opened.
 */
export function exposureSecondsOf(alertCase: Pick<AlertCase, 'outcome' | 'timeToFixSeconds' | 'trigger'>): number | null {
  if (alertCase.outcome !== 'remediated' && alertCase.outcome !== 'escalated') return null;
  if (alertCase.trigger.kind !== 'event') return null;
  return alertCase.timeToFixSeconds;
}

/** The metrics of the outcome an alert case describes (NotifyOutcome, once the outcome is decided). */
export function outcomeMetricsOf(alertCase: Pick<AlertCase, 'outcome' | 'timeToFixSeconds' | 'trigger'>): Metric[] {
  return outcomeMetrics({ outcome: alertCase.outcome, timeToFixSeconds: alertCase.timeToFixSeconds, exposureSeconds: exposureSecondsOf(alertCase) });
}

/**
 * The metrics of a sweep's coverage record: clusters judged, clusters not judged (deleted ones are no
 * gap), violations found, account-regions uncovered, and the coverage: covered account-regions over
 * planned ones, in percent. A sweep that planned nothing is 100 % covered when complete, else 0 % (the
 * organization could not be read, or the scope governs no account).
 */
export function coverageMetrics(record: Pick<CoverageRecord, 'complete' | 'units' | 'clusters'>): Metric[] {
  const notJudged = record.clusters.notJudged - (record.clusters.notJudgedByReason.DELETED ?? 0);
  const coverage = record.units.total > 0 ? (100 * record.units.covered) / record.units.total : record.complete ? 100 : 0;
  return [
    { name: METRIC_NAMES.sweepClustersJudged, unit: 'Count', value: record.clusters.judged },
    { name: METRIC_NAMES.sweepClustersNotJudged, unit: 'Count', value: notJudged },
    { name: METRIC_NAMES.sweepViolations, unit: 'Count', value: record.clusters.violations },
    { name: METRIC_NAMES.sweepUnitsUncovered, unit: 'Count', value: record.units.uncovered },
    { name: METRIC_NAMES.sweepCoverage, unit: 'Percent', value: coverage },
  ];
}

/** The metric of one failed alert publish (NotifyOutcome, in its catch, before it rethrows). */
/** A finding Security Hub refused: counted, so a whole account losing its findings shows on the dashboard. */
export function findingNotImportedMetrics(): Metric[] {
  return [{ name: METRIC_NAMES.findingsNotImported, unit: 'Count', value: 1 }];
}

export function alertPublishFailureMetrics(): Metric[] {
  return [{ name: METRIC_NAMES.alertPublishFailures, unit: 'Count', value: 1 }];
}
