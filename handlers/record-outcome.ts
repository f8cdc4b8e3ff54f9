import { ledgerWiring } from '../src/aws/ledger';
import { lambdaHandler } from '../src/lambda';
import { recordOutcome } from '../src/workflow/record';
import type { ExecutionState } from '../src/workflow/types';

/** RecordOutcome state: the final outcome, written to the ledger (lease, revert, escalation, re-check). */
export const handler = lambdaHandler('RecordOutcome', { ledger: ledgerWiring }, (state: ExecutionState, deps) => recordOutcome(state, deps.workflow));
