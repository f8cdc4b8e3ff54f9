/**
 * Where SDK errors become the project's errors. Every adapter call goes through `toGuardError`, so the
 * use cases and the state machine (whose `ErrorEquals` match the `name`) see only the GuardError family.
 */
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, GuardError, TransientAwsError } from '../errors';
import type { ClusterRef } from '../policy/types';

/**
 * What was being done when the error happened; it goes into the message on-call people read. A string
 * is taken as a ready-made description (`DescribeCluster prod-api (111122223333/us-east-1)`).
 */
export type CallContext =
  | string
  | {
      operation: string;
      cluster?: ClusterRef;
      account?: string;
      region?: string;
      /** Anything else worth naming: an update id, a VPC id, a topic ARN. */
      detail?: string;
    };

// Throttling names across the services the guard calls (EKS, EC2's RequestLimitExceeded, SNS, STS, SFN).
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'KMSThrottlingException',
  // DynamoDB (the ledger): on-demand tables throttle too, per partition.
  'ProvisionedThroughputExceededException',
]);

const SERVER_SIDE = new Set([
  'ServerException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
  'InternalErrorException',
  'InternalServerError',
  'InternalServerException',
]);

// Failures below HTTP: the request may never have reached AWS, so repeating it is the right answer.
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);

type SdkErrorShape = {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
};

function describeCall(context: CallContext): string {
  if (typeof context === 'string') return context;
  const parts: string[] = [];
  if (context.cluster) parts.push(`cluster ${context.cluster.name} (${context.cluster.account}/${context.cluster.region})`);
  else if (context.account || context.region) parts.push(`${context.account ?? '?'}/${context.region ?? '?'}`);
  if (context.detail) parts.push(context.detail);
  return parts.length > 0 ? `${context.operation} on ${parts.join(', ')}` : context.operation;
}

/** The AWS error name of an SDK error (`ThrottlingException`), or the Node error code for a network failure. */
export function awsErrorName(err: unknown): string {
  if (err === null || typeof err !== 'object') return 'UnknownError';
  const e = err as SdkErrorShape;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.code === 'string') return e.code;
  return typeof e.name === 'string' ? e.name : 'UnknownError';
}

function isTransient(err: SdkErrorShape, name: string): boolean {
  if (THROTTLING.has(name) || SERVER_SIDE.has(name) || NETWORK_NAMES.has(name)) return true;
  if (typeof err.code === 'string' && NETWORK_CODES.has(err.code)) return true;
  if (err.$fault === 'server' || Boolean(err.$retryable)) return true;
  const status = err.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

/**
 * Maps an error thrown by an AWS SDK call to the GuardError family, keeping the original as `cause`:
 * throttling, 5xx and network failures become TransientAwsError (the state machine retries them);
 * `ResourceInUseException` ClusterBusyError; `ResourceNotFoundException` ClusterNotFoundError; anything
 * else AwsRequestRejectedError with the AWS error name. A GuardError passes through unchanged.
 */
export function toGuardError(err: unknown, context: CallContext): GuardError {
  if (err instanceof GuardError) return err;
  const e = (err !== null && typeof err === 'object' ? err : {}) as SdkErrorShape;
  const name = awsErrorName(err);
  const reason = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  const message = `${describeCall(context)} failed: ${name}: ${reason}`;
  if (name === 'ResourceInUseException') return new ClusterBusyError(message, { cause: err });
  if (name === 'ResourceNotFoundException') return new ClusterNotFoundError(message, { cause: err });
  if (isTransient(e, name)) return new TransientAwsError(message, { cause: err });
  return new AwsRequestRejectedError(message, name, { cause: err });
}

/** Runs one SDK call, turning whatever it throws into a GuardError. */
export async function call<T>(context: CallContext, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    throw toGuardError(err, context);
  }
}
