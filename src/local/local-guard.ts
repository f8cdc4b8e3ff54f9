/**
 * The guard as deployed, wired to a local emulator: the real handlers with adapters that talk to the
 * emulator through the real AWS SDK, the intake fed by the emulator's CloudTrail events, and the
 * state machine run by LocalRunner.
 */
import { randomUUID } from 'node:crypto';
import { EKSClient, DescribeClusterCommand } from '@aws-sdk/client-eks';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { loadConfig } from '../config';
import { callCounter } from '../aws/clients';
import { ec2Wiring } from '../aws/ec2';
import { eksWiring } from '../aws/eks';
import { ledgerWiring } from '../aws/ledger';
import { coverageWiring } from '../aws/coverage';
import { organizationWiring } from '../aws/organizations';
import { sweepEksWiring } from '../aws/eks';
import { executionWiring } from '../aws/sfn';
import { alertWiring } from '../aws/sns';
import { outcomeEventsWiring } from '../aws/outcome-events';
import { findingsWiring } from '../aws/security-hub';
import { buildDependencies, setDependencies } from '../dependencies';
import { parseObservedCluster, type Policy } from '../policy';
import type { ClusterRef, EndpointConfig } from '../policy/types';
import { matchesIntakeRule } from '../events/rule';
import type { LedgerPort } from '../ledger/types';
import type { Log } from '../workflow/deps';
import type { Emulator } from '../emulator';
import { CHANGE_READER_ROLE_NAME, deployGuard, MEMBER_FINDINGS_ROLE_NAME, MEMBER_READ_ROLE_NAME, MEMBER_WRITE_ROLE_NAME, TRACKER_ROLE_NAME, type MemberDeployment } from './deployment';
import { LocalRunner, type DeliveryRecord, type ExecutionRecord, type ProgressEvent, type PublishedAlert, type RunnerHooks } from './runner';
import { createSdkIntegrations } from './sdk-integrations';

export const GUARD_ROLE_NAME = 'eks-endpoint-guard-remediate';
export const ALERT_TOPIC_NAME = 'eks-endpoint-guard-alerts';
export const LEDGER_TABLE_NAME = 'eks-endpoint-guard-ledger';
export const OPERATIONS_TOPIC_NAME = 'eks-endpoint-guard-operations';
/** The alarm the stack raises when an enforcement execution fails (serverless.yml, EnforcementFailedAlarm). */
export const FAILED_ALARM_NAME = 'eks-endpoint-guard-local-enforcement-failed';
export const TIMED_OUT_ALARM_NAME = 'eks-endpoint-guard-local-enforcement-timed-out';

export type LocalGuardOptions = {
  emulator: Emulator;
  policy: Policy;
  /** The account and region the central stack is "deployed" in; other accounts are reached through the member roles. */
  homeAccount: string;
  homeRegion: string;
  /**
   * Where the member stack is deployed (forwarding rules per region, roles per account). Default: every
   * account of the emulator's state, in every region it has clusters in and the home region.
   */
  members?: MemberDeployment[];
  /** GOVERNED_REGIONS (default: the members' regions and the home region). */
  regions?: string[];
  /** GOVERNED_OUS and EXCLUDED_ACCOUNTS, as the stack parameters. */
  governedOus?: string[];
  excludedAccounts?: string[];
  shadowMode?: boolean;
  notifyCompliant?: boolean;
  /** The stack parameter SecurityHubFindings: one finding per cluster, imported in its own account. */
  securityHubFindings?: boolean;
  maxWaitSeconds?: number;
  waitMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Runs before each Task state of any execution (simulate's `during` steps act here), before pending events are delivered. */
  beforeTask?: (task: { state: string; execution: string }) => Promise<void>;
  log?: Log;
  /** The benchmark's knobs of the runner: another enforcement definition, and modelled Task latencies. */
  runner?: Pick<RunnerHooks, 'definition' | 'taskLatencyMs'>;
};

/** The ledger table as serverless.yml declares it (key `pk`); an existing table is kept. */
async function createLedgerTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({ TableName: name, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
}

const silentLog: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export type LocalGuard = {
  runner: LocalRunner;
  topicArn: string;
  /** CloudTrail events the emulator emitted that the intake has not seen yet. */
  pending(): number;
  /** Delivers every pending event (and those the workflow itself causes) until none is left. */
  processPending(): Promise<DeliveryRecord[]>;
  deliver(event: unknown): Promise<DeliveryRecord>;
  /**
   * Runs the re-checks the guard scheduled that are due by `untilMs` (emulated), with the events they
   * cause; the executions appear as one delivery record (a scheduled re-check is no CloudTrail event).
   */
  runRechecks(untilMs: number): Promise<DeliveryRecord[]>;
  /** The cluster ledger the guard uses (the emulator's DynamoDB). */
  ledger: LedgerPort;
  alerts(): PublishedAlert[];
  /** What reached the intake function through Lambda Invoke (redrive), in order. */
  invoked(): DeliveryRecord[];
  /** What reached the operations topic: the stack's alarms (a failed execution), as CloudWatch would send them. */
  operations(): { subject: string; text: string; delivered: boolean; error?: string }[];
  /** The live endpoint settings of a cluster (null when it does not exist). */
  readConfig(cluster: ClusterRef): Promise<EndpointConfig | null>;
  close(): void;
};

/**
 * Starts the guard against an emulator, as if deployed: its alert topic is created (deploying creates
 * it; CreateTopic is idempotent). Call `close()` to stop listening to the emulator's CloudTrail.
 */
export async function startLocalGuard(options: LocalGuardOptions): Promise<LocalGuard> {
  const { emulator, homeAccount, homeRegion } = options;
  const topicArn = `arn:aws:sns:${homeRegion}:${homeAccount}:${ALERT_TOPIC_NAME}`;
  const lambdaSession = `arn:aws:sts::${homeAccount}:assumed-role/${GUARD_ROLE_NAME}/eks-endpoint-guard-local`;
  const credentials = emulator.credentialsFor(lambdaSession, { sourceIp: '198.51.100.10', userAgent: 'eks-endpoint-guard/0.1.0 exec-env/AWS_Lambda_nodejs22.x' });
  const { counts, instrument } = callCounter();
  const snapshot = emulator.snapshot();
  const members = options.members ?? defaultMembers(snapshot, homeAccount, homeRegion);
  const regions = options.regions ?? [...new Set([homeRegion, ...members.flatMap((m) => m.regions)])];

  const config = loadConfig({
    POLICY_FILE: '(in memory)',
    SHADOW_MODE: options.shadowMode ? 'true' : 'false',
    NOTIFY_COMPLIANT: options.notifyCompliant ? 'true' : 'false',
    ALERT_TOPIC_ARN: topicArn,
    STATE_MACHINE_ARN: `arn:aws:states:${homeRegion}:${homeAccount}:stateMachine:eks-endpoint-guard-local`,
    SELF_ROLE_ARNS: `arn:aws:iam::${homeAccount}:role/${GUARD_ROLE_NAME}`,
    MEMBER_READ_ROLE_NAME,
    MEMBER_WRITE_ROLE_NAME,
    MEMBER_FINDINGS_ROLE_NAME,
    SECURITY_HUB_FINDINGS: options.securityHubFindings ? 'true' : 'false',
    GOVERNED_REGIONS: regions.join(','),
    GOVERNED_OUS: (options.governedOus ?? []).join(','),
    EXCLUDED_ACCOUNTS: (options.excludedAccounts ?? []).join(','),
    HOME_ACCOUNT_ID: homeAccount,
    AWS_REGION: homeRegion,
    AWS_ENDPOINT_URL: emulator.url,
    MAX_WAIT_SECONDS: String(options.maxWaitSeconds ?? 3600),
    LEDGER_TABLE: LEDGER_TABLE_NAME,
    CHANGE_READER_ROLE_ARN: `arn:aws:iam::${homeAccount}:role/${CHANGE_READER_ROLE_NAME}`,
  });

  // What deploying creates: the alert topic and the ledger table (both calls are idempotent here).
  const sns = new SNSClient({ region: homeRegion, endpoint: emulator.url, credentials, maxAttempts: 1 });
  const dynamodb = new DynamoDBClient({ region: homeRegion, endpoint: emulator.url, credentials, maxAttempts: 1 });
  try {
    await sns.send(new CreateTopicCommand({ Name: ALERT_TOPIC_NAME }));
    await sns.send(new CreateTopicCommand({ Name: OPERATIONS_TOPIC_NAME }));
    await createLedgerTable(dynamodb, LEDGER_TABLE_NAME);
  } finally {
    sns.destroy();
    dynamodb.destroy();
  }

  const runnerRef: { current?: LocalRunner } = {};
  // Every handler runs in this one process: wire every port.
  const wiring = { eks: eksWiring, ec2: ec2Wiring, alerts: alertWiring, outcomeEvents: outcomeEventsWiring, ledger: ledgerWiring, executions: executionWiring, organization: organizationWiring, sweepEks: sweepEksWiring, coverage: coverageWiring, findings: findingsWiring };
  const deps = buildDependencies(config, wiring, {
    policy: options.policy,
    credentials,
    log: options.log ?? silentLog,
    now: () => emulator.clock.now(),
    executions: { start: (name, input) => runnerRef.current!.executionPort.start(name, input) },
    instrument,
  });
  setDependencies(deps);

  // A reader with the guard's own credentials, used only to report final settings (not counted).
  const reporter = new Map<string, EKSClient>();
  const readConfig = async (cluster: ClusterRef) => {
    const key = `${cluster.account}/${cluster.region}`;
    let client = reporter.get(key);
    if (!client) {
      const creds = emulator.credentialsFor(`arn:aws:iam::${cluster.account}:user/eks-endpoint-guard-report`);
      client = new EKSClient({ region: cluster.region, endpoint: emulator.url, credentials: creds, maxAttempts: 1 });
      reporter.set(key, client);
    }
    try {
      const out = await client.send(new DescribeClusterCommand({ name: cluster.name }));
      return parseObservedCluster(out.cluster as unknown, { account: cluster.account, region: cluster.region }).config;
    } catch {
      return null;
    }
  };

  const publishedAlerts = (): PublishedAlert[] =>
    emulator
      .publishedMessages()
      .filter((m) => m.topicArn === topicArn && (m.messageAttributes as Record<string, { StringValue?: string } | undefined> | undefined)?.kind?.StringValue !== 'detection')
      .map((m) => {
        const attrs = m.messageAttributes as Record<string, { StringValue?: string; stringValue?: string; value?: string } | string>;
        const attr = (k: string) => {
          const v = attrs?.[k];
          return typeof v === 'string' ? v : (v?.StringValue ?? v?.stringValue ?? v?.value ?? '');
        };
        let text = m.message;
        if (m.messageStructure === 'json') {
          try {
            text = (JSON.parse(m.message) as { email?: string; default?: string }).email ?? (JSON.parse(m.message) as { default?: string }).default ?? m.message;
          } catch {
            /* keep the raw message */
          }
        }
        return { subject: m.subject ?? '', severity: attr('severity'), outcome: attr('outcome'), text };
      });

  // The intake hears what the deployed rules deliver: the home account's default bus, and the central
  // bus fed by the member stacks. CloudTrail's own feed is read beside it, in order, so the report can
  // say what happened to every event: passed to the intake, filtered by the rule, or never forwarded.
  const trackerRoleArn = `arn:aws:iam::${homeAccount}:role/${TRACKER_ROLE_NAME}`;
  const deployed = await deployGuard(emulator, { homeAccount, homeRegion, functionRoleArn: `arn:aws:iam::${homeAccount}:role/${GUARD_ROLE_NAME}`, trackerRoleArn, organizationId: snapshot.organization?.id ?? null }, members);
  // The tracker's SDK tasks, as Step Functions runs them: as the tracker's role, assuming the Credentials role.
  const sdkIntegrations = createSdkIntegrations({ emulator, stateMachineSession: `arn:aws:sts::${homeAccount}:assumed-role/${TRACKER_ROLE_NAME}/eks-endpoint-guard-local`, instrument });
  const heard = new Map<string, unknown>();
  const stopTarget = emulator.onTarget(deployed.intakeTargetArn, (event) => {
    const id = eventIdOf(event);
    if (id) heard.set(id, event);
  });
  const queue: unknown[] = [];
  const unsubscribe = emulator.onCloudTrail((event) => queue.push(event));
  const deliverOne = async (event: unknown, drain: boolean): Promise<DeliveryRecord> => {
    if (!matchesIntakeRule(event)) return runnerRef.current!.filtered(event);
    const id = eventIdOf(event);
    const delivered = id ? heard.get(id) : undefined;
    if (delivered === undefined) return runnerRef.current!.notForwarded(event, notForwardedReason(event));
    if (id) heard.delete(id);
    const record = await runnerRef.current!.deliver(delivered, { drain });
    if (record.error) parkFailure(delivered, record.error);
    return record;
  };
  // The intake failed (through its retries, in AWS): Lambda's on-failure destination keeps the event in
  // the dead-letter queue, in Lambda's own record format, for `redrive` to explain and re-submit.
  const intakeName = deployed.intakeTargetArn.split(':function:')[1]!;
  const parkFailure = (event: unknown, error: string) => {
    const [errorType, ...rest] = error.split(': ');
    emulator.sendToQueue(deployed.deadLetterQueueArn, {
      body: JSON.stringify({
        version: '1.0',
        timestamp: new Date(emulator.clock.now()).toISOString(),
        requestContext: { requestId: randomUUID(), functionArn: `${deployed.intakeTargetArn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType, errorMessage: rest.join(': ') || error, trace: [] },
      }),
    });
  };
  // The intake as a function others can invoke (redrive re-submits to it, asynchronously, as EventBridge does).
  const redriven: DeliveryRecord[] = [];
  const unregisterIntake = emulator.registerFunction({ account: homeAccount, region: homeRegion, name: intakeName, onFailure: { destination: deployed.deadLetterQueueArn }, maximumRetryAttempts: 2 }, async (event) => {
    const record = await runnerRef.current!.deliver(event);
    redriven.push(record);
    if (record.error) throw Object.assign(new Error(record.error.split(': ').slice(1).join(': ') || record.error), { name: record.error.split(': ')[0] });
    return { executionName: record.executionName, started: record.started };
  });
  // Events EventBridge would have delivered while an execution ran: triaged (and recorded in the ledger)
  // at once; the executions they start run after the current one.
  const early: DeliveryRecord[] = [];
  const deliverWithoutDraining = async (task: { state: string; execution: string }) => {
    await options.beforeTask?.(task);
    for (let event = queue.shift(); event !== undefined; event = queue.shift()) early.push(await deliverOne(event, false));
  };

  // CloudWatch alarms publish to the operations topic, apart from the alert topic and without message
  // attributes, so a broken alert path still reaches a person.
  const operationsTopicArn = `arn:aws:sns:${homeRegion}:${homeAccount}:${OPERATIONS_TOPIC_NAME}`;
  const alarmSns = new SNSClient({ region: homeRegion, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:iam::${homeAccount}:role/cloudwatch-alarms`), maxAttempts: 3 });
  const undeliveredAlarms: { subject: string; text: string; delivered: false; error: string }[] = [];
  const raiseAlarms = async (record: ExecutionRecord) => {
    if (record.status === 'SUCCEEDED') return;
    const alarmName = record.status === 'TIMED_OUT' ? TIMED_OUT_ALARM_NAME : FAILED_ALARM_NAME;
    const message = {
      AlarmName: alarmName,
      AlarmDescription: 'An enforcement execution failed; its alert (if it could be sent) and the execution history say why',
      NewStateValue: 'ALARM',
      NewStateReason: `Threshold Crossed: ${record.status === 'TIMED_OUT' ? 'ExecutionsTimedOut' : 'ExecutionsFailed'} >= 1 (execution ${record.name}, cluster ${record.cluster.name} ${record.cluster.account}/${record.cluster.region}: ${record.error ?? 'failed'})`,
      StateChangeTime: new Date(emulator.clock.now()).toISOString(),
      Region: homeRegion,
      Trigger: { MetricName: 'ExecutionsFailed', Namespace: 'AWS/States' },
    };
    const subject = `ALARM: "${alarmName}" in ${homeRegion}`;
    try {
      await alarmSns.send(new PublishCommand({ TopicArn: operationsTopicArn, Subject: subject, Message: JSON.stringify(message) }));
    } catch (err) {
      // SNS itself is down: the alarm is still in ALARM state in CloudWatch, and the execution is failed
      // in Step Functions' history; the report says so rather than showing nothing.
      undeliveredAlarms.push({ subject, text: JSON.stringify(message), delivered: false, error: `${(err as Error).name}: ${(err as Error).message}` });
    }
  };

  const runner = new LocalRunner({
    clock: emulator.clock,
    awsCallCounts: () => ({ ...counts }),
    publishedAlerts,
    readConfig,
    waitMs: options.waitMs,
    onProgress: options.onProgress,
    beforeTask: deliverWithoutDraining,
    onExecutionFinished: raiseAlarms,
    awsSdk: sdkIntegrations.call,
    home: { account: homeAccount, region: homeRegion },
    ...options.runner,
  });
  runnerRef.current = runner;

  const guard: LocalGuard = {
    runner,
    topicArn,
    pending: () => queue.length,
    deliver: (event) => runner.deliver(event),
    async processPending() {
      const records: DeliveryRecord[] = [];
      for (;;) {
        if (early.length > 0) {
          // Delivered while an execution ran; the executions they started run now, in order.
          const batch = early.splice(0);
          records.push(...batch);
          for (const execution of await runner.drain()) {
            (batch.find((d) => d.executionName === execution.name) ?? batch[batch.length - 1]!).executions.push(execution);
          }
          continue;
        }
        const event = queue.shift();
        if (event === undefined) break;
        // Only what the deployed EventBridge rules pass reaches the intake; the rest is reported, not run.
        records.push(await deliverOne(event, true));
      }
      return records;
    },
    async runRechecks(untilMs) {
      const records: DeliveryRecord[] = [];
      for (;;) {
        const ran = await runner.runDue(untilMs);
        if (ran.length === 0) break;
        records.push({ event: null, triage: null, filtered: false, executionName: null, started: true, error: null, executions: ran });
        records.push(...(await guard.processPending()));
      }
      return records;
    },
    ledger: deps.workflow.ledger,
    alerts: publishedAlerts,
    operations: () => [
      ...emulator
        .publishedMessages()
        .filter((m) => m.topicArn === operationsTopicArn)
        .map((m) => ({ subject: m.subject ?? '', text: m.message, delivered: true })),
      ...undeliveredAlarms,
    ],
    readConfig,
    invoked: () => [...redriven],
    close: () => {
      unsubscribe();
      stopTarget();
      unregisterIntake();
      for (const c of reporter.values()) c.destroy();
      alarmSns.destroy();
      sdkIntegrations.close();
    },
  };
  return guard;
}

/** The CloudTrail event id an EventBridge event carries (`detail.eventID`). */
function eventIdOf(event: unknown): string | null {
  const id = (event as { detail?: { eventID?: unknown } } | null)?.detail?.eventID;
  return typeof id === 'string' ? id : null;
}

function notForwardedReason(event: unknown): string {
  const e = event as { account?: string; region?: string };
  return `NOT_FORWARDED: no member stack forwards ${e.account ?? '?'} ${e.region ?? '?'} to the guard (the sweep still judges what it can reach)`;
}

/** Without a `members` list: the member stack in every account of the world, in each region it has clusters in. */
function defaultMembers(snapshot: ReturnType<Emulator['snapshot']>, homeAccount: string, homeRegion: string): MemberDeployment[] {
  const accounts = new Set<string>([homeAccount, ...snapshot.accounts.map((a: { id: string }) => a.id)]);
  return [...accounts].map((account) => ({
    account,
    regions: [...new Set([homeRegion, ...snapshot.clusters.filter((c) => c.account === account).map((c) => c.region)])],
  }));
}
