/**
 * The composition root: builds the AWS clients, adapters, policy and logger once per cold start and
 * hands them to the use cases. The local runner and tests install their own with `setDependencies`.
 */
import { readFileSync } from 'node:fs';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { createClientFactory, type Instrumentable } from './aws/clients';
import { loadConfig, type Config } from './config';
import { InputError } from './errors';
import { parsePolicy, type Policy } from './policy';
import { noMetrics, type MetricsSink } from './observability/metrics';
import { powertoolsLogger, powertoolsMetricsSink } from './observability/powertools';
import { unwired, type Ports, type Wiring, type WiringContext } from './wiring';
import type { IntakeDeps, Log, WorkflowDeps } from './workflow/deps';
import type { ExecutionPort } from './workflow/ports';
import type { OrganizationPort } from './org/types';
import type { CoveragePort, SweepEksPort } from './sweep/ports';

export type Dependencies = {
  config: Config;
  workflow: WorkflowDeps;
  intake: IntakeDeps;
  /** What the deployment governs (the central stack's parameters), for the organization sweep. */
  governance: Governance;
  /** The organization sweep's ports and settings (src/sweep). */
  sweep: SweepDependencies;
  region: string;
  log: Log;
  /** CloudWatch metrics (EMF, written when the invocation ends); none unless the log is Powertools' too. */
  metrics: MetricsSink;
};

/** What the organization sweep's functions use (ListSweepUnits, SweepUnit, RecordCoverage). */
export type SweepDependencies = {
  organization: OrganizationPort;
  eks: SweepEksPort;
  coverage: CoveragePort;
  executions: ExecutionPort;
  describeConcurrency: number;
  /** Milliseconds a SweepUnit invocation keeps free before its Lambda timeout. */
  timeMarginMs: number;
};

/** The central stack's organization parameters, as the functions read them. */
export type Governance = {
  /** `o-…`, or null outside an organization (a single-account deployment, the local runner without one). */
  organizationId: string | null;
  /** OUs (or the root) governed at any depth; empty: the whole organization. */
  governedOus: string[];
  excludedAccounts: string[];
  /** The regions governed in every account: GOVERNED_REGIONS, or the functions' own region. */
  regions: string[];
  /** The role read AWS Organizations through; null: the functions' own role (the delegated administrator). */
  organizationsRoleArn: string | null;
  /** The member role names (null: not configured, so only the home account can be reached). */
  memberReadRoleName: string | null;
  memberWriteRoleName: string | null;
  memberFindingsRoleName: string | null;
};

/** The governance settings of a configuration, defaults applied. */
export function governanceOf(config: Config): Governance {
  return {
    organizationId: config.ORGANIZATION_ID ?? null,
    governedOus: [...(config.GOVERNED_OUS ?? [])],
    excludedAccounts: [...(config.EXCLUDED_ACCOUNTS ?? [])],
    regions: config.GOVERNED_REGIONS && config.GOVERNED_REGIONS.length > 0 ? [...new Set(config.GOVERNED_REGIONS)] : [config.AWS_REGION],
    organizationsRoleArn: config.ORGANIZATIONS_ROLE_ARN || null,
    memberReadRoleName: config.MEMBER_READ_ROLE_NAME || config.CROSS_ACCOUNT_ROLE_NAME || null,
    memberWriteRoleName: config.MEMBER_WRITE_ROLE_NAME || config.CROSS_ACCOUNT_ROLE_NAME || null,
    memberFindingsRoleName: config.MEMBER_FINDINGS_ROLE_NAME || config.CROSS_ACCOUNT_ROLE_NAME || null,
  };
}

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
  /** Default: Powertools Metrics with the default log, no metrics with a log of one's own (the local runner, tests). */
  metrics?: MetricsSink;
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

/**
 * Structured JSON logs (Powertools Logger): constant messages, data in keys. The Logger is the one the
 * handlers' middlewares put the Lambda context and the correlation key on (src/lambda.ts).
 */
function powertoolsLog(): Log {
  const logger = powertoolsLogger();
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
  // A local run writes no EMF documents into its own output unless it asks for them.
  const metrics: MetricsSink = options.metrics ?? (options.log ? noMetrics : powertoolsMetricsSink());
  const now = options.now ?? Date.now;
  const policy = options.policy ?? loadPolicyFile(config.POLICY_FILE);
  const governance = governanceOf(config);
  const clients = createClientFactory({
    endpoint: config.AWS_ENDPOINT_URL,
    credentials: options.credentials,
    instrument: options.instrument,
    now,
    homeAccount: config.HOME_ACCOUNT_ID,
    homeRegion: config.AWS_REGION,
    memberReadRoleName: governance.memberReadRoleName ?? undefined,
    memberWriteRoleName: governance.memberWriteRoleName ?? undefined,
    memberFindingsRoleName: governance.memberFindingsRoleName ?? undefined,
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
  const tracking = { homeRegion: config.AWS_REGION, homeAccount: config.HOME_ACCOUNT_ID ?? null, changeReaderRoleArn: config.CHANGE_READER_ROLE_ARN ?? null, memberReadRoleName: governance.memberReadRoleName };
  const settings = { shadowMode: config.SHADOW_MODE, notifyCompliant: config.NOTIFY_COMPLIANT, maxWaitSeconds: config.MAX_WAIT_SECONDS, securityHubFindings: config.SECURITY_HUB_FINDINGS, tracking };
  const eks = port('eks');
  const ledger = port('ledger');
  const executions = options.executions ?? port('executions');
  // In member accounts the guard changes clusters only through the write role: a change made there by
  // that role name is the guard's (when its token is recorded); the read role cannot change anything.
  const identity = { selfRoleArns: [...config.SELF_ROLE_ARNS], crossAccountRoleName: governance.memberWriteRoleName, homeAccount: config.HOME_ACCOUNT_ID ?? null };
  // Called only for clusters whose decision depends on ous/accountTags (src/org/evaluate.ts).
  const organization = port('organization');
  const workflow: WorkflowDeps = { eks, ec2: port('ec2'), alerts: port('alerts'), outcomeEvents: port('outcomeEvents'), findings: port('findings'), ledger, policy, settings, now, log, organization, metrics };
  const scope = { excludedAccounts: governance.excludedAccounts, governedOus: governance.governedOus, regions: governance.regions };
  const intake: IntakeDeps = { executions, eks, ledger, policy, settings, identity, now, log, organization, scope };
  const sweep: SweepDependencies = {
    organization: port('organization'),
    eks: port('sweepEks'),
    coverage: port('coverage'),
    executions,
    describeConcurrency: config.SWEEP_DESCRIBE_CONCURRENCY,
    timeMarginMs: config.SWEEP_TIME_MARGIN_SECONDS * 1000,
  };
  return { config, workflow, intake, governance, sweep, region: config.AWS_REGION, log, metrics };
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
