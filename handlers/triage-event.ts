import type { EventBridgeEvent } from 'aws-lambda';
import { executionWiring } from '../src/aws/sfn';
import { ledgerWiring } from '../src/aws/ledger';
import { lambdaHandler } from '../src/lambda';
import { intakeEvent } from '../src/workflow/intake';

/**
 * Target of the EventBridge rule for CloudTrail `UpdateClusterConfig`, `CreateCluster`, `TagResource` and `UntagResource` events: triages the
 * event and starts one execution per CloudTrail eventID. A malformed event fails the invocation, so
 * EventBridge/Lambda retry it and finally park it in the dead-letter queue.
 */
export const handler = lambdaHandler('TriageEvent', { executions: executionWiring, ledger: ledgerWiring }, (event: EventBridgeEvent<string, unknown>, deps) => intakeEvent(event, deps.intake));
