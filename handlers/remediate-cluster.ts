import { lambdaHandler } from '../src/lambda';
import { remediateCluster } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** RemediateCluster state: UpdateClusterConfig with the target's endpoint fields only. */
export const handler = lambdaHandler('RemediateCluster', (state: ExecutionState, deps) => remediateCluster(state, deps.workflow));
