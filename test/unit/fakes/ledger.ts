/**
 * An in-memory LedgerPort with the DynamoDB adapter's semantics (src/aws/ledger.ts): one record per
 * cluster with a version number; `mutate` reads a snapshot, applies the change, and writes only when the
 * version is still the one it read, re-reading and re-applying otherwise, and gives up after as many
 * conflicts as the adapter does (TransientAwsError).
 *
 * Tests can play the other writers and the network, on the nth write from now (1 = the next; a write is
 * a change function that returned a record, so a mutate that writes nothing does not count):
 * - `interleave(fn, nth)`: another execution writes (fn of the stored record) after the change function
 *   ran and before its compare-and-set, so that write meets a conflict and is re-applied;
 * - `loseResponse(nth)`: the write lands but the call fails as if the response was lost (the state
 *   machine retries the step against the record it already wrote);
 * - `failWrite(nth, err)`: the write does not land and the call throws `err`.
 * The record handed to a change function is deeply frozen: a rule that changed it in place (instead of
 * returning a new record) throws, so the purity of src/ledger/rules.ts is checked on every test.
 */
import { TransientAwsError } from '../../../src/errors';
import { emptyLedger } from '../../../src/ledger/rules';
import type { ClusterLedger, LedgerPort } from '../../../src/ledger/types';
import type { ClusterRef } from '../../../src/policy/types';

/** The adapter's number of conflicting writes before it reports the conflict as transient. */
export { MAX_CONFLICTS } from '../../../src/aws/ledger';
import { MAX_CONFLICTS } from '../../../src/aws/ledger';

type Stored = { version: number; doc: ClusterLedger };
type Fault = { kind: 'interleave'; change: (current: ClusterLedger) => ClusterLedger } | { kind: 'lose-response' } | { kind: 'fail'; error: Error };

const keyOf = (c: ClusterRef) => `${c.account}#${c.region}#${c.name}`;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

export class FakeLedger implements LedgerPort {
  private readonly records = new Map<string, Stored>();
  private readonly faults = new Map<number, Fault>();
  private attempts = 0;
  /** Reads (`read` calls), writes that landed, conflicts met, and mutate calls made (including those that wrote nothing). */
  reads: ClusterRef[] = [];
  writes = 0;
  conflicts = 0;
  mutations = 0;

  /** Puts a record in place, as if an earlier execution had written it. */
  seed(ledger: ClusterLedger): this {
    const key = keyOf(ledger.cluster);
    const version = (this.records.get(key)?.version ?? 0) + 1;
    this.records.set(key, { version, doc: structuredClone(ledger) });
    return this;
  }

  /** The stored record (a copy), or the empty one. */
  get(cluster: ClusterRef): ClusterLedger {
    return structuredClone(this.records.get(keyOf(cluster))?.doc ?? emptyLedger(cluster));
  }

  version(cluster: ClusterRef): number {
    return this.records.get(keyOf(cluster))?.version ?? 0;
  }

  interleave(change: (current: ClusterLedger) => ClusterLedger, nth = 1): this {
    return this.plan(nth, { kind: 'interleave', change });
  }

  loseResponse(nth = 1): this {
    return this.plan(nth, { kind: 'lose-response' });
  }

  failWrite(nth = 1, error: Error = new TransientAwsError('PutItem on the ledger table failed: ProvisionedThroughputExceededException')): this {
    return this.plan(nth, { kind: 'fail', error });
  }

  private plan(nth: number, fault: Fault): this {
    if (!Number.isInteger(nth) || nth < 1) throw new Error(`nth must be 1 or more, got ${nth}`);
    const at = this.attempts + nth;
    if (this.faults.has(at)) throw new Error(`a fault is already planned for write ${nth} from now`);
    this.faults.set(at, fault);
    return this;
  }

  async read(cluster: ClusterRef): Promise<ClusterLedger> {
    this.reads.push(structuredClone(cluster));
    return this.get(cluster);
  }

  async mutate<T>(cluster: ClusterRef, change: (current: ClusterLedger) => { next: ClusterLedger | null; result: T }): Promise<T> {
    this.mutations += 1;
    const key = keyOf(cluster);
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
      const read = this.records.get(key);
      const version = read?.version ?? 0;
      const snapshot = deepFreeze(read ? { ...emptyLedger(cluster), ...structuredClone(read.doc), cluster } : emptyLedger(cluster));
      const { next, result } = change(snapshot);
      if (next === null) return result;

      this.attempts += 1;
      const fault = this.faults.get(this.attempts);
      this.faults.delete(this.attempts);
      if (fault?.kind === 'interleave') {
        const current = this.records.get(key);
        const theirs = fault.change(structuredClone(current?.doc ?? emptyLedger(cluster)));
        this.records.set(key, { version: (current?.version ?? 0) + 1, doc: structuredClone(theirs) });
      }
      if (fault?.kind === 'fail') throw fault.error;
      if ((this.records.get(key)?.version ?? 0) !== version) {
        this.conflicts += 1;
        continue;
      }
      this.records.set(key, { version: version + 1, doc: structuredClone(next) });
      this.writes += 1;
      if (fault?.kind === 'lose-response') throw new TransientAwsError('PutItem on the ledger table failed: socket hang up (the write may have landed)');
      return result;
    }
    throw new TransientAwsError(`ledger record of cluster ${cluster.name} (${cluster.account}/${cluster.region}) kept changing under ${MAX_CONFLICTS} attempts to write it`);
  }
}
