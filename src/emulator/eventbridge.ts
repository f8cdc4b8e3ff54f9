import { randomUUID } from 'node:crypto';
import type { Clock } from './clock';
import { cloudTrailTime } from './cloudtrail';
import { matchesEventPattern, validateEventPattern } from './event-pattern';
import { policyProblem, type ResolvedEventBridgeState, type StateBus, type StateRule } from './eventbridge-state';
import type { Principal } from './identity';
import { AwsError, type CallContext, type Env, type Service } from './protocol';
import { parseQueueArn } from './sqs-queues';
import type { MessageAttribute } from './world';

/** The X-Amz-Target of an EventBridge call (the JSON 1.1 protocol): `AWSEvents.<Operation>`. */
export const EVENTS_TARGET = /^AWSEvents\.(\w+)$/;

/** The event envelope EventBridge delivers to targets. */
export type EventBridgeEvent = {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
};

/** What a Lambda or Step Functions target stands for locally: the local deployment's handler. */
export type TargetListener = (event: EventBridgeEvent) => Promise<void> | void;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One attempt to hand a matched event to one target; failures carry the reason AWS would count them for. */
export type EventDelivery = {
  eventId: string;
  source: string;
  detailType: string;
  /** The rule that matched, and the bus it is on. */
  rule: string;
  bus: string;
  targetId: string;
  targetArn: string;
  status: DeliveryStatus;
  reason?: string;
  time: string;
  /** Present when the target has a RetryPolicy: the retries made after the first attempt failed. */
  retries?: number;
  /** Present when a failed delivery's target has a dead-letter queue: whether the event reached it. */
  deadLetter?: { queueArn: string; status: 'sent' | 'failed'; messageId?: string; reason?: string };
};

/** The DLQ counters appear once a target of the rule has a DeadLetterConfig, as AWS emits those metrics only then. */
export type RuleMetrics = { matchedEvents: number; invocations: number; failedInvocations: number; invocationsSentToDlq?: number; invocationsFailedToBeSentToDlq?: number };

export type EventBridgeSnapshot = {
  buses: { name: string; account: string; region: string; arn: string; policy?: Record<string, unknown> }[];
  rules: {
    name: string;
    account: string;
    region: string;
    bus: string;
    arn: string;
    pattern: Record<string, unknown>;
    state: 'ENABLED' | 'DISABLED';
    targets: { id: string; arn: string; roleArn?: string; deadLetterConfig?: { arn: string }; retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number } }[];
    metrics: RuleMetrics;
  }[];
  /** Every delivery since the state was loaded, in order. */
  deliveries: EventDelivery[];
};

type Doc = Record<string, any>;

/** RetryPolicy and DeadLetterConfig in their wire shape, as ListTargetsByRule returns them. */
type RetryPolicy = { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
type Target = { id: string; arn: string; roleArn?: string; retryPolicy?: RetryPolicy; deadLetterConfig?: { Arn: string } };

type Bus = { name: string; account: string; region: string; arn: string; policy?: Record<string, unknown>; description?: string; createdMs: number; modifiedMs: number };

type Rule = {
  name: string;
  account: string;
  region: string;
  bus: string;
  arn: string;
  pattern: Record<string, unknown>;
  patternText: string;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  targets: Map<string, Target>;
  metrics: RuleMetrics;
};

/** Who sends to a bus: a caller of PutEvents, or a rule's account through its target role. */
type Sender = { account: string; arn: string };

/** What EventBridge needs from the rest of the emulator, read when needed (the environment is built around it). */
export type EventBridgeDeps = {
  organizationIdOf(account: string): string | null;
  /** Undefined when the role model does not know the account (any role is then accepted). */
  roleExists(roleArn: string): boolean | undefined;
  /** Sends a message to an SQS queue (a target's dead-letter queue); a failure says why. */
  sendToQueue(queueArn: string, message: { body: string; attributes: Record<string, MessageAttribute> }): { messageId: string } | { failure: string };
  /** Invokes a registered Lambda function asynchronously; false when there is none with this ARN. */
  invokeFunction(functionArn: string, event: EventBridgeEvent): boolean;
};

/** PutEvents accepts at most this many bytes of entries (Time 14 bytes, then Source, DetailType, Detail, Resources). */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;
const MAX_ENTRIES = 10;
const MAX_TARGETS = 5;
/** EventBridge refuses resource policies above 10 KB. */
const MAX_POLICY_BYTES = 10 * 1024;
const MAX_PATTERN_CHARS = 4096;
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const BUS_ARN = /^arn:aws:events:([a-z0-9-]+):(\d{12}):event-bus\/([/.\-_A-Za-z0-9]+)$/;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

const key = (...parts: string[]) => parts.join('/');

function parseBusArn(arn: string): { region: string; account: string; name: string } | undefined {
  const m = BUS_ARN.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : undefined;
}
const epochSeconds = (ms: number) => Math.floor(ms / 1000);
const bytes = (s: unknown) => (typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0);

function validation(message: string): AwsError {
  return new AwsError('ValidationException', message);
}

function patternError(reason: string): AwsError {
  return new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);
}

function requireString(doc: Doc, field: string, what = field): string {
  const value = doc[field];
  if (typeof value !== 'string' || value === '') throw validation(`1 validation error detected: Value null at '${what}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function parsePattern(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') throw validation(`1 validation error detected: Value null at 'eventPattern' failed to satisfy constraint: Member must not be null`);
  if (text.length > MAX_PATTERN_CHARS) throw validation(`1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PATTERN_CHARS}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw patternError(`Filter is not valid JSON: ${(err as Error).message}`);
  }
  const problems = validateEventPattern(doc);
  if (problems.length) throw patternError(problems.join('; '));
  return doc as Record<string, unknown>;
}

// --- resource policies -------------------------------------------------------------------------------

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const glob = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(value);

function principalMatches(principal: unknown, sender: Sender): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  return list((principal as Doc).AWS).some((p) => {
    if (p === '*') return true;
    if (typeof p !== 'string') return false;
    // An account id or its root ARN stands for every principal of the account.
    if (p === sender.account || p === `arn:aws:iam::${sender.account}:root`) return true;
    return p === sender.arn;
  });
}

/** The condition keys a bus policy can test here; anything else makes the statement not apply. */
function conditionHolds(condition: unknown, sender: Sender, orgOf: (account: string) => string | null): boolean {
  if (condition === undefined) return true;
  if (!condition || typeof condition !== 'object') return false;
  const context: Record<string, string | null> = {
    'aws:principalorgid': orgOf(sender.account),
    'aws:principalaccount': sender.account,
    'aws:principalarn': sender.arn,
    'aws:sourceaccount': sender.account,
  };
  return Object.entries(condition as Doc).every(([operator, tests]) => {
    if (!tests || typeof tests !== 'object') return false;
    return Object.entries(tests as Doc).every(([name, expected]) => {
      const actual = context[name.toLowerCase()];
      if (actual === undefined || actual === null) return false;
      const values = list(expected).filter((v): v is string => typeof v === 'string');
      switch (operator) {
        case 'StringEquals':
          return values.includes(actual);
        case 'StringLike':
          return values.some((v) => glob(v, actual));
        case 'StringNotEquals':
          return !values.includes(actual);
        default:
          return false;
      }
    });
  });
}

/** IAM's rule for one resource policy: an explicit Deny wins, else an Allow that applies admits. */
export function policyAllowsPutEvents(policy: Record<string, unknown> | undefined, busArn: string, sender: Sender, orgOf: (account: string) => string | null): boolean {
  if (!policy) return false;
  let allowed = false;
  for (const statement of list(policy.Statement) as Doc[]) {
    if (!statement || typeof statement !== 'object') continue;
    const actionApplies = list(statement.Action).some((a) => typeof a === 'string' && glob(a.toLowerCase(), 'events:putevents'));
    const resourceApplies = statement.Resource === undefined || list(statement.Resource).some((r) => typeof r === 'string' && glob(r, busArn));
    if (!actionApplies || !resourceApplies || !principalMatches(statement.Principal, sender) || !conditionHolds(statement.Condition, sender, orgOf)) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function senderOf(principal: Principal): Sender {
  // aws:PrincipalArn of a role session is the role's ARN.
  return { account: principal.account, arn: principal.type === 'AssumedRole' ? principal.role.arn : principal.arn };
}

// --- the model ---------------------------------------------------------------------------------------

/**
 * EventBridge buses, rules and targets of every account and region. Routing is synchronous and
 * deterministic: when PutEvents (or CloudTrail) hands an event to a bus, every matching rule's targets are
 * decided before the call returns. Event bus targets are routed on at once; Lambda and Step Functions
 * targets are handed to the in-process listeners registered with `onTarget`, whose promises
 * `flushEvents()` awaits. Every delivery, and every failure with its reason, is kept for `snapshot()`.
 */
export class EventBridge {
  private readonly buses = new Map<string, Bus>();
  private readonly rules = new Map<string, Rule>();
  private readonly listeners = new Map<string, Set<TargetListener>>();
  private readonly pending = new Set<Promise<void>>();
  private deliveries: EventDelivery[] = [];
  private loadedMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly deps: () => EventBridgeDeps,
  ) {}

  /** Replaces buses, rules and deliveries with the state's; listeners stay (the local deployment registered them). */
  load(state: ResolvedEventBridgeState): void {
    this.buses.clear();
    this.rules.clear();
    this.deliveries = [];
    this.loadedMs = this.clock.now();
    for (const bus of state.buses) this.loadBus(bus);
    for (const rule of state.rules) this.loadRule(rule);
  }

  private loadBus(bus: StateBus): void {
    const record = this.newBus(bus.account, bus.region, bus.name);
    if (bus.policy) record.policy = bus.policy;
    this.buses.set(key(bus.account, bus.region, bus.name), record);
  }

  private loadRule(rule: StateRule): void {
    const targets = new Map<string, Target>(
      rule.targets.map((t) => [
        t.id,
        {
          id: t.id,
          arn: t.arn,
          ...(t.roleArn ? { roleArn: t.roleArn } : {}),
          ...(t.retryPolicy ? { retryPolicy: retryPolicyToWire(t.retryPolicy) } : {}),
          ...(t.deadLetterConfig ? { deadLetterConfig: { Arn: t.deadLetterConfig.arn } } : {}),
        },
      ]),
    );
    const metrics: RuleMetrics = { matchedEvents: 0, invocations: 0, failedInvocations: 0 };
    if ([...targets.values()].some((t) => t.deadLetterConfig)) withDlqMetrics(metrics);
    this.rules.set(key(rule.account, rule.region, rule.bus, rule.name), {
      name: rule.name,
      account: rule.account,
      region: rule.region,
      bus: rule.bus,
      arn: ruleArn(rule.account, rule.region, rule.bus, rule.name),
      pattern: rule.pattern,
      patternText: JSON.stringify(rule.pattern),
      state: rule.state,
      targets,
      metrics,
    });
  }

  private newBus(account: string, region: string, name: string): Bus {
    const now = this.clock.now();
    return { name, account, region, arn: `arn:aws:events:${region}:${account}:event-bus/${name}`, createdMs: now, modifiedMs: now };
  }

  /** A bus, the `default` one included: it exists in every account and region, and is stored once it has a policy. */
  bus(account: string, region: string, name: string): Bus | undefined {
    const stored = this.buses.get(key(account, region, name));
    if (stored || name !== 'default') return stored;
    return { ...this.newBus(account, region, 'default'), createdMs: this.loadedMs, modifiedMs: this.loadedMs };
  }

  private storedBus(account: string, region: string, name: string): Bus {
    const k = key(account, region, name);
    let bus = this.buses.get(k);
    if (!bus) {
      bus = this.bus(account, region, name);
      if (!bus) throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
      this.buses.set(k, bus);
    }
    return bus;
  }

  onTarget(targetArn: string, listener: TargetListener): () => void {
    let set = this.listeners.get(targetArn);
    if (!set) this.listeners.set(targetArn, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves once every listener invoked so far (and those they caused) has settled. */
  async flushEvents(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Puts an AWS service event (CloudTrail's) on the default bus of its account and region. */
  putServiceEvent(event: EventBridgeEvent): void {
    this.route(this.bus(event.account, event.region, 'default')!, event, false);
  }

  private route(bus: Bus, event: EventBridgeEvent, fromAnotherBus: boolean): void {
    for (const rule of this.rules.values()) {
      if (rule.account !== bus.account || rule.region !== bus.region || rule.bus !== bus.name || rule.state !== 'ENABLED') continue;
      if (!matchesEventPattern(rule.pattern, event)) continue;
      rule.metrics.matchedEvents += 1;
      for (const target of rule.targets.values()) this.deliver(bus, rule, target, event, fromAnotherBus);
    }
  }

  private record(bus: Bus, rule: Rule, target: Target, event: EventBridgeEvent, status: DeliveryStatus, reason?: string): EventDelivery {
    const delivery: EventDelivery = {
      eventId: event.id,
      source: event.source,
      detailType: event['detail-type'],
      rule: rule.arn,
      bus: bus.arn,
      targetId: target.id,
      targetArn: target.arn,
      status,
      ...(reason ? { reason } : {}),
      time: new Date(this.clock.now()).toISOString(),
    };
    this.deliveries.push(delivery);
    rule.metrics.invocations += 1;
    if (status === 'failed') rule.metrics.failedInvocations += 1;
    return delivery;
  }

  private fail(delivery: EventDelivery, rule: Rule, reason: string): void {
    delivery.status = 'failed';
    delivery.reason = reason;
    rule.metrics.failedInvocations += 1;
  }

  private deliver(bus: Bus, rule: Rule, target: Target, event: EventBridgeEvent, fromAnotherBus: boolean): void {
    const busTarget = parseBusArn(target.arn);
    if (busTarget) {
      const { region, account, name } = busTarget;
      const problem = this.busTargetProblem(rule, target, busTarget, fromAnotherBus);
      if (problem) {
        this.deadLetter(this.record(bus, rule, target, event, 'failed', problem.reason), rule, target, event, problem.code, problem.reason);
        return;
      }
      this.record(bus, rule, target, event, 'delivered');
      this.route(this.bus(account, region, name)!, event, true);
      return;
    }
    const listeners = [...(this.listeners.get(target.arn) ?? [])];
    if (listeners.length === 0) {
      // A Lambda function registered with the emulator takes the event as Lambda does: accepted for an
      // asynchronous invocation, its own failures are Lambda's to retry and send to a destination.
      if (this.deps().invokeFunction(target.arn, structuredClone(event))) {
        this.record(bus, rule, target, event, 'delivered');
        return;
      }
      const reason = `no in-process listener is registered for ${target.arn} (emulator.onTarget)`;
      this.deadLetter(this.record(bus, rule, target, event, 'failed', reason), rule, target, event, 'NO_RESOURCE', reason);
      return;
    }
    const delivery = this.record(bus, rule, target, event, 'pending');
    // Without a RetryPolicy the emulator makes one attempt: AWS's default of 185 retries over 24 hours
    // would only repeat an in-process failure. With one, the retries run back to back, without backoff.
    const retries = target.retryPolicy?.MaximumRetryAttempts ?? (target.retryPolicy ? DEFAULT_RETRY_ATTEMPTS : 0);
    if (target.retryPolicy) delivery.retries = 0;
    const failed = (reason: string, err: unknown): Promise<void> | void => {
      if ((delivery.retries ?? 0) < retries) {
        delivery.retries! += 1;
        return attempt();
      }
      this.fail(delivery, rule, reason);
      this.deadLetter(delivery, rule, target, event, 'SDK_CLIENT_ERROR', errorText(err), true);
    };
    const attempt = (): Promise<void> | void => {
      let results: unknown[];
      try {
        // Each listener gets its own copy, as each AWS target receives its own serialized event.
        results = listeners.map((listener) => listener(structuredClone(event)));
      } catch (err) {
        return failed(`the listener threw: ${errorText(err)}`, err);
      }
      return Promise.all(results).then(
        () => {
          if (delivery.status === 'pending') delivery.status = 'delivered';
        },
        (err: unknown) => failed(`the listener failed: ${errorText(err)}`, err),
      );
    };
    const settled = attempt();
    if (!settled) return;
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
  }

  /**
   * Sends a failed delivery's event to the target's dead-letter queue, as EventBridge does: the event as
   * the target would have received it, with the rule, the target and the error as message attributes.
   * A queue that does not exist loses the event, counted as InvocationsFailedToBeSentToDlq.
   */
  private deadLetter(delivery: EventDelivery, rule: Rule, target: Target, event: EventBridgeEvent, errorCode: string, errorMessage: string, retried = false): void {
    const queueArn = target.deadLetterConfig?.Arn;
    if (!queueArn) return;
    const text = (value: string): MessageAttribute => ({ DataType: 'String', StringValue: value });
    const attributes: Record<string, MessageAttribute> = {
      RULE_ARN: text(rule.arn),
      TARGET_ARN: text(target.arn),
      ERROR_CODE: text(errorCode),
      ERROR_MESSAGE: text(errorMessage || errorCode),
      ...(retried ? { EXHAUSTED_RETRY_CONDITION: text('MaximumRetryAttempts'), RETRY_ATTEMPTS: text(String(delivery.retries ?? 0)) } : {}),
    };
    const sent = this.deps().sendToQueue(queueArn, { body: JSON.stringify(event), attributes });
    withDlqMetrics(rule.metrics);
    if ('messageId' in sent) {
      delivery.deadLetter = { queueArn, status: 'sent', messageId: sent.messageId };
      rule.metrics.invocationsSentToDlq! += 1;
    } else {
      delivery.deadLetter = { queueArn, status: 'failed', reason: sent.failure };
      rule.metrics.invocationsFailedToBeSentToDlq! += 1;
    }
  }

  /** Why AWS would not deliver to a bus target (counted as a failed invocation), with the DLQ's ERROR_CODE, or undefined. */
  private busTargetProblem(rule: Rule, target: Target, to: { region: string; account: string; name: string }, fromAnotherBus: boolean): { code: string; reason: string } | undefined {
    if (fromAnotherBus) return { code: 'THIRD_ACCOUNT_HOP_DETECTED', reason: 'EventBridge does not route an event received from another event bus to a third event bus' };
    const remote = to.account !== rule.account || to.region !== rule.region;
    if (remote) {
      if (!target.roleArn) return { code: 'NO_PERMISSIONS', reason: `a target event bus in another account or region needs a RoleArn` };
      const exists = this.deps().roleExists(target.roleArn);
      if (exists === false) return { code: 'FAILED_TO_ASSUME_ROLE', reason: `the target role ${target.roleArn} does not exist` };
    }
    const receiver = this.bus(to.account, to.region, to.name);
    if (!receiver) return { code: 'NO_RESOURCE', reason: `the event bus ${target.arn} does not exist` };
    if (to.account !== rule.account) {
      const sender = { account: rule.account, arn: target.roleArn ?? `arn:aws:iam::${rule.account}:root` };
      if (!policyAllowsPutEvents(receiver.policy, receiver.arn, sender, this.deps().organizationIdOf)) {
        return { code: 'NO_PERMISSIONS', reason: `the resource policy of ${receiver.arn} does not allow events:PutEvents from ${sender.arn} (account ${rule.account})` };
      }
    }
    return undefined;
  }

  snapshot(): EventBridgeSnapshot {
    const byArn = <T extends { arn: string }>(a: T, b: T) => a.arn.localeCompare(b.arn);
    return {
      buses: [...this.buses.values()].sort(byArn).map((b) => ({ name: b.name, account: b.account, region: b.region, arn: b.arn, ...(b.policy ? { policy: structuredClone(b.policy) } : {}) })),
      rules: [...this.rules.values()].sort(byArn).map((r) => ({
        name: r.name,
        account: r.account,
        region: r.region,
        bus: r.bus,
        arn: r.arn,
        pattern: structuredClone(r.pattern),
        state: r.state,
        targets: [...r.targets.values()].map((t) => ({
          id: t.id,
          arn: t.arn,
          ...(t.roleArn ? { roleArn: t.roleArn } : {}),
          ...(t.deadLetterConfig ? { deadLetterConfig: { arn: t.deadLetterConfig.Arn } } : {}),
          ...(t.retryPolicy ? { retryPolicy: retryPolicyFromWire(t.retryPolicy) } : {}),
        })),
        metrics: { ...r.metrics },
      })),
      deliveries: this.deliveries.map((d) => structuredClone(d)),
    };
  }

  // --- the API -------------------------------------------------------------------------------------

  /** The bus an EventBusName (a name or an ARN; `default` when omitted) names in the caller's account and region. */
  private callerBus(ctx: CallContext, nameOrArn: unknown, opts: { mustExist: boolean } = { mustExist: true }): { account: string; region: string; name: string; bus?: Bus } {
    const given = typeof nameOrArn === 'string' && nameOrArn !== '' ? nameOrArn : 'default';
    const { account, region, name } = parseBusArn(given) ?? { account: ctx.account, region: ctx.region, name: given };
    if (!parseBusArn(given) && !BUS_NAME.test(name)) throw validation(`1 validation error detected: Value '${name}' at 'eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+`);
    if (account !== ctx.account || region !== ctx.region) {
      throw new AwsError('AccessDeniedException', `User: ${ctx.key.principal.arn} is not authorized to manage the event bus ${name} of account ${account} in ${region}; the emulator manages buses and rules in the caller's own account and region only.`);
    }
    const bus = this.bus(account, region, name);
    if (!bus && opts.mustExist) throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return { account, region, name, ...(bus ? { bus } : {}) };
  }

  private rule(ctx: CallContext, doc: Doc, field = 'Name'): Rule {
    const name = requireString(doc, field, field === 'Name' ? 'name' : 'rule');
    const where = this.callerBus(ctx, doc.EventBusName);
    const rule = this.rules.get(key(where.account, where.region, where.name, name));
    if (!rule) throw new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${where.name}.`);
    return rule;
  }

  putEvents(ctx: CallContext, doc: Doc): unknown {
    const entries = doc.Entries;
    if (!Array.isArray(entries) || entries.length === 0) throw validation(`1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null`);
    if (entries.length > MAX_ENTRIES) {
      throw validation(`1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`);
    }
    const size = (entries as Doc[]).reduce(
      (sum, e) => sum + (e?.Time !== undefined ? 14 : 0) + bytes(e?.Source) + bytes(e?.DetailType) + bytes(e?.Detail) + list(e?.Resources).reduce<number>((s, r) => s + bytes(r), 0),
      0,
    );
    if (size > MAX_PUT_EVENTS_BYTES) throw validation('Total size of the entries in the request is over the limit.');
    // The documented rule: entries missing Source, DetailType or Detail fail one by one, unless all do.
    const complete = (e: Doc) => ['Source', 'DetailType', 'Detail'].every((f) => typeof e?.[f] === 'string' && e[f] !== '');
    if (!(entries as Doc[]).some(complete)) throw validation('No entry of the request has all of Source, DetailType and Detail.');
    const results = (entries as Doc[]).map((entry) => {
      try {
        return { EventId: this.putEntry(ctx, entry ?? {}) };
      } catch (err) {
        if (!(err instanceof AwsError)) throw err;
        return { ErrorCode: err.code, ErrorMessage: err.message };
      }
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  private putEntry(ctx: CallContext, entry: Doc): string {
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') throw new AwsError('InvalidArgument', `Parameter ${field} is not valid. Reason: ${field} is a required argument.`);
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      detail = undefined;
    }
    if (!detail || typeof detail !== 'object' || Array.isArray(detail)) throw new AwsError('MalformedDetail', 'Detail is malformed.');
    // Events with an AWS service's source come from the service only.
    if (/^aws\./.test(entry.Source)) throw new AwsError('NotAuthorizedForSourceException', 'Not authorized for the source.');
    const resources = list(entry.Resources);
    if (!resources.every((r) => typeof r === 'string')) throw new AwsError('InvalidArgument', 'Parameter Resources is not valid. Reason: each resource must be a string.');
    const given = typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
    const { account, region, name } = parseBusArn(given) ?? { account: ctx.account, region: ctx.region, name: given };
    if (region !== ctx.region) throw new AwsError('InvalidArgument', `Parameter EventBusName is not valid. Reason: the event bus is in ${region}; PutEvents reaches the buses of the region it is called in (${ctx.region}).`);
    const bus = this.bus(account, region, name);
    if (!bus) throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    const sender = senderOf(ctx.key.principal);
    if (account !== ctx.account && !policyAllowsPutEvents(bus.policy, bus.arn, sender, this.deps().organizationIdOf)) {
      throw new AwsError(
        'AccessDeniedException',
        `User: ${ctx.key.principal.arn} is not authorized to perform: events:PutEvents on resource: ${bus.arn} because no resource-based policy allows the events:PutEvents action`,
      );
    }
    const timeMs = typeof entry.Time === 'number' ? entry.Time * 1000 : typeof entry.Time === 'string' ? Date.parse(entry.Time) : this.clock.now();
    const event: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: ctx.account,
      time: cloudTrailTime(Number.isFinite(timeMs) ? timeMs : this.clock.now()),
      region,
      resources: resources as string[],
      detail,
    };
    this.route(bus, event, false);
    return event.id;
  }

  createEventBus(ctx: CallContext, doc: Doc): unknown {
    const name = requireString(doc, 'Name', 'name');
    if (!/^[.\-_A-Za-z0-9]{1,256}$/.test(name)) throw validation(`1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+`);
    if (name === 'default') throw validation('The event bus name default is reserved: every account and region already has a default event bus.');
    if (doc.EventSourceName !== undefined) throw validation('The emulator does not support partner event buses (EventSourceName).');
    if (this.buses.has(key(ctx.account, ctx.region, name))) throw new AwsError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
    const bus = this.newBus(ctx.account, ctx.region, name);
    if (typeof doc.Description === 'string') bus.description = doc.Description;
    this.buses.set(key(ctx.account, ctx.region, name), bus);
    return { EventBusArn: bus.arn, ...(bus.description ? { Description: bus.description } : {}) };
  }

  deleteEventBus(ctx: CallContext, doc: Doc): unknown {
    const name = requireString(doc, 'Name', 'name');
    if (name === 'default') throw validation('Cannot delete event bus default.');
    // Deleting a bus that does not exist succeeds, as in AWS; its rules go with it.
    this.buses.delete(key(ctx.account, ctx.region, name));
    for (const [k, rule] of this.rules) if (rule.account === ctx.account && rule.region === ctx.region && rule.bus === name) this.rules.delete(k);
    return {};
  }

  private busView(bus: Bus): Doc {
    return {
      Name: bus.name,
      Arn: bus.arn,
      ...(bus.description ? { Description: bus.description } : {}),
      ...(bus.policy ? { Policy: JSON.stringify(bus.policy) } : {}),
      CreationTime: epochSeconds(bus.createdMs),
      LastModifiedTime: epochSeconds(bus.modifiedMs),
    };
  }

  describeEventBus(ctx: CallContext, doc: Doc): unknown {
    return this.busView(this.callerBus(ctx, doc.Name).bus!);
  }

  listEventBuses(ctx: CallContext, doc: Doc): unknown {
    const prefix = typeof doc.NamePrefix === 'string' ? doc.NamePrefix : '';
    const mine = [...this.buses.values()].filter((b) => b.account === ctx.account && b.region === ctx.region);
    if (!mine.some((b) => b.name === 'default')) mine.push(this.bus(ctx.account, ctx.region, 'default')!);
    const buses = mine.filter((b) => b.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
    const { page, next } = paginate(buses, doc);
    return { EventBuses: page.map((b) => this.busView(b)), ...(next ? { NextToken: next } : {}) };
  }

  putPermission(ctx: CallContext, doc: Doc): unknown {
    const where = this.callerBus(ctx, doc.EventBusName);
    const bus = this.storedBus(where.account, where.region, where.name);
    let policy: Record<string, unknown>;
    if (doc.Policy !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(doc.Policy));
      } catch {
        throw validation('The policy is not valid JSON.');
      }
      const problem = policyProblem(parsed);
      if (problem) throw validation(`The policy is not valid: ${problem}.`);
      policy = parsed as Record<string, unknown>;
    } else {
      const action = doc.Action ?? 'events:PutEvents';
      if (action !== 'events:PutEvents') throw validation(`The emulator grants events:PutEvents only, not ${String(action)}.`);
      const principal = requireString(doc, 'Principal', 'principal');
      if (principal !== '*' && !/^\d{12}$/.test(principal)) throw validation(`Principal must be a 12-digit account id or *, not ${principal}.`);
      const sid = requireString(doc, 'StatementId', 'statementId');
      const condition = doc.Condition as Doc | undefined;
      if (condition !== undefined) {
        if (condition.Type !== 'StringEquals' || condition.Key !== 'aws:PrincipalOrgID' || typeof condition.Value !== 'string') {
          throw validation('Condition must be {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-..."}.');
        }
      }
      const statement: Doc = {
        Sid: sid,
        Effect: 'Allow',
        Principal: principal === '*' ? '*' : { AWS: `arn:aws:iam::${principal}:root` },
        Action: 'events:PutEvents',
        Resource: bus.arn,
        ...(condition ? { Condition: { StringEquals: { 'aws:PrincipalOrgID': condition.Value } } } : {}),
      };
      const others = (list(bus.policy?.Statement) as Doc[]).filter((s) => s?.Sid !== sid);
      policy = { Version: '2012-10-17', Statement: [...others, statement] };
    }
    if (Buffer.byteLength(JSON.stringify(policy)) > MAX_POLICY_BYTES) throw new AwsError('PolicyLengthExceededException', `The event bus policy exceeds ${MAX_POLICY_BYTES} bytes.`);
    bus.policy = policy;
    bus.modifiedMs = this.clock.now();
    return {};
  }

  removePermission(ctx: CallContext, doc: Doc): unknown {
    const where = this.callerBus(ctx, doc.EventBusName);
    const bus = this.storedBus(where.account, where.region, where.name);
    if (doc.RemoveAllPermissions === true) {
      delete bus.policy;
    } else {
      const sid = requireString(doc, 'StatementId', 'statementId');
      const statements = list(bus.policy?.Statement) as Doc[];
      if (!statements.some((s) => s?.Sid === sid)) throw new AwsError('ResourceNotFoundException', 'Statement with the provided id does not exist.');
      const rest = statements.filter((s) => s?.Sid !== sid);
      if (rest.length) bus.policy = { ...bus.policy, Statement: rest };
      else delete bus.policy;
    }
    bus.modifiedMs = this.clock.now();
    return {};
  }

  putRule(ctx: CallContext, doc: Doc): unknown {
    const name = requireString(doc, 'Name', 'name');
    if (!RULE_NAME.test(name)) throw validation(`1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`);
    if (doc.ScheduleExpression !== undefined) throw validation('The emulator supports rules with an EventPattern only, not ScheduleExpression.');
    const pattern = parsePattern(doc.EventPattern);
    const state = doc.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validation(`1 validation error detected: Value '${String(state)}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`);
    const where = this.callerBus(ctx, doc.EventBusName);
    const k = key(where.account, where.region, where.name, name);
    const existing = this.rules.get(k);
    const rule: Rule = {
      name,
      account: where.account,
      region: where.region,
      bus: where.name,
      arn: ruleArn(where.account, where.region, where.name, name),
      pattern,
      patternText: doc.EventPattern,
      state,
      ...(typeof doc.Description === 'string' ? { description: doc.Description } : {}),
      targets: existing?.targets ?? new Map(),
      metrics: existing?.metrics ?? { matchedEvents: 0, invocations: 0, failedInvocations: 0 },
    };
    this.rules.set(k, rule);
    return { RuleArn: rule.arn };
  }

  private ruleView(rule: Rule): Doc {
    return {
      Name: rule.name,
      Arn: rule.arn,
      EventPattern: rule.patternText,
      State: rule.state,
      ...(rule.description ? { Description: rule.description } : {}),
      EventBusName: rule.bus,
    };
  }

  describeRule(ctx: CallContext, doc: Doc): unknown {
    const rule = this.rule(ctx, doc);
    return { ...this.ruleView(rule), CreatedBy: rule.account };
  }

  listRules(ctx: CallContext, doc: Doc): unknown {
    const where = this.callerBus(ctx, doc.EventBusName);
    const prefix = typeof doc.NamePrefix === 'string' ? doc.NamePrefix : '';
    const rules = [...this.rules.values()]
      .filter((r) => r.account === where.account && r.region === where.region && r.bus === where.name && r.name.startsWith(prefix))
      .sort((a, b) => a.name.localeCompare(b.name));
    const { page, next } = paginate(rules, doc);
    return { Rules: page.map((r) => this.ruleView(r)), ...(next ? { NextToken: next } : {}) };
  }

  deleteRule(ctx: CallContext, doc: Doc): unknown {
    const name = requireString(doc, 'Name', 'name');
    const where = this.callerBus(ctx, doc.EventBusName);
    const k = key(where.account, where.region, where.name, name);
    const rule = this.rules.get(k);
    if (rule && rule.targets.size > 0 && doc.Force !== true) throw validation("Rule can't be deleted since it has targets.");
    this.rules.delete(k);
    return {};
  }

  setRuleState(ctx: CallContext, doc: Doc, state: 'ENABLED' | 'DISABLED'): unknown {
    this.rule(ctx, doc).state = state;
    return {};
  }

  putTargets(ctx: CallContext, doc: Doc): unknown {
    const rule = this.rule(ctx, doc, 'Rule');
    const targets = doc.Targets;
    if (!Array.isArray(targets) || targets.length === 0) throw validation(`1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null`);
    const parsed = (targets as Doc[]).map((t, i) => this.parseTarget(rule, t ?? {}, i));
    const ids = new Set([...rule.targets.keys(), ...parsed.map((t) => t.id)]);
    if (ids.size > MAX_TARGETS) throw new AwsError('LimitExceededException', `The requested resource exceeds the maximum number allowed: a rule has at most ${MAX_TARGETS} targets.`);
    for (const target of parsed) rule.targets.set(target.id, target);
    if (parsed.some((t) => t.deadLetterConfig)) withDlqMetrics(rule.metrics);
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private parseTarget(rule: Rule, t: Doc, i: number): Target {
    const id = t.Id;
    if (typeof id !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(id)) throw validation(`1 validation error detected: Value '${String(id)}' at 'targets.${i + 1}.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`);
    const arn = t.Arn;
    if (typeof arn !== 'string' || !/^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/.test(arn)) throw validation(`Parameter ${String(arn)} is not valid. Reason: Provided Arn is not in correct format.`);
    for (const unsupported of ['Input', 'InputPath', 'InputTransformer']) {
      // Refused rather than ignored: a target would otherwise receive something other than what AWS sends it.
      if (t[unsupported] !== undefined) throw validation(`The emulator does not support ${unsupported} on targets (target ${id}); it delivers the matched event as it is.`);
    }
    if (t.RoleArn !== undefined && (typeof t.RoleArn !== 'string' || !ROLE_ARN.test(t.RoleArn))) throw validation(`RoleArn ${String(t.RoleArn)} of target ${id} is not a role ARN.`);
    const bus = parseBusArn(arn);
    if (bus && (bus.region !== rule.region || bus.account !== rule.account) && !t.RoleArn) {
      throw validation(`RoleArn is required for target ${arn}: an event bus in another account or region receives events through a role of account ${rule.account}.`);
    }
    if (t.RoleArn && ROLE_ARN.exec(t.RoleArn)![1] !== rule.account) throw validation(`RoleArn ${t.RoleArn} of target ${id} must be a role of the rule's account ${rule.account}.`);
    const retryPolicy = t.RetryPolicy === undefined ? undefined : parseRetryPolicy(t.RetryPolicy, i);
    const deadLetterConfig = t.DeadLetterConfig === undefined ? undefined : parseDeadLetterConfig(t.DeadLetterConfig);
    return {
      id,
      arn,
      ...(t.RoleArn ? { roleArn: t.RoleArn } : {}),
      ...(retryPolicy ? { retryPolicy } : {}),
      ...(deadLetterConfig ? { deadLetterConfig } : {}),
    };
  }

  removeTargets(ctx: CallContext, doc: Doc): unknown {
    const rule = this.rule(ctx, doc, 'Rule');
    if (!Array.isArray(doc.Ids) || doc.Ids.length === 0) throw validation(`1 validation error detected: Value null at 'ids' failed to satisfy constraint: Member must not be null`);
    for (const id of doc.Ids) rule.targets.delete(String(id));
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  listTargetsByRule(ctx: CallContext, doc: Doc): unknown {
    const rule = this.rule(ctx, doc, 'Rule');
    const targets = [...rule.targets.values()].map((t) => ({
      Id: t.id,
      Arn: t.arn,
      ...(t.roleArn ? { RoleArn: t.roleArn } : {}),
      ...(t.retryPolicy !== undefined ? { RetryPolicy: t.retryPolicy } : {}),
      ...(t.deadLetterConfig !== undefined ? { DeadLetterConfig: t.deadLetterConfig } : {}),
    }));
    const { page, next } = paginate(targets, doc);
    return { Targets: page, ...(next ? { NextToken: next } : {}) };
  }

  testEventPattern(doc: Doc): unknown {
    const pattern = parsePattern(doc.EventPattern);
    if (typeof doc.Event !== 'string') throw validation(`1 validation error detected: Value null at 'event' failed to satisfy constraint: Member must not be null`);
    let event: unknown;
    try {
      event = JSON.parse(doc.Event);
    } catch {
      throw validation('Parameter Event is not valid. Reason: the event is not valid JSON.');
    }
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw validation('Parameter Event is not valid. Reason: the event must be a JSON object.');
    // The fields TestEventPattern's documentation lists as mandatory.
    const missing = ['id', 'account', 'source', 'time', 'region', 'resources', 'detail-type'].filter((f) =>
      f === 'resources' ? !Array.isArray((event as Doc)[f]) : typeof (event as Doc)[f] !== 'string',
    );
    if (missing.length) throw validation(`Parameter Event is not valid. Reason: missing ${missing.map((f) => `"${f}"`).join(', ')}.`);
    return { Result: matchesEventPattern(pattern, event) };
  }
}

/** EventBridge's default MaximumRetryAttempts, used when a RetryPolicy gives only MaximumEventAgeInSeconds. */
const DEFAULT_RETRY_ATTEMPTS = 185;

const errorText = (err: unknown) => (err as Error)?.message ?? String(err);

function withDlqMetrics(metrics: RuleMetrics): void {
  metrics.invocationsSentToDlq ??= 0;
  metrics.invocationsFailedToBeSentToDlq ??= 0;
}

function parseRetryPolicy(given: unknown, i: number): RetryPolicy {
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw validation(`Parameter RetryPolicy of target ${i + 1} is not valid. Reason: it must be an object.`);
  const doc = given as Doc;
  const at = (field: string) => `targets.${i + 1}.member.retryPolicy.${field}`;
  const bounded = (value: unknown, field: string, min: number, max: number): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw validation(`1 validation error detected: Value '${String(value)}' at '${at(field)}' failed to satisfy constraint: Member must be an integer`);
    if (value < min) throw validation(`1 validation error detected: Value '${value}' at '${at(field)}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
    if (value > max) throw validation(`1 validation error detected: Value '${value}' at '${at(field)}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
    return value;
  };
  const attempts = bounded(doc.MaximumRetryAttempts, 'maximumRetryAttempts', 0, 185);
  const age = bounded(doc.MaximumEventAgeInSeconds, 'maximumEventAgeInSeconds', 60, 86_400);
  return { ...(attempts !== undefined ? { MaximumRetryAttempts: attempts } : {}), ...(age !== undefined ? { MaximumEventAgeInSeconds: age } : {}) };
}

function parseDeadLetterConfig(given: unknown): { Arn: string } | undefined {
  const arn = given && typeof given === 'object' ? (given as Doc).Arn : undefined;
  if (arn === undefined) return undefined;
  if (typeof arn !== 'string' || !parseQueueArn(arn)) throw validation(`Parameter DeadLetterConfig.Arn ${String(arn)} is not valid. Reason: Provided Arn is not in correct format; a dead-letter queue is an SQS queue ARN.`);
  return { Arn: arn };
}

function retryPolicyToWire(policy: { maximumRetryAttempts?: number | undefined; maximumEventAgeInSeconds?: number | undefined }): RetryPolicy {
  return {
    ...(policy.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: policy.maximumRetryAttempts } : {}),
    ...(policy.maximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: policy.maximumEventAgeInSeconds } : {}),
  };
}

function retryPolicyFromWire(policy: RetryPolicy): { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number } {
  return {
    ...(policy.MaximumRetryAttempts !== undefined ? { maximumRetryAttempts: policy.MaximumRetryAttempts } : {}),
    ...(policy.MaximumEventAgeInSeconds !== undefined ? { maximumEventAgeInSeconds: policy.MaximumEventAgeInSeconds } : {}),
  };
}

function ruleArn(account: string, region: string, bus: string, name: string): string {
  return `arn:aws:events:${region}:${account}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;
}

/** NextToken is the offset of the next page, opaque to callers. */
function paginate<T>(items: T[], doc: Doc): { page: T[]; next?: string } {
  const start = typeof doc.NextToken === 'string' ? Number.parseInt(Buffer.from(doc.NextToken, 'base64').toString('utf8'), 10) : 0;
  if (!Number.isInteger(start) || start < 0) throw validation('The NextToken is not valid.');
  const limit = typeof doc.Limit === 'number' && doc.Limit > 0 ? Math.min(doc.Limit, 100) : 100;
  const page = items.slice(start, start + limit);
  return start + limit < items.length ? { page, next: Buffer.from(String(start + limit)).toString('base64') } : { page };
}

// --- the wire ----------------------------------------------------------------------------------------

const OPERATIONS: Record<string, (eb: EventBridge, ctx: CallContext, doc: Doc) => unknown> = {
  PutEvents: (eb, ctx, doc) => eb.putEvents(ctx, doc),
  CreateEventBus: (eb, ctx, doc) => eb.createEventBus(ctx, doc),
  DeleteEventBus: (eb, ctx, doc) => eb.deleteEventBus(ctx, doc),
  DescribeEventBus: (eb, ctx, doc) => eb.describeEventBus(ctx, doc),
  ListEventBuses: (eb, ctx, doc) => eb.listEventBuses(ctx, doc),
  PutPermission: (eb, ctx, doc) => eb.putPermission(ctx, doc),
  RemovePermission: (eb, ctx, doc) => eb.removePermission(ctx, doc),
  PutRule: (eb, ctx, doc) => eb.putRule(ctx, doc),
  DescribeRule: (eb, ctx, doc) => eb.describeRule(ctx, doc),
  ListRules: (eb, ctx, doc) => eb.listRules(ctx, doc),
  DeleteRule: (eb, ctx, doc) => eb.deleteRule(ctx, doc),
  EnableRule: (eb, ctx, doc) => eb.setRuleState(ctx, doc, 'ENABLED'),
  DisableRule: (eb, ctx, doc) => eb.setRuleState(ctx, doc, 'DISABLED'),
  PutTargets: (eb, ctx, doc) => eb.putTargets(ctx, doc),
  RemoveTargets: (eb, ctx, doc) => eb.removeTargets(ctx, doc),
  ListTargetsByRule: (eb, ctx, doc) => eb.listTargetsByRule(ctx, doc),
  TestEventPattern: (eb, _ctx, doc) => eb.testEventPattern(doc),
};

/** Every EventBridge operation the emulator serves, by its AWS name. */
export const EVENTBRIDGE_OPERATIONS = Object.keys(OPERATIONS);

const JSON_11 = 'application/x-amz-json-1.1';

/**
 * Amazon EventBridge over the JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Op>`, SigV4 service `events`).
 * Calls are not recorded in CloudTrail: the product does not watch EventBridge's own management events.
 */
export const eventBridgeService: Service = {
  resolve: (ctx, env: Env) => {
    const target = String(ctx.headers['x-amz-target'] ?? '');
    const m = EVENTS_TARGET.exec(target);
    if (!m) throw new AwsError('UnknownOperationException', target ? `Unknown X-Amz-Target ${target}; EventBridge's look like AWSEvents.PutEvents.` : 'The request has no X-Amz-Target header.');
    const name = m[1]!;
    const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
    if (!operation) throw new AwsError('UnknownOperationException', `The emulator's EventBridge does not implement ${name}; it serves ${EVENTBRIDGE_OPERATIONS.join(', ')}.`);
    return {
      name,
      run: () => {
        let doc: unknown;
        try {
          doc = ctx.body.length ? JSON.parse(ctx.body.toString('utf8')) : {};
        } catch {
          throw new AwsError('SerializationException', 'The request body is not valid JSON.');
        }
        if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new AwsError('SerializationException', 'The request body is not a JSON object.');
        return operation(env.eventBridge, ctx, doc as Doc);
      },
    };
  },
  success: (_op, payload, ctx) => ({ status: 200, headers: { 'content-type': JSON_11, 'x-amzn-requestid': ctx.requestId }, body: JSON.stringify(payload ?? {}) }),
  error: (err, ctx) => ({
    status: err.status,
    headers: { 'content-type': JSON_11, 'x-amzn-requestid': ctx.requestId, 'x-amzn-errortype': err.code },
    body: JSON.stringify({ __type: err.code, message: err.message }),
  }),
  throttled: () => new AwsError('ThrottlingException', 'Rate exceeded'),
  serverError: () => new AwsError('InternalException', 'An internal error occurred.', 500),
};

