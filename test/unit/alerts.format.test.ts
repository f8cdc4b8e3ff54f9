import { describe, expect, it } from '@jest/globals';
import { changesSummary, endpointChanges, problemPhrase, toEndpoint, updateCommand } from '../../src/alerts/describe';
import type { EndpointTarget } from '../../src/policy/types';
import { clip, clipWords, formatDuration, multiLine, oneLine, shellWord, showInvisible, wrap } from '../../src/alerts/format';

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [42, '42s'],
    [252, '4m 12s'],
    [3_600, '1h 0m 0s'],
    [3_725, '1h 2m 5s'],
    [183_840, '2d 3h 4m'],
    [-5, 'unknown'],
    [Number.NaN, 'unknown'],
  ])('%d s is "%s"', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('clip and clipWords', () => {
  it('leaves short text alone and marks a cut with an ellipsis', () => {
    expect(clip('prod-api', 20)).toBe('prod-api');
    expect(clip('abcdefghij', 8)).toBe('abcde...');
  });

  it('never leaves half of a surrogate pair', () => {
    const clipped = clip(`ab${'\u{1D11E}'.repeat(10)}`, 6);
    expect(clipped).toBe('ab...');
    expect(clipped.length).toBeLessThanOrEqual(6);
  });

  it('cuts at a word boundary when one is near', () => {
    expect(clipWords('revert failed: not authorized to perform', 34)).toBe('revert failed: not authorized...');
  });
});

describe('oneLine', () => {
  it('turns line breaks and control characters into single spaces', () => {
    expect(oneLine('a\r\nb\u0000\u2028c   d')).toBe('a b c d');
  });
});

describe('showInvisible', () => {
  it.each<[string, string]>([
    ['prod\u202eipa', 'prod<U+202E>ipa'],
    ['\u2066a\u2069', '<U+2066>a<U+2069>'],
    ['a\u200bb\u200dc', 'a<U+200B>b<U+200D>c'],
    ['\ufeffbom', '<U+FEFF>bom'],
    ['\u061c\u2060', '<U+061C><U+2060>'],
    ['soft\u00adhyphen', 'soft<U+00AD>hyphen'],
    ['tag\u{e0041}', 'tag<U+E0041>'],
    ['hangul\u3164filler', 'hangul<U+3164>filler'],
    ['plain ASCII, é and 日本', 'plain ASCII, é and 日本'],
  ])('%j reads %j', (input, expected) => {
    expect(showInvisible(input)).toBe(expected);
  });

  it('changes nothing the second time: the marks are plain ASCII', () => {
    const once = showInvisible('a\u202eb');
    expect(showInvisible(once)).toBe(once);
  });

  it('is part of oneLine and multiLine, before spaces collapse (\\s would swallow U+FEFF unseen)', () => {
    expect(oneLine('a \ufeff b')).toBe('a <U+FEFF> b');
    expect(multiLine('line\u202e one\r\nline two', 100)).toBe('line<U+202E> one\nline two');
  });
});

describe('wrap', () => {
  it('wraps prose at the width and never breaks a long word', () => {
    const arn = 'arn:aws:sts::111122223333:assumed-role/a-very-long-role-name/with-a-long-session-name';
    const lines = wrap(`actor ${arn} changed it`, 40, '  ');
    expect(lines).toEqual(['  actor', `  ${arn}`, '  changed it']);
  });
});

describe('shellWord', () => {
  it('quotes only what the shell would misread', () => {
    expect(shellWord('prod-api')).toBe('prod-api');
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
  });
});

describe('endpoint changes in words', () => {
  const open = toEndpoint({ endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] })!;

  it.each<[EndpointTarget, 'done' | 'planned', string]>([
    [{ endpointPublicAccess: false, endpointPrivateAccess: true }, 'done', 'public endpoint closed'],
    [{ endpointPublicAccess: false, endpointPrivateAccess: true }, 'planned', 'close public endpoint'],
    [{ endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }, 'done', 'public CIDRs narrowed to 203.0.113.0/24 and private access enabled'],
    [{ endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }, 'done', ''],
  ])('%j (%s) reads "%s"', (target, tense, expected) => {
    expect(changesSummary(endpointChanges(open, toEndpoint(target)!), tense)).toBe(expected);
  });

  it('calls a change that is not a narrowing a change', () => {
    const narrow = toEndpoint({ endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] })!;
    const other = toEndpoint({ endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['198.51.100.0/24'] })!;
    expect(changesSummary(endpointChanges(narrow, other), 'done')).toBe('public CIDRs changed to 198.51.100.0/24');
  });

  it('reads public access with no CIDRs as open to the world (EKS treats an empty list so)', () => {
    expect(toEndpoint({ endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: [] })?.cidrs).toEqual(['0.0.0.0/0']);
    expect(problemPhrase(open, [{ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'x' }], null)).toBe('open to 0.0.0.0/0');
  });
});

describe('updateCommand', () => {
  it('sends only the endpoint fields, as JSON the CLI accepts', () => {
    const command = updateCommand({ name: 'prod-api', account: '111122223333', region: 'eu-west-1' }, {
      endpointPublicAccess: true,
      endpointPrivateAccess: true,
      publicAccessCidrs: ['203.0.113.0/24', '198.51.100.0/24'],
    });
    expect(command).toBe(
      `aws eks update-cluster-config --region eu-west-1 --name prod-api --resources-vpc-config '{"endpointPublicAccess":true,"endpointPrivateAccess":true,"publicAccessCidrs":["203.0.113.0/24","198.51.100.0/24"]}'`,
    );
  });
});
