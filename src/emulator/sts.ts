import { AwsError, type CallContext, type Env, type Service } from './protocol';
import { awsQueryError, awsQuerySuccess, resolveAction, type QueryAction } from './xml';

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

function validation(field: string, constraint: string, value: string | null): AwsError {
  return new AwsError('ValidationError', `1 validation error detected: Value ${value === null ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`);
}

function getCallerIdentity(_env: Env, ctx: CallContext): unknown {
  const p = ctx.key.principal;
  return { Arn: p.arn, UserId: p.principalId, Account: p.account };
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]+)$/;

/**
 * Trust is checked where the state declares roles (see iam.ts): in other accounts any caller may
 * assume any role, as before roles were modelled.
 */
function assumeRole(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const roleArn = params.get('RoleArn');
  if (!roleArn) throw validation('roleArn', 'Member must not be null', roleArn);
  const session = params.get('RoleSessionName');
  if (!session) throw validation('roleSessionName', 'Member must not be null', session);
  if (!/^[\w+=,.@-]{2,64}$/.test(session)) throw validation('roleSessionName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*', session);
  const durationRaw = params.get('DurationSeconds');
  const duration = durationRaw === null ? 3600 : Number(durationRaw);
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    throw validation('durationSeconds', 'Member must have value between 900 and 43200', durationRaw);
  }
  if (!ROLE_ARN.test(roleArn)) throw validation('roleArn', 'Member must be a role ARN such as arn:aws:iam::123456789012:role/NAME', roleArn);
  // A missing role and a trust that does not admit the caller look the same to the caller, as in AWS.
  const decision = env.iam.decideAssume(ctx.key.principal, roleArn, (account) => env.organizations.organizationIdOf(account));
  if (!decision.allowed) throw new AwsError('AccessDenied', `User: ${ctx.key.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  const now = env.clock.now();
  const key = env.identities.assumeRole(roleArn, session, now, now + duration * 1000);
  return {
    Credentials: {
      AccessKeyId: key.accessKeyId,
      SecretAccessKey: key.secretAccessKey,
      SessionToken: key.sessionToken,
      Expiration: new Date(key.expiresMs!).toISOString(),
    },
    AssumedRoleUser: { AssumedRoleId: key.principal.principalId, Arn: key.principal.arn },
    PackedPolicySize: 0,
  };
}

const ACTIONS: Record<string, QueryAction> = {
  GetCallerIdentity: getCallerIdentity,
  AssumeRole: assumeRole,
};

/** STS: the awsQuery protocol. */
export const stsService: Service = {
  resolve: (ctx, env) => resolveAction(ctx, env, ACTIONS, (a) => `Could not find operation ${a} for version 2011-06-15`),
  success: (op, payload, ctx) => awsQuerySuccess(op.name, NAMESPACE, payload, ctx.requestId),
  error: (err, ctx) => awsQueryError(err, NAMESPACE, ctx.requestId),
  throttled: () => new AwsError('Throttling', 'Rate exceeded', 400),
  serverError: () => new AwsError('InternalFailure', 'An internal error occurred (fault injected by the emulator).', 500),
};
