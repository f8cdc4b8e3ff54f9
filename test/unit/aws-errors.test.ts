/**
 * Where SDK errors become the project's errors (src/aws/errors.ts). The state machine retries by the
 * error's `name`, so the mapping decides what is retried (only what may succeed when repeated) and what
 * ends in an alert. Errors are shaped like the SDK's ServiceException: name, message, $fault, $metadata.
 */
import { awsErrorName, call, toGuardError } from '../../src/aws/errors';
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, GuardError, InputError, PolicyError, TransientAwsError } from '../../src/errors';

type ErrorClass = abstract new (...args: never[]) => GuardError;

function sdkError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`message of ${name}`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: 'req-1' }, ...extra });
}

const prodApi = { name: 'prod-api', account: '111122223333', region: 'eu-west-1' };
const context = { operation: 'UpdateClusterConfig', cluster: prodApi };

const TABLE: [what: string, err: unknown, expected: ErrorClass, stateName: string][] = [
  ['ThrottlingException (EKS)', sdkError('ThrottlingException', 400), TransientAwsError, 'TransientAwsError'],
  ['Throttling (query protocols: SNS, STS)', sdkError('Throttling', 400), TransientAwsError, 'TransientAwsError'],
  ['RequestLimitExceeded (EC2)', sdkError('RequestLimitExceeded', 400), TransientAwsError, 'TransientAwsError'],
  ['ServerException (EKS 500)', sdkError('ServerException', 500), TransientAwsError, 'TransientAwsError'],
  ['ServiceUnavailableException', sdkError('ServiceUnavailableException', 503), TransientAwsError, 'TransientAwsError'],
  ['an unknown name with $fault server', sdkError('BrandNewFault', 400, { $fault: 'server' }), TransientAwsError, 'TransientAwsError'],
  ['an unknown name with HTTP 500', sdkError('Mystery', 500, { $fault: 'client' }), TransientAwsError, 'TransientAwsError'],
  ['an unknown name with HTTP 429', sdkError('SlowDownPlease', 429), TransientAwsError, 'TransientAwsError'],
  ['a connection reset (Node error code, name Error)', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), TransientAwsError, 'TransientAwsError'],
  ['a connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), TransientAwsError, 'TransientAwsError'],
  ['ResourceInUseException (409)', sdkError('ResourceInUseException', 409), ClusterBusyError, 'ClusterBusyError'],
  ['ResourceNotFoundException (404)', sdkError('ResourceNotFoundException', 404), ClusterNotFoundError, 'ClusterNotFoundError'],
  ['InvalidParameterException', sdkError('InvalidParameterException', 400), AwsRequestRejectedError, 'AwsRequestRejectedError'],
  ['AccessDeniedException', sdkError('AccessDeniedException', 403), AwsRequestRejectedError, 'AwsRequestRejectedError'],
  ['UnsupportedAvailabilityZoneException', sdkError('UnsupportedAvailabilityZoneException', 400), AwsRequestRejectedError, 'AwsRequestRejectedError'],
];

describe('toGuardError', () => {
  it.each(TABLE)('%s → %p', (_what, err, expected, stateName) => {
    const mapped = toGuardError(err, context);

    expect(mapped).toBeInstanceOf(expected);
    expect(mapped).toBeInstanceOf(GuardError);
    // What the state machine's Retry/Catch ErrorEquals match.
    expect(mapped.name).toBe(stateName);
    expect(mapped.cause).toBe(err);
    expect(mapped.message).toMatch(/^UpdateClusterConfig on cluster prod-api \(111122223333\/eu-west-1\) failed: /);
  });

  it.each(['ThrottlingException', 'ServerException', 'ResourceInUseException', 'ResourceNotFoundException'])('a %s 4xx marked client-side is still mapped by its name', (name) => {
    expect(toGuardError(sdkError(name, 400), context)).toBeInstanceOf(name === 'ResourceInUseException' ? ClusterBusyError : name === 'ResourceNotFoundException' ? ClusterNotFoundError : TransientAwsError);
  });

  it.each(['InvalidParameterException', 'AccessDeniedException', 'InvalidRequestException'])('keeps the AWS error name of a rejected request: %s', (name) => {
    const mapped = toGuardError(sdkError(name, 400), context);

    expect(mapped).toBeInstanceOf(AwsRequestRejectedError);
    expect((mapped as AwsRequestRejectedError).awsErrorName).toBe(name);
  });

  it('a ResourceInUseException is never retried as transient, even if marked retryable', () => {
    // The state machine must wait on a busy cluster with its own long backoff, not the Lambda retry's seconds.
    expect(toGuardError(sdkError('ResourceInUseException', 409, { $retryable: {} }), context)).toBeInstanceOf(ClusterBusyError);
  });

  it('the message names the operation, what it was about, the AWS error and its message', () => {
    const mapped = toGuardError(sdkError('InvalidParameterException', 400), { ...context, detail: 'target public off, private on' });

    expect(mapped.message).toBe(
      'UpdateClusterConfig on cluster prod-api (111122223333/eu-west-1), target public off, private on failed: InvalidParameterException: message of InvalidParameterException',
    );
  });

  it.each<[string, Parameters<typeof toGuardError>[1], string]>([
    ['an operation alone', { operation: 'ListClusters' }, 'ListClusters failed: '],
    ['an account and region', { operation: 'ListClusters', account: '444455556666', region: 'us-east-2' }, 'ListClusters on 444455556666/us-east-2 failed: '],
    ['a detail only', { operation: 'Publish', detail: 'topic arn:aws:sns:us-east-1:111122223333:t' }, 'Publish on topic arn:aws:sns:us-east-1:111122223333:t failed: '],
    ['a ready-made description', 'DescribeVpcAttribute vpc-1 (111122223333/eu-west-1)', 'DescribeVpcAttribute vpc-1 (111122223333/eu-west-1) failed: '],
  ])('describes a call given %s', (_what, ctx, start) => {
    expect(toGuardError(sdkError('ThrottlingException', 400), ctx).message.startsWith(start)).toBe(true);
  });

  it.each<[string, GuardError]>([
    ['TransientAwsError', new TransientAwsError('already mapped')],
    ['ClusterBusyError', new ClusterBusyError('already mapped')],
    ['AwsRequestRejectedError', new AwsRequestRejectedError('already mapped', 'AccessDeniedException')],
    ['InputError', new InputError(['bad input'])],
    ['PolicyError', new PolicyError(['bad policy'])],
  ])('passes a %s through unchanged', (_what, own) => {
    expect(toGuardError(own, context)).toBe(own);
  });

  it.each<[string, unknown]>([
    ['a string', 'boom'],
    ['null', null],
    ['a plain Error', new Error('plain')],
  ])('maps %s to a rejected request that keeps it as the cause', (_what, thrown) => {
    const mapped = toGuardError(thrown, context);

    expect(mapped).toBeInstanceOf(AwsRequestRejectedError);
    expect(mapped.cause).toBe(thrown);
    expect(mapped.message.startsWith('UpdateClusterConfig on cluster prod-api')).toBe(true);
  });
});

describe('awsErrorName', () => {
  it.each<[unknown, string]>([
    [sdkError('ThrottlingException', 400), 'ThrottlingException'],
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    [new Error('plain'), 'Error'],
    ['text', 'UnknownError'],
    [undefined, 'UnknownError'],
    [{}, 'UnknownError'],
  ])('%p → %p', (err, name) => {
    expect(awsErrorName(err)).toBe(name);
  });
});

describe('call', () => {
  it('returns what the SDK call returns', async () => {
    await expect(call('DescribeCluster prod-api', async () => ({ cluster: { name: 'prod-api' } }))).resolves.toEqual({ cluster: { name: 'prod-api' } });
  });

  it('throws the mapped error with the SDK error as its cause', async () => {
    const sdk = sdkError('ResourceInUseException', 409);

    const thrown = await call(context, async () => {
      throw sdk;
    }).catch((err: unknown) => err);

    expect(thrown).toBeInstanceOf(ClusterBusyError);
    expect((thrown as Error).cause).toBe(sdk);
  });
});
