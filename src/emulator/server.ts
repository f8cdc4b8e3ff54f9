import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleControl } from './control';
import type { EmulatorCore } from './core';
import { DYNAMODB_TARGET, dynamodbService } from './dynamodb';
import { ec2Service } from './ec2';
import { eventBridgeService } from './eventbridge';
import { eksService } from './eks';
import { lambdaService } from './lambda';
import { AwsError, type CallContext, type Operation, type Reply, type Service } from './protocol';
import { credentialScope, guessScope } from './sigv4';
import { snsService } from './sns';
import { securityHubService } from './securityhub';
import { sqsService } from './sqs';
import { stsService } from './sts';
import { organizationsService } from './organizations';
import { queryParams } from './xml';

const SERVICES: Record<string, Service> = { eks: eksService, ec2: ec2Service, sns: snsService, sts: stsService, dynamodb: dynamodbService, organizations: organizationsService, events: eventBridgeService, securityhub: securityHubService, sqs: sqsService, lambda: lambdaService };
/** Far above SNS's 256 KiB, so oversize messages get SNS's own error rather than a transport one. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined;
}

function jsonError(status: number, code: string, message: string, requestId: string): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': code, 'x-amzn-requestid': requestId },
    body: JSON.stringify({ message }),
  };
}

function unsupported(service: string | undefined, requestId: string): Reply {
  const what = service ? `service ${service}` : 'this request (no SigV4 credential scope, and neither an EKS path nor a known query API version)';
  return jsonError(400, 'UnknownOperationException', `The emulator does not implement ${what}; it emulates ${Object.keys(SERVICES).join(', ')}.`, requestId);
}

/** Runs one AWS call: resolve, apply faults, decide, record in CloudTrail when audited, render. */
async function callAws(core: EmulatorCore, service: Service, ctx: CallContext): Promise<Reply> {
  const { env } = core;
  let op: Operation | undefined;
  try {
    op = service.resolve(ctx, env);
    const effect = env.faults.forCall({
      operation: op.name,
      service: ctx.service,
      account: ctx.account,
      region: ctx.region,
      ...(op.cluster ? { cluster: op.cluster } : {}),
      ...(op.topic ? { topic: op.topic } : {}),
      ...(op.tables ? { tables: op.tables } : {}),
    });
    if (effect.latencyMs > 0) await sleep(effect.latencyMs);
    if (effect.refuse) throw effect.refuse === 'throttle' ? service.throttled(op) : service.serverError();
    const payload = await op.run();
    if (op.audited) audit(core, op, ctx, { responseElements: payload ?? null });
    return service.success(op, payload, ctx);
  } catch (err) {
    // Anything that is not an AwsError is an emulator bug: answer like a 500 from AWS and stay up.
    const aws = err instanceof AwsError ? err : new AwsError('InternalFailure', `emulator bug: ${(err as Error)?.message ?? String(err)}`, 500);
    if (op?.audited) audit(core, op, ctx, { errorCode: aws.code, errorMessage: aws.message });
    return service.error(aws, ctx);
  }
}

function audit(core: EmulatorCore, op: Operation, ctx: CallContext, outcome: { responseElements: unknown } | { errorCode: string; errorMessage: string }): void {
  let requestParameters: unknown = null;
  try {
    requestParameters = op.requestParameters?.() ?? null;
  } catch {
    // A body that cannot be parsed is recorded as no parameters; the call itself is refused elsewhere.
  }
  core.env.cloudTrail.record({
    key: ctx.key,
    region: ctx.region,
    eventName: op.name,
    sourceIp: ctx.sourceIp,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    timeMs: core.clock.now(),
    requestParameters,
    outcome,
  });
}

async function handle(core: EmulatorCore, req: IncomingMessage): Promise<Reply> {
  const requestId = randomUUID();
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  const read = await readBody(req);
  const tooLarge = read === undefined;
  const body = read ?? Buffer.alloc(0);
  const path = rawUrl.split('?')[0]!;
  if (tooLarge && (path === '/_emulator' || path.startsWith('/_emulator/'))) {
    return jsonError(413, 'RequestEntityTooLargeException', `The request body exceeds ${MAX_BODY_BYTES} bytes.`, requestId);
  }
  if (path === '/_emulator' || path.startsWith('/_emulator/')) {
    const reply = handleControl(core, method, rawUrl, body);
    return { status: reply.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(reply.body) };
  }
  const query = new URLSearchParams(rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '');
  const authorization = req.headers.authorization;
  // An unsigned DynamoDB call is still routed to DynamoDB, which refuses it as AWS does.
  const dynamoTarget = DYNAMODB_TARGET.test(String(req.headers['x-amz-target'] ?? ''));
  const scope =
    credentialScope(authorization, query) ??
    (dynamoTarget ? { accessKeyId: '', region: 'us-east-1', service: 'dynamodb' } : guessScope(path, queryParams(query, body)));
  const service = scope && SERVICES[scope.service];
  if (!scope || !service) return unsupported(scope?.service, requestId);
  const key = core.env.identities.resolve(scope.accessKeyId || undefined);
  const ctx: CallContext = {
    requestId,
    service: scope.service,
    region: scope.region,
    account: key.principal.account,
    key,
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    userAgent: req.headers['user-agent'] ?? '',
    method,
    path,
    query,
    headers: req.headers,
    body,
  };
  // Refused in the service's own wire shape (JSON for EKS and DynamoDB, XML for the query protocols), so SDKs can read it.
  if (tooLarge) return service.error(new AwsError('RequestEntityTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes.`, 413), ctx);
  return callAws(core, service, ctx);
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

/** One loopback HTTP server for every emulated service and the control API. */
export function createEmulatorServer(core: EmulatorCore): Server {
  return createServer((req, res) => {
    handle(core, req)
      .then((reply) => send(res, reply))
      .catch((err: unknown) => {
        if (!res.headersSent) send(res, jsonError(500, 'InternalFailure', `emulator bug: ${(err as Error)?.message ?? String(err)}`, randomUUID()));
        else res.destroy();
      });
  });
}
