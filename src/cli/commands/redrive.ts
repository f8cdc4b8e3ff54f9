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

type Outcome = { eventId: string; messageIds: string[]; status: 'would-submit' | 'submitted' | 'failed'; error: string | null };

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
    const url = opts.queueUrl ?? (await adapters.queueUrlOf(sqs, `eks-endpoint-guard-${opts.stage}-unprocessed-events`));
    const functionName = opts.functionName ?? `eks-endpoint-guard-${opts.stage}-triageEvent`;
    const queue = adapters.createDeadLetterQueue(sqs, url);
    // Hidden while this run works on them (5 minutes), so a second run at the same time reads none twice.
    const messages = await queue.receiveAll({ max: Number(opts.max), visibilitySeconds: 300 });
    const letters = messages.map(explainDeadLetter);
    const plan = planRedrive(letters);
    const byId = new Map(messages.map((m) => [m.messageId, m]));
    const outcomes: Outcome[] = [];
    if (!opts.apply) {
      for (const s of plan.submit) outcomes.push({ eventId: s.eventId, messageIds: s.messageIds, status: 'would-submit', error: null });
      await queue.release(messages);
    } else {
      const invoker = adapters.createIntakeInvoker(lambda, functionName);
      for (const s of plan.submit) {
        const own = s.messageIds.map((id) => byId.get(id)!);
        try {
          await invoker.submit(s.event);
          await queue.delete(own);
          outcomes.push({ eventId: s.eventId, messageIds: s.messageIds, status: 'submitted', error: null });
        } catch (err) {
          await queue.release(own).catch(() => undefined);
          outcomes.push({ eventId: s.eventId, messageIds: s.messageIds, status: 'failed', error: (err as Error).message });
        }
      }
      // Malformed messages stay: nothing in them can run, and a person should read them.
      await queue.release(plan.keep.map((k) => byId.get(k.messageId)!));
    }
    const failed = outcomes.filter((o) => o.status === 'failed').length;
    const result = { schemaVersion: 1, queueUrl: url, functionName, dryRun: !opts.apply, messages: letters.map(({ event: _event, ...rest }) => rest), events: outcomes, kept: plan.keep.map((k) => k.messageId) };
    if (opts.json) printJson(result);
    else process.stdout.write(renderText(result, letters));
    return plan.keep.length > 0 || failed > 0 ? EXIT.VIOLATION : EXIT.OK;
  } finally {
    sqs.destroy();
    lambda.destroy();
  }
}

const KIND_WORDS: Record<DeadLetter['kind'], string> = { 'eventbridge-delivery-failure': 'EventBridge delivery failure', 'lambda-failure': 'intake failure (Lambda record)', malformed: 'malformed' };

function renderText(r: { queueUrl: string; functionName: string; dryRun: boolean; events: Outcome[]; kept: string[] }, letters: DeadLetter[]): string {
  const lines = [`${letters.length} message(s) in ${r.queueUrl}`];
  for (const l of letters) {
    const what = l.triage ? `${l.triage.eventName} ${l.triage.eventId}${l.triage.cluster ? ` on ${l.triage.cluster.account}/${l.triage.cluster.region}/${l.triage.cluster.name}` : ''}` : '(no event)';
    lines.push(`  ${l.messageId}  ${KIND_WORDS[l.kind]}: ${what}`, `      why: ${l.explanation}`, `      received ${l.receiveCount} time(s)${l.sentAt ? `, dead-lettered ${l.sentAt}` : ''}`);
  }
  const word = { 'would-submit': 'would re-submit', submitted: 're-submitted', failed: 'FAILED to re-submit' } as const;
  for (const e of r.events) lines.push(`${word[e.status]} event ${e.eventId} to ${r.functionName} (message${e.messageIds.length > 1 ? 's' : ''} ${e.messageIds.join(', ')})${e.error ? `: ${e.error}` : ''}`);
  if (r.kept.length > 0) lines.push(`kept ${r.kept.length} message(s) with nothing to run (read them, then delete them by hand): ${r.kept.join(', ')}`);
  if (r.dryRun) lines.push(letters.length === 0 ? 'dry run: the queue is empty.' : 'dry run: nothing was sent or deleted; the messages are visible again. Run again with --apply to re-submit.');
  return `${lines.join('\n')}\n`;
}
