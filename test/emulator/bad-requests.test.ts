import { CreateClusterCommand, DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { DescribeVpcAttributeCommand, type VpcAttributeName } from '@aws-sdk/client-ec2';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Emulator } from '../../src/emulator';
import { ALICE, PROD, ec2Client, eksClient, rejectionOf, snsClient, useDemoEmulator } from './helpers';

let emulator: Emulator;
let eks: EKSClient;

useDemoEmulator((e) => (emulator = e));
beforeAll(() => {
  eks = eksClient(emulator);
});
afterAll(() => {
  eks.destroy();
});

/** A SigV4-shaped header: the emulator routes by its scope and does not check the signature. */
const auth = (service: string, region = 'us-east-1') =>
  `AWS4-HMAC-SHA256 Credential=${ALICE.accessKeyId}/20260101/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`;

async function raw(path: string, init: { method?: string; service?: string; body?: string | Buffer; contentType?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${emulator.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.service ? { authorization: auth(init.service) } : {}),
      ...(init.contentType ? { 'content-type': init.contentType } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), text: await res.text() };
}

const form = (params: Record<string, string>) => ({ body: new URLSearchParams(params).toString(), contentType: 'application/x-www-form-urlencoded', method: 'POST' });

async function stillServing(): Promise<void> {
  const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod-api' }));
  expect(cluster?.name).toBe('prod-api');
}

describe('bad requests get AWS-shaped errors and the server stays up', () => {
  it.each([
    ['malformed JSON', '/clusters/prod-api/update-config', 'POST', '{"resourcesVpcConfig": {', 400, 'InvalidRequestException', 'The request body is not valid JSON.'],
    ['a JSON array body', '/clusters/prod-api/update-config', 'POST', '[1,2]', 400, 'InvalidRequestException', 'The request body must be a JSON object.'],
    ['a wrongly typed field', '/clusters/prod-api/update-config', 'POST', '{"resourcesVpcConfig":{"endpointPublicAccess":"yes"}}', 400, 'InvalidParameterException', 'resourcesVpcConfig.endpointPublicAccess: Invalid input: expected boolean'],
    ['an unknown path', '/nodegroups', 'GET', undefined, 404, 'UnknownOperationException', 'The emulator does not implement EKS operation GET /nodegroups.'],
    ['an unimplemented operation', '/clusters/prod-api', 'PUT', undefined, 404, 'UnknownOperationException', 'PUT /clusters/prod-api'],
    ['bad percent-encoding', '/clusters/%E0%A4%A', 'GET', undefined, 400, 'InvalidRequestException', 'The request path is not valid percent-encoding.'],
  ])('EKS: %s', async (_what, path, method, body, status, errorType, message) => {
    const res = await raw(path, { method, service: 'eks', ...(body !== undefined ? { body, contentType: 'application/json' } : {}) });
    expect(res.status).toBe(status);
    expect(res.errorType).toBe(errorType);
    expect(JSON.parse(res.text).message).toContain(message);
    await stillServing();
  });

  it('records a malformed mutating call in CloudTrail with just the cluster name', async () => {
    await raw('/clusters/prod-api/update-config', { method: 'POST', service: 'eks', body: '{oops', contentType: 'application/json' });
    expect(emulator.cloudTrailEvents().map((e) => [e.detail.errorCode, e.detail.requestParameters])).toEqual([['InvalidRequestException', { name: 'prod-api' }]]);
  });

  it.each([
    ['ec2', { Action: 'RunInstances', Version: '2016-11-15' }, /<Response><Errors><Error><Code>InvalidAction<\/Code><Message>The action RunInstances is not valid for this web service.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]+<\/RequestID><\/Response>/],
    ['sns', { Action: 'DeleteTopic', Version: '2010-03-31' }, /<ErrorResponse xmlns="http:\/\/sns.amazonaws.com\/doc\/2010-03-31\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/],
    ['sts', { Action: 'GetSessionToken', Version: '2011-06-15' }, /<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>Could not find operation GetSessionToken/],
    ['sns', { Version: '2010-03-31' }, /<Code>MissingAction<\/Code>/],
  ])('%s: an unknown or missing Action %p', async (service, params, shape) => {
    const res = await raw('/', { service, ...form(params) });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(shape);
    await stillServing();
  });

  it('missing required parameters are refused in each protocol', async () => {
    const create = await rejectionOf(eks.send(new CreateClusterCommand({ name: 'x' } as never)));
    expect(create).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('roleArn') });
    const ec2 = ec2Client(emulator);
    const attr = await rejectionOf(ec2.send(new DescribeVpcAttributeCommand({ VpcId: 'vpc-0a1b2c3d4e5f60001' } as { VpcId: string; Attribute: VpcAttributeName })));
    expect(attr).toMatchObject({ name: 'MissingParameter', message: 'The request must contain the parameter Attribute' });
    const sns = snsClient(emulator);
    const publish = await rejectionOf(sns.send(new PublishCommand({ Message: 'm' })));
    expect(publish).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('TopicArn or TargetArn') });
    ec2.destroy();
    sns.destroy();
    await stillServing();
  });

  it('answers an unsupported service with an AWS-shaped error', async () => {
    const res = await raw('/my-bucket', { service: 's3' });
    expect(res.status).toBe(400);
    expect(res.errorType).toBe('UnknownOperationException');
    expect(JSON.parse(res.text).message).toContain('does not implement service s3');
    await stillServing();
  });

  it('routes an unsigned request by its path or API version, as the default account', async () => {
    const list = await raw('/clusters');
    expect(list.status).toBe(200);
    expect(JSON.parse(list.text)).toEqual({ clusters: ['prod-api', 'prod-payments'] });
    const who = await raw('/', form({ Action: 'GetCallerIdentity', Version: '2011-06-15' }));
    expect(who.text).toContain(`<Arn>arn:aws:iam::${PROD}:user/local-user</Arn>`);
    const unknown = await raw('/favicon.ico');
    expect(unknown.status).toBe(400);
  });

  it('routes a presigned URL by its X-Amz-Credential scope', async () => {
    const credential = encodeURIComponent(`${ALICE.accessKeyId}/20260101/eu-west-1/eks/aws4_request`);
    const res = await raw(`/clusters?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${credential}&X-Amz-Signature=00`);
    expect(JSON.parse(res.text)).toEqual({ clusters: ['legacy-billing'] });
  });

  it('refuses an oversize body with 413 instead of buffering it', async () => {
    const res = await raw('/clusters', { method: 'POST', service: 'eks', body: Buffer.alloc(5 * 1024 * 1024, 0x20), contentType: 'application/json' });
    expect(res.status).toBe(413);
    await stillServing();
  });
});
