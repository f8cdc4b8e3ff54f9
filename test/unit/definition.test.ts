/**
 * The structure of the state machine definition (statemachine/enforce-endpoint.asl.yml), read as the
 * deployment and the local runner read it (src/local/definition.ts). Checks what a typo or a careless
 * edit would break: retries only of transient errors, a Catch on every Task, Wait states driven by the
 * steps' waitSeconds, no dangling or unreachable state, and one real Lambda handler per Task.
 */
import { existsSync } from 'node:fs';
import { LAMBDA_HANDLERS } from '../../src/local/handlers';
import { loadDefinition, TRACKER_DEFINITION_FILE, TRACKER_LOGICAL_ID } from '../../src/local/definition';
import { NOT_DONE_CLUSTER, NOT_DONE_UPDATE } from '../../src/workflow/steps';
import { TRACK_MAX_POLLS, TRACK_POLL_SECONDS } from '../../src/workflow/tracking';

type Retrier = { ErrorEquals: string[]; MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number };
type Catcher = { ErrorEquals: string[]; Next: string; ResultPath?: string };
type Choice = { Variable?: string; Next: string; And?: Choice[]; Or?: Choice[]; Not?: Choice };
type State = {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Choice[];
  Retry?: Retrier[];
  Catch?: Catcher[];
  ResultPath?: string;
  Seconds?: number;
  SecondsPath?: string;
  Error?: string;
  Cause?: string;
};

const { definition, taskFunctions, integrations } = loadDefinition();
const states = definition.States as unknown as Record<string, State>;
const names = Object.keys(states);
const byType = (type: string) => names.filter((n) => states[n]!.Type === type);
const tasks = byType('Task');
/** Tasks that invoke a Lambda function of this service (ScheduleRecheck calls Step Functions itself). */
const lambdaTasks = tasks.filter((n) => taskFunctions[n] !== undefined);

/** Errors that may succeed when repeated: our TransientAwsError and the Lambda service's own. */
const TRANSIENT = new Set(['TransientAwsError', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException']);
/** The same for the Step Functions service integration: the SDK's own client and service errors, and timeouts. */
const TRANSIENT_SFN = new Set(['StepFunctions.SdkClientException', 'StepFunctions.AWSStepFunctionsException', 'States.Timeout']);
/** The tasks of the end of every path: their failures do not go back to RecordOutcome. */
const CLOSERS = new Set(['RecordOutcome', 'ScheduleRecheck', 'NotifyOutcome']);
/** The tracker Tasks: their failure falls back to a Wait state, then the function polls itself. */
const TRACKERS: Record<string, { poll: string; pause: string; result: string; track: string }> = {
  TrackChange: { poll: 'WaitForChange', pause: 'PauseBeforeChangePoll', result: '$.changeTracking', track: '$.change.track' },
  TrackRevert: { poll: 'WaitForRevert', pause: 'PauseBeforeRevertPoll', result: '$.revertTracking', track: '$.revert.track' },
  TrackBusyCluster: { poll: 'EvaluateCluster', pause: 'PauseBeforeEvaluation', result: '$.busyTracking', track: '$.assessment.track' },
};
/** Tasks whose failure must not hold the revert up: a short retry, then on along the path. */
const COURTESIES = new Set(['NotifyDetection', 'UpdateFinding']);

function successors(state: State): string[] {
  const out: string[] = [];
  if (state.Next) out.push(state.Next);
  if (state.Default) out.push(state.Default);
  for (const choice of state.Choices ?? []) out.push(choice.Next);
  for (const c of state.Catch ?? []) out.push(c.Next);
  return out;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('state machine definition', () => {
  it('starts with the re-check choice, then WaitForChange, and has every Task of the workflow', () => {
    expect(definition.StartAt).toBe('IsRecheck');
    expect(states.IsRecheck!.Default).toBe('WaitForChange');
    expect(tasks.sort()).toEqual(['AcquireLease', 'EvaluateCluster', 'NotifyDetection', 'NotifyOutcome', 'PreflightCheck', 'RecordOutcome', 'RemediateCluster', 'ScheduleRecheck', 'TrackBusyCluster', 'TrackChange', 'TrackRevert', 'UpdateFinding', 'VerifyRemediation', 'WaitForChange', 'WaitForRevert']);
    expect(integrations).toEqual({
      ScheduleRecheck: 'arn:aws:states:::states:startExecution',
      TrackChange: 'arn:aws:states:::states:startExecution.sync:2',
      TrackRevert: 'arn:aws:states:::states:startExecution.sync:2',
      TrackBusyCluster: 'arn:aws:states:::states:startExecution.sync:2',
    });
  });

  it.each(lambdaTasks.filter((n) => !COURTESIES.has(n)))('%s retries only transient errors, for more than 15 minutes on average and with a bound', (name) => {
    const retry = (states[name]!.Retry ?? []) as (Retrier & { MaxDelaySeconds?: number; JitterStrategy?: string })[];

    expect(retry.length).toBeGreaterThan(0);
    for (const r of retry) {
      expect(r.ErrorEquals).not.toContain('States.ALL');
      expect(r.ErrorEquals).not.toContain('States.TaskFailed');
      for (const error of r.ErrorEquals) expect(TRANSIENT).toContain(error);
      expect(r.MaxAttempts).toBeGreaterThan(0);
      expect(r.MaxAttempts).toBeLessThanOrEqual(40);
      // Full jitter halves the mean delay: the mean of all delays must still exceed 15 minutes.
      let delay = r.IntervalSeconds ?? 1;
      let total = 0;
      for (let i = 0; i < r.MaxAttempts!; i += 1) {
        total += Math.min(delay, r.MaxDelaySeconds ?? Infinity);
        delay *= r.BackoffRate ?? 2;
      }
      const mean = r.JitterStrategy === 'FULL' ? total / 2 : total;
      expect(mean).toBeGreaterThan(15 * 60);
    }
    expect(retry.flatMap((r) => r.ErrorEquals)).toContain('TransientAwsError');
  });

  it('ScheduleRecheck retries only Step Functions service errors and treats an existing execution as done', () => {
    const s = states.ScheduleRecheck! as State & { Parameters?: Record<string, string> };
    for (const r of s.Retry ?? []) for (const error of r.ErrorEquals) expect(TRANSIENT_SFN).toContain(error);
    expect(s.Catch!.map((c) => c.ErrorEquals)).toEqual([['StepFunctions.ExecutionAlreadyExistsException'], ['States.ALL']]);
    expect(s.Catch!.every((c) => c.Next === 'NotifyOutcome')).toBe(true);
    expect(s.Parameters).toEqual({ 'StateMachineArn.$': '$$.StateMachine.Id', 'Name.$': '$.record.recheck.name', 'Input.$': '$.record.recheck.input' });
  });

  it('NotifyDetection retries transient errors briefly, then goes on to PreflightCheck whatever happened, once per execution', () => {
    const s = states.NotifyDetection!;
    for (const r of s.Retry ?? []) {
      for (const error of r.ErrorEquals) expect(TRANSIENT).toContain(error);
      expect(r.MaxAttempts).toBeLessThanOrEqual(3);
    }
    expect(s.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.detection', Next: 'PreflightCheck' }]);
    expect(s.Next).toBe('PreflightCheck');
    expect(states.AssessmentReady!.Choices).toContainEqual({ Variable: '$.assessment.evaluation.action', StringEquals: 'remediate', Next: 'DetectionSent' });
    expect(states.DetectionSent!.Choices).toEqual([{ Variable: '$.detection', IsPresent: true, Next: 'PreflightCheck' }]);
    expect(states.DetectionSent!.Default).toBe('NotifyDetection');
  });

  it.each(Object.entries(TRACKERS))('%s runs the Express tracker and waits for it; polls again after it, and falls back to a Wait state when it fails', (name, t) => {
    const s = states[name]! as State & { Parameters?: Record<string, unknown>; ResultSelector?: Record<string, string> };

    expect(s.Parameters).toEqual({ StateMachineArn: { Ref: TRACKER_LOGICAL_ID }, Input: { 'track.$': t.track, count: { n: 0 }, 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id' } });
    expect(s.ResultSelector).toEqual({ 'done.$': '$.Output.done', 'status.$': '$.Output.status', 'polls.$': '$.Output.polls' });
    expect(s.ResultPath).toBe(t.result);
    expect(s.Next).toBe(t.poll);
    for (const r of s.Retry ?? []) for (const error of r.ErrorEquals) expect(error).toMatch(/^StepFunctions\./);
    expect(s.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: t.result, Next: t.pause }]);
    expect(states[t.pause]).toMatchObject({ Type: 'Wait', Next: t.poll });
    // The poll's Choice sends an unfinished change to the tracker, never straight to a Wait.
    const settled = names.find((n) => states[n]!.Type === 'Choice' && (states[n]!.Choices ?? []).some((c) => c.Next === name))!;
    expect(states[t.poll]!.Next).toBe(settled);
  });

  it.each(tasks.filter((n) => !CLOSERS.has(n) && !COURTESIES.has(n) && !TRACKERS[n]))('%s catches everything else into RecordOutcome', (name) => {
    const catchers = states[name]!.Catch ?? [];

    expect(catchers).toHaveLength(1);
    expect(catchers[0]!.ErrorEquals).toEqual(['States.ALL']);
    expect(catchers[0]!.Next).toBe('RecordOutcome');
    // The error must not overwrite the execution state the outcome is decided from.
    expect(catchers[0]!.ResultPath).toBe('$.failure');
  });

  it('RecordOutcome failing still alerts; NotifyOutcome failing fails the execution visibly', () => {
    expect(states.RecordOutcome!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordFailure', Next: 'NotifyOutcome' }]);
    expect(states.NotifyOutcome!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.notificationFailure', Next: 'Failed' }]);
  });

  it('a re-check waits its delay first, and only a scheduled re-check takes that path', () => {
    expect(states.IsRecheck!.Choices).toEqual([{ Variable: '$.trigger.kind', StringEquals: 'recheck', Next: 'PauseBeforeRecheck' }]);
    expect(states.PauseBeforeRecheck).toMatchObject({ Type: 'Wait', SecondsPath: '$.trigger.delaySeconds', Next: 'WaitForChange' });
    expect(states.RecheckNeeded!.Choices).toEqual([{ Variable: '$.record.recheck.name', IsPresent: true, Next: 'ScheduleRecheck' }]);
  });

  it('a stale cluster is judged again before anything is written', () => {
    expect(states.RevertStarted!.Choices).toContainEqual({ Variable: '$.remediation.status', StringEquals: 'stale', Next: 'EvaluateCluster' });
  });

  it.each(tasks)('%s stores its result under its own key', (name) => {
    expect(states[name]!.ResultPath).toMatch(/^\$\.[A-Za-z]+$/);
  });

  it('every Task writes a different key', () => {
    const paths = tasks.map((n) => states[n]!.ResultPath);

    expect(new Set(paths).size).toBe(paths.length);
  });

  it.each(byType('Wait').filter((n) => n !== 'PauseBeforeRecheck'))('%s waits for the seconds a step returned (SecondsPath under a Task\'s result)', (name) => {
    const wait = states[name]!;
    const taskResults = new Set(tasks.map((t) => states[t]!.ResultPath));

    expect(wait.Seconds).toBeUndefined();
    expect(wait.SecondsPath).toMatch(/^\$\.[A-Za-z]+\.waitSeconds$/);
    expect(taskResults).toContain(wait.SecondsPath!.replace(/\.waitSeconds$/, ''));
  });

  it.each(byType('Choice'))('%s branches only on what a Task stored (or the trigger), and has a Default', (name) => {
    const choice = states[name]!;
    const taskResults = [...new Set([...tasks.filter((t) => !TRACKERS[t]).map((t) => states[t]!.ResultPath!), '$.trigger'])];

    expect(choice.Default).toBeDefined();
    for (const c of choice.Choices ?? []) {
      const rules = (c as { And?: { Variable?: string }[] }).And ?? [c];
      for (const rule of rules) {
        expect(rule.Variable).toBeDefined();
        expect(taskResults.some((r) => rule.Variable === r || rule.Variable!.startsWith(`${r}.`))).toBe(true);
      }
    }
  });

  it.each(names)('every transition of %s goes to a state that exists', (name) => {
    for (const next of successors(states[name]!)) expect(names).toContain(next);
  });

  it('every state is reachable from StartAt', () => {
    const seen = new Set<string>([definition.StartAt]);
    const queue = [definition.StartAt];
    while (queue.length > 0) {
      for (const next of successors(states[queue.shift()!]!)) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }

    expect([...seen].sort()).toEqual([...names].sort());
  });

  it('every non-terminal state says where to go next', () => {
    for (const name of names) {
      const s = states[name]!;
      if (s.Type === 'Fail' || s.Type === 'Succeed' || s.Type === 'Choice') continue;
      expect({ name, next: s.Next ?? (s.End ? 'End' : undefined) }).toEqual({ name, next: expect.any(String) });
    }
  });

  it('Failed is a Fail state with an error name; Done is the only Succeed', () => {
    expect(states.Failed).toMatchObject({ Type: 'Fail', Error: expect.any(String), Cause: expect.any(String) });
    expect(byType('Succeed')).toEqual(['Done']);
  });

  it('only a failed outcome on-call was told of (or an unexpected error) ends in Failed: a quiet repeat does not page the operations topic', () => {
    const toFailed = names.filter((n) => successors(states[n]!).includes('Failed')).sort();

    expect(toFailed).toEqual(['NotifyOutcome', 'OutcomeIsFailure']);
    expect(states.OutcomeIsFailure!.Choices).toEqual([
      { And: [{ Variable: '$.notification.outcome', StringEquals: 'failed' }, { Variable: '$.notification.published', BooleanEquals: true }], Next: 'Failed' },
    ]);
  });

  it.each(lambdaTasks)('%s invokes a function of this service that has a real handler', (name) => {
    const fn = taskFunctions[name]!;

    expect(fn).toMatch(/^[a-z][A-Za-z]+$/);
    expect(typeof LAMBDA_HANDLERS[fn]).toBe('function');
    expect(existsSync(new URL(`../../handlers/${kebab(fn)}.ts`, import.meta.url))).toBe(true);
  });

  it('one name per step: a Task\'s function is the Task\'s name in camelCase', () => {
    for (const name of lambdaTasks) expect({ name, fn: taskFunctions[name] }).toEqual({ name, fn: name[0]!.toLowerCase() + name.slice(1) });
  });

  it('has an overall timeout longer than the steps\' wait budget default (3600 s)', () => {
    const timeout = (definition as unknown as { TimeoutSeconds?: number }).TimeoutSeconds;

    expect(timeout).toBeGreaterThan(3600);
  });
});

describe('Express update tracker definition', () => {
  const tracker = loadDefinition(TRACKER_DEFINITION_FILE);
  const t = tracker.definition.States as unknown as Record<string, State & { Credentials?: Record<string, string>; Parameters?: Record<string, unknown>; ResultSelector?: Record<string, string> }>;
  const choiceStatuses = (name: string) =>
    (t[name]!.Choices ?? []).flatMap((c) => (c.Or ?? [c]).map((r) => (r as { StringEquals?: string }).StringEquals)).sort();

  it('lasts at most the 5 minutes an Express execution may run, with room for its polls and their retries', () => {
    expect(tracker.definition.TimeoutSeconds).toBeLessThanOrEqual(300);
    expect(TRACK_MAX_POLLS * TRACK_POLL_SECONDS).toBeLessThanOrEqual(tracker.definition.TimeoutSeconds! - 30);
  });

  it('polls EKS through SDK integrations as the role the input names (Credentials), and other regions through pollChange', () => {
    expect(tracker.sdkTasks).toEqual({
      DescribeUpdate: { service: 'eks', action: 'describeUpdate', roleArn: null, roleArnPath: '$.track.roleArn' },
      DescribeCluster: { service: 'eks', action: 'describeCluster', roleArn: null, roleArnPath: '$.track.roleArn' },
    });
    expect(tracker.taskFunctions).toEqual({ PollChange: 'pollChange' });
    expect(typeof LAMBDA_HANDLERS.pollChange).toBe('function');
    expect(t.PollVia!.Choices).toEqual([
      { Variable: '$.track.via', StringEquals: 'lambda', Next: 'PollChange' },
      { Variable: '$.track.updateId', IsNull: true, Next: 'DescribeCluster' },
    ]);
  });

  it('treats as unfinished exactly the statuses the functions do', () => {
    expect(choiceStatuses('UpdateInProgress')).toEqual([...NOT_DONE_UPDATE].sort());
    expect(choiceStatuses('ClusterInProgress')).toEqual([...NOT_DONE_CLUSTER].sort());
  });

  it('retries only transient errors, briefly, and catches only a deleted cluster (the parent falls back on the rest)', () => {
    for (const name of ['DescribeUpdate', 'DescribeCluster', 'PollChange']) {
      // A deleted cluster ends the run as settled (NOT_FOUND), so the next step finds it gone without a fallback wait.
      expect(t[name]!.Catch).toEqual([{ ErrorEquals: [name === 'PollChange' ? 'ClusterNotFoundError' : 'Eks.ResourceNotFoundException'], ResultPath: '$.gone', Next: 'Gone' }]);
      for (const r of t[name]!.Retry ?? []) {
        expect(r.ErrorEquals).not.toContain('States.ALL');
        expect(r.MaxAttempts).toBeLessThanOrEqual(4);
      }
    }
  });

  it('ends a run whose cluster is gone as done, status NOT_FOUND', () => {
    expect(t.Gone).toEqual({ Type: 'Pass', Parameters: { done: true, status: 'NOT_FOUND', 'polls.$': '$.count.n' }, End: true });
  });

  it('stops after maxPolls polls, waiting pollSeconds between them, and says whether the change is done', () => {
    expect(t.PollsLeft!.Choices).toEqual([{ Variable: '$.count.n', NumericGreaterThanEqualsPath: '$.track.maxPolls', Next: 'StillInProgress' }]);
    // A run waits before every poll, so it lasts at least one interval (no spinning around an exhausted budget).
    expect(tracker.definition.StartAt).toBe('PauseBeforePoll');
    expect(t.PauseBeforePoll).toMatchObject({ Type: 'Wait', SecondsPath: '$.track.pollSeconds', Next: 'CountPoll' });
    expect(t.CountPoll).toMatchObject({ Type: 'Pass', Parameters: { 'n.$': 'States.MathAdd($.count.n, 1)' }, ResultPath: '$.count', Next: 'PollVia' });
    for (const name of ['UpdateInProgress', 'ClusterInProgress', 'ChangeInProgress']) expect(t[name]!.Choices![0]!.Next).toBe('PollsLeft');
    expect(t.Settled).toMatchObject({ Type: 'Pass', Parameters: { done: true }, End: true });
    expect(t.StillInProgress).toMatchObject({ Type: 'Pass', Parameters: { done: false }, End: true });
  });
});
