/**
 * The cluster ledger over DynamoDB: one item per cluster, `pk` = `ACCOUNT#REGION#NAME`, the record under
 * `doc`, a `version` number for compare-and-set, and `expiresAt` (epoch seconds, the table's TTL
 * attribute) pushed forward on every write so a quiet cluster's record ages out.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { requireConfig } from '../config';
import { AwsRequestRejectedError, TransientAwsError } from '../errors';
import type { WiringContext } from '../wiring';
import { emptyLedger } from '../ledger/rules';
import { LEDGER_RETENTION_DAYS, type ClusterLedger, type LedgerPort } from '../ledger/types';
import type { ClusterRef } from '../policy/types';
import { loadedKeys, storableKeys } from '../records';
import { awsErrorName, toGuardError } from './errors';

/** The partition key of a cluster's record. */
export function ledgerKey(cluster: ClusterRef): string {
  return `${cluster.account}#${cluster.region}#${cluster.name}`;
}

type Item = { pk: string; version: number; expiresAt: number; doc: ClusterLedger };

/**
 * Conflicting writers retry this many times, after a short jittered pause that grows, before the conflict
 * is reported as transient (the state machine retries then): a burst of CloudTrail events for one cluster
 * all land.
 */
export const MAX_CONFLICTS = 25;
const conflictPause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));

export type LedgerPortOptions = { tableName: string; now: () => number };

export function createLedgerPort(client: DynamoDBClient, options: LedgerPortOptions): LedgerPort {
  // Empty lists and nulls are part of the record's shape: keep them rather than dropping attributes.
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  const context = (cluster: ClusterRef, operation: string) => ({ operation, cluster, detail: `ledger table ${options.tableName}` });
  // A missing table is a deployment fault, never "the cluster was deleted" (which ResourceNotFound means for EKS).
  const call = async <T>(ctx: ReturnType<typeof context>, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'ResourceNotFoundException') throw new AwsRequestRejectedError(`${ctx.operation} on ledger table ${options.tableName} failed: the table does not exist`, name, { cause: err });
      throw toGuardError(err, ctx);
    }
  };

  const readItem = async (cluster: ClusterRef): Promise<{ ledger: ClusterLedger; version: number }> => {
    const out = await call(context(cluster, 'GetItem'), () => doc.send(new GetCommand({ TableName: options.tableName, Key: { pk: ledgerKey(cluster) }, ConsistentRead: true })));
    const item = out.Item as Item | undefined;
    if (!item) return { ledger: emptyLedger(cluster), version: 0 };
    // Fields added by later versions of the guard are filled in from the empty record.
    return { ledger: { ...emptyLedger(cluster), ...loadedKeys(item.doc), cluster }, version: item.version };
  };

  return {
    async read(cluster) {
      return (await readItem(cluster)).ledger;
    },

    async mutate(cluster, change) {
      for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
        const { ledger, version } = await readItem(cluster);
        const { next, result } = change(ledger);
        if (next === null) return result;
        const item: Item = {
          pk: ledgerKey(cluster),
          version: version + 1,
          expiresAt: Math.floor(options.now() / 1000) + LEDGER_RETENTION_DAYS * 86_400,
          // Tags are keyed by cluster owners: a `__proto__` tag would not survive marshalling unescaped.
          doc: storableKeys(next),
        };
        try {
          await doc.send(
            new PutCommand({
              TableName: options.tableName,
              Item: item,
              ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
              ...(version === 0 ? {} : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': version } }),
            }),
          );
          return result;
        } catch (err) {
          // Someone wrote in between: read their record and apply the change to it instead.
          if (awsErrorName(err) === 'ConditionalCheckFailedException') {
            await conflictPause(attempt);
            continue;
          }
          await call(context(cluster, 'PutItem'), () => Promise.reject(err));
        }
      }
      throw new TransientAwsError(`ledger record of cluster ${cluster.name} (${cluster.account}/${cluster.region}) kept changing under ${MAX_CONFLICTS} attempts to write it`);
    },
  };
}

/** The ledger port: the home account's table. DynamoDB gets more SDK attempts: a hot partition's throttling clears in seconds. */
export const ledgerWiring = ({ clients, config, now }: WiringContext): LedgerPort =>
  createLedgerPort(clients.home(DynamoDBClient, config.AWS_REGION, { maxAttempts: 5 }), { tableName: requireConfig(config, 'LEDGER_TABLE'), now });
