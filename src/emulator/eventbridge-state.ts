import * as z from 'zod';
import { validateEventPattern } from './event-pattern';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name such as us-east-1');
/** EventBridge's own rule for bus and rule names. */
const busName = z.string().regex(/^[\w.-]{1,256}$/, 'must be an event bus name (letters, digits, . - and _, at most 256)');
const ruleName = z.string().regex(/^[\w.-]{1,64}$/, 'must be a rule name (letters, digits, . - and _, at most 64)');

/** A JSON document given inline (YAML-friendly) or as the JSON text EventBridge stores. */
function jsonDocument(what: string) {
  return z.union([z.string(), z.record(z.string(), z.unknown())]).transform((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: `must be a ${what} as a JSON object (or its JSON text)` });
    return z.NEVER;
  });
}

/** Why a bus resource policy is not one EventBridge would store, or undefined when it is. */
export function policyProblem(policy: unknown): string | undefined {
  if (!policy || typeof policy !== 'object' || Array.isArray(policy)) return 'the policy must be a JSON object';
  const raw = (policy as Record<string, unknown>).Statement;
  const statements = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (statements.length === 0) return 'the policy has no Statement';
  for (const s of statements as Record<string, unknown>[]) {
    if (!s || typeof s !== 'object') return 'each Statement must be an object';
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return `Effect must be Allow or Deny, not ${JSON.stringify(s.Effect)}`;
    if (s.Principal === undefined) return 'each Statement needs a Principal';
    if (s.Action === undefined) return 'each Statement needs an Action';
  }
  return undefined;
}

const pattern = jsonDocument('event pattern').superRefine((doc, ctx) => {
  for (const problem of validateEventPattern(doc)) ctx.addIssue({ code: 'custom', message: `invalid event pattern: ${problem}` });
});

const targetSchema = z.strictObject({
  id: z.string().regex(/^[\w.-]{1,64}$/, 'must be a target id (letters, digits, . - and _, at most 64)'),
  /** An event bus ARN (any account or region), or a Lambda / Step Functions ARN served by an in-process listener. */
  arn: z.string().regex(/^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/, 'must be an ARN such as arn:aws:events:us-east-1:111122223333:event-bus/central'),
  /** Required for an event bus in another account or region: a role of the rule's account EventBridge assumes. */
  roleArn: z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be a role ARN such as arn:aws:iam::111122223333:role/forwarder').optional(),
  /** Where an event goes when delivery fails (after the retries): an SQS queue, as PutTargets' DeadLetterConfig. */
  deadLetterConfig: z.strictObject({ arn: z.string().regex(/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}$/, 'must be an SQS queue ARN such as arn:aws:sqs:us-east-1:111122223333:guard-dlq') }).optional(),
  /** PutTargets' RetryPolicy; the emulator retries a failing in-process listener this many times, back to back. */
  retryPolicy: z
    .strictObject({
      maximumRetryAttempts: z.number().int().min(0).max(185).optional(),
      maximumEventAgeInSeconds: z.number().int().min(60).max(86_400).optional(),
    })
    .optional(),
});

export const eventBridgeBusSchema = z.strictObject({
  name: busName,
  account: accountId,
  region,
  /** The bus's resource policy (what PutPermission writes). `default` may be named to give the default bus one. */
  policy: jsonDocument('resource policy')
    .superRefine((doc, ctx) => {
      const problem = policyProblem(doc);
      if (problem) ctx.addIssue({ code: 'custom', message: `invalid resource policy: ${problem}` });
    })
    .optional(),
});

export const eventBridgeRuleSchema = z.strictObject({
  name: ruleName,
  account: accountId,
  region,
  bus: busName.default('default'),
  pattern,
  state: z.enum(['ENABLED', 'DISABLED']).default('ENABLED'),
  targets: z.array(targetSchema).max(5, 'a rule has at most 5 targets').default([]),
});

/** The `eventBridge:` section of the emulator's state file. Every account and region has a `default` bus. */
export const eventBridgeStateSchema = z.strictObject({
  buses: z.array(eventBridgeBusSchema).default([]),
  rules: z.array(eventBridgeRuleSchema).default([]),
});

export type EventBridgeState = z.input<typeof eventBridgeStateSchema>;
export type ResolvedEventBridgeState = z.output<typeof eventBridgeStateSchema>;
export type StateBus = z.output<typeof eventBridgeBusSchema>;
export type StateRule = z.output<typeof eventBridgeRuleSchema>;

/**
 * Problems spanning entries: buses declared twice, rules on buses that are not declared, duplicate rule
 * names on a bus or target ids in a rule, and accounts missing from `accounts` (checked by `declared`).
 */
export function eventBridgeReferenceProblems(state: ResolvedEventBridgeState, declared: (account: string, at: string) => void, at = 'eventBridge'): string[] {
  const problems: string[] = [];
  const buses = new Set<string>();
  state.buses.forEach((bus, i) => {
    declared(bus.account, `${at}.buses[${i}].account`);
    const scoped = `${bus.account}/${bus.region}/${bus.name}`;
    if (buses.has(scoped)) problems.push(`${at}.buses[${i}].name: event bus ${bus.name} is declared twice in ${bus.account} ${bus.region}`);
    buses.add(scoped);
  });
  const rules = new Set<string>();
  state.rules.forEach((rule, i) => {
    const where = `${at}.rules[${i}]`;
    declared(rule.account, `${where}.account`);
    if (rule.bus !== 'default' && !buses.has(`${rule.account}/${rule.region}/${rule.bus}`)) {
      problems.push(`${where}.bus: event bus ${rule.bus} is not declared in ${at}.buses for ${rule.account} ${rule.region}`);
    }
    const scoped = `${rule.account}/${rule.region}/${rule.bus}/${rule.name}`;
    if (rules.has(scoped)) problems.push(`${where}.name: rule ${rule.name} is declared twice on bus ${rule.bus} in ${rule.account} ${rule.region}`);
    rules.add(scoped);
    const ids = new Set<string>();
    rule.targets.forEach((target, t) => {
      if (ids.has(target.id)) problems.push(`${where}.targets[${t}].id: target id ${target.id} is used twice`);
      ids.add(target.id);
      const bus = /^arn:aws:events:([a-z0-9-]+):(\d{12}):event-bus\//.exec(target.arn);
      if (bus && (bus[1] !== rule.region || bus[2] !== rule.account) && !target.roleArn) {
        problems.push(`${where}.targets[${t}].roleArn: required for ${target.arn}, an event bus in another account or region`);
      }
      if (target.roleArn && target.roleArn.split(':')[4] !== rule.account) {
        problems.push(`${where}.targets[${t}].roleArn: ${target.roleArn} is not a role of the rule's account ${rule.account}`);
      }
    });
  });
  return problems;
}
