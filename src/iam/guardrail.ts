/**
 * The IAM guardrail on the guard's own write role (RemediateClusterRole, the only role allowed
 * eks:UpdateClusterConfig), as data, and the request shaping that keeps the guardrail from ever blocking a
 * legitimate revert. serverless.yml carries the same statements; a deploy test keeps the two identical.
 *
 * The EKS condition keys `eks:endpointPublicAccess` / `eks:endpointPrivateAccess` describe the request, not
 * the cluster. So the guardrail denies a request that asks for public access on or private access off, and
 * the guard sends a flag only when it moves in the safe direction. What the keys cannot express is left to
 * detection: there is no key for `publicAccessCidrs`, so a request that omits both flags and only widens
 * the CIDR list is not denied here; the next evaluation of the cluster finds it.
 *
 * Pure: no AWS SDK, no environment, no clock.
 */
import { InputError } from '../errors';
import { globMatches } from '../policy/glob';
import type { EndpointConfig, EndpointTarget } from '../policy/types';

/** The condition keys the guardrail uses (Bool keys on eks:CreateCluster and eks:UpdateClusterConfig). */
export type GuardrailConditionKey = 'eks:endpointPublicAccess' | 'eks:endpointPrivateAccess';

/** One Deny statement of the guardrail, in IAM policy JSON shape. */
export type GuardrailStatement = {
  readonly Sid: string;
  readonly Effect: 'Deny';
  readonly Action: 'eks:UpdateClusterConfig';
  readonly Resource: '*';
  // `Bool`, never `BoolIfExists`: the IfExists form matches when the key is absent, so it would deny every
  // request that leaves the flag out, which is exactly how the guard's own reverts are shaped.
  readonly Condition: { readonly Bool: Readonly<Partial<Record<GuardrailConditionKey, 'true' | 'false'>>> };
};

/**
 * The guardrail: two separate statements, so that each widening is denied on its own and a request
 * carrying only one of the flags is judged by that flag alone. `Resource: '*'` because a Deny should
 * reach every cluster the role could ever be allowed, whatever the Allow statements say.
 */
export const GUARDRAIL_STATEMENTS: readonly GuardrailStatement[] = Object.freeze([
  Object.freeze({
    Sid: 'GuardrailNeverTurnsPublicAccessOn',
    Effect: 'Deny',
    Action: 'eks:UpdateClusterConfig',
    Resource: '*',
    Condition: Object.freeze({ Bool: Object.freeze({ 'eks:endpointPublicAccess': 'true' }) }),
  }),
  Object.freeze({
    Sid: 'GuardrailNeverTurnsPrivateAccessOff',
    Effect: 'Deny',
    Action: 'eks:UpdateClusterConfig',
    Resource: '*',
    Condition: Object.freeze({ Bool: Object.freeze({ 'eks:endpointPrivateAccess': 'false' }) }),
  }),
]);

/** The endpoint flags of an UpdateClusterConfig request, as the condition keys see them (absent = not sent). */
export type GuardrailRequest = { endpointPublicAccess?: boolean; endpointPrivateAccess?: boolean };

/** The endpoint fields the guard sends in `resourcesVpcConfig` of UpdateClusterConfig. */
export type GuardedEndpointRequest = GuardrailRequest & { publicAccessCidrs?: string[] };

const REQUEST_FIELD: Record<GuardrailConditionKey, keyof GuardrailRequest> = {
  'eks:endpointPublicAccess': 'endpointPublicAccess',
  'eks:endpointPrivateAccess': 'endpointPrivateAccess',
};

/**
 * The Sids of the guardrail statements that deny `request`, evaluated as IAM evaluates `Bool`: a key absent
 * from the request matches nothing (so the statement does not apply); a present key matches when its
 * stringified boolean equals the condition value (IAM compares Bool values case-insensitively). Several keys
 * in one statement must all match. An empty list means the guardrail lets the request through (the role's
 * Allow statements still decide whether it is allowed at all).
 */
export function guardrailDenies(request: GuardrailRequest, statements: readonly GuardrailStatement[] = GUARDRAIL_STATEMENTS): string[] {
  return statements
    .filter((statement) =>
      Object.entries(statement.Condition.Bool).every(([key, expected]) => {
        const value = request[REQUEST_FIELD[key as GuardrailConditionKey]];
        return value !== undefined && String(value) === String(expected).toLowerCase();
      }),
    )
    .map((statement) => statement.Sid);
}

/**
 * The endpoint fields of the UpdateClusterConfig request that moves `observed` to `target`, shaped so that
 * the guardrail never blocks it: `endpointPublicAccess` is sent only when the target turns public access
 * off (false), `endpointPrivateAccess` only when it turns private access on (true); an unchanged flag is
 * left out (EKS keeps its current value). `publicAccessCidrs` is sent when public access stays on, and
 * never when it ends up off. A target that would turn public access on or private access off is a bug
 * (the planner never produces one) and is refused here, before any call, with an InputError naming it.
 */
export function guardRequestFields(observed: EndpointConfig, target: EndpointTarget): GuardedEndpointRequest {
  const widenings: string[] = [];
  if (target.endpointPublicAccess && !observed.endpointPublicAccess) widenings.push('endpointPublicAccess: the target turns public access on');
  if (!target.endpointPrivateAccess && observed.endpointPrivateAccess) widenings.push('endpointPrivateAccess: the target turns private access off');
  if (widenings.length > 0) throw new InputError(widenings.map((w) => `remediation target ${w}; the guard only ever narrows endpoint access`));

  const request: GuardedEndpointRequest = {};
  if (observed.endpointPublicAccess && !target.endpointPublicAccess) request.endpointPublicAccess = false;
  if (!observed.endpointPrivateAccess && target.endpointPrivateAccess) request.endpointPrivateAccess = true;
  if (target.endpointPublicAccess && target.publicAccessCidrs !== undefined) request.publicAccessCidrs = [...target.publicAccessCidrs];
  return request;
}

// ---------------------------------------------------------------------------------------------------------
// A general evaluator for the Deny statements this product writes (the guardrail above, the service control
// policies of `eks-endpoint-guard scp`): the condition operators they use, evaluated as IAM documents them.
// Tests use it to prove what a policy refuses and admits; nothing calls AWS.

/** An IAM policy statement, the subset this product writes (`Resource` is always `*` and not evaluated). */
export type IamStatement = {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
};

/**
 * A request as IAM conditions see it: the action (`eks:CreateCluster`) and the request context's keys
 * (`aws:PrincipalArn`, `aws:RequestedRegion`, `eks:endpointPublicAccess` as `"true"`/`"false"`). A key left
 * out is absent from the request context, which is not the same as any value.
 */
export type IamRequest = { readonly action: string; readonly keys: Readonly<Record<string, string | undefined>> };

type OperatorTest = (value: string, expected: string) => boolean;

/** Each of the six colon-delimited parts of an ARN is compared on its own; `*` does not cross a colon. */
function arnLike(value: string, pattern: string): boolean {
  const parts = (arn: string) => {
    const split = arn.split(':');
    return split.length < 6 ? null : [...split.slice(0, 5), split.slice(5).join(':')];
  };
  const v = parts(value);
  const p = parts(pattern);
  return v !== null && p !== null && p.every((part, i) => globMatches(part, v[i]!));
}

// Positive operators: some listed value matches. Negated ones: none does, and an absent key satisfies them
// (IAM: "a negated condition operator evaluates to true when the key is not present").
const OPERATORS: Record<string, { test: OperatorTest; negated: boolean }> = {
  bool: { test: (v, e) => v.toLowerCase() === e.toLowerCase(), negated: false },
  stringequals: { test: (v, e) => v === e, negated: false },
  stringnotequals: { test: (v, e) => v === e, negated: true },
  stringlike: { test: (v, e) => globMatches(e, v), negated: false },
  stringnotlike: { test: (v, e) => globMatches(e, v), negated: true },
  arnequals: { test: arnLike, negated: false },
  arnlike: { test: arnLike, negated: false },
  arnnotequals: { test: arnLike, negated: true },
  arnnotlike: { test: arnLike, negated: true },
};

/**
 * True when every operator of a statement's `Condition` block holds for the request context keys (operators
 * AND together, and so do the keys under one operator; the values listed for one key OR together, or for
 * a negated operator must all fail). Key names are case-insensitive, as in IAM. `Null: {key: "true"}` holds
 * when the key is absent, `"false"` when present; an `…IfExists` operator holds when its key is absent.
 * An operator this evaluator does not know throws, so a test can never pass on a condition it cannot read.
 */
export function conditionHolds(condition: IamStatement['Condition'], keys: IamRequest['keys']): boolean {
  const lower = new Map(Object.entries(keys).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(condition ?? {}).every(([operator, entries]) =>
    Object.entries(entries).every(([key, expectedValues]) => {
      const value = lower.get(key.toLowerCase());
      const expected = typeof expectedValues === 'string' ? [expectedValues] : [...expectedValues];
      const name = operator.toLowerCase();
      if (name === 'null') return expected.some((e) => (e.toLowerCase() === 'true') === (value === undefined));
      const ifExists = name.endsWith('ifexists');
      const op = OPERATORS[ifExists ? name.slice(0, -'ifexists'.length) : name];
      if (op === undefined) throw new InputError([`condition operator ${operator} is not one the evaluator knows`]);
      if (value === undefined) return ifExists || op.negated;
      const any = expected.some((e) => op.test(value, e));
      return op.negated ? !any : any;
    }),
  );
}

/** True when the statement's `Action` (a name or a list; `*` and `?` wildcards; case-insensitive) names the request's action. */
export function actionMatches(statement: IamStatement, action: string): boolean {
  const actions = typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
  return actions.some((a) => globMatches(a.toLowerCase(), action.toLowerCase()));
}

/**
 * The Sids (or `#index` for a statement without one) of the Deny statements that refuse `request`: the
 * action matches and every condition holds. An explicit Deny wins over any Allow, in an identity policy or
 * a service control policy alike, so one entry here means AWS refuses the request.
 */
export function denyingStatements(statements: readonly IamStatement[], request: IamRequest): string[] {
  return statements.flatMap((s, i) => (s.Effect === 'Deny' && actionMatches(s, request.action) && conditionHolds(s.Condition, request.keys) ? [s.Sid ?? `#${i}`] : []));
}
