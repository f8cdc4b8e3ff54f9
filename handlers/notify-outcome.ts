import { outcomeEventsWiring } from '../src/aws/outcome-events';
import { alertWiring } from '../src/aws/sns';
import { lambdaHandler } from '../src/lambda';
import { notifyOutcome } from '../src/workflow/notify';
import type { ExecutionState } from '../src/workflow/types';

/** NotifyOutcome and NotifyFailure states: one outcome event on the home bus, then one SNS alert per outcome. */
export const handler = lambdaHandler('NotifyOutcome', { alerts: alertWiring, outcomeEvents: outcomeEventsWiring }, (state: ExecutionState, deps) => notifyOutcome(state, deps.workflow));
