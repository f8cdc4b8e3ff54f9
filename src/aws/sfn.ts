import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ExecutionPort } from '../workflow/ports';
import { toGuardError } from './errors';

/** Starts named Standard workflow executions; a name already taken means the event was already handled. */
export function createExecutionPort(client: SFNClient, stateMachineArn: string): ExecutionPort {
  return {
    async start(name, input) {
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return true;
      } catch (err) {
        if ((err as { name?: string }).name === 'ExecutionAlreadyExists') return false;
        throw toGuardError(err, `StartExecution ${name}`);
      }
    },
  };
}
