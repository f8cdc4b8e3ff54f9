/**
 * The guard as deployed, wired to a local emulator: the real handlers with adapters that talk to the
 * emulator through the real AWS SDK, the intake fed by the emulator's CloudTrail events, and the
 * state machine run by LocalRunner.
 */
import { EKSClient, DescribeClusterCommand } from '@aws-sdk/client-eks';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { loadConfig } from '../config';
import { callCounter } from '../aws/clients';
import { buildDependencies, setDependencies } from '../dependencies';
import { parseObservedCluster, type Policy } from '../policy';
import type { ClusterRef, EndpointConfig } from '../policy/types';
import { matchesIntakeRule } from '../events/rule';
import type { Log } from '../workflow/deps';
import type { Emulator } from './emulator';
import { LocalRunner, type DeliveryRecord, type ProgressEvent, type PublishedAlert } from './runner';

export const GUARD_ROLE_NAME = 'eks-endpoint-guard-remediate';
export const ALERT_TOPIC_NAME = 'eks-endpoint-guard-alerts';

export type LocalGuardOptions = {
  emulator: Emulator;
  policy: Policy;
  /** The account and region the guard is "deployed" in; other accounts are reached through GUARD_ROLE_NAME. */
  homeAccount: string;
  homeRegion: string;
  shadowMode?: boolean;
  notifyCompliant?: boolean;
  maxWaitSeconds?: number;
  maxBusyAttempts?: number;
  waitMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  log?: Log;
};

const silentLog: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export type LocalGuard = {
  runner: LocalRunner;
  topicArn: string;
  /** CloudTrail events the emulator emitted that the intake has not seen yet. */
  pending(): number;
  /** Delivers every pending event (and those the workflow itself causes) until none is left. */
  processPending(): Promise<DeliveryRecord[]>;
  deliver(event: unknown): Promise<DeliveryRecord>;
  alerts(): PublishedAlert[];
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

  const config = loadConfig({
    POLICY_FILE: '(in memory)',
    SHADOW_MODE: options.shadowMode ? 'true' : 'false',
    NOTIFY_COMPLIANT: options.notifyCompliant ? 'true' : 'false',
    ALERT_TOPIC_ARN: topicArn,
    STATE_MACHINE_ARN: `arn:aws:states:${homeRegion}:${homeAccount}:stateMachine:eks-endpoint-guard-local`,
    SELF_ROLE_ARNS: `arn:aws:iam::${homeAccount}:role/${GUARD_ROLE_NAME}`,
    CROSS_ACCOUNT_ROLE_NAME: GUARD_ROLE_NAME,
    HOME_ACCOUNT_ID: homeAccount,
    AWS_REGION: homeRegion,
    AWS_ENDPOINT_URL: emulator.url,
    MAX_WAIT_SECONDS: String(options.maxWaitSeconds ?? 3600),
    MAX_BUSY_ATTEMPTS: String(options.maxBusyAttempts ?? 8),
  });

  const sns = new SNSClient({ region: homeRegion, endpoint: emulator.url, credentials, maxAttempts: 1 });
  try {
    await sns.send(new CreateTopicCommand({ Name: ALERT_TOPIC_NAME }));
  } finally {
    sns.destroy();
  }

  const runnerRef: { current?: LocalRunner } = {};
  const deps = buildDependencies(config, {
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
      .filter((m) => m.topicArn === topicArn)
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

  const runner = new LocalRunner({ clock: emulator.clock, awsCallCounts: () => ({ ...counts }), publishedAlerts, readConfig, waitMs: options.waitMs, onProgress: options.onProgress });
  runnerRef.current = runner;

  const queue: unknown[] = [];
  const unsubscribe = emulator.onCloudTrail((event) => queue.push(event));

  return {
    runner,
    topicArn,
    pending: () => queue.length,
    deliver: (event) => runner.deliver(event),
    async processPending() {
      const records: DeliveryRecord[] = [];
      for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
        // Only what the deployed EventBridge rule passes reaches the intake; the rest is reported, not run.
        records.push(matchesIntakeRule(event) ? await runner.deliver(event) : runner.filtered(event));
      }
      return records;
    },
    alerts: publishedAlerts,
    readConfig,
    close: () => {
      unsubscribe();
      for (const c of reporter.values()) c.destroy();
    },
  };
}
