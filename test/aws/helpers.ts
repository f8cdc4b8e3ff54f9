/** The demo emulator world and a few things the adapter tests share. */
import type { Emulator } from '../../src/emulator';
import type { ClusterRef } from '../../src/policy/types';
import { PROD, useDemoEmulator } from '../emulator/helpers';

export { PROD, SANDBOX, demoState, rejectionOf } from '../emulator/helpers';
export { callCounter } from '../../src/aws/clients';

export const REGION = 'us-east-1';

/** The guard's own identity in the home account, as its Lambda role would be. */
export const GUARD_ROLE_ARN = `arn:aws:iam::${PROD}:role/eks-endpoint-guard/RemediateClusterRole`;

/** The demo emulator for one adapter test file, with one-minute updates (see useDemoEmulator). */
export function useAdapterEmulator(onStart: (emulator: Emulator) => void): void {
  useDemoEmulator(onStart, { updateSeconds: 60 });
}

export const cluster = (name: string, account = PROD, region = REGION): ClusterRef => ({ name, account, region });
