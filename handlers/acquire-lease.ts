import { ledgerWiring } from '../src/aws/ledger';
import { lambdaHandler } from '../src/lambda';
import { acquireLease } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** AcquireLease state: one enforcing execution per cluster; records the trigger's change in the ledger. */
export const handler = lambdaHandler('AcquireLease', { ledger: ledgerWiring }, (state: ExecutionState, deps) => acquireLease(state, deps.workflow));
