/** The real Lambda handlers, by the function names serverless.yml and the state machine definition use. */
import { handler as acquireLease } from '../../handlers/acquire-lease';
import { handler as evaluateCluster } from '../../handlers/evaluate-cluster';
import { handler as notifyOutcome } from '../../handlers/notify-outcome';
import { handler as notifyDetection } from '../../handlers/notify-detection';
import { handler as updateFinding } from '../../handlers/update-finding';
import { handler as preflightCheck } from '../../handlers/preflight-check';
import { handler as recordOutcome } from '../../handlers/record-outcome';
import { handler as remediateCluster } from '../../handlers/remediate-cluster';
import { handler as listSweepUnits } from '../../handlers/list-sweep-units';
import { handler as sweepUnit } from '../../handlers/sweep-unit';
import { handler as recordCoverage } from '../../handlers/record-coverage';
import { handler as triageEvent } from '../../handlers/triage-event';
import { handler as verifyRemediation } from '../../handlers/verify-remediation';
import { handler as waitForChange } from '../../handlers/wait-for-change';
import { handler as waitForRevert } from '../../handlers/wait-for-revert';
import { handler as pollChange } from '../../handlers/poll-change';

export type LambdaFn = (event: never, context: never) => Promise<unknown>;

export const LAMBDA_HANDLERS: Record<string, LambdaFn> = {
  triageEvent,
  listSweepUnits,
  sweepUnit,
  recordCoverage,
  waitForChange,
  acquireLease,
  evaluateCluster,
  notifyDetection,
  preflightCheck,
  remediateCluster,
  waitForRevert,
  pollChange,
  verifyRemediation,
  recordOutcome,
  notifyOutcome,
  updateFinding,
} as unknown as Record<string, LambdaFn>;
