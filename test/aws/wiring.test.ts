import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { build } from 'esbuild';
import type { Instrumentable } from '../../src/aws/clients';
import { ec2Wiring } from '../../src/aws/ec2';
import { eksWiring, sweepEksWiring } from '../../src/aws/eks';
import { coverageWiring } from '../../src/aws/coverage';
import { organizationWiring } from '../../src/aws/organizations';
import { ledgerWiring } from '../../src/aws/ledger';
import { executionWiring } from '../../src/aws/sfn';
import { alertWiring } from '../../src/aws/sns';
import { outcomeEventsWiring } from '../../src/aws/outcome-events';
import { loadConfig, type Config } from '../../src/config';
import { buildDependencies, type Dependencies } from '../../src/dependencies';
import { InputError } from '../../src/errors';
import { parsePolicy } from '../../src/policy';
import { WiringError, type Ports, type Wiring } from '../../src/wiring';
import type { Log } from '../../src/workflow/deps';
import type { ExecutionPort } from '../../src/workflow/ports';
import type { OutcomeEvent } from '../../src/workflow/outcome-event';
import type { Alert, ExecutionInput } from '../../src/workflow/types';
import type { Emulator } from '../../src/emulator';
import { findingsWiring } from '../../src/aws/security-hub';
import { GUARD_ROLE_ARN, PROD, REGION, cluster, rejectionOf, useAdapterEmulator } from './helpers';

const HANDLERS_DIR = fileURLToPath(new URL('../../handlers/', import.meta.url));
const POLICY_FILE = fileURLToPath(new URL('../fixtures/policies/valid/minimal-unrestricted.json', import.meta.url));
const policy = parsePolicy(readFileSync(POLICY_FILE, 'utf8'), POLICY_FILE);
const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const ALL: Required<Wiring> = { eks: eksWiring, ec2: ec2Wiring, alerts: alertWiring, outcomeEvents: outcomeEventsWiring, ledger: ledgerWiring, executions: executionWiring, organization: organizationWiring, sweepEks: sweepEksWiring, coverage: coverageWiring, findings: findingsWiring };

let emulator: Emulator;

useAdapterEmulator((e) => (emulator = e));

/** The configuration of a function with every setting; `omit` leaves some out, as another function's environment would. */
function config(omit: string[] = []): Config {
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: emulator.url,
    AWS_REGION: REGION,
    HOME_ACCOUNT_ID: PROD,
    LEDGER_TABLE: 'eks-endpoint-guard-test-ledger',
    ALERT_TOPIC_ARN: `arn:aws:sns:${REGION}:${PROD}:eks-endpoint-guard-alerts`,
    STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${PROD}:stateMachine:eks-endpoint-guard-test-enforce-endpoint`,
  };
  return loadConfig(Object.fromEntries(Object.entries(env).filter(([key]) => !omit.includes(key))));
}

/** Dependencies built as a handler's cold start builds them, with every client built recorded. */
function dependencies(wiring: Wiring, options: { config?: Config; executions?: ExecutionPort } = {}): { deps: Dependencies; built: Instrumentable[] } {
  const built: Instrumentable[] = [];
  const deps = buildDependencies(options.config ?? config(), wiring, {
    policy,
    credentials: emulator.credentialsFor(GUARD_ROLE_ARN),
    instrument: (client) => built.push(client),
    log: silent,
    now: () => emulator.clock.now(),
    ...(options.executions ? { executions: options.executions } : {}),
  });
  return { deps, built };
}

const without = (port: keyof Ports): Wiring => Object.fromEntries(Object.entries(ALL).filter(([name]) => name !== port));

const PROD_API = cluster('prod-api');
const input = { cluster: PROD_API, executionName: 'exec-1' } as ExecutionInput;

describe('buildDependencies with a partial wiring', () => {
  it.each([
    { port: 'eks', method: 'describeCluster', call: (d: Dependencies) => d.workflow.eks.describeCluster(PROD_API) },
    { port: 'eks', method: 'listClusters', call: (d: Dependencies) => d.intake.eks.listClusters(PROD, REGION) },
    { port: 'ec2', method: 'vpcDnsFacts', call: (d: Dependencies) => d.workflow.ec2.vpcDnsFacts(PROD_API, 'vpc-0a1b2c3d4e5f60001') },
    { port: 'alerts', method: 'publish', call: (d: Dependencies) => d.workflow.alerts.publish({} as Alert) },
    { port: 'outcomeEvents', method: 'put', call: (d: Dependencies) => d.workflow.outcomeEvents!.put({} as OutcomeEvent) },
    { port: 'ledger', method: 'read', call: (d: Dependencies) => d.workflow.ledger.read(PROD_API) },
    { port: 'ledger', method: 'mutate', call: (d: Dependencies) => d.intake.ledger.mutate(PROD_API, () => ({ next: null, result: null })) },
    { port: 'executions', method: 'start', call: (d: Dependencies) => d.intake.executions.start('exec-1', input) },
  ] as const)('rejects a call to the unwired $port port ($method) with WiringError naming it, building no client', async ({ port, method, call }) => {
    const { deps, built } = dependencies(without(port));

    const err = await rejectionOf(call(deps));

    expect(err).toBeInstanceOf(WiringError);
    expect(err.name).toBe('WiringError');
    expect(err.message).toContain(`the ${port} port`);
    expect(err.message).toContain(method);
    expect(built).toEqual([]);
  });

  it('builds a wired port on its first call, and its client once', async () => {
    const { deps, built } = dependencies({ eks: eksWiring, ledger: ledgerWiring, alerts: alertWiring });
    expect(built).toEqual([]);

    expect((await deps.workflow.eks.listClusters(PROD, REGION)).sort()).toEqual(['prod-api', 'prod-payments']);
    expect(built).toHaveLength(1);
    expect(built[0]).toBeInstanceOf(EKSClient);

    await deps.intake.eks.describeCluster(PROD_API);
    expect(built).toHaveLength(1);
    expect(built.some((c) => c instanceof DynamoDBClient || c instanceof SNSClient)).toBe(false);
  });

  it('asks for a port\'s settings only of a function that calls it', async () => {
    const { deps } = dependencies({ eks: eksWiring, alerts: alertWiring }, { config: config(['ALERT_TOPIC_ARN']) });

    await deps.workflow.eks.describeCluster(PROD_API);
    // As a use case calls it: inside an async function.
    const err = await rejectionOf((async () => deps.workflow.alerts.publish({} as Alert))());

    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('ALERT_TOPIC_ARN');
  });

  it('uses the executions option instead of the Step Functions adapter', async () => {
    const started: string[] = [];
    const executions: ExecutionPort = { start: async (name) => (started.push(name), true) };
    const { deps, built } = dependencies(ALL, { executions });

    await expect(deps.intake.executions.start('exec-1', input)).resolves.toBe(true);

    expect(started).toEqual(['exec-1']);
    expect(built.some((c) => c instanceof SFNClient)).toBe(false);
  });
});

describe('the handlers\' wiring', () => {
  /** The SDK clients each function's bundle imports, by handler file: exactly its ports' clients. */
  const EXPECTED: Record<string, string[]> = {
    'triage-event': ['client-dynamodb', 'client-sfn'],
    // The organization sweep: Organizations only (loaded on demand, below); EKS and Step Functions; the
    // coverage record's table and alert topic.
    'list-sweep-units': [],
    'sweep-unit': ['client-eks', 'client-sfn'],
    'record-coverage': ['client-dynamodb', 'client-sns'],
    'wait-for-change': ['client-eks'],
    'poll-change': ['client-eks'],
    'acquire-lease': ['client-dynamodb'],
    'evaluate-cluster': ['client-dynamodb', 'client-eks'],
    'remediate-cluster': ['client-dynamodb', 'client-eks'],
    'wait-for-revert': ['client-dynamodb', 'client-eks'],
    'verify-remediation': ['client-dynamodb', 'client-eks'],
    'preflight-check': ['client-ec2'],
    'record-outcome': ['client-dynamodb'],
    // The outcome event (EventBridge) and the alert (SNS).
    'notify-outcome': ['client-eventbridge', 'client-sns'],
    // The ledger (is the violation news?), the event, the chat notice, the finding opened.
    'notify-detection': ['client-dynamodb', 'client-eventbridge', 'client-securityhub', 'client-sns'],
    'update-finding': ['client-securityhub'],
  };
  /** The functions that read AWS Organizations: the client is imported on demand, by these bundles only. */
  const READS_ORGANIZATION = ['evaluate-cluster', 'list-sweep-units', 'verify-remediation'];
  const handlers = readdirSync(HANDLERS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();

  it('has an expectation for every handler', () => {
    expect(handlers).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(handlers)('%s imports only the SDK clients of its wiring (STS only on demand)', async (name) => {
    const result = await build({
      entryPoints: [`${HANDLERS_DIR}${name}.ts`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['@aws-sdk/*'],
      write: false,
      metafile: true,
      outdir: 'out',
      logLevel: 'silent',
    });

    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
    const clients = (dynamic: boolean) =>
      [...new Set(imports.filter((i) => i.external && /^@aws-sdk\/client-/.test(i.path) && (i.kind === 'dynamic-import') === dynamic).map((i) => i.path.replace('@aws-sdk/', '')))].sort();
    expect({ name, static: clients(false) }).toEqual({ name, static: EXPECTED[name] });
    // STS (member roles) and Organizations (only when a policy matches on OUs or account tags, or to plan
    // the sweep) load on demand; Organizations only in the functions that read it.
    expect({ name, onDemand: clients(true).filter((c) => c !== 'client-sts') }).toEqual({ name, onDemand: READS_ORGANIZATION.includes(name) ? ['client-organizations'] : [] });
  });
});
