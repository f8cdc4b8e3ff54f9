/**
 * The cluster's Security Hub finding through its lifecycle: one finding per cluster (a stable Id), NEW
 * while it violates the policy, RESOLVED once remediated or compliant, SUPPRESSED while exempt (the note
 * names the exemption, its reason and expiry). Imported in the cluster's own account (a finding's
 * AwsAccountId must be the caller's), at detection (NotifyDetection) and after the outcome (UpdateFinding).
 */
import { consoleUrl, derivedClusterArn } from '../alerts/describe';
import { subjectFromEvaluation, toAsffFinding, type AsffFinding } from '../findings/asff';
import type { FindingsResult } from '../findings/ports';
import { partitionOf } from '../findings/arn';
import type { Evaluation } from '../policy/types';
import { emitMetrics, findingNotImportedMetrics } from '../observability/metrics';
import type { WorkflowDeps } from './deps';
import type { ExecutionState, Outcome } from './types';

export type FindingUpdate = { findingId: string | null; workflowStatus: string | null; compliance: string | null; imported: boolean; error: string | null };

/** The Step Functions console page of an execution, for the finding's SourceUrl. */
export function executionConsoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  const host = partitionOf(region) === 'aws-cn' ? `${region}.console.amazonaws.cn` : partitionOf(region) === 'aws-us-gov' ? `${region}.console.amazonaws-us-gov.com` : `${region}.console.aws.amazon.com`;
  return `https://${host}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** The judgement a finding reports: the verified result when the guard reverted, else what it judged. */
function latestEvaluation(state: ExecutionState): Evaluation | null {
  return state.verification?.evaluation ?? state.assessment?.evaluation ?? null;
}

// Outcomes that say nothing new about the cluster's settings: no finding is written for them.
const NO_FINDING: ReadonlySet<Outcome> = new Set(['ignored']);

const RAISED: Record<string, AsffFinding['Severity']['Label']> = { INFORMATIONAL: 'INFORMATIONAL', LOW: 'MEDIUM', MEDIUM: 'HIGH', HIGH: 'CRITICAL', CRITICAL: 'CRITICAL' };
// Outcomes that leave a violation open the guard could not close, or a fight over the setting: a person
// must act, so the finding is one level more severe than the settings alone make it.
const NEEDS_A_PERSON: ReadonlySet<Outcome> = new Set(['failed', 'manual-action-required', 'escalated']);

/** The finding's severity from the outcome: raised one level when the guard could not close it (or fought over it). */
export function withOutcomeSeverity(finding: AsffFinding, outcome: Outcome | null): AsffFinding {
  if (!outcome || !NEEDS_A_PERSON.has(outcome) || finding.Compliance.Status !== 'FAILED') return finding;
  const label = RAISED[finding.Severity.Label]!;
  return { ...finding, Severity: { Label: label }, FindingProviderFields: { ...finding.FindingProviderFields, Severity: { Label: label } }, ProductFields: { ...finding.ProductFields, 'eks-endpoint-guard/Outcome': outcome } };
}

/** The finding for an execution's latest judgement, or null when there is none to report. */
export function findingOf(state: ExecutionState, now: number, outcome: Outcome | null, sourceUrl?: string): AsffFinding | null {
  if (outcome && NO_FINDING.has(outcome)) return null;
  const evaluation = latestEvaluation(state);
  if (!evaluation || !state.assessment?.settled) return null;
  const arn = evaluation.cluster.arn ?? derivedClusterArn(state.cluster);
  const subject = subjectFromEvaluation(evaluation, { account: state.cluster.account, region: state.cluster.region, arn });
  // Stamped with when the cluster was read, not when the import runs: Security Hub ignores an import older
  // than what it holds, so a late retry of an earlier judgement cannot overwrite a newer one.
  const judgedAt = state.verification?.evaluation ? state.verification.verifiedAt : (state.assessment?.observedAt ?? now);
  const finding = toAsffFinding(subject, { observedAt: new Date(Math.min(judgedAt, now)).toISOString(), sourceUrl: sourceUrl ?? consoleUrl(state.cluster) });
  // SourceUrl is the execution (after the outcome); the cluster's console page is always in ProductFields.
  const linked = { ...finding, ProductFields: { ...finding.ProductFields, 'eks-endpoint-guard/ConsoleUrl': consoleUrl(state.cluster), 'eks-endpoint-guard/Execution': state.executionName } };
  return withOutcomeSeverity(linked, outcome);
}

function summary(finding: AsffFinding | null, result: FindingsResult | null, error: string | null): FindingUpdate {
  const failed = result?.findings.find((f) => f.status === 'failed');
  const why = error ?? (failed && failed.status === 'failed' ? `${failed.errorCode}: ${failed.errorMessage}` : null);
  return { findingId: finding?.Id ?? null, workflowStatus: finding?.Workflow.Status ?? null, compliance: finding?.Compliance.Status ?? null, imported: result !== null && result.imported > 0 && !failed, error: why };
}

/**
 * Imports the execution's finding. A finding Security Hub refused for good (not enabled in the account,
 * the findings role missing) is reported in the result and logged, never thrown: the finding is a view
 * of the outcome, and the outcome is already told. Transient errors are thrown so the state retries.
 */
export async function recordFinding(state: ExecutionState, deps: WorkflowDeps, options: { outcome: Outcome | null; sourceUrl?: string }): Promise<FindingUpdate> {
if (!deps.settings.securityHubFindings || !deps.findings) return summary(null, null, null);
  const finding = findingOf(state, deps.now(), options.outcome, options.sourceUrl);
  if (!finding) return summary(null, null, null);
  const result = await deps.findings.record([finding]);
  const update = summary(finding, result, null);
  if (update.error) {
    deps.log.warn('finding not imported', { cluster: state.cluster, findingId: finding.Id, error: update.error });
    emitMetrics(deps.metrics, findingNotImportedMetrics());
  }
  else deps.log.info('finding imported', { cluster: state.cluster, findingId: finding.Id, workflowStatus: finding.Workflow.Status, compliance: finding.Compliance.Status });
  return update;
}

/** UpdateFinding: the finding after the outcome, linked to the execution. */
export async function updateFinding(input: { state: ExecutionState; executionArn?: string }, deps: WorkflowDeps): Promise<FindingUpdate> {
const outcome = input.state.record?.outcome ?? input.state.notification?.outcome ?? null;
  return recordFinding(input.state, deps, { outcome, ...(input.executionArn ? { sourceUrl: executionConsoleUrl(input.executionArn) } : {}) });
}
