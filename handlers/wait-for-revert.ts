import { eksWiring } from '../src/aws/eks';
import { ledgerWiring } from '../src/aws/ledger';
import { lambdaHandler } from '../src/lambda';
import { waitForRevert } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** WaitForRevert state: has the guard's own update finished? */
export const handler = lambdaHandler('WaitForRevert', { eks: eksWiring, ledger: ledgerWiring }, (state: ExecutionState, deps) => waitForRevert(state, deps.workflow));
