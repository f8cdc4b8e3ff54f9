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
