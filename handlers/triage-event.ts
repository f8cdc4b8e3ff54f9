import type { EventBridgeEvent } from 'aws-lambda';
import { lambdaHandler } from '../src/lambda';
import { intakeEvent } from '../src/workflow/intake';

/**
 * Target of the EventBridge rule for CloudTrail `UpdateClusterConfig`/`CreateCluster` events: triages the
 * event and starts one execution per CloudTrail eventID. A malformed event fails the invocation, so
 * EventBridge/Lambda retry it and finally park it in the dead-letter queue.
 */
export const handler = lambdaHandler('TriageEvent', (event: EventBridgeEvent<string, unknown>, deps) => intakeEvent(event, deps.intake));
