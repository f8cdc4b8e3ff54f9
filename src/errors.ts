/**
 * The project's error family. `GuardError` is never thrown itself; each subclass sets a literal `name`,
 * which survives bundling and minification and is what a state machine's `ErrorEquals` matches.
 */
export abstract class GuardError extends Error {
  abstract override readonly name: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A policy file that cannot be read, parsed or validated; `problems` lists every error with its path. */
export class PolicyError extends GuardError {
  override readonly name = 'PolicyError';
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(problems.join('\n'), options);
  }
}

/** Input that is not what a command or handler accepts (a file that is not a DescribeCluster output, an event of the wrong shape). */
export class InputError extends GuardError {
  override readonly name = 'InputError';
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(problems.join('\n'), options);
  }
}

/** A call that may succeed when repeated: throttling, 5xx, a network failure. The state machine retries these. */
export class TransientAwsError extends GuardError {
  override readonly name = 'TransientAwsError';
}

/** The cluster is busy with another update (EKS `ResourceInUseException`); retried with a longer backoff. */
export class ClusterBusyError extends GuardError {
  override readonly name = 'ClusterBusyError';
}

/** The cluster does not exist (EKS `ResourceNotFoundException`). */
export class ClusterNotFoundError extends GuardError {
  override readonly name = 'ClusterNotFoundError';
}

/** AWS refused the request for a reason that repeating will not fix (validation, access denied). */
export class AwsRequestRejectedError extends GuardError {
  override readonly name = 'AwsRequestRejectedError';
  constructor(
    message: string,
    readonly awsErrorName: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
