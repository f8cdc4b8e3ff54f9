import { XMLBuilder } from 'fast-xml-parser';
import { AwsError, type CallContext, type Env, type Operation, type Reply } from './protocol';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });

export function xmlReply(status: number, doc: Record<string, unknown>, requestId: string): Reply {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(doc) as string}`,
  };
}

/** A list in EC2's shape: `<xSet><item>..</item></xSet>`; an empty set is an empty element. */
export function itemSet(items: unknown[]): unknown {
  return items.length ? { item: items } : '';
}

/** A list in the awsQuery shape (SNS, STS): `<Xs><member>..</member></Xs>`. */
export function memberList(items: unknown[]): unknown {
  return items.length ? { member: items } : '';
}

/** Query-protocol parameters: the form body, plus the query string (the AWS CLI may use either). */
export function queryParams(query: URLSearchParams, body: Buffer): URLSearchParams {
  const params = new URLSearchParams(query);
  const form = body.length ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams();
  for (const [k, v] of form) params.append(k, v);
  return params;
}

/** Values of a flattened list parameter: `Prefix.1`, `Prefix.2`, ... */
export function listParam(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`)!);
  return out;
}

/** awsQuery (SNS, STS): `<XResponse><XResult>..</XResult><ResponseMetadata>..` */
export function awsQuerySuccess(action: string, namespace: string, result: unknown, requestId: string): Reply {
  return xmlReply(
    200,
    {
      [`${action}Response`]: {
        '@_xmlns': namespace,
        ...(result === undefined ? {} : { [`${action}Result`]: result }),
        ResponseMetadata: { RequestId: requestId },
      },
    },
    requestId,
  );
}

export function awsQueryError(err: AwsError, namespace: string, requestId: string): Reply {
  return xmlReply(
    err.status,
    {
      ErrorResponse: {
        '@_xmlns': namespace,
        Error: { Type: err.status >= 500 ? 'Receiver' : 'Sender', Code: err.code, Message: err.message },
        RequestId: requestId,
      },
    },
    requestId,
  );
}

export type QueryAction = (env: Env, ctx: CallContext, params: URLSearchParams) => unknown;

/** Resolves a query-protocol call by its `Action` parameter. */
export function resolveAction(ctx: CallContext, env: Env, actions: Record<string, QueryAction>, unknown: (action: string) => string): Operation {
  const params = queryParams(ctx.query, ctx.body);
  const action = params.get('Action');
  if (!action) throw new AwsError('MissingAction', 'The request must contain the parameter Action');
  const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
  if (!handler) throw new AwsError('InvalidAction', unknown(action));
  return { name: action, run: () => handler(env, ctx, params) };
}
