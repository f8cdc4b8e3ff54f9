import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { PolicyError } from '../errors';
import { compiledPolicy } from './compile';
import { describeValue, issueProblems, REGION_SHAPE, regionProblem, type Problem, type Syntax } from './messages';
import { EKS_MAX_PUBLIC_CIDRS, policySchema, type Policy } from './schema';

/** Formats a schema path as people write it: `rules[2].allowedPublicCidrs[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(doc: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = doc;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

type SettingsFields = { publicAccess?: unknown; allowedPublicCidrs?: unknown; maxPublicCidrs?: unknown };
const asObject = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * Checks what the schema cannot see one field at a time: for the defaults and each rule as overlaid on
 * them, that `restricted` has an allowlist and that the allowlist fits the limit. Works on the raw
 * document, using only values of the right type, so these errors are reported alongside schema errors
 * rather than after they are fixed.
 */
function crossFieldProblems(doc: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const defaults = asObject(doc.defaults) as SettingsFields;
  const resolve = (s: SettingsFields, base?: { publicAccess: unknown; cidrs: unknown[]; max: number }) => ({
    publicAccess: s.publicAccess ?? base?.publicAccess,
    cidrs: Array.isArray(s.allowedPublicCidrs) ? s.allowedPublicCidrs : s.allowedPublicCidrs === undefined ? (base?.cidrs ?? []) : null,
    max: typeof s.maxPublicCidrs === 'number' ? s.maxPublicCidrs : s.maxPublicCidrs === undefined ? (base?.max ?? EKS_MAX_PUBLIC_CIDRS) : null,
  });
  const check = (r: ReturnType<typeof resolve>, path: PropertyKey[]) => {
    if (r.publicAccess === 'restricted' && r.cidrs !== null && r.cidrs.length === 0) {
      problems.push({ path, message: `publicAccess is restricted but allowedPublicCidrs is empty or missing (got ${describeValue(r.cidrs)})` });
    }
    if (r.cidrs !== null && r.max !== null && r.cidrs.length > r.max) {
      problems.push({ path, message: `${r.cidrs.length} CIDR blocks exceed maxPublicCidrs ${r.max} (got ${describeValue(r.cidrs)})` });
    }
  };
  const base = resolve(defaults);
  check(base, ['defaults', 'allowedPublicCidrs']);
  const rules = Array.isArray(doc.rules) ? doc.rules : [];
  rules.forEach((entry: unknown, i) => {
    const rule = asObject(entry) as SettingsFields;
    // A rule that never mentions CIDRs inherits a problem of the defaults; report it once, at the defaults.
    if (rule.publicAccess === undefined && rule.allowedPublicCidrs === undefined && rule.maxPublicCidrs === undefined) return;
    if (base.cidrs === null || base.max === null) return;
    check(resolve(rule, { publicAccess: base.publicAccess, cidrs: base.cidrs, max: base.max }), ['rules', i, 'allowedPublicCidrs']);
  });
  return problems;
}

/**
 * Names must be unique among rules and among exemptions: alerts and `check` output identify them by name.
 * Checked on the raw document so the error is reported even when other fields are invalid.
 */
function duplicateNameProblems(doc: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  for (const kind of ['rules', 'exemptions'] as const) {
    const list = doc[kind];
    if (!Array.isArray(list)) continue;
    const seen = new Map<string, number>();
    list.forEach((entry: unknown, i) => {
      const name = entry !== null && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i);
      else problems.push({ path: [kind, i, 'name'], message: `duplicate name (got ${describeValue(name)}), already used by ${kind}[${first}]` });
    });
  }
  return problems;
}

/**
 * Region names the schema accepts by their shape but no partition of the AWS SDK knows (`us-esat-1`):
 * such a match would never hold, silently. Names of the wrong shape are the schema's to report.
 */
function unknownRegionProblems(doc: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  for (const kind of ['rules', 'exemptions'] as const) {
    const list = doc[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, i) => {
      const regions = asObject(asObject(entry).match).regions;
      if (!Array.isArray(regions)) return;
      regions.forEach((region: unknown, j) => {
        if (typeof region !== 'string' || !REGION_SHAPE.test(region)) return;
        const problem = regionProblem(region);
        if (problem !== null) problems.push({ path: [kind, i, 'match', 'regions', j], message: `${problem} (got ${describeValue(region)})` });
      });
    });
  }
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Every problem of a parsed document, in the order schema, regions, overlays, names; or the valid policy. */
function check(doc: unknown, syntax: Syntax): { policy: Policy; problems: [] } | { policy: null; problems: Problem[] } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { policy: null, problems: [{ path: [], message: `a policy must be a mapping with version, defaults, rules, exemptions (got ${describeValue(doc)})` }] };
  }
  const raw = doc as Record<string, unknown>;
  const parsed = policySchema.safeParse(doc, { reportInput: true });
  const issues = parsed.success ? [] : parsed.error.issues;
  // A match whose only keys are misspelt is "empty" as well; the misspelling is the one thing to fix.
  const misspelt = new Set(issues.filter((i) => i.code === 'unrecognized_keys').map((i) => formatPath(i.path)));
  const relevant = issues.filter((i) => !(i.code === 'custom' && i.path[i.path.length - 1] === 'match' && misspelt.has(formatPath(i.path))));
  const problems = [
    ...relevant.flatMap((issue) => issueProblems(issue, policySchema, syntax, (path) => valueAt(doc, path))),
    ...unknownRegionProblems(raw),
    ...crossFieldProblems(raw),
    ...duplicateNameProblems(raw),
  ];
  if (problems.length > 0 || !parsed.success) return { policy: null, problems };
  const policy = deepFreeze(parsed.data);
  compiledPolicy(policy);
  return { policy, problems: [] };
}

/**
 * Validates an already-parsed policy document and returns it with defaults filled in. Throws a
 * `PolicyError` listing every problem, each naming its path and the value found
 * (`rules[0].publicAccess: must be one of forbidden, restricted, unrestricted (got "closed")`); never
 * returns a partial policy. The result is deeply frozen and already compiled (globs, account and region
 * sets, parsed allowlists, exemption instants, kept beside it rather than on it), so evaluating clusters
 * against it parses nothing; freezing is what guarantees that compiled form can never disagree with the policy.
 */
export function validatePolicy(doc: unknown): Policy {
  const result = check(doc, 'data');
  if (result.policy === null) throw new PolicyError(result.problems.map((p) => `${formatPath(p.path)}: ${p.message}`));
  return result.policy;
}

type Position = { line: number; col: number };

/**
 * Where the node a path names starts: the key of a mapping entry (`publicAccess` in
 * `publicAccess: closed`), the entry itself in a list. A path into something the document lacks (a
 * missing key) gives the deepest part that is there, so a missing field points at its parent.
 */
function positionOf(document: Document, lines: LineCounter, path: readonly PropertyKey[]): Position | null {
  let node: unknown = document.contents;
  let named: unknown = node;
  for (const part of path) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      // The last of equal keys is the one JSON.parse keeps.
      const pair = node.items.findLast((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (pair === undefined) break;
      named = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number' && part < node.items.length) {
      const item = node.items[part];
      named = isPair(item) ? item.key : item;
      node = item;
    } else {
      break;
    }
  }
  const offset = (named as { range?: [number, number, number] } | null)?.range?.[0];
  return offset === undefined ? null : lines.linePos(offset);
}

const located = (source: string, at: Position | null | undefined) => (at ? `${source}:${at.line}:${at.col}` : source);

/**
 * The problems of a policy document as lines, `policy.yaml:7:5: rules[0].publicAccess: ...`, in the
 * order of the file (as a compiler lists them) when positions are known, else in the order found.
 */
function problemLines(problems: readonly Problem[], source: string, where: ((path: readonly PropertyKey[]) => Position | null) | null): string[] {
  const placed = problems.map((p, i) => ({ p, i, at: where?.(p.path) ?? null }));
  const key = (x: (typeof placed)[number]) => (x.at === null ? [-1, -1] : [x.at.line, x.at.col]);
  placed.sort((a, b) => key(a)[0]! - key(b)[0]! || key(a)[1]! - key(b)[1]! || a.i - b.i);
  return placed.map(({ p, at }) => `${located(source, at)}: ${formatPath(p.path)}: ${p.message}`);
}

/** A YAML syntax error's first line without the position yaml appends (the line starts with it instead). */
const yamlMessage = (message: string) => message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');

/**
 * Parses policy text (YAML, of which JSON is a subset) and validates it. `source` names the file in
 * messages; every problem carries the line and column of the key or entry it is about
 * (`policy.yaml:7:5: rules[0].publicAccess: must be one of forbidden, restricted, unrestricted (got
 * "closed")`), JSON files included; syntax errors carry theirs. All problems are reported at once. The
 * policy returned is frozen and compiled, as `validatePolicy` describes; it prints and serializes as the
 * plain validated document.
 */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let doc: unknown;
  let document: Document | null = null;
  const lines = new LineCounter();
  const json = source.endsWith('.json');
  if (json) {
    try {
      doc = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new PolicyError([`${source}: not valid JSON: ${(err as Error).message.split('\n')[0]}`], { cause: err });
    }
  } else {
    // The core schema keeps `expires: 2027-03-31` a date string even under a `%YAML 1.1` directive,
    // which would otherwise make it a Date at midnight and end the exemption a day early.
    document = parseDocument(text, { prettyErrors: true, uniqueKeys: true, schema: 'core', lineCounter: lines });
    if (document.errors.length > 0) {
      throw new PolicyError(document.errors.map((e) => `${located(source, e.linePos?.[0])}: not valid YAML: ${yamlMessage(e.message)}`));
    }
    try {
      doc = document.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias without an anchor (an unquoted `*-prod` glob) or an alias bomb.
      const unresolved = /Unresolved alias/.test((err as Error).message);
      let at: Position | null = null;
      if (unresolved) {
        visit(document, {
          Alias: (_, node) => {
            if (node.resolve(document!) !== undefined || node.range == null) return undefined;
            at = lines.linePos(node.range[0]);
            return visit.BREAK;
          },
        });
      }
      const hint = unresolved ? ' (quote globs that start with *, e.g. "*-prod")' : '';
      throw new PolicyError([`${located(source, at)}: not valid YAML: ${(err as Error).message}${hint}`], { cause: err });
    }
  }
  const result = check(doc, json ? 'json' : 'yaml');
  if (result.policy !== null) return result.policy;
  if (json) {
    // Positions only: JSON.parse decided what the document is. A JSON text YAML cannot read gets paths alone.
    const positions = parseDocument(text, { uniqueKeys: false, schema: 'core', lineCounter: lines });
    document = positions.errors.length === 0 ? positions : null;
  }
  const where = document === null ? null : (path: readonly PropertyKey[]) => positionOf(document!, lines, path);
  throw new PolicyError(problemLines(result.problems, source, where));
}
