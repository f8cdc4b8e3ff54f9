import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { manualClock, parseEmulatorState, startEmulator, type Credentials, type Emulator, type EmulatorOptions } from '../../src/emulator';

export const PROD = '111122223333';
export const SANDBOX = '444455556666';
export const ALICE: Credentials = { accessKeyId: 'AKIAPRODALICE0000001', secretAccessKey: 'local' };
export const GUARD: Credentials = { accessKeyId: 'ASIAPRODGUARD0000001', secretAccessKey: 'local' };
export const BOB: Credentials = { accessKeyId: 'AKIASANDBOXBOB000001', secretAccessKey: 'local' };

export const DEMO_STATE_PATH = fileURLToPath(new URL('../fixtures/emulator/demo-state.yaml', import.meta.url));

export function demoState() {
  return parseEmulatorState(parseYaml(readFileSync(DEMO_STATE_PATH, 'utf8')), DEMO_STATE_PATH);
}

/** The demo world on virtual time: nothing finishes until a test advances the clock. */
export function startDemo(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ clock: manualClock(), state: demoState(), ...options });
}

/**
 * One demo emulator per test file: started before the file's own hooks, closed after, and put back to the
 * demo state (which also clears faults and CloudTrail) before each test. `onStart` receives it.
 */
export function useDemoEmulator(onStart: (emulator: Emulator) => void, options: EmulatorOptions = {}): void {
  let emulator: Emulator | undefined;
  beforeAll(async () => {
    emulator = await startDemo(options);
    onStart(emulator);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(() => emulator!.loadState(demoState()));
}

type ClientOptions = { credentials?: Credentials; region?: string; maxAttempts?: number };

function config(emulator: Emulator, o: ClientOptions) {
  // One attempt by default: an error under test must reach the assertion, not be retried away.
  return { endpoint: emulator.url, region: o.region ?? 'us-east-1', credentials: o.credentials ?? ALICE, maxAttempts: o.maxAttempts ?? 1 };
}

export const eksClient = (e: Emulator, o: ClientOptions = {}) => new EKSClient(config(e, o));
export const ec2Client = (e: Emulator, o: ClientOptions = {}) => new EC2Client(config(e, o));
export const snsClient = (e: Emulator, o: ClientOptions = {}) => new SNSClient(config(e, o));
export const stsClient = (e: Emulator, o: ClientOptions = {}) => new STSClient(config(e, o));
export const dynamoClient = (e: Emulator, o: ClientOptions = {}) => new DynamoDBClient(config(e, o));
/** The document client the product uses; destroying it destroys its DynamoDBClient too. */
export const documentClient = (e: Emulator, o: ClientOptions = {}) => DynamoDBDocumentClient.from(dynamoClient(e, o));

export type AwsFailure = Error & { $metadata?: { httpStatusCode?: number }; [k: string]: unknown };

/** Captures the rejection of a call, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<AwsFailure> {
  try {
    await promise;
  } catch (err) {
    return err as AwsFailure;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function clusterIn(emulator: Emulator, account: string, region: string, name: string) {
  const found = emulator.snapshot().clusters.find((c) => c.account === account && c.region === region && c.name === name);
  if (!found) throw new Error(`no cluster ${name} in ${account} ${region}`);
  return found;
}

/**
 * The environment the real AWS CLI runs in against the emulator: none of the machine's AWS settings or
 * files, a 12-digit access key id (a user of that account in the emulator), the CLI's own retries on (as
 * users run it: a refusal still fails every attempt, a loaded machine's transport hiccup does not).
 */
export function awsCliEnv(account: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  return { ...env, AWS_ACCESS_KEY_ID: account, AWS_SECRET_ACCESS_KEY: 'local', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_MAX_ATTEMPTS: '3', AWS_PAGER: '', ...extra };
}
