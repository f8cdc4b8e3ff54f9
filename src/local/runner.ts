/**
 * Runs the deployed workflow on one machine: CloudTrail events from the local emulator go to the real
 * intake handler, and each execution it starts runs the real state machine definition under
 * aws-local-stepfunctions with the real Lambda handlers, which call the emulator through the real AWS
 * SDK. Executions run one after another on the emulator's clock: each Wait state advances the clock by
 * its seconds instead of sleeping, so a 10-minute EKS update takes milliseconds and results are
 * deterministic.
 */
import './polyfills';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import { triageEvent, type TriageResult } from '../events/triage';
import type { ClusterRef, EndpointConfig } from '../policy/types';
import type { ExecutionPort } from '../workflow/ports';
import type { ExecutionInput, ExecutionState, Outcome, RecordResult } from '../workflow/types';
import type { NotifyResult } from '../workflow/notify';
import type { IntakeResult } from '../workflow/intake';
import { analyzeDefinition, DEFINITION_FILE, loadDefinition, loadNestedDefinition, localStateMachineArn, resolvedDefinition, resolvedNestedDefinition, SWEEP_DEFINITION_FILE, TRACKER_DEFINITION_FILE, TRACKER_LOGICAL_ID, type Definition, type LoadedDefinition, type SdkTask } from './definition';
import type { CoverageRecord } from '../sweep/types';
import type { RecordCoverageResult } from '../sweep/record-coverage';
import { LAMBDA_HANDLERS } from './handlers';

export type LocalClock = { now(): number; advance(ms: number): void };

export type ProgressEvent =
  | { kind: 'event'; eventId: string; eventName: string; cluster: ClusterRef | null; decision: string; reason: string | null; started: boolean }
  | { kind: 'state'; execution: string; cluster: ClusterRef; state: string; type: string; waitSeconds: number | null; elapsedSeconds: number }
  | { kind: 'finished'; execution: string; cluster: ClusterRef; outcome: Outcome; elapsedSeconds: number; stateTransitions: number };

export type PublishedAlert = { subject: string; severity: string; outcome: string; text: string };

export type ExecutionRecord = {
  name: string;
  eventId: string;
  cluster: ClusterRef;
  input: ExecutionInput;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  outcome: Outcome;
  /** Every state entered, and every retry: what a Standard workflow bills. */
  stateTransitions: number;
  states: string[];
  /** Lambda invocations by the state machine and its trackers (Task states entered, and their retries). */
  lambdaInvocations: number;
  /** The same, by function. */
  lambdaByFunction: Record<string, number>;
  /**
   * The Express update tracker runs this execution started (billed per request and per 100 ms of
   * duration, not per transition): how many, their billed milliseconds (emulated), and the states they entered.
   */
  tracker: { executions: number; billedMs: number; transitions: number };
  awsCalls: Record<string, number>;
  alerts: PublishedAlert[];
  finalConfig: EndpointConfig | null;
  /** Emulated seconds from the start of the execution to its end. */
  elapsedSeconds: number;
  error: string | null;
  /** NotifyOutcome ran to the end (published, or decided nothing needed publishing). */
  alertDelivered: boolean;
};

export type DeliveryRecord = {
  event: unknown;
  triage: TriageResult | null;
  /** The deployed EventBridge rule does not pass this event: it never reaches the intake. */
  filtered: boolean;
  executionName: string | null;
  started: boolean;
  error: string | null;
  executions: ExecutionRecord[];
};

/** What the runner needs from its surroundings; the composition (src/local/local-guard.ts) provides it. */
export type RunnerHooks = {
  clock: LocalClock;
  /** Counts of AWS calls made by the guard's clients so far, by operation. */
  awsCallCounts(): Record<string, number>;
  /** SNS messages published so far (the runner takes the new ones per execution). */
  publishedAlerts(): PublishedAlert[];
  /** The live endpoint settings of a cluster, read for the report. */
  readConfig(cluster: ClusterRef): Promise<EndpointConfig | null>;
  /** Real milliseconds each Wait state lasts (0 in tests; a little in the demo so progress is visible). */
  waitMs?: number;
  /**
   * Runs before every Task: the local guard hands the CloudTrail events emitted so far to the intake, as
   * EventBridge would while this execution waits, so changes made meanwhile reach the ledger in time.
   */
  beforeTask?: (task: { state: string; execution: string }) => Promise<void>;
  /** Runs once per finished execution (the local guard raises the stack's alarms here). */
  onExecutionFinished?: (record: ExecutionRecord) => Promise<void>;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Carries out an AWS SDK integration task (`arn:aws:states:::aws-sdk:SERVICE:ACTION`) against the
   * emulator through the real SDK, as the role of the task's `Credentials` (which aws-local-stepfunctions
   * does not evaluate: the runner does, from the state's input). Returns the response as Step Functions
   * does, with PascalCase field names; throws errors named as Step Functions names them (`Eks.…`).
   */
  awsSdk?: (call: SdkCall) => Promise<unknown>;
  /** The stack's account and region: where its state machines run, and so the region their SDK integrations call. */
  home?: { account: string; region: string };
  /** Run this enforcement definition instead of the deployed file (the benchmark's baselines). */
  definition?: Definition;
  /**
   * Emulated milliseconds each Task takes, by kind (default 0): the benchmark's model of a Lambda
   * invocation, an SDK call and starting a nested execution, so lags include more than the waits.
   */
  taskLatencyMs?: { lambda: number; sdk: number; execution: number };
};

/** One AWS SDK integration call of a Task state. */
export type SdkCall = { state: string; service: string; action: string; parameters: Record<string, unknown>; roleArn: string | null; region: string };

function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `local-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export type SweepOptions = {
  /**
   * The sweep functions' Lambda timeout (real ms): getRemainingTimeInMillis counts down from it, so a
   * small value forces SweepUnit to return continuations. Default 300,000 (as deployed).
   */
  lambdaTimeoutMs?: number;
  /** Wait states last their real seconds (a benchmark against a wall-clock rate limit); default: none, the clock is advanced. */
  realWaits?: boolean;
  /** Run the enforcement executions the sweep started (default true). */
  drain?: boolean;
};

/** What one run of the organization sweep state machine did. */
export type SweepRunRecord = {
  status: 'SUCCEEDED' | 'FAILED';
  error: string | null;
  coverage: CoverageRecord | null;
  alerted: boolean;
  /** Every state entered (nested Map states too) and every retry: what a Standard workflow bills. */
  stateTransitions: number;
  /** Invocations and real milliseconds spent, per function (listSweepUnits, sweepUnit, recordCoverage). */
  lambdaInvocations: Record<string, number>;
  lambdaMs: Record<string, number>;
  awsCalls: Record<string, number>;
  /** Enforcement executions the sweep started, by name. */
  started: string[];
  /** The executions run afterwards (empty when `drain` is false). */
  executions: ExecutionRecord[];
  /** Most units in progress at once (between their first SweepUnit and their end), and most SweepUnit Lambdas at once. */
  maxUnitsInFlight: number;
  maxLambdasInFlight: number;
  /** The largest state input or output seen (bytes of JSON): Step Functions refuses more than 256 KB. */
  maxPayloadBytes: number;
  /** Real milliseconds from start to end. */
  wallMs: number;
};

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d > 0) out[op] = d;
  }
  return out;
}

/** Reads `$.a.b` (the only JSONPath form the definition's SecondsPath uses) from a state's input. */
function readPath(input: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), input);
}

/** The role an SDK task acts as: its `Credentials.RoleArn`, or `RoleArn.$` read from the state's input. */
function roleArnOf(task: SdkTask, stateInput: unknown): string | null {
  if (task.roleArnPath) {
    const value = readPath(stateInput, task.roleArnPath);
    if (typeof value !== 'string' || value === '') {
      throw Object.assign(new Error(`The value for the field 'RoleArn.$' must be a role ARN; ${task.roleArnPath} is ${JSON.stringify(value ?? null)}`), { name: 'States.Runtime' });
    }
    return value;
  }
  return task.roleArn;
}

type Queued = { name: string; input: ExecutionInput; queuedAt: number };

/** A re-check the guard scheduled that has not run yet. */
export type PendingRecheck = { name: string; cluster: ClusterRef; dueAt: number; attempt: number };

export class LocalRunner {
  private readonly names = new Set<string>();
  private readonly queue: Queued[] = [];
  private readonly machines = new Map<string, StateMachine>();
  /** The organization sweep's machine, compiled on first use. */
  private sweepMachine?: { machine: StateMachine; loaded: ReturnType<typeof loadNestedDefinition> };
  // Re-checks start at once but sleep in their first Wait: run them when the clock reaches their time.
  private readonly scheduled: Queued[] = [];
  private loadedDefinition?: LoadedDefinition;
  private get loaded(): LoadedDefinition {
    this.loadedDefinition ??= this.hooks.definition ? analyzeDefinition(this.hooks.definition, `${DEFINITION_FILE} (overridden)`) : loadDefinition();
    return this.loadedDefinition;
  }
  /** The Express update tracker's machine, compiled on first use. */
  private trackerMachine?: { machine: StateMachine; loaded: LoadedDefinition };
  readonly executions: ExecutionRecord[] = [];

  /** The ExecutionPort the intake uses locally: names are unique, like a Standard workflow's. */
  readonly executionPort: ExecutionPort = {
    start: async (name, input) => {
      if (this.names.has(name)) return false;
      this.names.add(name);
      const queued = { name, input, queuedAt: this.hooks.clock.now() };
      if (input.trigger.kind === 'recheck') this.scheduled.push(queued);
      else this.queue.push(queued);
      return true;
    },
  };

  /** Re-checks scheduled and not yet run, earliest first. */
  pendingRechecks(): PendingRecheck[] {
    return [...this.scheduled]
      .sort((a, b) => a.input.startedAt - b.input.startedAt)
      .map((q) => ({ name: q.name, cluster: q.input.cluster, dueAt: q.input.startedAt, attempt: q.input.trigger.recheck?.attempt ?? 0 }));
  }

  /**
   * Runs every re-check due by `untilMs` (emulated), earliest first, each on its own time, together with
   * whatever it starts; re-checks it schedules within the horizon run too. Returns what ran.
   */
  async runDue(untilMs: number): Promise<ExecutionRecord[]> {
    const done: ExecutionRecord[] = [];
    for (;;) {
      this.scheduled.sort((a, b) => a.input.startedAt - b.input.startedAt);
      const next = this.scheduled[0];
      if (!next || next.input.startedAt > untilMs) return done;
      this.scheduled.shift();
      done.push(await this.run(next));
      done.push(...(await this.drain()));
    }
  }

  constructor(private readonly hooks: RunnerHooks) {}

  /**
   * Delivers one EventBridge event to the intake handler, then (unless `drain` is false, as while another
   * execution runs) every execution it started.
   */
  async deliver(event: unknown, options: { drain?: boolean } = {}): Promise<DeliveryRecord> {
    const record: DeliveryRecord = { event, triage: null, filtered: false, executionName: null, started: false, error: null, executions: [] };
    try {
      const result = (await LAMBDA_HANDLERS.triageEvent!(event as never, lambdaContext('triageEvent') as never)) as IntakeResult;
      record.triage = result.triage;
      record.executionName = result.executionName;
      record.started = result.started;
      const t = result.triage;
      this.hooks.onProgress?.({ kind: 'event', eventId: t.eventId, eventName: t.eventName, cluster: t.cluster, decision: t.decision, reason: t.reason, started: result.started });
    } catch (err) {
      record.error = `${(err as Error).name}: ${(err as Error).message}`;
    }
    if (options.drain !== false) record.executions = await this.drain();
    return record;
  }

  /** Records an event the EventBridge rule filters out, with what triage would have said of it. */
  filtered(event: unknown): DeliveryRecord {
    let triage: TriageResult | null = null;
    try {
      triage = triageEvent(event, { selfRoleArns: [] });
    } catch {
      /* not even a CloudTrail event: nothing more to say */
    }
    return { event, triage, filtered: true, executionName: null, started: false, error: null, executions: [] };
  }

  /** Records an event the rule passes but no member stack forwarded: in AWS it reaches nobody. */
  notForwarded(event: unknown, reason: string): DeliveryRecord {
    const record = { ...this.filtered(event), filtered: false, error: reason };
    const t = record.triage;
    if (t) this.hooks.onProgress?.({ kind: 'event', eventId: t.eventId, eventName: t.eventName, cluster: t.cluster, decision: 'not heard', reason: 'NOT_FORWARDED: no member stack there', started: false });
    return record;
  }

  /**
   * Runs the scheduled organization sweep (statemachine/sweep-organization.asl.yml) as the schedule
   * would, then every execution it started. A sweep whose coverage is incomplete says so in `error`.
   */
  async sweep(time: string): Promise<{ result: SweepRunRecord; error: string | null; executions: ExecutionRecord[] }> {
    const result = await this.sweepOrganization(time);
    const c = result.coverage;
    const incomplete = c ? coverageGaps(c) : null;
    return { result, error: result.error ?? incomplete, executions: result.executions };
  }

  async sweepOrganization(time: string, options: SweepOptions = {}): Promise<SweepRunRecord> {
    if (!this.sweepMachine) {
      const loaded = loadNestedDefinition(SWEEP_DEFINITION_FILE);
      const machine = new StateMachine(resolvedNestedDefinition(loaded.definition, '000000000000', 'local') as unknown as StateMachineDefinition, {
        validationOptions: { checkArn: false, checkPaths: true },
      });
      this.sweepMachine = { machine, loaded };
    }
    const { machine, loaded } = this.sweepMachine;
    const clock = this.hooks.clock;
    const timeoutMs = options.lambdaTimeoutMs ?? 300_000;
    const queuedBefore = this.queue.length;
    const callsBefore = this.hooks.awsCallCounts();
    const started = performance.now();
    const invocations: Record<string, number> = {};
    const lambdaMs: Record<string, number> = {};
    let inFlight = 0;
    let maxLambdas = 0;
    let maxPayload = 0;
    let recorded: RecordCoverageResult | undefined;
    const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v ?? null), 'utf8');
    const logCaughtUp = () => new Promise<void>((resolve) => setImmediate(resolve));

    const taskHandlers = Object.fromEntries(
      Object.entries(loaded.taskFunctions).map(([stateName, fn]) => {
        const handler = LAMBDA_HANDLERS[fn];
        if (!handler) throw new Error(`state ${stateName} invokes ${fn}, which has no handler in src/local/handlers.ts`);
        return [
          stateName,
          async (input: unknown) => {
            await logCaughtUp();
            invocations[fn] = (invocations[fn] ?? 0) + 1;
            inFlight += 1;
            maxLambdas = Math.max(maxLambdas, inFlight);
            maxPayload = Math.max(maxPayload, size(input));
            const t0 = performance.now();
            const context = { ...lambdaContext(fn), getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (performance.now() - t0)) };
            try {
              const result = await handler(input as never, context as never);
              maxPayload = Math.max(maxPayload, size(result));
              if (fn === 'recordCoverage') recorded = result as RecordCoverageResult;
              return result as never;
            } finally {
              inFlight -= 1;
              lambdaMs[fn] = (lambdaMs[fn] ?? 0) + (performance.now() - t0);
            }
          },
        ];
      }),
    );
    const waitStates = Object.keys(loaded.waits);
    const execution = machine.run({ version: '0', id: `local-sweep-${time}`, 'detail-type': 'Scheduled Event', source: 'aws.events', time, detail: {} } as never, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        ...(options.realWaits ? {} : { waitTimeOverrides: Object.fromEntries(waitStates.map((n) => [n, this.hooks.waitMs ?? 0])) }),
        retryIntervalOverrides: Object.fromEntries(Object.keys(loaded.taskFunctions).map((n) => [n, 0])),
      },
      context: {
        Execution: { Name: `sweep-${time.replace(/[^0-9]/g, '')}`, StartTime: new Date(clock.now()).toISOString() },
        StateMachine: { Id: 'arn:aws:states:local:000000000000:stateMachine:eks-endpoint-guard-local-sweep', Name: 'eks-endpoint-guard-local-sweep' },
      },
    });
    let transitions = 0;
    const units = new Set<number>();
    let maxUnits = 0;
    const logReader = (async () => {
      for await (const ev of execution.eventLogs) {
        if (ev.type === 'StateRetried') transitions += 1;
        if (ev.type !== 'StateEntered') continue;
        transitions += 1;
        const index = (ev as { index?: number }).index;
        if (index !== undefined) {
          if (ev.state.name === 'UnitFinished' || ev.state.name === 'UnitFailed') units.delete(index);
          else units.add(index);
          maxUnits = Math.max(maxUnits, units.size);
        }
        const path = loaded.waits[ev.state.name];
        if (path && !options.realWaits) {
          const seconds = Number(readPath(ev.state.input, path));
          if (Number.isFinite(seconds) && seconds > 0) clock.advance(seconds * 1000);
        }
      }
    })();
    let status: SweepRunRecord['status'] = 'SUCCEEDED';
    let error: string | null = null;
    try {
      await execution.result;
    } catch (err) {
      status = 'FAILED';
      error = `${(err as Error).name}: ${(err as Error).message}`;
    }
    await logReader;
    const wallMs = performance.now() - started;
    const startedNames = this.queue.slice(queuedBefore).map((q) => q.name);
    const awsCalls = diff(this.hooks.awsCallCounts(), callsBefore);
    const executions = options.drain === false ? [] : await this.drain();
    return {
      status,
      error,
      coverage: recorded?.record ?? null,
      alerted: recorded?.alerted ?? false,
      stateTransitions: transitions,
      lambdaInvocations: invocations,
      lambdaMs,
      awsCalls,
      started: startedNames,
      executions,
      maxUnitsInFlight: maxUnits,
      maxLambdasInFlight: maxLambdas,
      maxPayloadBytes: maxPayload,
      wallMs,
    };
  }

  /** Runs the queued executions, one at a time, in the order they were started. */
  async drain(): Promise<ExecutionRecord[]> {
    const done: ExecutionRecord[] = [];
    for (let next = this.queue.shift(); next; next = this.queue.shift()) done.push(await this.run(next));
    return done;
  }

  /** One compiled machine per account and region: building one validates the definition, which is slow. */
  private machineFor(account: string, region: string): StateMachine {
    const key = `${account}/${region}`;
    let machine = this.machines.get(key);
    if (!machine) {
      const { definition, taskFunctions } = this.loaded;
      machine = new StateMachine(resolvedDefinition(definition, taskFunctions, account, region) as unknown as StateMachineDefinition, {
        validationOptions: { checkArn: false, checkPaths: true },
      });
      this.machines.set(key, machine);
    }
    return machine;
  }

  /** Advances the emulated clock by the modelled time of one Task (see RunnerHooks.taskLatencyMs). */
  private latency(kind: 'lambda' | 'sdk' | 'execution'): void {
    const ms = this.hooks.taskLatencyMs?.[kind] ?? 0;
    if (ms > 0) this.hooks.clock.advance(ms);
  }

  /**
   * Runs one execution of the Express update tracker (statemachine/track-change.asl.yml) to its end, on
   * the emulated clock, and returns its output; a failed or timed-out run throws `States.TaskFailed`, as
   * the parent's `.sync` Task sees it. Its SDK tasks go to `awsSdk` as the role their `Credentials` name.
   */
  private async runTracker(input: unknown, parent: { execution: string; childName: string; byFunction: Record<string, number>; tracker: ExecutionRecord['tracker'] }): Promise<unknown> {
    if (!this.trackerMachine) {
      const loaded = loadDefinition(TRACKER_DEFINITION_FILE);
      const home = this.hooks.home ?? { account: '000000000000', region: 'local' };
      const machine = new StateMachine(resolvedDefinition(loaded.definition, loaded.taskFunctions, home.account, home.region) as unknown as StateMachineDefinition, {
        validationOptions: { checkArn: false, checkPaths: true },
      });
      this.trackerMachine = { machine, loaded };
    }
    const { machine, loaded } = this.trackerMachine;
    const { definition, taskFunctions, sdkTasks } = loaded;
    const clock = this.hooks.clock;
    const started = clock.now();
    const timeoutMs = (definition.TimeoutSeconds ?? 300) * 1000;
    let timedOut = false;
    // aws-local-stepfunctions hands a Task its Parameters only; `Credentials` are evaluated against the
    // state's own input, which the event log carries (StateEntered comes before the Task runs).
    const rawInputs = new Map<string, unknown>();
    const logCaughtUp = () => new Promise<void>((resolve) => setImmediate(resolve));
    // eslint-disable-next-line prefer-const -- assigned below, used by the handlers once the run has started
    let execution: ReturnType<StateMachine['run']>;
    const beforeTask = async (state: string) => {
      await logCaughtUp();
      if (clock.now() - started > timeoutMs) {
        timedOut = true;
        execution.abort();
        return false;
      }
      await this.hooks.beforeTask?.({ state, execution: parent.execution });
      return true;
    };
    const handlers: Record<string, (params: unknown) => Promise<never>> = {};
    for (const [stateName, fn] of Object.entries(taskFunctions)) {
      const handler = LAMBDA_HANDLERS[fn];
      if (!handler) throw new Error(`tracker state ${stateName} invokes ${fn}, which has no handler in src/local/handlers.ts`);
      handlers[stateName] = async (params: unknown) => {
        parent.byFunction[fn] = (parent.byFunction[fn] ?? 0) + 1;
        if (!(await beforeTask(stateName))) return {} as never;
        this.latency('lambda');
        return (await handler(params as never, lambdaContext(fn) as never)) as never;
      };
    }
    for (const [stateName, task] of Object.entries(sdkTasks)) {
      handlers[stateName] = async (params: unknown) => {
        if (!(await beforeTask(stateName))) return {} as never;
        if (!this.hooks.awsSdk) throw new Error(`tracker state ${stateName} calls ${task.service}:${task.action}, and this runner has no awsSdk hook`);
        const roleArn = roleArnOf(task, rawInputs.get(stateName));
        this.latency('sdk');
        const region = this.hooks.home?.region ?? 'us-east-1';
        return (await this.hooks.awsSdk({ state: stateName, service: task.service, action: task.action, parameters: params as Record<string, unknown>, roleArn, region })) as never;
      };
    }
    parent.tracker.executions += 1;
    execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides: Object.fromEntries(Object.entries(definition.States).filter(([, st]) => st.Type === 'Wait').map(([n]) => [n, this.hooks.waitMs ?? 0])),
        retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((n) => [n, 0])),
      },
      context: { Execution: { Name: parent.childName, StartTime: new Date(started).toISOString() } },
    });
    const logReader = (async () => {
      for await (const ev of execution.eventLogs) {
        if (ev.type === 'StateRetried') parent.tracker.transitions += 1;
        if (ev.type !== 'StateEntered') continue;
        parent.tracker.transitions += 1;
        rawInputs.set(ev.state.name, ev.state.input);
        const state = definition.States[ev.state.name];
        if (state?.Type !== 'Wait') continue;
        const seconds = state.SecondsPath ? Number(readPath(ev.state.input, state.SecondsPath)) : Number(state.Seconds ?? 0);
        if (Number.isFinite(seconds) && seconds > 0) clock.advance(seconds * 1000);
      }
    })();
    try {
      return await execution.result;
    } catch (err) {
      const cause = timedOut ? `States.Timeout: the tracker ran past its TimeoutSeconds (${timeoutMs / 1000} s)` : `${(err as Error).name}: ${(err as Error).message}`;
      throw Object.assign(new Error(`the tracker execution ${parent.childName} failed: ${cause}`), { name: 'States.TaskFailed' });
    } finally {
      await logReader;
      // Express bills each execution's duration in 100 ms steps.
      parent.tracker.billedMs += Math.max(100, Math.ceil((clock.now() - started) / 100) * 100);
    }
  }

  private async run(queued: Queued): Promise<ExecutionRecord> {
    const { name, input, queuedAt } = queued;
    const { definition, taskFunctions, integrations } = this.loaded;
    const clock = this.hooks.clock;
    const startedClock = clock.now();
    const callsBefore = this.hooks.awsCallCounts();
    const alertsBefore = this.hooks.publishedAlerts().length;
    const states: string[] = [];
    let transitions = 0;
    const byFunction: Record<string, number> = {};
    const tracker = { executions: 0, billedMs: 0, transitions: 0 };
    const latency = this.latency.bind(this);
    // A failed execution has no output to read: keep what NotifyOutcome/NotifyFailure returned.
    let notification: NotifyResult | undefined;
    // And what RecordOutcome decided: when the alert cannot be published, the outcome still happened.
    let recorded: RecordResult | undefined;
    const timeoutSeconds = (definition as { TimeoutSeconds?: number }).TimeoutSeconds;
    const timeoutMs = typeof timeoutSeconds === 'number' ? timeoutSeconds * 1000 : null;
    let timedOut = false;

    // Wait states advance the emulator's clock when they are entered. Events are dispatched
    // synchronously and read in microtasks, so by the next macrotask the log reader has seen the Wait
    // (and moved the clock) that came before this Task: the Lambda never runs early.
    const logCaughtUp = () => new Promise<void>((resolve) => setImmediate(resolve));
    // eslint-disable-next-line prefer-const -- assigned below, used by the handlers once the run has started
    let execution: ReturnType<StateMachine['run']>;
    const taskHandlers = Object.fromEntries(
      Object.entries(taskFunctions).map(([stateName, fn]) => {
        const handler = LAMBDA_HANDLERS[fn];
        if (!handler) throw new Error(`state ${stateName} invokes ${fn}, which has no handler in src/local/handlers.ts`);
        return [
          stateName,
          async (stateInput: unknown) => {
            byFunction[fn] = (byFunction[fn] ?? 0) + 1;
            await logCaughtUp();
            // Step Functions ends an execution at the definition's TimeoutSeconds (emulated time here).
            if (timeoutMs !== null && clock.now() - startedClock > timeoutMs) {
              timedOut = true;
              execution.abort();
              return {} as never;
            }
            await this.hooks.beforeTask?.({ state: stateName, execution: name });
            latency('lambda');
            const result = await handler(stateInput as never, lambdaContext(fn) as never);
            if (fn === 'notifyOutcome') notification = result as NotifyResult;
            if (fn === 'recordOutcome') recorded = result as RecordResult;
            return result as never;
          },
        ];
      }),
    );
    const stateMachineArn = `arn:aws:states:${input.cluster.region}:${input.cluster.account}:stateMachine:eks-endpoint-guard-local`;
    // Step Functions service integrations, carried out against the local runner itself.
    for (const [stateName, integration] of Object.entries(integrations)) {
      if (integration === 'arn:aws:states:::states:startExecution.sync:2') {
        // A nested execution of the Express update tracker, run to its end before the Task returns (.sync).
        taskHandlers[stateName] = async (params: unknown) => {
          await logCaughtUp();
          if (timeoutMs !== null && clock.now() - startedClock > timeoutMs) {
            timedOut = true;
            execution.abort();
            return {} as never;
          }
          await this.hooks.beforeTask?.({ state: stateName, execution: name });
          const p = params as { StateMachineArn: string; Input: unknown };
          const trackerArn = localStateMachineArn(TRACKER_LOGICAL_ID, input.cluster.account, input.cluster.region);
          if (p.StateMachineArn !== trackerArn) throw Object.assign(new Error(`${stateName} starts ${p.StateMachineArn}, which is not the stack's tracker (${trackerArn})`), { name: 'StepFunctions.StateMachineDoesNotExistException' });
          latency('execution');
          const startDate = new Date(clock.now()).toISOString();
          const childName = `${name}-${stateName}-${tracker.executions + 1}`;
          const output = await this.runTracker(p.Input, { execution: name, childName, byFunction, tracker });
          return { ExecutionArn: `${trackerArn.replace(':stateMachine:', ':express:')}:${childName}`, Output: output, Status: 'SUCCEEDED', StartDate: startDate, StopDate: new Date(clock.now()).toISOString() } as never;
        };
        continue;
      }
      if (integration !== 'arn:aws:states:::states:startExecution') continue;
      taskHandlers[stateName] = async (params: unknown) => {
        await logCaughtUp();
        const p = params as { StateMachineArn: string; Name: string; Input: ExecutionInput };
        if (!(await this.executionPort.start(p.Name, p.Input))) {
          const err = new Error(`Execution Already Exists: '${p.StateMachineArn}:${p.Name}'`);
          err.name = 'StepFunctions.ExecutionAlreadyExistsException';
          throw err;
        }
        return { ExecutionArn: `${p.StateMachineArn.replace(':stateMachine:', ':execution:')}:${p.Name}`, StartDate: new Date(clock.now()).toISOString() } as never;
      };
    }
    const waitStates = Object.entries(definition.States).filter(([, s]) => s.Type === 'Wait');
    const machine = this.machineFor(input.cluster.account, input.cluster.region);
    execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: Object.fromEntries(waitStates.map(([n]) => [n, this.hooks.waitMs ?? 0])),
        retryIntervalOverrides: Object.fromEntries([...Object.keys(taskFunctions), ...Object.keys(integrations)].map((n) => [n, 0])),
      },
      context: { Execution: { Id: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`, Name: name, StartTime: new Date(startedClock).toISOString() }, StateMachine: { Id: stateMachineArn, Name: 'eks-endpoint-guard-local' } },
    });

    // An execution's time runs from when it was started, even if the runner got to it later (it was
    // queued behind another, or it is a re-check sleeping until its time): its first Wait ends then.
    let firstWait = true;
    const logReader = (async () => {
      for await (const ev of execution.eventLogs) {
        if (ev.type === 'StateEntered') {
          transitions += 1;
          states.push(ev.state.name);
          const state = definition.States[ev.state.name];
          const seconds = state?.Type !== 'Wait' ? null : state.SecondsPath ? Number(readPath(ev.state.input, state.SecondsPath)) : typeof state.Seconds === 'number' ? state.Seconds : null;
          const elapsedSeconds = Math.round((clock.now() - startedClock) / 1000);
          this.hooks.onProgress?.({ kind: 'state', execution: name, cluster: input.cluster, state: ev.state.name, type: state?.Type ?? '?', waitSeconds: seconds, elapsedSeconds });
          if (seconds !== null && Number.isFinite(seconds) && seconds > 0) {
            // Only a Wait that comes before anything else moved this execution's time (a re-check's first
            // pause) catches up from when it was started; after tracker runs it lasts its own seconds.
            const from = firstWait && clock.now() === startedClock ? queuedAt : clock.now();
            firstWait = false;
            clock.advance(Math.max(0, from + seconds * 1000 - clock.now()));
          }
        } else if (ev.type === 'StateRetried') {
          transitions += 1;
        }
      }
    })();

    let status: ExecutionRecord['status'] = 'SUCCEEDED';
    let output: ExecutionState | null = null;
    let error: string | null = null;
    try {
      output = (await execution.result) as unknown as ExecutionState;
    } catch (err) {
      status = timedOut ? 'TIMED_OUT' : 'FAILED';
      error = timedOut ? `States.Timeout: the execution ran past the definition's TimeoutSeconds (${timeoutSeconds} s)` : (err as Error).message;
    }
    await logReader;

    const alerts = this.hooks.publishedAlerts().slice(alertsBefore);
    notification ??= (output as { notification?: NotifyResult } | null)?.notification;
    const outcome: Outcome = timedOut ? 'failed' : (notification?.outcome ?? recorded?.outcome ?? 'failed');
    const alertDelivered = notification !== undefined;
    const record: ExecutionRecord = {
      name,
      eventId: input.trigger.eventId,
      cluster: input.cluster,
      input,
      status,
      outcome,
      stateTransitions: transitions,
      states,
      lambdaInvocations: Object.values(byFunction).reduce((a, b) => a + b, 0),
      lambdaByFunction: byFunction,
      tracker,
      awsCalls: diff(this.hooks.awsCallCounts(), callsBefore),
      alerts,
      finalConfig: await this.hooks.readConfig(input.cluster),
      elapsedSeconds: Math.round((clock.now() - startedClock) / 1000),
      error: notification?.reason ?? (alertDelivered ? null : `alert not delivered: ${error ?? 'NotifyOutcome did not run'}`) ?? error,
      alertDelivered,
    };
    this.executions.push(record);
    await this.hooks.onExecutionFinished?.(record);
    this.hooks.onProgress?.({ kind: 'finished', execution: name, cluster: input.cluster, outcome, elapsedSeconds: record.elapsedSeconds, stateTransitions: transitions });
    return record;
  }
}

/**
 * One line saying why a sweep's coverage is incomplete, or null when it is complete: what stops the
 * whole sweep first (the organization unreadable, configuration problems), then uncovered accounts,
 * then partial and failed account-regions (named, the first few), then clusters not judged.
 */
function coverageGaps(c: CoverageRecord): string | null {
  if (c.complete) return null;
  const named = 5;
  const list = (items: string[]) => items.slice(0, named).join(', ') + (items.length > named ? ` and ${items.length - named} more` : '');
  const units = (status: 'partial' | 'failed') => c.errors.filter((e) => e.status === status).map((e) => `${e.account} ${e.region}`);
  const parts: string[] = [];
  if (c.planError) parts.push(c.planError);
  const problems = c.configurationProblems;
  if (problems.length > 0) parts.push(`${problems.length} configuration problem(s): ${problems.slice(0, 2).join('; ')}${problems.length > 2 ? '; ...' : ''}`);
  if (c.accounts.uncovered.length > 0) parts.push(`uncovered accounts ${list(c.accounts.uncovered)}`);
  if (c.units.partial > 0) parts.push(`${c.units.partial} partial account-region(s)${units('partial').length ? ` (${list(units('partial'))})` : ''}`);
  if (c.units.failed > 0) parts.push(`${c.units.failed} failed account-region(s)${units('failed').length ? ` (${list(units('failed'))})` : ''}`);
  const notJudged = c.clusters.notJudged - (c.clusters.notJudgedByReason.DELETED ?? 0);
  if (notJudged > 0) parts.push(`${notJudged} cluster(s) not judged`);
  const other = c.errors.filter((e) => e.status === 'sweep' && e.error !== c.planError && !problems.includes(e.error)).map((e) => e.error);
  parts.push(...other);
  return `coverage incomplete: ${parts.join('; ') || 'see the coverage record'}`;
}
