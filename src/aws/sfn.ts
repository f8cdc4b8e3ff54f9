/** The execution port over Step Functions: one named Standard workflow execution per event. */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { requireConfig } from '../config';
import type { WiringContext } from '../wiring';
import type { ExecutionPort } from '../workflow/ports';
import { toGuardError } from './errors';

/**
 * Starts executions by name. Names are unique per state machine for 90 days, which is what makes a
 * redelivered CloudTrail event harmless: StartExecution answers `ExecutionAlreadyExists`, reported as
 * `false`. (With the same name and the very same input while the first run is still open, Step Functions
 * answers success instead; the intake's input carries its own start time, so a redelivery never matches.)
 */
export function createExecutionPort(client: SFNClient, stateMachineArn: string): ExecutionPort {
  return {
    async start(name, input) {
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return true;
      } catch (err) {
        if ((err as { name?: unknown })?.name === 'ExecutionAlreadyExists') return false;
        throw toGuardError(err, { operation: 'StartExecution', detail: `execution ${name} of ${stateMachineArn}` });
      }
    },
  };
}

/** The execution port of the intake and the sweep: the home account's state machine. */
export const executionWiring = ({ clients, config }: WiringContext): ExecutionPort =>
  createExecutionPort(clients.home(SFNClient, config.AWS_REGION), requireConfig(config, 'STATE_MACHINE_ARN'));
