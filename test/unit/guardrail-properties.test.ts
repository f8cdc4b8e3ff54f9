/**
 * The guardrail never blocks the guard, and always blocks a widening (fast-check, 1,000+ runs each):
 * - every target the planner produces, shaped by guardRequestFields, is denied by no guardrail statement,
 *   and the shaped request still moves the observed config to exactly that target;
 * - every request that turns public access on or private access off is denied, whatever else it carries,
 *   and guardRequestFields refuses to shape a target that would do either;
 * - the residual: a request without endpoint flags (CIDRs only) is never denied; no condition key
 *   describes publicAccessCidrs, so CIDR widening is left to detection.
 */
import fc from 'fast-check';
import { guardRequestFields, guardrailDenies, type GuardedEndpointRequest } from '../../src/iam/guardrail';
import { planTarget } from '../../src/policy/plan';
import type { EffectiveSettings, EndpointConfig, EndpointTarget } from '../../src/policy/types';

const RUNS = { numRuns: 1000 };
const PUBLIC_ON = 'GuardrailNeverTurnsPublicAccessOn';
const PRIVATE_OFF = 'GuardrailNeverTurnsPrivateAccessOff';

// Blocks that nest in, contain, equal or miss the allowlist entries, so the planner's narrowing paths run.
const ALLOWED = ['203.0.113.0/24', '198.51.100.0/24', '10.0.0.0/8', '2001:db8::/32'];
const OBSERVED = [...ALLOWED, '0.0.0.0/0', '::/0', '203.0.113.5/32', '203.0.0.0/16', '192.0.2.0/24', '10.1.2.0/24', '2001:db8:1::/48', '100.64.0.0/10'];

const settingsArb: fc.Arbitrary<EffectiveSettings> = fc
  .record({
    publicAccess: fc.constantFrom('forbidden', 'restricted', 'unrestricted') as fc.Arbitrary<EffectiveSettings['publicAccess']>,
    privateAccess: fc.constantFrom('required', 'optional') as fc.Arbitrary<EffectiveSettings['privateAccess']>,
    mode: fc.constantFrom('enforce', 'alert') as fc.Arbitrary<EffectiveSettings['mode']>,
    maxPublicCidrs: fc.integer({ min: 1, max: 40 }),
  })
  .chain((s) =>
    fc
      .uniqueArray(fc.constantFrom(...ALLOWED), { minLength: s.publicAccess === 'restricted' ? 1 : 0, maxLength: Math.min(s.maxPublicCidrs, ALLOWED.length) })
      // Tag exemptions and escalation do not reach the planner; any valid value will do.
      .map((allowedPublicCidrs) => ({ rule: null, ...s, allowedPublicCidrs, maxTagExemptionDays: 0, escalation: { reverts: 3, withinMinutes: 60 } })),
  );

const observedArb: fc.Arbitrary<EndpointConfig> = fc.record({
  endpointPublicAccess: fc.boolean(),
  endpointPrivateAccess: fc.boolean(),
  publicAccessCidrs: fc.oneof(fc.array(fc.constantFrom(...OBSERVED), { minLength: 1, maxLength: 6 }), fc.array(fc.constantFrom(...OBSERVED), { minLength: 0, maxLength: 45 })),
});

/** The cluster's endpoint settings after EKS applies `request` to `observed` (omitted fields keep their value). */
function applied(observed: EndpointConfig, request: GuardedEndpointRequest): EndpointConfig {
  return {
    endpointPublicAccess: request.endpointPublicAccess ?? observed.endpointPublicAccess,
    endpointPrivateAccess: request.endpointPrivateAccess ?? observed.endpointPrivateAccess,
    publicAccessCidrs: request.publicAccessCidrs ?? observed.publicAccessCidrs,
  };
}

/** What the target means on the cluster: CIDRs only matter while public access is on. */
const effect = (c: EndpointConfig | EndpointTarget) =>
  c.endpointPublicAccess
    ? { endpointPublicAccess: true, endpointPrivateAccess: c.endpointPrivateAccess, publicAccessCidrs: c.publicAccessCidrs }
    : { endpointPublicAccess: false, endpointPrivateAccess: c.endpointPrivateAccess };

const flag = fc.constantFrom(true, false, undefined);
const requestArb: fc.Arbitrary<GuardedEndpointRequest> = fc
  .record({ endpointPublicAccess: flag, endpointPrivateAccess: flag, cidrs: fc.option(fc.array(fc.constantFrom(...OBSERVED), { maxLength: 4 }), { nil: undefined }) })
  .map(({ endpointPublicAccess, endpointPrivateAccess, cidrs }) => ({
    ...(endpointPublicAccess === undefined ? {} : { endpointPublicAccess }),
    ...(endpointPrivateAccess === undefined ? {} : { endpointPrivateAccess }),
    ...(cidrs === undefined ? {} : { publicAccessCidrs: cidrs }),
  }));

describe('the guardrail and the guard\'s own requests (fast-check, 1000+ runs each)', () => {
  it('the generator reaches every way a target can differ from the observed config', () => {
    // Without this, a generator that never turns public off (say) would let the next property pass vacuously.
    const seen = { publicTurnedOff: 0, privateTurnedOn: 0, cidrsOnly: 0, bothFlags: 0, nothingToSend: 0 };
    fc.assert(
      fc.property(settingsArb, observedArb, (settings, observed) => {
        const { target } = planTarget(settings, observed);
        if (!target) return;
        const r = guardRequestFields(observed, target);
        if (r.endpointPublicAccess === false) seen.publicTurnedOff++;
        if (r.endpointPrivateAccess === true) seen.privateTurnedOn++;
        if (r.endpointPublicAccess !== undefined && r.endpointPrivateAccess !== undefined) seen.bothFlags++;
        if (r.endpointPublicAccess === undefined && r.endpointPrivateAccess === undefined && r.publicAccessCidrs) seen.cidrsOnly++;
        if (Object.keys(r).length === 0) seen.nothingToSend++;
      }),
      RUNS,
    );
    for (const [path, count] of Object.entries(seen)) expect({ path, enough: count >= 10 }).toEqual({ path, enough: true });
  });

  it('no planner target, shaped by guardRequestFields, is denied by any guardrail statement, and the request still reaches it', () => {
    fc.assert(
      fc.property(settingsArb, observedArb, (settings, observed) => {
        const { target } = planTarget(settings, observed);
        if (!target) return;
        const request = guardRequestFields(observed, target);

        expect(guardrailDenies(request)).toEqual([]);
        expect(request.endpointPublicAccess).not.toBe(true);
        expect(request.endpointPrivateAccess).not.toBe(false);
        expect(effect(applied(observed, request))).toEqual(effect(target));
      }),
      RUNS,
    );
  });

  it('denies every request that turns public access on or private access off, whatever else it carries, and only those', () => {
    fc.assert(
      fc.property(requestArb, (request) => {
        const denied = guardrailDenies(request);

        expect(denied.includes(PUBLIC_ON)).toBe(request.endpointPublicAccess === true);
        expect(denied.includes(PRIVATE_OFF)).toBe(request.endpointPrivateAccess === false);
      }),
      RUNS,
    );
  });

  it('a widening (public off to on, private on to off) is denied as a request and refused by the shaping', () => {
    const wideningArb = observedArb.chain((observed) => {
      const kinds: fc.Arbitrary<'public-on' | 'private-off'>[] = [];
      if (!observed.endpointPublicAccess) kinds.push(fc.constant('public-on'));
      if (observed.endpointPrivateAccess) kinds.push(fc.constant('private-off'));
      if (kinds.length === 0) return fc.constant(null);
      return fc.tuple(fc.oneof(...kinds), fc.boolean()).map(([kind, other]) => {
        const target: EndpointTarget =
          kind === 'public-on'
            ? { endpointPublicAccess: true, endpointPrivateAccess: other || observed.endpointPrivateAccess, publicAccessCidrs: ['0.0.0.0/0'] }
            : { endpointPublicAccess: other && observed.endpointPublicAccess, endpointPrivateAccess: false };
        return { observed, target, kind };
      });
    });
    let widenings = 0;
    fc.assert(
      fc.property(wideningArb, (c) => {
        if (!c) return;
        widenings++;
        // The request a buggy adapter would send: every flag of the target, as it stands.
        const naive = { endpointPublicAccess: c.target.endpointPublicAccess, endpointPrivateAccess: c.target.endpointPrivateAccess };

        expect(guardrailDenies(naive)).toContain(c.kind === 'public-on' ? PUBLIC_ON : PRIVATE_OFF);
        expect(() => guardRequestFields(c.observed, c.target)).toThrow(expect.objectContaining({ name: 'InputError' }));
      }),
      RUNS,
    );
    expect(widenings).toBeGreaterThan(500);
  });

  it('residual: a request with CIDRs and no endpoint flag is never denied (no condition key covers publicAccessCidrs)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...OBSERVED), { maxLength: 40 }), (publicAccessCidrs) => {
        expect(guardrailDenies({ publicAccessCidrs } as GuardedEndpointRequest)).toEqual([]);
      }),
      RUNS,
    );
  });
});
