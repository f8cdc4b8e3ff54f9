import { toGuardError } from '../../src/aws/errors';
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, InputError, TransientAwsError } from '../../src/errors';
import { cluster } from './helpers';

/** An error shaped like the SDK's ServiceException (name, message, $fault, $metadata). */
function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`message of ${name}`), { name, $fault: 'client', $metadata: { httpStatusCode: 400 }, ...extra });
}

const context = { operation: 'DescribeCluster', cluster: cluster('prod-api') };

describe('toGuardError', () => {
  it.each<[string, Error, new (...args: never[]) => Error]>([
    ['ThrottlingException', sdkError('ThrottlingException', { $metadata: { httpStatusCode: 429 } }), TransientAwsError],
    ['Throttling (query protocols)', sdkError('Throttling'), TransientAwsError],
    ['TooManyRequestsException', sdkError('TooManyRequestsException'), TransientAwsError],
    ['EC2 RequestLimitExceeded', sdkError('RequestLimitExceeded', { $metadata: { httpStatusCode: 503 } }), TransientAwsError],
    ['ServerException', sdkError('ServerException', { $fault: 'server', $metadata: { httpStatusCode: 500 } }), TransientAwsError],
    ['ServiceUnavailableException', sdkError('ServiceUnavailableException'), TransientAwsError],
    ['InternalFailure', sdkError('InternalFailure'), TransientAwsError],
    ['an unknown name with $fault server', sdkError('SomethingNew', { $fault: 'server' }), TransientAwsError],
    ['an unknown name marked $retryable', sdkError('SomethingElse', { $retryable: { throttling: false } }), TransientAwsError],
    ['an unknown name with HTTP 502', sdkError('BadGateway', { $metadata: { httpStatusCode: 502 } }), TransientAwsError],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), TransientAwsError],
    ['a request timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), TransientAwsError],
    ['ResourceInUseException', sdkError('ResourceInUseException', { $metadata: { httpStatusCode: 409 } }), ClusterBusyError],
    ['ResourceNotFoundException', sdkError('ResourceNotFoundException', { $metadata: { httpStatusCode: 404 } }), ClusterNotFoundError],
    ['InvalidParameterException', sdkError('InvalidParameterException'), AwsRequestRejectedError],
    ['AccessDeniedException', sdkError('AccessDeniedException', { $metadata: { httpStatusCode: 403 } }), AwsRequestRejectedError],
  ])('maps %s', (_what, err, expected) => {
    const mapped = toGuardError(err, context);

    expect(mapped).toBeInstanceOf(expected);
    expect(mapped.name).toBe(expected.name);
    expect(mapped.cause).toBe(err);
  });

  it('keeps the AWS error name of a rejected request', () => {
    const mapped = toGuardError(sdkError('AccessDeniedException'), context);

    expect(mapped).toBeInstanceOf(AwsRequestRejectedError);
    expect((mapped as AwsRequestRejectedError).awsErrorName).toBe('AccessDeniedException');
  });

  it('names the operation, the cluster and the AWS error in the message', () => {
    const mapped = toGuardError(sdkError('ThrottlingException'), { ...context, detail: 'update 1234' });

    expect(mapped.message).toBe('DescribeCluster on cluster prod-api (111122223333/us-east-1), update 1234 failed: ThrottlingException: message of ThrottlingException');
  });

  it('accepts a ready-made description of the call', () => {
    expect(toGuardError(sdkError('ServerException'), 'Publish to topic x').message).toBe('Publish to topic x failed: ServerException: message of ServerException');
  });

  it('passes the project\'s own errors through unchanged', () => {
    const own = new InputError(['no role configured']);

    expect(toGuardError(own, context)).toBe(own);
  });

  it('maps something that is not an Error at all', () => {
    const mapped = toGuardError('boom', context);

    expect(mapped).toBeInstanceOf(AwsRequestRejectedError);
    expect(mapped.message).toContain('boom');
  });
});
