/** The demo emulator world and a few things the adapter tests share. */
import type { Emulator, EmulatorState } from '../../src/local/emulator';
import { demoState, startDemo as startEmulatorDemo } from '../emulator/helpers';
import type { ClusterRef } from '../../src/policy/types';

import { PROD } from '../emulator/helpers';

export { PROD, SANDBOX } from '../emulator/helpers';
export const REGION = 'us-east-1';

/** The guard's own identity in the home account, as its Lambda role would be. */
export const GUARD_ROLE_ARN = `arn:aws:iam::${PROD}:role/eks-endpoint-guard/RemediateClusterRole`;

export { demoState } from '../emulator/helpers';

/** The demo world on virtual time, with one-minute updates: nothing finishes until a test advances the clock. */
export function startDemo(state: EmulatorState = demoState()): Promise<Emulator> {
  return startEmulatorDemo({ state, updateSeconds: 60 });
}

export const cluster = (name: string, account = PROD, region = REGION): ClusterRef => ({ name, account, region });

export { callCounter } from '../../src/aws/clients';

export { rejectionOf } from '../emulator/helpers';
