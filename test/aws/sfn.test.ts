import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createClientFactory } from '../../src/aws/clients';
import { createExecutionPort, executionWiring } from '../../src/aws/sfn';
import { loadConfig } from '../../src/config';
import { AwsRequestRejectedError, InputError, TransientAwsError } from '../../src/errors';
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
  executionName: '6f1c1b4e-0000-4000-8000-000000000001',
  startedAt: 1_767_225_600_000,
};

const port = () => createExecutionPort(new SFNClient({ region: REGION, endpoint: url, maxAttempts: 1 }), STATE_MACHINE);

describe('executionWiring', () => {
  it('starts executions of STATE_MACHINE_ARN through the home account client', async () => {
    const clients = createClientFactory({ endpoint: url, maxAttempts: 1 });
    const executions = executionWiring({ clients, config: loadConfig({ STATE_MACHINE_ARN: STATE_MACHINE, AWS_REGION: REGION }), now: Date.now });

    await expect(executions.start(input.executionName, input)).resolves.toBe(true);

    expect(started.map((s) => s.body.stateMachineArn)).toEqual([STATE_MACHINE]);
  });

  it('refuses to build without STATE_MACHINE_ARN, naming the setting', () => {
    const clients = createClientFactory({ endpoint: url, maxAttempts: 1 });

    expect(() => executionWiring({ clients, config: loadConfig({}), now: Date.now })).toThrow(InputError);
    expect(() => executionWiring({ clients, config: loadConfig({}), now: Date.now })).toThrow(/STATE_MACHINE_ARN/);
  });
});

describe('start', () => {
  it('starts a named execution with the input as JSON', async () => {
    await expect(port().start(input.executionName, input)).resolves.toBe(true);

    expect(started).toEqual([
      { target: 'AWSStepFunctions.StartExecution', body: { stateMachineArn: STATE_MACHINE, name: input.executionName, input: JSON.stringify(input) } },
    ]);
    expect(JSON.parse(started[0]!.body.input)).toMatchObject({ executionName: input.executionName });
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
