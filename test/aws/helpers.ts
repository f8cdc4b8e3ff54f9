/** The demo emulator world and a few things the adapter tests share. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { manualClock, parseEmulatorState, startEmulator, type Emulator, type EmulatorState } from '../../src/local/emulator';
import type { Instrumentable } from '../../src/aws/clients';
import type { ClusterRef } from '../../src/policy/types';

export const PROD = '111122223333';
export const SANDBOX = '444455556666';
export const REGION = 'us-east-1';

/** The guard's own identity in the home account, as its Lambda role would be. */
export const GUARD_ROLE_ARN = `arn:aws:iam::${PROD}:role/eks-endpoint-guard/RemediateClusterRole`;

const DEMO_STATE_PATH = fileURLToPath(new URL('../fixtures/emulator/demo-state.yaml', import.meta.url));

export function demoState(): EmulatorState {
  return parseEmulatorState(parseYaml(readFileSync(DEMO_STATE_PATH, 'utf8')), DEMO_STATE_PATH);
}

/** The demo world on virtual time: nothing finishes until a test advances the clock. */
export function startDemo(state: EmulatorState = demoState()): Promise<Emulator> {
  return startEmulator({ port: 0, clock: manualClock(), state, updateSeconds: 60 });
}

export const cluster = (name: string, account = PROD, region = REGION): ClusterRef => ({ name, account, region });

/** Counts the operations sent through instrumented clients, by name (`AssumeRole`, `ListClusters`). */
export function callCounter() {
  const counts: Record<string, number> = {};
  const instrument = (client: Instrumentable) => {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = String((context as { commandName?: string }).commandName ?? 'Unknown').replace(/Command$/, '');
        counts[op] = (counts[op] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
  };
  return { counts, instrument };
}

/** Captures the rejection of a call, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
