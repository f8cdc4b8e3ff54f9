/**
 * The story of one execution, told once and shared by the subject, the email text and the chat
 * notification: what is wrong, what happened in one sentence, what was done, what to do next. Pure.
 */
import { findViolations } from '../policy/evaluate';
import type { EndpointTarget, Violation, Warning } from '../policy/types';
import type { AlertCase } from '../workflow/types';
import {
  type Endpoint,
  changesSummary,
  endpointBrief,
  endpointChanges,
  endpointSummary,
  preflightFix,
  preflightPhrase,
  problemPhrase,
  toEndpoint,
  updateCommand,
} from './describe';
import { formatDuration, oneLine, shellWord } from './format';

/** Something for the reader to do; a command is kept apart so it is never wrapped or reworded. */
export type Step = { text: string; command?: string };

/** Everything the renderers need, read once from an `AlertCase` and cleaned of control characters. */
export type Story = {
  cluster: { name: string; account: string; region: string };
  before: Endpoint | null;
  /** The second column of the settings table: the verified result, or what would be or was to be applied. */
  second: { label: 'after' | 'would be' | 'target'; endpoint: Endpoint } | null;
  target: EndpointTarget | null;
  violations: Violation[];
  /** How to head the violations: after a failed revert they may be the ones still present. */
  violationsHeading: string;
  warnings: Warning[];
  /** What is wrong, in a few words (`open to 0.0.0.0/0`). */
  problem: string;
  /** The subject's text after the colon. */
  summary: string;
  /** What happened, in one sentence. */
  happened: string;
  /** What the guard did (or did not do) and why. */
  done: string[];
  /** Failure only: why, and what to do. */
  failure: { reason: string; whatToDo: Step[] } | null;
  /** Manual action only: the VPC and each preflight problem with the command that fixes it. */
  manual: { vpc: string; problems: Array<{ check: string; message: string; fix: string }> } | null;
  /** Commands and actions for the reader, most useful first. */
  nextSteps: Step[];
  /** The command that applies the target by hand, when there is a target. */
  command: string | null;
  timeToFix: string | null;
};

const NO_SAFE_PREFIX = /^no safe automatic change: /;

/**
 * Reads an `AlertCase` into a `Story`. `evaluation` is taken as the judgement that decided what to do
 * (the assessment of `before`), so its violations are the ones that caused the alert; when the outcome
 * is a failure after a completed revert, the violations still present in `after` are worked out again
 * from the same settings, so the alert says what is still wrong rather than what was wrong.
 */
export function tellStory(c: AlertCase): Story {
  const cluster = { name: oneLine(c.cluster.name, 100) || '(unnamed)', account: oneLine(c.cluster.account, 32), region: oneLine(c.cluster.region, 32) };
  const evaluation = c.evaluation;
  const settings = evaluation?.settings ?? null;
  const before = toEndpoint(c.before ?? evaluation?.observed);
  const after = toEndpoint(c.after);
  const target = c.remediation?.target ?? evaluation?.target ?? null;
  const planned = toEndpoint(target);
  const violations = evaluation?.violations ?? [];
  const warnings = evaluation?.warnings ?? [];
  const problem = problemPhrase(before, violations, settings);
  const command = target ? updateCommand(c.cluster, target) : null;
  const where = `cluster ${cluster.name} (account ${cluster.account}, ${cluster.region})`;
  const found = c.trigger.kind === 'sweep' ? `The scheduled sweep found that ${where}` : `After ${oneLine(c.trigger.eventName, 64)}, ${where}`;
  const timeToFix = c.timeToFixSeconds === null ? null : formatDuration(c.timeToFixSeconds);
  const applyYourself: Step[] = command ? [{ text: 'Apply the fix yourself:', command }] : [];
  const base = { cluster, before, target, violations, violationsHeading: 'VIOLATIONS', warnings, problem, command, timeToFix, failure: null, manual: null };

  switch (c.outcome) {
    case 'remediated': {
      const result = after ?? planned;
      const changes = before && result ? changesSummary(endpointChanges(before, result), 'done') : '';
      const alreadyThere = c.remediation?.status === 'already-compliant';
      return {
        ...base,
        second: result ? { label: 'after', endpoint: result } : null,
        summary: changes || 'verified compliant',
        happened: `${found} broke the endpoint policy (${problem}); the guard ${alreadyThere ? 'found it already at the compliant setting' : `reverted it (${changes || 'target applied'})`} and verified the fix${timeToFix ? ` ${timeToFix} after the ${c.trigger.kind === 'sweep' ? 'sweep found it' : 'change'}` : ''}.`,
        done: [
          alreadyThere
            ? 'EKS reported the cluster already at the target configuration, so no update was needed.'
            : `Applied: ${planned ? endpointSummary(planned) : 'the target'} (UpdateClusterConfig, endpoint fields only).`,
          `Verified: the cluster now has ${after ? endpointSummary(after) : 'the target settings'}, which complies with the policy.`,
        ],
        nextSteps: [
          {
            text:
              c.trigger.kind === 'sweep'
                ? 'Find who made the change in CloudTrail event history (UpdateClusterConfig, CreateCluster) and ask whether it was intended: if it is made again without an exemption, the guard reverts it again.'
                : 'Ask the actor above whether the change was intended: if it is made again without an exemption, the guard reverts it again.',
          },
        ],
      };
    }
    case 'alerted': {
      const noSafe = warnings.find((w) => w.code === 'NO_SAFE_REMEDIATION');
      if (!planned || noSafe) {
        const why = noSafe ? oneLine(noSafe.message.replace(NO_SAFE_PREFIX, ''), 400) : 'the policy gives no target to apply';
        return {
          ...base,
          second: null,
          summary: `${problem}, no safe fix`,
          happened: `${found} breaks the endpoint policy (${problem}) and no automatic change is safe, so nothing was changed.`,
          done: [`Nothing was changed: no safe automatic change (${why}).`],
          nextSteps: [{ text: 'Decide which endpoint settings to keep and change the cluster to comply with the policy.' }],
        };
      }
      const planText = before ? changesSummary(endpointChanges(before, planned), 'planned') : '';
      const rule = settings?.rule ? `rule ${oneLine(settings.rule, 100)}` : 'the policy defaults';
      const alertMode = settings?.mode === 'alert';
      return {
        ...base,
        second: { label: 'would be', endpoint: planned },
        summary: `${problem}, would ${planText || 'apply the target'}`,
        happened: `${found} breaks the endpoint policy (${problem}); ${alertMode ? 'alert-only mode is on' : 'the guard was not allowed to change it'}, so nothing was changed.`,
        done: [
          alertMode ? `Nothing was changed: ${rule} is in alert-only mode (mode: alert, or shadow mode for the whole deployment).` : 'Nothing was changed.',
          `In enforce mode the guard would set ${endpointSummary(planned)}.`,
        ],
        nextSteps: [
          ...applyYourself,
          ...(alertMode ? [{ text: `To let the guard revert such changes, set mode: enforce for ${rule}.` }] : []),
        ],
      };
    }
    case 'manual-action-required': {
      const problems = c.preflight?.problems ?? [];
      const vpc = oneLine(c.preflight?.vpcId ?? evaluation?.observed.vpcId ?? '', 64) || 'of the cluster';
      const fixed = problems.slice(0, 10).map((p) => ({
        check: oneLine(p.check, 40),
        message: oneLine(p.message, 600),
        fix: oneLine(p.fix, 600) || preflightFix(p.check, c.preflight?.vpcId ?? null, c.cluster.region),
      }));
      return {
        ...base,
        manual: { vpc, problems: fixed },
        second: planned ? { label: 'would be', endpoint: planned } : null,
        summary: `${preflightPhrase(problems)}, nothing changed`,
        happened: `${found} breaks the endpoint policy (${problem}), but the fix would cut clients inside the VPC off: VPC ${vpc} cannot resolve the private endpoint, so nothing was changed.`,
        done: [`Nothing was changed: the safety preflight failed for VPC ${vpc}${planned ? `, so ${endpointSummary(planned)} was not applied` : ''}.`],
        nextSteps: [
          ...fixed.map((p) => ({ text: `Fix the VPC (${p.check}):`, command: p.fix })),
          command ? { text: 'Then apply the fix (or wait for the next scheduled sweep to do it):', command } : { text: 'Then wait for the next scheduled sweep to apply the fix.' },
        ],
      };
    }
    case 'failed': {
      const remaining = c.after && settings ? findViolations(settings, c.after) : [];
      const failure = explainFailure(c, cluster, remaining.length > 0);
      return {
        ...base,
        violations: remaining.length > 0 ? remaining : violations,
        violationsHeading: remaining.length > 0 ? 'VIOLATIONS STILL PRESENT AFTER THE REVERT' : 'VIOLATIONS',
        second: after ? { label: 'after', endpoint: after } : planned ? { label: 'target', endpoint: planned } : null,
        summary: failure.summary,
        happened: `The guard could not bring ${where} into compliance (${failure.reason}); the cluster may still break the endpoint policy${violations.length > 0 ? ` (${problem})` : ''}.`,
        done: failure.done,
        failure: { reason: failure.reason, whatToDo: failure.whatToDo },
        nextSteps: [...failure.whatToDo, ...applyYourself],
      };
    }
    case 'exempt': {
      const ex = evaluation?.exemption ?? null;
      const until = ex ? oneLine(ex.expires, 40) : 'an unknown date';
      const by = ex ? (ex.source === 'tag' ? `cluster tag ${oneLine(ex.name, 128)}` : `policy exemption ${oneLine(ex.name, 100)}`) : 'an exemption';
      return {
        ...base,
        second: null,
        // The date first: it is what the reader needs, and a long problem may be cut.
        summary: violations.length > 0 ? `exempt until ${until}, ${problem}` : `exempt until ${until}`,
        happened:
          violations.length > 0
            ? `${found} breaks the endpoint policy (${problem}) but is exempt until ${until} (${by}), so nothing was changed.`
            : `${found} is exempt until ${until} (${by}); it complies anyway.`,
        done: [`Nothing was changed: exempt until ${until} (${by}).`],
        nextSteps: [{ text: `The exemption ends ${until}; after that the guard enforces the policy on this cluster.` }],
      };
    }
    case 'compliant':
      return {
        ...base,
        second: null,
        summary: before ? `complies: ${endpointBrief(before)}` : 'complies with policy',
        happened: `${found} complies with the endpoint policy; nothing was changed.`,
        done: ['Nothing was changed: the cluster complies.'],
        nextSteps: [],
      };
    case 'ignored':
      return {
        ...base,
        second: null,
        summary: 'no action needed',
        happened: `The ${oneLine(c.trigger.eventName, 64)} event about ${where} needs no action.`,
        done: ['Nothing was changed.'],
        nextSteps: [],
      };
  }
}

type FailureStory = { summary: string; reason: string; done: string[]; whatToDo: Step[] };

/**
 * Why the guard failed and what a person should do about it. The state tells the most specific story, so
 * it is read first: a revert update that ended badly or was still running at the timeout, a revert AWS
 * refused, a cluster that stayed busy, a revert that finished but left the cluster non-compliant. Only
 * then the recorded failure: a wait that ran out of time, or an error caught by the state machine.
 */
function explainFailure(c: AlertCase, cluster: Story['cluster'], stillViolating: boolean): FailureStory {
  const revertId = c.remediation?.updateId ?? null;
  const attempted = c.remediation !== null || c.revertUpdate !== null;
  const revert = c.revertUpdate;
  const remediation = c.remediation;
  const region = shellWord(cluster.region);
  const name = shellWord(cluster.name);
  if (revert && (revert.status === 'Failed' || revert.status === 'Cancelled')) {
    const first = revert.errors[0];
    const detail = first ? oneLine(first.errorCode ?? first.errorMessage ?? '', 100) : '';
    const reason = `revert update ${revertId ?? '(unknown id)'} ended ${oneLine(revert.status, 20)}`;
    return {
      summary: `revert failed: update ${oneLine(revert.status, 20)}${detail ? `, ${detail}` : ''}`,
      reason: detail ? `${reason}: ${detail}` : reason,
      done: [`The guard sent UpdateClusterConfig, but EKS reports the update ${oneLine(revert.status, 20)}; its errors are listed with the update ids.`],
      whatToDo: [{ text: 'Fix the cause named in the update errors, then apply the fix again.' }],
    };
  }
  if (revert?.timedOut) {
    const status = oneLine(revert.status, 20) || 'InProgress';
    return {
      summary: `revert failed: update still ${status} at timeout`,
      reason: `revert update ${revertId ?? '(unknown id)'} was still ${status} when the wait budget ran out`,
      done: ['The guard sent UpdateClusterConfig but stopped waiting before the update finished.'],
      whatToDo: [
        { text: 'Check the update:', command: `aws eks describe-update --region ${region} --name ${name} --update-id ${shellWord(revertId ?? 'UPDATE_ID')}` },
        { text: 'If it failed, apply the fix again.' },
      ],
    };
  }
  if (remediation?.status === 'rejected') {
    const errorName = oneLine(remediation.error?.name ?? 'Error', 100);
    const message = oneLine(remediation.error?.message ?? '', 300);
    const reason = message ? `${errorName}: ${message}` : errorName;
    return {
      summary: `revert failed: ${reason}`,
      reason: `AWS refused the revert (${reason})`,
      done: [`Nothing was changed: AWS refused UpdateClusterConfig (${reason}).`],
      whatToDo: [{ text: "If it is an access error, check that the guard's remediation role may call eks:UpdateClusterConfig on this cluster." }],
    };
  }
  if (remediation?.status === 'gave-up') {
    return {
      summary: 'revert failed: cluster stayed busy with other updates',
      reason: `the cluster was busy with other updates through ${remediation.busyAttempts} attempts`,
      done: ['Nothing was changed: every attempt met another update in progress (ResourceInUseException).'],
      whatToDo: [
        { text: 'See what holds the cluster:', command: `aws eks list-updates --region ${region} --name ${name}` },
        { text: 'When it is free, apply the fix, or wait for the next scheduled sweep.' },
      ],
    };
  }
  if (c.after && stillViolating) {
    return {
      summary: 'revert failed: still non-compliant after revert',
      reason: 'the revert finished but the cluster still breaks the policy',
      done: ['The revert finished, but the cluster read afterwards still breaks the policy; another change may have raced it.'],
      whatToDo: [{ text: 'Look for a newer UpdateClusterConfig in CloudTrail event history, then apply the fix again.' }],
    };
  }
  const history: Step = { text: `Open the Step Functions execution for event ${oneLine(c.trigger.eventId, 128)} and the Lambda logs for details.` };
  if (c.failure) {
    const error = oneLine(c.failure.error, 100) || 'Error';
    const message = causeMessage(c.failure.cause);
    if (error === 'WaitTimedOut') {
      return {
        summary: `timed out: ${message || 'the wait budget ran out'}`,
        reason: message || 'the wait budget ran out',
        done: [`The guard stopped waiting (${message || 'the wait budget ran out'})${attempted ? '' : ' before judging or changing anything'}.`],
        whatToDo: [
          { text: 'See which updates are running:', command: `aws eks list-updates --region ${region} --name ${name}` },
          { text: 'The next scheduled sweep judges the cluster again.' },
        ],
      };
    }
    const reason = message ? `${error}: ${message}` : error;
    return {
      // The message says more than the error's class name in the little room a subject has.
      summary: `${attempted ? 'revert failed' : 'guard error'}: ${message || error}`,
      reason,
      done: [`An error stopped the workflow${attempted ? ' during the revert' : ' before any change was made'}: ${reason}.`],
      whatToDo: [history, { text: 'Check the cluster in the console: it may still break the policy.' }],
    };
  }
  return {
    summary: `${attempted ? 'revert failed' : 'guard error'}: no details recorded`,
    reason: 'no details were recorded',
    done: ['The workflow ended without bringing the cluster into compliance.'],
    whatToDo: [history],
  };
}

/**
 * The message inside a Step Functions `Cause`: for a Lambda error it is JSON with `errorMessage` (and a
 * stack trace, which would swamp the alert and is left to the logs); anything else is shown as is.
 */
function causeMessage(cause: string): string {
  const text = typeof cause === 'string' ? cause.slice(0, 32_768) : '';
  if (text.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') {
        return oneLine(parsed.errorMessage, 400);
      }
    } catch {
      // Not JSON after all (or cut by Step Functions' 32 KB limit): fall through and show the text.
    }
  }
  return oneLine(text, 400);
}
