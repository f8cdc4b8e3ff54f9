import type { ChangeRecord } from '../ledger/types';
import type { ExecutionInput } from './types';

/**
 * The ledger's record of the change an execution exists for, or null for a sweep or a re-check (no
 * change of anyone's started them). `handledBy` is null: whose judgement covers it is decided later.
 */
export function triggerChange(input: ExecutionInput, now: number): ChangeRecord | null {
  const t = input.trigger;
  if (t.kind !== 'event') return null;
  return {
    eventId: t.eventId,
    eventName: t.eventName,
    eventTime: t.eventTime,
    actor: t.actor,
    requested: t.requested,
    updateId: t.updateId,
    tags: t.tags ?? null,
    guardRoleMisuse: t.reason === 'GUARD_ROLE_UNVERIFIED',
    seenAt: now,
    handledBy: null,
  };
}
