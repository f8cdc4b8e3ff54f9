import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { manualClock, parseEmulatorState, startEmulator } from '../src/emulator/index.ts';
import { startLocalGuard } from '../src/local/local-guard.ts';
import { DEAD_LETTER_QUEUE_NAME } from '../src/local/deployment.ts';
import { parsePolicy } from '../src/policy/load.ts';

const HOME = '111122223333', REGION = 'us-east-1';
const state = parseEmulatorState(parse(readFileSync('demo/state.yaml', 'utf8')), 'demo/state.yaml');
const clock = manualClock(Date.UTC(2026, 4, 1));
export const emulator = await startEmulator({ state, clock });
export const guard = await startLocalGuard({ emulator, policy: parsePolicy(readFileSync('policy.yaml', 'utf8'), 'policy.yaml'), homeAccount: HOME, homeRegion: REGION, waitMs: 0 });
export const dlq = `arn:aws:sqs:${REGION}:${HOME}:${DEAD_LETTER_QUEUE_NAME}`;
export const env = { ...process.env, AWS_ENDPOINT_URL: emulator.url, AWS_ACCESS_KEY_ID: HOME, AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: REGION };

export function redrive(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const e = { ...env, ...extraEnv } as Record<string, string>;
    for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete e[k];
    execFile('node', ['dist/cli.mjs', 'redrive', '--stage', 'local', ...args], { env: e, maxBuffer: 1 << 26 }, (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out, err }));
  });
}

/** A real failure record: the intake fails while DynamoDB is down. Returns the EventBridge envelope. */
export async function realFailure(cluster = 'prod-api'): Promise<Record<string, any>> {
  const eks = new EKSClient({ region: REGION, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:sts::${HOME}:assumed-role/PlatformAdmin/alice`), maxAttempts: 1 });
  emulator.setFault({ kind: 'server-error', service: 'dynamodb' } as any);
  await eks.send(new UpdateClusterConfigCommand({ name: cluster, resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }));
  await guard.processPending();
  emulator.clearFaults();
  eks.destroy();
  const msgs = emulator.queueMessages(dlq);
  const last = JSON.parse(msgs[msgs.length - 1]!.body);
  return last.requestPayload;
}
export const withId = (ev: Record<string, any>, id: string) => ({ ...ev, id: `eb-${id}`, detail: { ...ev.detail, eventID: id } });
export const dump = (label: string, r: { code: number; out: string; err: string }) => console.log(`--- ${label}: exit ${r.code}\n${r.out}${r.err ? `STDERR: ${r.err}` : ''}`);
export const q = () => emulator.queueMessages(dlq).map((m) => ({ id: m.messageId.slice(0, 8), state: m.state, rc: m.receiveCount }));
export const invokedIds = () => guard.invoked().map((r: any) => r.triage?.eventId ?? r.error);
export async function done() { guard.close(); await emulator.close(); }
