/**
 * Where the guard's ASFF findings go. The adapter (src/aws/security-hub.ts) imports each finding in the
 * account and region it names; errors cross the port as the GuardError family (src/errors.ts).
 */
import type { AsffFinding } from './asff';

/** Which step refused a finding: BatchImportFindings, or the BatchUpdateFindings that applies its Workflow and Note. */
export type FindingStage = 'import' | 'workflow';

/** What became of one finding. */
export type FindingOutcome =
  | { id: string; account: string; region: string; status: 'imported' }
  | {
      id: string;
      account: string;
      region: string;
      status: 'failed';
      stage: FindingStage;
      /** Security Hub's ErrorCode (`InvalidInput`, `AccessDeniedException`, `FindingNotFound`), or the refused call's error name. */
      errorCode: string;
      errorMessage: string;
    };

/** Every finding given, in order, plus any failure Security Hub reported under an Id that was not given. */
export type FindingsResult = { imported: number; failed: number; findings: FindingOutcome[] };

export type FindingsPort = {
  /**
   * Imports the findings, each in its own account and region, then sets the Workflow.Status and Note each
   * carries. A finding Security Hub refuses is reported as failed with the code and message, never
   * dropped; so is every finding of a call refused for a reason repeating will not fix (Security Hub not
   * enabled, the member role missing). Throws TransientAwsError (throttling, 5xx), which the caller retries:
   * importing a finding again is harmless.
   */
  record(findings: AsffFinding[]): Promise<FindingsResult>;
};
