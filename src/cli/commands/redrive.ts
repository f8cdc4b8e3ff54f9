/**
 * `eks-endpoint-guard redrive`: reads the intake's dead-letter queue, explains every message (an
 * EventBridge delivery failure, a Lambda failure record of the intake, a malformed message) and, with
 * `--apply`, re-submits the real events to the intake function, deleting each message once its event is
 * accepted. Without `--apply` it is a dry run: nothing is sent or deleted, and the messages are made
 * visible again. Exit 0 when every message was (or, in a dry run, can be) re-submitted, 1 when some are
 * kept (malformed) or could not be re-submitted, 2 on bad input.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { EXIT, printJson, runCommand } from '../io';
import type { DeadLetter } from '../../redrive/dead-letter';

type RedriveOptions = { queueUrl?: string; stage: string; functionName?: string; region?: string; endpointUrl?: string; apply?: boolean; max: string; json?: boolean };

const STAGE = /^[a-zA-Z0-9-]{1,32}$/;

function problemsOf(opts: RedriveOptions, region: string | undefined): string[] {
  const problems: string[] = [];
  if (!STAGE.test(opts.stage)) problems.push(`--stage: ${JSON.stringify(opts.stage)} is not a stage name (letters, digits, hyphens)`);
  if (opts.queueUrl !== undefined && !URL.canParse(opts.queueUrl)) problems.push(`--queue-url: ${JSON.stringify(opts.queueUrl)} is not a URL`);
  if (opts.endpointUrl !== undefined && !URL.canParse(opts.endpointUrl)) problems.push(`--endpoint-url: ${JSON.stringify(opts.endpointUrl)} is not a URL`);
  if (opts.functionName !== undefined && !/^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[\w-]{1,64}(:[\w$-]+)?$/.test(opts.functionName)) problems.push(`--function-name: ${JSON.stringify(opts.functionName)} is not a Lambda function name or ARN`);
  if (!/^\d+$/.test(opts.max) || Number(opts.max) < 1 || Number(opts.max) > 10000) problems.push(`--max: ${JSON.stringify(opts.max)} is not a whole number from 1 to 10000`);
  if (!region) problems.push('no region: give --region, or set AWS_REGION');
  return problems;
}

export function registerRedriveCommand(program: Command): void {
  program
    .command('redrive')
    .description("Explain the intake's dead-letter queue and, with --apply, re-submit its events to the intake (dry run by default); exit 0 all re-submittable, 1 some kept or failed, 2 bad input")
    .option('--stage <stage>', 'the deployed stage: queue eks-endpoint-guard-<stage>-unprocessed-events, function eks-endpoint-guard-<stage>-triageEvent', 'dev')
    .option('--queue-url <url>', 'the dead-letter queue (default: the stage\'s unprocessed-events queue)')
    .option('--function-name <name>', 'the intake function to re-submit to (default: the stage\'s triageEvent)')
    .option('--region <region>', 'the central stack\'s region (default: AWS_REGION)')
    .option('--endpoint-url <url>', 'send every AWS call here, e.g. the emulator (default: AWS_ENDPOINT_URL, else AWS)')
    .option('--max <n>', 'read at most this many messages', '1000')
    .option('--apply', 're-submit the events and delete their messages (without it: a dry run)')
    .option('--json', 'print the result as JSON')
    .action((opts: RedriveOptions) => runCommand(() => redrive(opts)));
}

type Outcome = {
  eventId: string;
  messageIds: string[];
  /** `submitted-not-deleted`: the intake took the event but its messages could not be deleted (the next run sends it again; the intake runs it once). */
  status: 'would-submit' | 'submitted' | 'submitted-not-deleted' | 'failed';
  error: string | null;
};

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function redrive(opts: RedriveOptions): Promise<number> {
  const region = opts.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined);
  const problems = problemsOf(opts, region);
  if (problems.length > 0) throw new InputError(problems);
  const [{ SQSClient }, { LambdaClient }, adapters, { explainDeadLetter, planRedrive }] = await Promise.all([
    import('@aws-sdk/client-sqs'),
    import('@aws-sdk/client-lambda'),
    import('../../aws/dead-letters'),
    import('../../redrive/dead-letter'),
  ]);
  const endpoint = opts.endpointUrl ?? (process.env.AWS_ENDPOINT_URL || undefined);
  const common = { region: region!, maxAttempts: 3, ...(endpoint ? { endpoint } : {}) };
  const sqs = new SQSClient(common);
  const lambda = new LambdaClient(common);
  try {
    const queueName = `eks-endpoint-guard-${opts.stage}-unprocessed-events`;
    let url = opts.queueUrl;
    if (!url) {
      try {
        url = await adapters.queueUrlOf(sqs, queueName);
      } catch (err) {
        throw new InputError([`${messageOf(err)}: check --stage (default dev) and --region (the central stack's), or give --queue-url`]);
      }
    }
    const functionName = opts.functionName ?? `eks-endpoint-guard-${opts.stage}-triageEvent`;
    const queue = adapters.createDeadLetterQueue(sqs, url);
    const invoker = adapters.createIntakeInvoker(lambda, functionName);
    // Before anything is read or sent: a wrong function name would fail every event, one by one.
    if (opts.apply) {
      try {
        await invoker.check();
      } catch (err) {
        throw new InputError([`${messageOf(err)}: check --stage or --function-name (the intake function to re-submit to)`]);
      }
    }
    const troubles: string[] = [];
    // Hidden while this run works on them (5 minutes), so a second run at the same time reads none twice.
    const read = await queue.receiveAll({ max: Number(opts.max), visibilitySeconds: 300 });
    if (read.error) troubles.push(`reading the queue stopped after ${read.messages.length} message(s): ${messageOf(read.error)}`);
    if (read.capped) troubles.push(`stopped at --max ${opts.max}: more messages may be in the queue; run again for the rest`);
    const messages = read.messages;
    const letters = messages.map(explainDeadLetter);
    const plan = planRedrive(letters);
    const byId = new Map(messages.map((m) => [m.messageId, m]));
    const release = async (list: typeof messages) => {
      if (list.length === 0) return;
      try {
        await queue.release(list);
      } catch (err) {
        troubles.push(`${list.length} message(s) could not be made visible again (they are, within 5 minutes): ${messageOf(err)}`);
      }
    };
    const outcomes: Outcome[] = [];
    if (!opts.apply) {
      for (const s of plan.submit) outcomes.push({ eventId: s.eventId, messageIds: s.messageIds, status: 'would-submit', error: null });
      await release(messages);
    } else {
      for (const s of plan.submit) {
        const own = s.messageIds.map((id) => byId.get(id)!);
        try {
          await invoker.submit(s.event);
        } catch (err) {
          await release(own);
          outcomes.push({ eventId: s.eventId, messageIds: s.messageIds, status: 'failed', error: messageOf(err) });
          continue;
        }
        try {
          await queue.delete(own);
          outcomes.push({ eventId: s.eventId, messageIds: s.messageIds, status: 'submitted', error: null });
        } catch (err) {
          await release(own);
          outcomes.push({ eventId: s.eventId, messageIds: s.messageIds, status: 'submitted-not-deleted', error: messageOf(err) });
        }
      }
      // Malformed messages stay: nothing in them can run, and a person should read them.
      await release(plan.keep.map((k) => byId.get(k.messageId)!));
    }
    let inFlight: number | null = null;
    try {
      inFlight = await queue.inFlight();
    } catch (err) {
      troubles.push(`could not count the messages in flight: ${messageOf(err)}`);
    }
    const failed = outcomes.filter((o) => o.status === 'failed' || o.status === 'submitted-not-deleted').length;
    const result = {
      schemaVersion: 1,
      queueUrl: url,
      functionName,
      dryRun: !opts.apply,
      messages: letters.map(({ event: _event, ...rest }) => rest),
      events: outcomes,
      kept: plan.keep.map((k) => k.messageId),
      complete: !read.error && !read.capped,
      inFlight,
      problems: troubles,
    };
    if (opts.json) printJson(result);
    else process.stdout.write(renderText(result, letters));
    return plan.keep.length > 0 || failed > 0 || troubles.length > 0 ? EXIT.VIOLATION : EXIT.OK;
  } finally {
    sqs.destroy();
    lambda.destroy();
  }
}

const KIND_WORDS: Record<DeadLetter['kind'], string> = {
  'eventbridge-delivery-failure': 'EventBridge delivery failure',
  'lambda-failure': 'intake failure (Lambda record)',
  'cloudtrail-record': 'bare CloudTrail record',
  malformed: 'malformed',
};

function renderText(r: { queueUrl: string; functionName: string; dryRun: boolean; events: Outcome[]; kept: string[]; inFlight: number | null; problems: string[] }, letters: DeadLetter[]): string {
  const lines = [`${letters.length} message(s) in ${r.queueUrl}`];
  for (const l of letters) {
    const ignored = l.triage?.decision === 'ignore' ? ` (the intake will ignore it: ${l.triage.reason})` : '';
    const what = l.triage ? `${l.triage.eventName} ${l.triage.eventId}${l.triage.cluster ? ` on ${l.triage.cluster.account}/${l.triage.cluster.region}/${l.triage.cluster.name}` : ''}${ignored}` : '(no event)';
    lines.push(`  ${l.messageId}  ${KIND_WORDS[l.kind]}: ${what}`, `      why: ${l.explanation}`, `      received ${l.receiveCount} time(s)${l.sentAt ? `, dead-lettered ${l.sentAt}` : ''}`);
  }
  const word = { 'would-submit': 'would re-submit', submitted: 're-submitted', 'submitted-not-deleted': 're-submitted, but its message(s) NOT deleted (the next run sends it again; the intake runs it once)', failed: 'FAILED to re-submit' } as const;
  for (const e of r.events) lines.push(`${word[e.status]} event ${e.eventId} to ${r.functionName} (message${e.messageIds.length > 1 ? 's' : ''} ${e.messageIds.join(', ')})${e.error ? `: ${e.error}` : ''}`);
  if (r.kept.length > 0) lines.push(`kept ${r.kept.length} message(s) with nothing to run (read them, then delete them by hand): ${r.kept.join(', ')}`);
  for (const p of r.problems) lines.push(`PROBLEM: ${p}`);
  if (r.inFlight) lines.push(`${r.inFlight} more message(s) in flight: another run holds them, or one that failed (visible again within 5 minutes)`);
  if (r.dryRun) lines.push(letters.length === 0 ? `dry run: no message to read${r.inFlight ? ' now' : '; the queue is empty'}.` : 'dry run: nothing was sent or deleted; the messages are visible again. Run again with --apply to re-submit.');
  return `${lines.join('\n')}\n`;
}
