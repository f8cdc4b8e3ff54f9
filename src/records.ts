/**
 * Records keyed by what somebody else wrote: cluster tags, account tags, a policy's tag matches.
 *
 * `__proto__` is a valid tag key in EKS and in Organizations, and the SDK hands it over as an own
 * property (its maps have no prototype). Three things in between would lose it silently: zod's
 * `z.record` skips the key (so an assignment cannot replace the prototype), `obj[key] = value` and
 * `Object.assign` set the prototype instead of a property, and DynamoDB's marshalling assigns (and
 * throws on a `constructor` key). A lost tag means a cluster judged without a tag it has, or a policy
 * match broader than written; a refused write, a ledger any cluster owner could jam with one tag. So
 * records of outside keys are parsed by `ownRecord`, written with `putOwn`, and pass through DynamoDB
 * with `storableKeys` / `loadedKeys`.
 */
import { z } from 'zod';

const PROTO = '__proto__';

/** Sets `key` as an own, enumerable property, whatever the key: `obj[key] = value` cannot set `__proto__`. */
export function putOwn<V>(target: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * `z.record(key, value)` that keeps every key. zod validates and copies every key but `__proto__`; that
 * one is validated here with the same schemas, its problems reported at its own path, and the result is
 * rebuilt in the input's key order with `Object.fromEntries` (which defines, never assigns).
 */
export function ownRecord<V extends z.ZodType>(key: z.ZodType<string>, value: V) {
  const plain = z.record(key, value);
  return z.unknown().transform((input, ctx): Record<string, z.output<V>> => {
    const parsed = plain.safeParse(input);
    const issues = parsed.success ? [] : [...parsed.error.issues];
    const hasProto = typeof input === 'object' && input !== null && !Array.isArray(input) && Object.hasOwn(input, PROTO) && Object.prototype.propertyIsEnumerable.call(input, PROTO);
    let protoValue: z.output<V> | undefined;
    if (hasProto) {
      const k = key.safeParse(PROTO);
      if (!k.success) issues.push({ code: 'invalid_key', origin: 'record', issues: k.error.issues, input: PROTO, path: [PROTO], message: 'Invalid key in record' } as z.core.$ZodIssue);
      const v = value.safeParse((input as Record<string, unknown>)[PROTO]);
      if (v.success) protoValue = v.data as z.output<V>;
      else issues.push(...v.error.issues.map((i) => ({ ...i, path: [PROTO, ...i.path] })));
    }
    if (issues.length > 0 || !parsed.success) {
      // The offending value itself, not the whole record, is what a message quotes.
      for (const issue of issues) ctx.addIssue({ ...issue, input: 'input' in issue && issue.input !== undefined ? issue.input : valueAt(input, issue.path) } as never);
      return z.NEVER;
    }
    if (!hasProto) return parsed.data as Record<string, z.output<V>>;
    const data = parsed.data as Record<string, z.output<V>>;
    return Object.fromEntries(Object.keys(input as object).filter((k) => k === PROTO || Object.hasOwn(data, k)).map((k) => [k, k === PROTO ? protoValue! : data[k]!]));
  });
}

const valueAt = (root: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null && Object.hasOwn(v, k) ? (v as Record<PropertyKey, unknown>)[k] : undefined), root);

// DynamoDB's marshalling drops a `__proto__` key (it assigns), and refuses a whole document holding a map
// with a non-empty `constructor` key (it takes the value for the map's class). Such a key, with n leading
// underscores added, is stored with n + 1 and read back with n: a bijection on the keys it touches, and
// every other key passes unchanged.
const UNSTORABLE = /^_*(__proto__|constructor)$/;
const ESCAPED = /^_+(?:_{2,}proto__|constructor)$/;

function mapKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapKeys(v, rename));
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || value instanceof Set) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), mapKeys(v, rename)]));
}

/** A document as DynamoDB's marshalling can keep it: every `__proto__` or `constructor` key escaped. */
export const storableKeys = <T>(doc: T): T => mapKeys(doc, (k) => (UNSTORABLE.test(k) ? `_${k}` : k)) as T;

/** The document `storableKeys` was given, from what DynamoDB gives back. */
export const loadedKeys = <T>(doc: T): T => mapKeys(doc, (k) => (ESCAPED.test(k) ? k.slice(1) : k)) as T;
