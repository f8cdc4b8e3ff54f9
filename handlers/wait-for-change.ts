import { eksWiring } from '../src/aws/eks';
import { lambdaHandler } from '../src/lambda';
import { waitForChange } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** WaitForChange state: has the triggering change finished? (DescribeUpdate, or DescribeCluster for a new cluster) */
export const handler = lambdaHandler('WaitForChange', { eks: eksWiring }, (state: ExecutionState, deps) => waitForChange(state, deps.workflow));
