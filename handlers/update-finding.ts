import { findingsWiring } from '../src/aws/security-hub';
import { lambdaHandler } from '../src/lambda';
import { updateFinding } from '../src/workflow/finding';
import type { ExecutionState } from '../src/workflow/types';

/** UpdateFinding state: the cluster's Security Hub finding after the outcome (NEW, RESOLVED or SUPPRESSED). */
export const handler = lambdaHandler('UpdateFinding', { findings: findingsWiring }, (input: { state: ExecutionState; executionArn?: string }, deps) => updateFinding(input, deps.workflow));
