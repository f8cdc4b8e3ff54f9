/**
 * The outcome event port over EventBridge: one PutEvents entry per outcome, on the home account's bus
 * (the default bus unless OUTCOME_EVENT_BUS says otherwise).
 *
 * PutEvents answers HTTP 200 even when an entry failed: the failure is in `FailedEntryCount` and the
 * entry's `ErrorCode`/`ErrorMessage`. An unchecked response would lose the event silently, so a failed
 * entry is thrown like a failed call, mapped by the same rules (src/aws/errors.ts): `ThrottlingException`
 * and `InternalFailure` become TransientAwsError, which the state machine's Retry repeats; anything else
 * (a missing bus, AccessDeniedException, MalformedDetail) is AwsRequestRejectedError, a bug to fix.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { WiringContext } from '../wiring';
import type { GuardEvent } from '../workflow/outcome-event';
import type { OutcomeEventPort } from '../workflow/ports';
import { AwsRequestRejectedError, ClusterNotFoundError, type GuardError } from '../errors';
import { toGuardError, type CallContext } from './errors';

/**
 * toGuardError, except that a missing event bus (ResourceNotFoundException) is a rejected request: read
 * as ClusterNotFoundError, it would make the state machine report the cluster as deleted.
 */
function classify(err: unknown, context: CallContext): GuardError {
  const mapped = toGuardError(err, context);
  return mapped instanceof ClusterNotFoundError ? new AwsRequestRejectedError(mapped.message, 'ResourceNotFoundException', { cause: err }) : mapped;
}

/** Puts outcome events on one bus (a name or an ARN) of the client's account and region. */
export function createOutcomeEventPort(client: EventBridgeClient, eventBusName = 'default'): OutcomeEventPort {
  return {
    async put(event: GuardEvent) {
      const context = { operation: 'PutEvents', detail: `bus ${eventBusName}, ${event.detailType} of ${event.resources[0] ?? event.detail.cluster.name} (execution ${event.detail.executionName})` };
      let out;
      try {
        out = await client.send(new PutEventsCommand({ Entries: [{ EventBusName: eventBusName, Source: event.source, DetailType: event.detailType, Resources: event.resources, Detail: JSON.stringify(event.detail) }] }));
      } catch (err) {
        throw classify(err, context);
      }
      const entry = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode || !entry?.EventId) {
        // The entry's error, shaped as the SDK would throw it, so it is classified like any other.
        const failure = Object.assign(new Error(entry?.ErrorMessage ?? 'PutEvents returned no event id for the entry'), { name: entry?.ErrorCode ?? 'UnknownError' });
        throw classify(failure, { ...context, operation: 'PutEvents (entry failed)' });
      }
      return entry.EventId;
    },
  };
}

/** Outcome events turned off (OUTCOME_EVENTS=false): nothing is put. */
const disabledOutcomeEvents: OutcomeEventPort = { put: async () => null };

/** The outcome event port: the home account's bus in the functions' region, or none when turned off. */
export const outcomeEventsWiring = ({ clients, config }: WiringContext): OutcomeEventPort => {
  if (!config.OUTCOME_EVENTS) return disabledOutcomeEvents;
  return createOutcomeEventPort(clients.home(EventBridgeClient, config.AWS_REGION), config.OUTCOME_EVENT_BUS ?? 'default');
};
