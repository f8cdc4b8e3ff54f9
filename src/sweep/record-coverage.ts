/**
 * RecordCoverage: merges the units' results into the coverage record, logs it, keeps it, and warns
 * on-call when the sweep did not judge everything.
 */
import { coverageMetrics, emitMetrics, type MetricsSink } from '../observability/metrics';
import type { Log } from '../workflow/deps';
import { coverageAlert, mergeCoverage, type CoverageInput } from './coverage';
import type { CoveragePort } from './ports';
import type { CoverageRecord } from './types';

export type RecordCoverageDeps = { coverage: CoveragePort; now: () => number; log: Log; metrics?: MetricsSink };

/**
 * The constant message of the log line a CloudWatch metric filter counts (one per incomplete sweep,
 * with `uncoveredAccounts` and `clustersNotJudged` as values): the alarm on it reaches on-call even
 * when the alert topic cannot be published to.
 */
export const INCOMPLETE_COVERAGE_MESSAGE = 'sweep coverage incomplete';

export type RecordCoverageResult = { record: CoverageRecord; alerted: boolean; messageId: string | null };

export async function recordCoverage(input: CoverageInput, deps: RecordCoverageDeps): Promise<RecordCoverageResult> {
  const record = mergeCoverage(input, new Date(deps.now()).toISOString());
  const notJudged = record.clusters.notJudged - (record.clusters.notJudgedByReason.DELETED ?? 0);
  deps.log.info('sweep coverage', { ...record });
  emitMetrics(deps.metrics, coverageMetrics(record));
  await deps.coverage.keep(record);
  if (record.complete) return { record, alerted: false, messageId: null };
  deps.log.warn(INCOMPLETE_COVERAGE_MESSAGE, {
    sweepTime: record.sweepTime,
    uncoveredAccounts: record.accounts.uncovered.length,
    uncovered: record.accounts.uncovered,
    clustersNotJudged: notJudged,
    incompleteUnits: record.units.partial + record.units.failed,
    configurationProblems: record.configurationProblems,
    planError: record.planError,
  });
  // Thrown on failure: the state machine retries a transient error; the metric line above is already written.
  const messageId = await deps.coverage.warn({ ...coverageAlert(record), record });
  return { record, alerted: true, messageId };
}
