import { eksWiring } from '../src/aws/eks';
import { ledgerWiring } from '../src/aws/ledger';
import { lambdaHandler } from '../src/lambda';
import { remediateCluster } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** RemediateCluster state: UpdateClusterConfig with the target's endpoint fields only. */
export const handler = lambdaHandler('RemediateCluster', { eks: eksWiring, ledger: ledgerWiring }, (state: ExecutionState, deps) => remediateCluster(state, deps.workflow));
