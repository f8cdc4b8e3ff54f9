/**
 * The organization sweep wired to a local emulator, as deployed: the real handlers of
 * statemachine/sweep-organization.asl.yml with every port they use (Organizations, EKS through the
 * member roles, Step Functions as the local runner, the ledger table, the alert topic), run by
 * LocalRunner.sweepOrganization. The end-to-end test and `npm run bench:sweep` use it; `simulate` and
 * the demo reach the same method through startLocalGuard once it wires the sweep's ports too
 * (sweepEks, coverage, organization in its buildDependencies call).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import type { FinalizeHandler, FinalizeHandlerArguments, FinalizeRequestMiddleware, HandlerExecutionContext } from '@aws-sdk/types';
import { callCounter, type Instrumentable } from '../aws/clients';
import { coverageWiring } from '../aws/coverage';
import { ec2Wiring } from '../aws/ec2';
import { eksWiring, sweepEksWiring } from '../aws/eks';
import { ledgerWiring } from '../aws/ledger';
import { alertWiring } from '../aws/sns';
import { outcomeEventsWiring } from '../aws/outcome-events';
import { organizationWiring } from '../aws/organizations';
import { loadConfig } from '../config';
import { buildDependencies, setDependencies } from '../dependencies';
import type { Emulator } from '../emulator';
import { parseObservedCluster, type Policy } from '../policy';
import type { ClusterRef, EndpointConfig } from '../policy/types';
import type { Log } from '../workflow/deps';
import { LocalRunner, type PublishedAlert } from './runner';
import { ALERT_TOPIC_NAME, GUARD_ROLE_NAME, LEDGER_TABLE_NAME } from './local-guard';

export type SweepHarnessOptions = {
  emulator: Emulator;
  policy: Policy;
  /** The account the guard is deployed in (the delegated administrator, or the management account). */
  homeAccount: string;
  homeRegion: string;
  /** GOVERNED_REGIONS. */
  regions: string[];
  governedOus?: string[];
  excludedAccounts?: string[];
  /** SWEEP_TIME_MARGIN_SECONDS (default 30, as deployed). */
  timeMarginSeconds?: number;
  describeConcurrency?: number;
  log?: Log;
};

export type SweepHarness = {
  runner: LocalRunner;
  /** AWS calls the guard's clients made so far, by operation (one per SDK `send`). */
  counts: Record<string, number>;
  /** HTTP attempts by operation (each SDK retry counts), and the attempts refused as throttled. */
  attempts: Record<string, number>;
  throttled: Record<string, number>;
  alerts(): PublishedAlert[];
  close(): void;
};

const silentLog: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startSweepHarness(options: SweepHarnessOptions): Promise<SweepHarness> {
  const { emulator, homeAccount, homeRegion } = options;
  const topicArn = `arn:aws:sns:${homeRegion}:${homeAccount}:${ALERT_TOPIC_NAME}`;
  const credentials = emulator.credentialsFor(`arn:aws:sts::${homeAccount}:assumed-role/${GUARD_ROLE_NAME}/eks-endpoint-guard-local`);
  const sns = new SNSClient({ region: homeRegion, endpoint: emulator.url, credentials, maxAttempts: 1 });
  const dynamodb = new DynamoDBClient({ region: homeRegion, endpoint: emulator.url, credentials, maxAttempts: 1 });
  try {
    await sns.send(new CreateTopicCommand({ Name: ALERT_TOPIC_NAME }));
    await dynamodb
      .send(new CreateTableCommand({ TableName: LEDGER_TABLE_NAME, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }))
      .catch((err: Error) => {
        if (err.name !== 'ResourceInUseException') throw err;
      });
  } finally {
    sns.destroy();
    dynamodb.destroy();
  }
  const config = loadConfig({
    POLICY_FILE: '(in memory)',
    ALERT_TOPIC_ARN: topicArn,
    STATE_MACHINE_ARN: `arn:aws:states:${homeRegion}:${homeAccount}:stateMachine:eks-endpoint-guard-local`,
    SELF_ROLE_ARNS: `arn:aws:iam::${homeAccount}:role/${GUARD_ROLE_NAME}`,
    CROSS_ACCOUNT_ROLE_NAME: GUARD_ROLE_NAME,
    HOME_ACCOUNT_ID: homeAccount,
    AWS_REGION: homeRegion,
    AWS_ENDPOINT_URL: emulator.url,
    LEDGER_TABLE: LEDGER_TABLE_NAME,
    GOVERNED_REGIONS: options.regions.join(','),
    GOVERNED_OUS: (options.governedOus ?? []).join(','),
    EXCLUDED_ACCOUNTS: (options.excludedAccounts ?? []).join(','),
    SWEEP_TIME_MARGIN_SECONDS: String(options.timeMarginSeconds ?? 30),
    SWEEP_DESCRIBE_CONCURRENCY: String(options.describeConcurrency ?? 10),
  });
  const { counts, instrument: countCalls } = callCounter();
  // Every HTTP attempt (inside the SDK's retries), and the throttled ones: what EKS actually saw.
  const attempts: Record<string, number> = {};
  const throttled: Record<string, number> = {};
  const instrument = (client: Instrumentable) => {
    countCalls(client);
    // Right inside the SDK's retry middleware: once per attempt, seeing each attempt's deserialized error.
    client.middlewareStack.addRelativeTo(
      ((next: FinalizeHandler<any, any>, context: HandlerExecutionContext) => async (args: FinalizeHandlerArguments<any>) => {
        const op = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        attempts[op] = (attempts[op] ?? 0) + 1;
        try {
          return await next(args);
        } catch (err) {
          if (/Throttl|TooManyRequests|Rate exceeded/i.test(`${(err as Error).name} ${(err as Error).message}`)) throttled[op] = (throttled[op] ?? 0) + 1;
          throw err;
        }
      }) as FinalizeRequestMiddleware<any, any>,
      { relation: 'after', toMiddleware: 'retryMiddleware', name: 'countAwsAttempts' },
    );
  };
  const runnerRef: { current?: LocalRunner } = {};
  // Every port: the sweep's, and the enforcement's for the executions it starts (runner.drain()).
  const wiring = { organization: organizationWiring, sweepEks: sweepEksWiring, coverage: coverageWiring, eks: eksWiring, ec2: ec2Wiring, alerts: alertWiring, ledger: ledgerWiring, outcomeEvents: outcomeEventsWiring };
  const deps = buildDependencies(config, wiring, {
    policy: options.policy,
    credentials,
    log: options.log ?? silentLog,
    now: () => emulator.clock.now(),
    executions: { start: (name, input) => runnerRef.current!.executionPort.start(name, input) },
    instrument,
  });
  setDependencies(deps);
  const alerts = (): PublishedAlert[] =>
    emulator
      .publishedMessages()
      .filter((m) => m.topicArn === topicArn)
      .map((m) => {
        const raw = (m.messageAttributes ?? {}) as Record<string, { StringValue?: string; stringValue?: string; value?: string } | string | undefined>;
        const attr = (k: string) => {
          const v = raw[k];
          return typeof v === 'string' ? v : (v?.StringValue ?? v?.stringValue ?? v?.value ?? '');
        };
        let text = m.message;
        try {
          text = (JSON.parse(m.message) as { email?: string }).email ?? text;
        } catch {
          /* a plain message */
        }
        return { subject: m.subject ?? '', severity: attr('severity'), outcome: attr('outcome'), text };
      });
  // A reader with the account's own credentials, only to report final settings (not counted).
  const readers = new Map<string, EKSClient>();
  const readConfig = async (cluster: ClusterRef): Promise<EndpointConfig | null> => {
    const key = `${cluster.account}/${cluster.region}`;
    let client = readers.get(key);
    if (!client) readers.set(key, (client = new EKSClient({ region: cluster.region, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:iam::${cluster.account}:user/eks-endpoint-guard-report`), maxAttempts: 1 })));
    try {
      const out = await client.send(new DescribeClusterCommand({ name: cluster.name }));
      return parseObservedCluster(out.cluster as unknown, { account: cluster.account, region: cluster.region }).config;
    } catch {
      return null;
    }
  };
  const runner = new LocalRunner({
    clock: emulator.clock,
    awsCallCounts: () => ({ ...counts }),
    publishedAlerts: alerts,
    readConfig,
  });
  runnerRef.current = runner;
  return {
    runner,
    counts,
    attempts,
    throttled,
    alerts,
    close: () => {
      for (const c of readers.values()) c.destroy();
    },
  };
}
