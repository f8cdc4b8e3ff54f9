/**
 * The composition root: builds the AWS clients, adapters, policy and logger once per cold start and
 * hands them to the use cases. The local runner and tests install their own with `setDependencies`.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { createClientFactory, type Instrumentable } from './aws/clients';
import { loadConfig, type Config } from './config';
import { InputError } from './errors';
import { parsePolicy, type Policy } from './policy';
import { unwired, type Ports, type Wiring, type WiringContext } from './wiring';
import type { IntakeDeps, Log, WorkflowDeps } from './workflow/deps';
import type { ExecutionPort } from './workflow/ports';

export type Dependencies = {
  config: Config;
  workflow: WorkflowDeps;
  intake: IntakeDeps;
  /** Accounts the scheduled sweep covers: the home account and SWEEP_ACCOUNTS. */
  sweepAccounts: string[];
  region: string;
  log: Log;
};

export type BuildOptions = {
  /** A policy already loaded (the local runner); otherwise POLICY_FILE is read. */
  policy?: Policy;
  /** Credentials of the functions themselves (the Lambda role locally); default: the SDK's chain. */
  credentials?: AwsCredentialIdentity;
  /** Replaces the Step Functions adapter (the local runner starts executions itself). */
  executions?: ExecutionPort;
  /** Called with every AWS client built, e.g. to count calls. */
  instrument?: (client: Instrumentable) => void;
  log?: Log;
  now?: () => number;
};

/** Reads the policy bundled with the function; a bad policy fails the cold start with every error listed. */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError([`policy ${path}: ${(err as Error).message}`], { cause: err });
  }
  return parsePolicy(text, path);
}

/** Structured JSON logs (Powertools Logger): constant messages, data in keys. */
function powertoolsLog(): Log {
  const logger = new Logger({ serviceName: 'eks-endpoint-guard' });
  return {
    debug: (message, extra) => logger.debug(message, extra ?? {}),
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}

/**
 * Builds the dependencies of one function from the configuration: the ports it is wired with (each
 * built on first use, so a function that never publishes never builds an SNS client either) and
 * stand-ins that fail loudly for the rest.
 */
export function buildDependencies(config: Config, wiring: Wiring, options: BuildOptions = {}): Dependencies {
  const log: Log = options.log ?? powertoolsLog();
  const now = options.now ?? Date.now;
  const policy = options.policy ?? loadPolicyFile(config.POLICY_FILE);
  const clients = createClientFactory({
    endpoint: config.AWS_ENDPOINT_URL,
    credentials: options.credentials,
    instrument: options.instrument,
    now,
    homeAccount: config.HOME_ACCOUNT_ID,
    crossAccountRoleName: config.CROSS_ACCOUNT_ROLE_NAME,
  });
  const context: WiringContext = { clients, config, now };
  const port = <K extends keyof Ports>(name: K): Ports[K] => {
    const build = wiring[name];
    if (!build) return unwired(name);
    let built: Ports[K] | undefined;
    // Built on first use: configuration a port needs (a topic ARN) is only required of functions that use
    // it, and a missing setting rejects the call like any other failure of the port.
    return new Proxy({} as Ports[K], {
      get: (_target, method) => {
        if (method === 'then') return undefined;
        return async (...args: unknown[]) => {
          built ??= build(context);
          return (built as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[method]!(...args);
        };
      },
    });
  };
  const settings = { shadowMode: config.SHADOW_MODE, notifyCompliant: config.NOTIFY_COMPLIANT, maxWaitSeconds: config.MAX_WAIT_SECONDS };
  const eks = port('eks');
  const ledger = port('ledger');
  const executions = options.executions ?? port('executions');
  const identity = { selfRoleArns: [...config.SELF_ROLE_ARNS], crossAccountRoleName: config.CROSS_ACCOUNT_ROLE_NAME ?? null, homeAccount: config.HOME_ACCOUNT_ID ?? null };
  const workflow: WorkflowDeps = { eks, ec2: port('ec2'), alerts: port('alerts'), ledger, policy, settings, now, log };
  const intake: IntakeDeps = { executions, eks, ledger, policy, settings, identity, now, log };
  const sweepAccounts = [...new Set([config.HOME_ACCOUNT_ID, ...config.SWEEP_ACCOUNTS].filter((a): a is string => Boolean(a)))];
  return { config, workflow, intake, sweepAccounts, region: config.AWS_REGION, log };
}

let current: Promise<Dependencies> | undefined;

/** The dependencies of this process, built from the environment on first use (the cold start), with the function's wiring. */
export function getDependencies(wiring: Wiring = {}): Promise<Dependencies> {
  current ??= Promise.resolve().then(() => buildDependencies(loadConfig(), wiring));
  return current;
}

/** Installs dependencies built elsewhere (the local runner, tests). */
export function setDependencies(deps: Dependencies): void {
  current = Promise.resolve(deps);
}
