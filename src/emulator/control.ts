import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { InputError } from '../errors';
import type { EmulatorCore } from './core';
import { faultSchema } from './faults';

export type ControlReply = { status: number; body: unknown };

const advanceSchema = z.strictObject({ seconds: z.number().nonnegative() });
const platformSchema = z.strictObject({ account: z.string(), region: z.string(), cluster: z.string(), seconds: z.number().nonnegative().optional() });
const principalSchema = z.strictObject({ arn: z.string(), sourceIp: z.string().optional(), userAgent: z.string().optional() });
const roleRefSchema = z.strictObject({ account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'), name: z.string().min(1) });

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** Bodies are JSON; YAML is accepted too (a superset), so a state file can be posted as it is. */
function document(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return parseYaml(body.toString('utf8'));
  } catch (err) {
    throw new ControlError(400, 'MalformedBody', `the request body is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

function input<T extends z.ZodType>(schema: T, body: Buffer): z.output<T> {
  const parsed = schema.safeParse(document(body) ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new ControlError(400, 'InvalidInput', problems.join('; '), problems);
}

/** The JSON control API under /_emulator/: everything the in-process API offers, for other processes. */
export function handleControl(core: EmulatorCore, method: string, path: string, body: Buffer): ControlReply {
  const route = `${method} ${path.split('?')[0]!.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /_emulator/health':
        return { status: 200, body: { status: 'ok', now: new Date(core.clock.now()).toISOString() } };
      case 'GET /_emulator/state':
        return { status: 200, body: core.snapshot() };
      case 'POST /_emulator/state':
        core.loadState((document(body) ?? {}) as never);
        return { status: 200, body: core.snapshot() };
      case 'POST /_emulator/reset':
        core.reset();
        return { status: 200, body: core.snapshot() };
      case 'GET /_emulator/sns/messages':
        return { status: 200, body: { messages: core.publishedMessages() } };
      case 'GET /_emulator/dynamodb':
        return { status: 200, body: { tables: core.env.dynamo.snapshot() } };
      case 'GET /_emulator/cloudtrail/events':
        return { status: 200, body: { events: core.cloudTrailEvents() } };
      case 'GET /_emulator/eventbridge':
        return { status: 200, body: core.env.eventBridge.snapshot() };
      case 'POST /_emulator/faults': {
        // Parsed by shape rather than as a union, so a bad field is named instead of "Invalid input".
        const given = Array.isArray(document(body)) ? input(z.array(faultSchema), body) : input(faultSchema, body);
        for (const f of Array.isArray(given) ? given : [given]) core.setFault(f);
        return { status: 200, body: { faults: core.snapshot().faults } };
      }
      case 'GET /_emulator/iam/roles':
        return { status: 200, body: core.snapshot().iam };
      case 'POST /_emulator/iam/roles': {
        const given = document(body) ?? {};
        try {
          const roles = (Array.isArray(given) ? given : [given]).map((role) => core.putRole(role as never));
          return { status: 200, body: { roles } };
        } catch (err) {
          if (err instanceof InputError) throw new ControlError(400, 'InvalidInput', err.message, err.problems);
          throw err;
        }
      }
      case 'DELETE /_emulator/iam/roles': {
        const { account, name } = input(roleRefSchema, body);
        return { status: 200, body: { deleted: core.deleteRole(account, name) } };
      }
      case 'DELETE /_emulator/faults':
        core.clearFaults();
        return { status: 200, body: { faults: [] } };
      case 'POST /_emulator/clock/advance': {
        const { seconds } = input(advanceSchema, body);
        core.clock.advance(seconds * 1000);
        return { status: 200, body: { now: new Date(core.clock.now()).toISOString() } };
      }
      case 'POST /_emulator/platform-update':
        return { status: 200, body: { update: core.startPlatformUpdate(input(platformSchema, body)) } };
      case 'POST /_emulator/principals': {
        const { arn, ...opts } = input(principalSchema, body);
        return { status: 200, body: { credentials: core.credentialsFor(arn, opts) } };
      }
      default:
        throw new ControlError(404, 'NotFound', `no control endpoint ${route}`);
    }
  } catch (err) {
    if (err instanceof ControlError) return { status: err.status, body: { error: err.code, message: err.message, problems: err.problems } };
    if (err instanceof InputError) return { status: 400, body: { error: 'InvalidState', message: err.message, problems: err.problems } };
    if (err instanceof RangeError) return { status: 400, body: { error: 'InvalidInput', message: err.message, problems: [err.message] } };
    throw err;
  }
}
