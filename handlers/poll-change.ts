import { eksWiring } from '../src/aws/eks';
import { lambdaHandler } from '../src/lambda';
import { pollChange } from '../src/workflow/steps';
import type { ClusterRef } from '../src/policy/types';

/** PollChange state of the Express tracker: one poll of an update (or a new cluster) in another region than the stack's. */
export const handler = lambdaHandler('PollChange', { eks: eksWiring }, (input: { cluster: ClusterRef; updateId: string | null }, deps) => pollChange(input, deps.workflow));
