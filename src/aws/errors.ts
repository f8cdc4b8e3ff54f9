/**
 * Turns AWS SDK errors into the project's errors at the adapter boundary, so use cases and the state
 * machine see one vocabulary: transient (retry), busy (wait), not found, or rejected (alert).
 */
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, GuardError, TransientAwsError } from '../errors';

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'ProvisionedThroughputExceededException', 'SlowDown']);
const SERVER = new Set(['ServerException', 'ServiceUnavailableException', 'ServiceUnavailable', 'InternalFailure', 'InternalError', 'InternalServerError']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

type SdkError = { name?: string; message?: string; code?: string; $fault?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };

/** Maps an SDK error; `what` names the operation and the resource for the message. */
export function toGuardError(err: unknown, what: string): GuardError {
  if (err instanceof GuardError) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  const message = `${what}: ${name}: ${e.message ?? String(err)}`;
  if (name === 'ResourceInUseException') return new ClusterBusyError(message, { cause: err });
  if (name === 'ResourceNotFoundException') return new ClusterNotFoundError(message, { cause: err });
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (THROTTLING.has(name) || SERVER.has(name) || NETWORK.has(name) || NETWORK.has(e.code ?? '') || e.$fault === 'server' || e.$retryable || status >= 500 || status === 429) {
    return new TransientAwsError(message, { cause: err });
  }
  return new AwsRequestRejectedError(message, name, { cause: err });
}
