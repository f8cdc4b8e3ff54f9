/**
 * The AWS SDK integration tasks of the state machines (`arn:aws:states:::aws-sdk:eks:describeUpdate`),
 * carried out locally the way Step Functions carries them out: the call goes to the emulator through the
 * real AWS SDK, as the role the task's `Credentials` name (assumed with STS from the state machine's own
 * role, so the emulator's trust policies decide as IAM would), with PascalCase parameters in and a
 * PascalCase response out, and errors named `Eks.<exception>`.
 *
 * aws-local-stepfunctions runs `aws-sdk:*` tasks only through `taskResourceLocalHandlers` and ignores
 * `Credentials`: the local runner evaluates `Credentials.RoleArn.$` itself and hands the role here.
 */
import * as eks from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { Instrumentable } from '../aws/clients';
import type { Emulator } from '../emulator';
import type { SdkCall } from './runner';

/** Assumed credentials are renewed this long before they expire (by the emulator's clock, which may run hours ahead). */
const RENEW_MARGIN_MS = 5 * 60 * 1000;

const lowerFirst = (key: string) => key.charAt(0).toLowerCase() + key.slice(1);
const upperFirst = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);

/** Maps whose keys are data, not field names: Step Functions leaves them as they are. */
const DATA_MAPS = new Set(['tags', 'labels']);

/** A response as Step Functions returns it: field names in PascalCase, timestamps as ISO strings, no `$metadata`. */
export function pascalCaseResponse(value: unknown, key = ''): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => pascalCaseResponse(v));
  if (value === null || typeof value !== 'object') return value;
  if (DATA_MAPS.has(key)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== '$metadata')
      .map(([k, v]) => [upperFirst(k), pascalCaseResponse(v, k)]),
  );
}

type EksCommandClass = new (input: Record<string, unknown>) => Parameters<eks.EKSClient['send']>[0];

export type SdkIntegrationOptions = {
  emulator: Emulator;
  /** The state machine's own role session (its execution role), which assumes the `Credentials` roles. */
  stateMachineSession: string;
  /** Called with every client built, to count the calls. */
  instrument?: (client: Instrumentable) => void;
};

/** Returns the `awsSdk` hook of the local runner, and a `close` that releases its clients. */
export function createSdkIntegrations(options: SdkIntegrationOptions): { call: (call: SdkCall) => Promise<unknown>; close: () => void } {
  const { emulator } = options;
  const own = emulator.credentialsFor(options.stateMachineSession);
  const clients = new Map<string, eks.EKSClient>();
  const stsClients = new Map<string, STSClient>();
  const assumed = new Map<string, { credentials: AwsCredentialIdentity; expiresAt: number }>();

  const sts = (region: string) => {
    let client = stsClients.get(region);
    if (!client) {
      client = new STSClient({ region, endpoint: emulator.url, credentials: own, maxAttempts: 1 });
      options.instrument?.(client);
      stsClients.set(region, client);
    }
    return client;
  };

  const credentialsFor = async (roleArn: string | null, region: string): Promise<AwsCredentialIdentity> => {
    if (!roleArn) return own as AwsCredentialIdentity;
    const cached = assumed.get(roleArn);
    if (cached && cached.expiresAt - emulator.clock.now() > RENEW_MARGIN_MS) return cached.credentials;
    let out;
    try {
      out = await sts(region).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'eks-endpoint-guard-tracker' }));
    } catch (err) {
      // Step Functions fails the task when it cannot assume the task's role.
      throw Object.assign(new Error(`Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role ${roleArn}: ${(err as Error).message}`), { name: 'States.TaskFailed' });
    }
    const c = out.Credentials!;
    const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    assumed.set(roleArn, { credentials, expiresAt: c.Expiration ? new Date(c.Expiration).getTime() : emulator.clock.now() + 3600_000 });
    return credentials;
  };

  const call = async ({ service, action, parameters, roleArn, region }: SdkCall): Promise<unknown> => {
    if (service !== 'eks') throw Object.assign(new Error(`the local runner carries out aws-sdk:eks:* tasks only, not aws-sdk:${service}:${action}`), { name: 'States.Runtime' });
    const Command = (eks as unknown as Record<string, EksCommandClass | undefined>)[`${upperFirst(action)}Command`];
    if (!Command) throw Object.assign(new Error(`aws-sdk:eks:${action} is not an EKS API action`), { name: 'States.Runtime' });
    const credentials = await credentialsFor(roleArn, region);
    const key = `${roleArn ?? '(own)'}/${region}/${credentials.accessKeyId}`;
    let client = clients.get(key);
    if (!client) {
      client = new eks.EKSClient({ region, endpoint: emulator.url, credentials, maxAttempts: 1 });
      options.instrument?.(client);
      clients.set(key, client);
    }
    const input = Object.fromEntries(Object.entries(parameters ?? {}).map(([k, v]) => [lowerFirst(k), v]));
    try {
      return pascalCaseResponse(await client.send(new Command(input)));
    } catch (err) {
      const name = (err as Error).name;
      // The SDK integration names a service's exceptions `<Service>.<Exception>`, and its own failures SdkClientException.
      throw Object.assign(new Error((err as Error).message), { name: name.startsWith('States.') ? name : `Eks.${name === 'Error' || name === 'TypeError' ? 'SdkClientException' : name}` });
    }
  };

  return {
    call,
    close: () => {
      for (const c of clients.values()) c.destroy();
      for (const c of stsClients.values()) c.destroy();
    },
  };
}
