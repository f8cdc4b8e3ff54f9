import { functionArn } from './lambda-functions';
import { AwsError, type CallContext, type Env, type Reply, type Service } from './protocol';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
/** A name, a partial ARN (`ACCOUNT:function:NAME`) or a full ARN, each with an optional `:QUALIFIER`. */
const FUNCTION_NAME = /^(?:arn:aws:lambda:([a-z0-9-]+):(\d{12}):function:|(\d{12}):function:)?([\w-]{1,64})(?::(\$LATEST|[\w-]{1,128}))?$/;
const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'];

/** What Invoke answers: its status, headers and payload decide the reply. */
type InvokeReply = { status: number; headers: Record<string, string>; body: string };

const notFound = (arn: string) => new AwsError('ResourceNotFoundException', `Function not found: ${arn}`, 404);

async function invoke(env: Env, ctx: CallContext, rawName: string): Promise<InvokeReply> {
  let given: string;
  try {
    given = decodeURIComponent(rawName);
  } catch {
    given = rawName;
  }
  const m = FUNCTION_NAME.exec(given);
  if (!m) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${given}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }
  const [, arnRegion, arnAccount, partialAccount, name, nameQualifier] = m;
  const queryQualifier = ctx.query.get('Qualifier') ?? undefined;
  if (nameQualifier && queryQualifier && nameQualifier !== queryQualifier) {
    throw new AwsError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  const qualifier = nameQualifier ?? queryQualifier;
  const account = arnAccount ?? partialAccount ?? ctx.account;
  const region = arnRegion ?? ctx.region;
  const arn = functionArn(account, region, name!);
  const shown = qualifier ? `${arn}:${qualifier}` : arn;
  // Another account's function needs a resource policy, which the emulator does not model.
  if (account !== ctx.account) {
    throw new AwsError('AccessDeniedException', `User: ${ctx.key.principal.arn} is not authorized to perform: lambda:InvokeFunction on resource: ${shown} because no resource-based policy allows the lambda:InvokeFunction action`, 403);
  }
  // Registered functions have $LATEST only: no versions or aliases.
  if (region !== ctx.region || !env.world.functions.find(arn) || (qualifier !== undefined && qualifier !== '$LATEST')) throw notFound(shown);

  const type = String(ctx.headers['x-amz-invocation-type'] ?? 'RequestResponse');
  if (!INVOCATION_TYPES.includes(type)) {
    throw new AwsError('ValidationException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [${INVOCATION_TYPES.join(', ')}]`);
  }
  let event: unknown = {};
  if (ctx.body.length) {
    try {
      event = JSON.parse(ctx.body.toString('utf8'));
    } catch (err) {
      throw new AwsError('InvalidRequestContentException', `Could not parse request body into json: Could not parse payload into json: ${(err as Error).message}`);
    }
  }
  if (type === 'DryRun') return { status: 204, headers: {}, body: '' };
  if (type === 'Event') {
    env.world.functions.invokeAsync(arn, event, ctx.requestId);
    return { status: 202, headers: {}, body: '' };
  }
  const outcome = await env.world.functions.invoke(arn, event, ctx.requestId);
  return 'error' in outcome
    ? { status: 200, headers: { 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled' }, body: JSON.stringify(outcome.error) }
    : { status: 200, headers: { 'x-amz-executed-version': '$LATEST' }, body: outcome.payload };
}

function jsonReply(status: number, headers: Record<string, string>, body: string, ctx: CallContext): Reply {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': ctx.requestId, ...headers }, body };
}

/**
 * AWS Lambda's Invoke (REST-JSON, signing name `lambda`) for functions registered in process with
 * `Emulator.registerFunction`: synchronous, asynchronous (with retries and an onFailure destination) and
 * DryRun invocations. No other Lambda API is served.
 */
export const lambdaService: Service = {
  resolve: (ctx, env) => {
    const m = INVOKE_PATH.exec(ctx.path);
    if (!m || ctx.method !== 'POST') {
      throw new AwsError('UnknownOperationException', `The emulator's Lambda serves Invoke only (POST /2015-03-31/functions/{FunctionName}/invocations), not ${ctx.method} ${ctx.path}.`, 404);
    }
    return { name: 'Invoke', run: () => invoke(env, ctx, m[1]!) };
  },
  success: (_op, payload, ctx) => {
    const reply = payload as InvokeReply;
    return jsonReply(reply.status, reply.headers, reply.body, ctx);
  },
  error: (err, ctx) =>
    jsonReply(err.status, { 'x-amzn-errortype': err.code }, JSON.stringify({ Type: err.status >= 500 ? 'Service' : 'User', Message: err.message, ...err.fields }), ctx),
  throttled: () => new AwsError('TooManyRequestsException', 'Rate Exceeded.', 429, { Reason: 'CallerRateLimitExceeded' }),
  serverError: () => new AwsError('ServiceException', 'An internal error occurred (fault injected by the emulator).', 500),
};
