import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createExecutionPort } from '../../src/aws/sfn';
import { AwsRequestRejectedError, TransientAwsError } from '../../src/errors';
import type { ExecutionInput } from '../../src/workflow/types';
import { PROD, REGION, rejectionOf } from './helpers';

// The emulator has no Step Functions (the local runner executes the definition itself), so a tiny
// loopback stand-in speaks StartExecution's JSON 1.0 protocol: names are unique, like the real service.
type Started = { target: string; body: { stateMachineArn: string; name: string; input: string } };

const STATE_MACHINE = `arn:aws:states:${REGION}:${PROD}:stateMachine:eks-endpoint-guard-test-enforce-endpoint`;
let server: Server;
let url: string;
let started: Started[];
let refuseNext: { status: number; type: string } | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Started['body'];
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(payload));
      };
      if (refuseNext) {
        const { status, type } = refuseNext;
        refuseNext = undefined;
        return reply(status, { __type: type, message: `${type} (stand-in)` });
      }
      if (started.some((s) => s.body.name === body.name)) {
        return reply(400, { __type: 'ExecutionAlreadyExists', message: `Execution Already Exists: '${STATE_MACHINE}:${body.name}'` });
      }
      started.push({ target: String(req.headers['x-amz-target']), body });
      return reply(200, { executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${body.name}`, startDate: Date.now() / 1000 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});
beforeEach(() => {
  started = [];
  refuseNext = undefined;
});

const input: ExecutionInput = {
  cluster: { name: 'prod-api', account: PROD, region: REGION },
  trigger: {
    kind: 'event',
    eventId: '6f1c1b4e-0000-4000-8000-000000000001',
    eventName: 'UpdateClusterConfig',
    eventTime: '2026-01-01T00:00:00Z',
    updateId: 'u-1',
    requested: { endpointPublicAccess: true },
    actor: null,
    waitFor: 'update',
  },
  startedAt: 1_767_225_600_000,
};

const port = () => createExecutionPort(new SFNClient({ region: REGION, endpoint: url, maxAttempts: 1 }), STATE_MACHINE);

describe('start', () => {
  it('starts a named execution with the input as JSON', async () => {
    await expect(port().start(input.trigger.eventId, input)).resolves.toBe(true);

    expect(started).toEqual([
      { target: 'AWSStepFunctions.StartExecution', body: { stateMachineArn: STATE_MACHINE, name: input.trigger.eventId, input: JSON.stringify(input) } },
    ]);
  });

  it('reports a name already used (a redelivered event) as not started, without an error', async () => {
    const executions = port();
    await executions.start('evt-1', input);

    await expect(executions.start('evt-1', { ...input, startedAt: input.startedAt + 5000 })).resolves.toBe(false);
    expect(started).toHaveLength(1);
  });

  it('maps throttling to TransientAwsError', async () => {
    refuseNext = { status: 400, type: 'ThrottlingException' };

    const err = await rejectionOf(port().start('evt-2', input));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toContain('StartExecution');
  });

  it('maps a missing state machine to AwsRequestRejectedError naming it', async () => {
    refuseNext = { status: 400, type: 'StateMachineDoesNotExist' };

    const err = await rejectionOf(port().start('evt-3', input));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect((err as unknown as AwsRequestRejectedError).awsErrorName).toBe('StateMachineDoesNotExist');
    expect(err.message).toContain(STATE_MACHINE);
  });
});
