/**
 * The IAM guardrail on the remediation role (src/iam/guardrail.ts): its statements as data, their
 * evaluation as IAM evaluates `Bool`, and the request shaping that keeps the guard's own reverts clear of it.
 */
import { GUARDRAIL_STATEMENTS, guardRequestFields, guardrailDenies, type GuardrailRequest, type GuardrailStatement } from '../../src/iam/guardrail';
import type { EndpointConfig, EndpointTarget } from '../../src/policy/types';

const PUBLIC_ON = 'GuardrailNeverTurnsPublicAccessOn';
const PRIVATE_OFF = 'GuardrailNeverTurnsPrivateAccessOff';

describe('guardrail statements', () => {
  it('are two explicit Denies of eks:UpdateClusterConfig, one per widening, with Bool (never BoolIfExists)', () => {
    expect(GUARDRAIL_STATEMENTS).toEqual([
      { Sid: PUBLIC_ON, Effect: 'Deny', Action: 'eks:UpdateClusterConfig', Resource: '*', Condition: { Bool: { 'eks:endpointPublicAccess': 'true' } } },
      { Sid: PRIVATE_OFF, Effect: 'Deny', Action: 'eks:UpdateClusterConfig', Resource: '*', Condition: { Bool: { 'eks:endpointPrivateAccess': 'false' } } },
    ]);
    expect(JSON.stringify(GUARDRAIL_STATEMENTS)).not.toContain('IfExists');
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(GUARDRAIL_STATEMENTS)).toBe(true);
    for (const s of GUARDRAIL_STATEMENTS) {
      expect(Object.isFrozen(s)).toBe(true);
      expect(Object.isFrozen(s.Condition.Bool)).toBe(true);
    }
  });
});

describe('guardrailDenies', () => {
  const cases: [string, GuardrailRequest, string[]][] = [
    ['no endpoint flag (CIDRs only, or nothing): the keys are absent, nothing matches', {}, []],
    ['public access off', { endpointPublicAccess: false }, []],
    ['private access on', { endpointPrivateAccess: true }, []],
    ['public off and private on (making a cluster private)', { endpointPublicAccess: false, endpointPrivateAccess: true }, []],
    ['public access on', { endpointPublicAccess: true }, [PUBLIC_ON]],
    ['private access off', { endpointPrivateAccess: false }, [PRIVATE_OFF]],
    ['public on with private on', { endpointPublicAccess: true, endpointPrivateAccess: true }, [PUBLIC_ON]],
    ['public off with private off', { endpointPublicAccess: false, endpointPrivateAccess: false }, [PRIVATE_OFF]],
    ['public on and private off', { endpointPublicAccess: true, endpointPrivateAccess: false }, [PUBLIC_ON, PRIVATE_OFF]],
  ];

  it.each(cases)('%s', (_name, request, denied) => {
    expect(guardrailDenies(request)).toEqual(denied);
  });

  it('ANDs several keys of one statement and compares Bool values case-insensitively, as IAM does', () => {
    const both: GuardrailStatement = {
      Sid: 'Both',
      Effect: 'Deny',
      Action: 'eks:UpdateClusterConfig',
      Resource: '*',
      Condition: { Bool: { 'eks:endpointPublicAccess': 'TRUE' as 'true', 'eks:endpointPrivateAccess': 'false' } },
    };

    expect(guardrailDenies({ endpointPublicAccess: true, endpointPrivateAccess: false }, [both])).toEqual(['Both']);
    expect(guardrailDenies({ endpointPublicAccess: true }, [both])).toEqual([]);
    expect(guardrailDenies({ endpointPublicAccess: true, endpointPrivateAccess: true }, [both])).toEqual([]);
  });
});

describe('guardRequestFields', () => {
  const open: EndpointConfig = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] };
  const both: EndpointConfig = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };
  const privateOnly: EndpointConfig = { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };
  const office = ['203.0.113.0/24'];

  const cases: [string, EndpointConfig, EndpointTarget, ReturnType<typeof guardRequestFields>][] = [
    ['public-only made private-only: both flags, no CIDRs', open, { endpointPublicAccess: false, endpointPrivateAccess: true }, { endpointPublicAccess: false, endpointPrivateAccess: true }],
    ['public and private, public turned off: the public flag only', both, { endpointPublicAccess: false, endpointPrivateAccess: true }, { endpointPublicAccess: false }],
    ['CIDRs narrowed with private already on: the CIDRs only', both, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: office }, { publicAccessCidrs: office }],
    ['CIDRs narrowed and private turned on', open, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: office }, { endpointPrivateAccess: true, publicAccessCidrs: office }],
    ['already private-only: nothing to send', privateOnly, { endpointPublicAccess: false, endpointPrivateAccess: true }, {}],
  ];

  it.each(cases)('%s', (_name, observed, target, expected) => {
    const request = guardRequestFields(observed, target);

    expect(request).toEqual(expected);
    expect(guardrailDenies(request)).toEqual([]);
  });

  it('copies the CIDR list rather than sharing the target\'s array', () => {
    const target: EndpointTarget = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: [...office] };
    const request = guardRequestFields(both, target);

    target.publicAccessCidrs!.push('0.0.0.0/0');
    expect(request.publicAccessCidrs).toEqual(office);
  });

  it.each([
    ['turns public access on', privateOnly, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: office }, /endpointPublicAccess: the target turns public access on/],
    ['turns private access off', both, { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: office }, /endpointPrivateAccess: the target turns private access off/],
  ] as [string, EndpointConfig, EndpointTarget, RegExp][])('refuses a target that %s, with an InputError naming the field', (_name, observed, target, message) => {
    expect(() => guardRequestFields(observed, target)).toThrow(expect.objectContaining({ name: 'InputError', message: expect.stringMatching(message) }));
  });
});
