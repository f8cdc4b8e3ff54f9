import { lambdaHandler } from '../src/lambda';
import { verifyRemediation } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** VerifyRemediation state: judges the cluster again after the revert. */
export const handler = lambdaHandler('VerifyRemediation', (state: ExecutionState, deps) => verifyRemediation(state, deps.workflow));
