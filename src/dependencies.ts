/**
 * The composition root: builds the AWS clients, adapters, policy and logger once per cold start and
 * hands them to the use cases. The local runner and tests install their own with `setDependencies`.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { createClientFactory, partitionOf, type Instrumentable } from './aws/clients';
import { createEc2Port } from './aws/ec2';
import { createEksPort } from './aws/eks';
import { createExecutionPort } from './aws/sfn';
import { createAlertPort } from './aws/sns';
import { loadConfig, requireConfig, type Config } from './config';
import { InputError } from './errors';
import { parsePolicy, type Policy } from './policy';
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

/** Builds every dependency from the configuration. */
export function buildDependencies(config: Config, options: BuildOptions = {}): Dependencies {
  const log: Log = options.log ?? powertoolsLog();
  const now = options.now ?? Date.now;
  const policy = options.policy ?? loadPolicyFile(config.POLICY_FILE);
  const common = { endpoint: config.AWS_ENDPOINT_URL, credentials: options.credentials, instrument: options.instrument };
  const clients = createClientFactory({ ...common, now, homeAccount: config.HOME_ACCOUNT_ID, crossAccountRoleName: config.CROSS_ACCOUNT_ROLE_NAME });
  const eks = createEksPort((account, region) => clients.eks(account, region));
  const ec2 = createEc2Port((account, region) => clients.ec2(account, region));
  const settings = {
    shadowMode: config.SHADOW_MODE,
    notifyCompliant: config.NOTIFY_COMPLIANT,
    maxWaitSeconds: config.MAX_WAIT_SECONDS,
    maxBusyAttempts: config.MAX_BUSY_ATTEMPTS,
  };
  // Clients for the home account's own services are built only by the functions that use them.
  const lazyAlerts = (() => {
    let port: ReturnType<typeof createAlertPort> | undefined;
    return {
      publish: (alert: Parameters<ReturnType<typeof createAlertPort>['publish']>[0]) => {
        port ??= createAlertPort(clients.sns(config.AWS_REGION), requireConfig(config, 'ALERT_TOPIC_ARN'));
        return port.publish(alert);
      },
    };
  })();
  let sfnPort: ExecutionPort | undefined;
  const executions: ExecutionPort = options.executions ?? {
    start: (name, input) => {
      sfnPort ??= createExecutionPort(clients.sfn(config.AWS_REGION), requireConfig(config, 'STATE_MACHINE_ARN'));
      return sfnPort.start(name, input);
    },
  };
  const selfRoleArnsFor = (account: string | null) => {
    const own = [...config.SELF_ROLE_ARNS];
    // The cross-account role acts for the guard in every member account: its sessions are the guard's too.
    if (config.CROSS_ACCOUNT_ROLE_NAME && account) own.push(`arn:${partitionOf(config.AWS_REGION)}:iam::${account}:role/${config.CROSS_ACCOUNT_ROLE_NAME}`);
    return own;
  };
  const workflow: WorkflowDeps = { eks, ec2, alerts: lazyAlerts, policy, settings, now, log };
  const intake: IntakeDeps = { executions, eks, policy, settings, selfRoleArnsFor, now, log };
  const sweepAccounts = [...new Set([config.HOME_ACCOUNT_ID, ...config.SWEEP_ACCOUNTS].filter((a): a is string => Boolean(a)))];
  return { config, workflow, intake, sweepAccounts, region: config.AWS_REGION, log };
}

let current: Promise<Dependencies> | undefined;

/** The dependencies of this process, built from the environment on first use (the cold start). */
export function getDependencies(): Promise<Dependencies> {
  current ??= Promise.resolve().then(() => buildDependencies(loadConfig()));
  return current;
}

/** Installs dependencies built elsewhere (the local runner, tests). */
export function setDependencies(deps: Dependencies): void {
  current = Promise.resolve(deps);
}
