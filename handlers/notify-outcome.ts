import { alertWiring } from '../src/aws/sns';
import { lambdaHandler } from '../src/lambda';
import { notifyOutcome } from '../src/workflow/notify';
import type { ExecutionState } from '../src/workflow/types';

/** NotifyOutcome and NotifyFailure states: one SNS alert per outcome. */
export const handler = lambdaHandler('NotifyOutcome', { alerts: alertWiring }, (state: ExecutionState, deps) => notifyOutcome(state, deps.workflow));
