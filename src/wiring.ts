/**
 * What a function is wired with: the adapters (and so the SDK clients) it uses, and nothing else. Each
 * handler names its ports; the composition root (src/dependencies.ts) builds only those, so a cold start
 * loads only the SDK clients that function calls. A port a function was not wired with fails loudly.
 */
import type { ClientFactory } from './aws/clients';
import type { Config } from './config';
import { GuardError } from './errors';
import type { FindingsPort } from './findings/ports';
import type { LedgerPort } from './ledger/types';
import type { OrganizationPort } from './org/types';
import type { AlertPort, Ec2Port, EksPort, ExecutionPort, OutcomeEventPort } from './workflow/ports';
import type { CoveragePort, SweepEksPort } from './sweep/ports';

/** What an adapter is built from. */
export type WiringContext = { clients: ClientFactory; config: Config; now: () => number };

export type Ports = { eks: EksPort; ec2: Ec2Port; alerts: AlertPort; outcomeEvents: OutcomeEventPort; ledger: LedgerPort; executions: ExecutionPort; organization: OrganizationPort; sweepEks: SweepEksPort; coverage: CoveragePort; findings: FindingsPort };

/** The adapters a function uses, each a builder of its port. */
export type Wiring = { [K in keyof Ports]?: (context: WiringContext) => Ports[K] };

/** A port used by a function that was not wired with it: a bug in the handler's wiring, not an AWS error. */
export class WiringError extends GuardError {
  override readonly name = 'WiringError';
}

/** A stand-in for a port the function was not wired with: any call says which port is missing. */
export function unwired<K extends keyof Ports>(port: K): Ports[K] {
  return new Proxy({} as Ports[K], {
    get: (_target, method) => {
      if (method === 'then') return undefined;
      return () => Promise.reject(new WiringError(`this function was not wired with the ${port} port (it called ${String(method)}); add it to the handler's wiring`));
    },
  });
}
