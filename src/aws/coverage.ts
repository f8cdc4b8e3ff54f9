/**
 * Where the organization sweep keeps its coverage records and sends its warning: the ledger table (one
 * item per sweep time, `pk` = `COVERAGE#<sweepTime>`, and `COVERAGE#latest` overwritten by each sweep:
 * the table's key is `pk` alone, and these keys never collide with a cluster's `ACCOUNT#REGION#NAME`)
 * and the alert topic. The ledger table already exists, is encrypted and has a TTL (`expiresAt`): a
 * second table would add a resource and an IAM grant for a few items per day.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { requireConfig } from '../config';
import { LEDGER_RETENTION_DAYS } from '../ledger/types';
import type { CoveragePort } from '../sweep/ports';
import type { CoverageRecord } from '../sweep/types';
import type { WiringContext } from '../wiring';
import { call } from './errors';
import { snsMessage, snsSubject } from './sns';

/** The key of the record of the sweep of `sweepTime`, and of the latest one. */
export const coverageKey = (sweepTime: string) => `COVERAGE#${sweepTime}`;
export const LATEST_COVERAGE_KEY = 'COVERAGE#latest';

export type CoveragePortOptions = { tableName: string; topicArn: string; now: () => number; account: string; region: string };

export function createCoveragePort(dynamodb: DynamoDBClient, sns: SNSClient, options: CoveragePortOptions): CoveragePort {
  const doc = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return {
    async keep(record: CoverageRecord) {
      const expiresAt = Math.floor(options.now() / 1000) + LEDGER_RETENTION_DAYS * 86_400;
      for (const pk of [coverageKey(record.sweepTime), LATEST_COVERAGE_KEY]) {
        await call({ operation: 'PutItem', detail: `ledger table ${options.tableName}, ${pk}` }, () =>
          doc.send(new PutCommand({ TableName: options.tableName, Item: { pk, kind: 'coverage', expiresAt, doc: record } })),
        );
      }
    },
    async warn(alert) {
      const Subject = snsSubject(alert.subject);
      // Attributes a subscription filter policy selects on, like the enforcement alerts' (severity, outcome).
      const MessageAttributes = {
        severity: { DataType: 'String', StringValue: 'warning' },
        outcome: { DataType: 'String', StringValue: 'coverage-incomplete' },
        // SNS refuses an empty attribute value: a deployment without HOME_ACCOUNT_ID names no account.
        ...(options.account ? { account: { DataType: 'String', StringValue: options.account } } : {}),
        region: { DataType: 'String', StringValue: options.region },
      };
      const chat = {
        version: '1.0',
        source: 'custom',
        content: { textType: 'client-markdown', title: Subject, description: alert.text.split('\n').slice(0, 12).join('\n') },
        metadata: { threadId: `coverage-${alert.record.organizationId}`, summary: Subject },
      };
      const out = await call({ operation: 'Publish', detail: `topic ${options.topicArn}, coverage warning` }, () =>
        sns.send(new PublishCommand({ TopicArn: options.topicArn, Subject, Message: snsMessage({ text: alert.text, chat }), MessageStructure: 'json', MessageAttributes })),
      );
      return out.MessageId ?? '';
    },
  };
}

/** The coverage port: the home account's ledger table and alert topic. */
export const coverageWiring = ({ clients, config, now }: WiringContext): CoveragePort =>
  createCoveragePort(clients.home(DynamoDBClient, config.AWS_REGION, { maxAttempts: 5 }), clients.home(SNSClient, config.AWS_REGION), {
    tableName: requireConfig(config, 'LEDGER_TABLE'),
    topicArn: requireConfig(config, 'ALERT_TOPIC_ARN'),
    now,
    account: config.HOME_ACCOUNT_ID ?? '',
    region: config.AWS_REGION,
  });
