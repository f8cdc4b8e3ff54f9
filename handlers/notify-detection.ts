import { outcomeEventsWiring } from '../src/aws/outcome-events';
import { alertWiring } from '../src/aws/sns';
import { findingsWiring } from '../src/aws/security-hub';
import { ledgerWiring } from '../src/aws/ledger';
import { lambdaHandler } from '../src/lambda';
import { notifyDetection } from '../src/workflow/detection';
import type { ExecutionState } from '../src/workflow/types';

/** NotifyDetection state: a chat notice and a detection event for a violation about to be reverted. */
export const handler = lambdaHandler('NotifyDetection', { alerts: alertWiring, outcomeEvents: outcomeEventsWiring, findings: findingsWiring, ledger: ledgerWiring }, (state: ExecutionState, deps) => notifyDetection(state, deps.workflow));
