import { createHash } from 'node:crypto';
import { isBeneath } from '../org/context';
import { InputError } from '../errors';
import { triageEvent, type TriageResult } from '../events/triage';
import { ownTokens, withChange } from '../ledger/rules';
import { triggerChange } from './changes';
import type { IntakeDeps } from './deps';
import type { ExecutionInput } from './types';

export type IntakeResult = { triage: TriageResult; executionName: string | null; started: boolean };

const MAX_EXECUTION_NAME = 80;

/**
 * Step Functions execution names: 1-80 characters of letters, digits, `-` and `_`. A longer name ends in a
 * hash of the whole: cut short alone, two long cluster names that share their beginning would get one name,
 * and the second execution would be refused as if it were a redelivery.
 */
export function executionName(prefix: string, id: string): string {
  const name = `${prefix}-${id}`.replace(/[^A-Za-z0-9_-]/g, '_');
  if (name.length <= MAX_EXECUTION_NAME) return name;
  const hash = createHash('sha256').update(`${prefix}-${id}`).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_EXECUTION_NAME - hash.length - 1)}-${hash}`;
}

/**
 * The intake: triages a CloudTrail event and starts one execution per event, named from the CloudTrail
 * eventID so that a redelivered event finds its execution already there and starts nothing.
 * A malformed event throws, so the invocation fails and the event goes to the dead-letter queue
 * instead of vanishing.
 */
export async function intakeEvent(event: unknown, deps: IntakeDeps): Promise<IntakeResult> {
  // The raw record carries identities and source IPs: debug level only.
  deps.log.debug('event received', { event });
  const options = { selfRoleArns: deps.identity.selfRoleArns, crossAccountRoleName: deps.identity.crossAccountRoleName, homeAccount: deps.identity.homeAccount };
  let triage = triageEvent(event, options);
  // Made with one of the guard's roles: its own only if the ledger recorded the update (by its token).
  if (triage.reason === 'GUARD_ROLE_UNVERIFIED' && triage.cluster) {
    const ledger = await deps.ledger.read(triage.cluster);
    triage = triageEvent(event, { ...options, ownTokens: ownTokens(ledger) });
  }
  if (triage.guardRole && triage.reason === 'GUARD_ROLE_UNVERIFIED') {
    deps.log.warn('guard role used outside the guard', { eventId: triage.eventId, cluster: triage.cluster, session: triage.actor?.arn });
  }
  const outside = triage.decision === 'evaluate' && triage.cluster ? await outOfScope(triage.cluster, deps) : null;
  if (outside) {
    deps.log.info('event outside the governed scope', { eventId: triage.eventId, cluster: triage.cluster, why: outside });
    triage = { ...triage, decision: 'ignore', reason: 'NOT_GOVERNED', waitFor: null };
  }
  if (triage.decision === 'ignore') {
    deps.log.info('event ignored', { reason: triage.reason, eventName: triage.eventName, eventId: triage.eventId, cluster: triage.cluster });
    return { triage, executionName: null, started: false };
  }
  if (!triage.cluster || !triage.waitFor) throw new InputError([`event ${triage.eventId}: no cluster name, account or region`]);
  const name = executionName('evt', triage.eventId);
  const input: ExecutionInput = {
    cluster: triage.cluster,
    startedAt: deps.now(),
    trigger: {
      kind: 'event',
      eventId: triage.eventId,
      eventName: triage.eventName,
      eventTime: triage.eventTime ?? new Date(deps.now()).toISOString(),
      updateId: triage.updateId,
      requested: triage.requested,
      actor: triage.actor,
      waitFor: triage.waitFor === 'update' && !triage.updateId ? 'cluster-active' : triage.waitFor,
      reason: triage.reason === 'GUARD_ROLE_UNVERIFIED' ? 'GUARD_ROLE_UNVERIFIED' : null,
      tags: triage.tags ?? null,
    },
    executionName: name,
  };
  // Recorded before the execution starts, while whichever execution holds the cluster may still be
  // judging it: its alert then names this actor too.
  const change = triggerChange(input, deps.now());
  if (change) await deps.ledger.mutate(input.cluster, (ledger) => ({ next: withChange(ledger, change), result: null }));
  const started = await deps.executions.start(name, input);
  deps.log.info(started ? 'execution started' : 'execution already exists (redelivered event)', { executionName: name, cluster: triage.cluster });
  return { triage, executionName: name, started };
}

/**
 * Why a cluster is outside what the deployment governs, or null when it is inside: the same scope the
 * sweep covers (excluded accounts, the governed regions, the governed OUs), so a member stack deployed
 * more widely than the guard's parameters does not extend the guard's reach. The organization is read
 * only when GovernedOus is set; an account it does not list, or one not ACTIVE, is outside. A failed
 * read throws: the event is retried or dead-lettered, never dropped on a guess.
 */
async function outOfScope(cluster: { account: string; region: string }, deps: IntakeDeps): Promise<string | null> {
  const scope = deps.scope;
  if (!scope) return null;
  if (scope.excludedAccounts.includes(cluster.account)) return `account ${cluster.account} is excluded (ExcludedAccounts)`;
  if (scope.regions.length > 0 && !scope.regions.includes(cluster.region)) return `region ${cluster.region} is not governed (Regions: ${scope.regions.join(', ')})`;
  if (scope.governedOus.length === 0) return null;
  if (!deps.organization) throw new InputError(['GovernedOus is set but the intake cannot read AWS Organizations (no organization port wired)']);
  const account = await deps.organization.account(cluster.account);
  if (!account) return `account ${cluster.account} is not in the organization`;
  if (account.status !== 'ACTIVE') return `account ${cluster.account} is ${account.status}`;
  return isBeneath(account.ouPath, scope.governedOus) ? null : `account ${cluster.account} is outside the governed OUs (${scope.governedOus.join(', ')})`;
}
