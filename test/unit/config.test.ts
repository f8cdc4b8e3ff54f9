/**
 * The configuration (src/config.ts): read from the environment once, defaults applied, every bad key
 * reported at once with its value, the result frozen.
 */
import { loadConfig, requireConfig } from '../../src/config';
import { InputError } from '../../src/errors';

const TOPIC = 'arn:aws:sns:us-east-1:111122223333:eks-endpoint-guard-alerts';
const MACHINE = 'arn:aws:states:us-east-1:111122223333:stateMachine:eks-endpoint-guard';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the defaults to an empty environment', () => {
    const config = loadConfig({});

    expect(config).toEqual({
      POLICY_FILE: 'policy.yaml',
      SHADOW_MODE: false,
      NOTIFY_COMPLIANT: false,
      SECURITY_HUB_FINDINGS: false,
      SELF_ROLE_ARNS: [],
      OUTCOME_EVENTS: true,
      SWEEP_DESCRIBE_CONCURRENCY: 10,
      SWEEP_TIME_MARGIN_SECONDS: 30,
      AWS_REGION: 'us-east-1',
      MAX_WAIT_SECONDS: 3600,
    });
    expect(config.ALERT_TOPIC_ARN).toBeUndefined();
    expect(config.LEDGER_TABLE).toBeUndefined();
    expect(config.STATE_MACHINE_ARN).toBeUndefined();
    expect(config.HOME_ACCOUNT_ID).toBeUndefined();
  });

  it('reads a full environment', () => {
    const config = loadConfig({
      POLICY_FILE: 'policies/org.yaml',
      SHADOW_MODE: 'true',
      NOTIFY_COMPLIANT: '1',
      ALERT_TOPIC_ARN: TOPIC,
      STATE_MACHINE_ARN: MACHINE,
      SELF_ROLE_ARNS: 'arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:role/b',
      CROSS_ACCOUNT_ROLE_NAME: 'eks-endpoint-guard-member',
      HOME_ACCOUNT_ID: '111122223333',
      SWEEP_DESCRIBE_CONCURRENCY: '25',
      SWEEP_TIME_MARGIN_SECONDS: '45',
      AWS_REGION: 'eu-west-1',
      MAX_WAIT_SECONDS: '7200',
      LEDGER_TABLE: 'eks-endpoint-guard-prod-ledger',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    });

    expect(config).toMatchObject({
      POLICY_FILE: 'policies/org.yaml',
      SHADOW_MODE: true,
      NOTIFY_COMPLIANT: true,
      ALERT_TOPIC_ARN: TOPIC,
      STATE_MACHINE_ARN: MACHINE,
      SELF_ROLE_ARNS: ['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:role/b'],
      CROSS_ACCOUNT_ROLE_NAME: 'eks-endpoint-guard-member',
      HOME_ACCOUNT_ID: '111122223333',
      SWEEP_DESCRIBE_CONCURRENCY: 25,
      SWEEP_TIME_MARGIN_SECONDS: 45,
      AWS_REGION: 'eu-west-1',
      MAX_WAIT_SECONDS: 7200,
      LEDGER_TABLE: 'eks-endpoint-guard-prod-ledger',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    });
  });

  it.each<[string | undefined, boolean]>([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['', false],
    [undefined, false],
  ])('SHADOW_MODE=%p reads as %p', (value, expected) => {
    expect(loadConfig(value === undefined ? {} : { SHADOW_MODE: value }).SHADOW_MODE).toBe(expected);
    expect(loadConfig(value === undefined ? {} : { NOTIFY_COMPLIANT: value }).NOTIFY_COMPLIANT).toBe(expected);
  });

  it.each<[string, string[]]>([
    ['a,b', ['a', 'b']],
    [' a , b ,', ['a', 'b']],
    [',,', []],
    ['', []],
    ['only', ['only']],
  ])('a comma list %p reads as %p, blanks dropped', (value, expected) => {
    expect(loadConfig({ SELF_ROLE_ARNS: value }).SELF_ROLE_ARNS).toEqual(expected);
  });

  it.each<[string, string]>([
    ['SHADOW_MODE', 'yes'],
    ['NOTIFY_COMPLIANT', 'on'],
    ['ALERT_TOPIC_ARN', 'arn:aws:sqs:us-east-1:111122223333:queue'],
    ['STATE_MACHINE_ARN', 'arn:aws:lambda:us-east-1:111122223333:function:x'],
    ['HOME_ACCOUNT_ID', '1111'],
    ['MAX_WAIT_SECONDS', '10'],
    ['MAX_WAIT_SECONDS', 'an hour'],
    ['MAX_WAIT_SECONDS', '90000'],
    ['MAX_WAIT_SECONDS', '3600.5'],
    ['SWEEP_DESCRIBE_CONCURRENCY', '0'],
    ['SWEEP_DESCRIBE_CONCURRENCY', '51'],
    ['SWEEP_DESCRIBE_CONCURRENCY', '2.5'],
    ['SWEEP_DESCRIBE_CONCURRENCY', 'ten'],
    ['SWEEP_TIME_MARGIN_SECONDS', '-1'],
    ['SWEEP_TIME_MARGIN_SECONDS', '601'],
    ['LEDGER_TABLE', 'ab'],
    ['LEDGER_TABLE', 'ledger table'],
    ['LEDGER_TABLE', 'arn:aws:dynamodb:us-east-1:111122223333:table/ledger'],
    ['LEDGER_TABLE', 'a'.repeat(256)],
    ['AWS_ENDPOINT_URL', 'localhost'],
    ['POLICY_FILE', ''],
  ])('refuses %s=%p, naming the key and the value', (key, value) => {
    const problems = problemsOf({ [key]: value });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`environment ${key}:`);
    expect(problems[0]).toContain(`(value: ${JSON.stringify(value)})`);
  });

  it('reports every bad key at once', () => {
    const env = { SHADOW_MODE: 'maybe', HOME_ACCOUNT_ID: 'abc', LEDGER_TABLE: 'x', ALERT_TOPIC_ARN: 'topic' };

    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      thrown = err;
    }

    expect(thrown).toBeInstanceOf(InputError);
    const problems = (thrown as InputError).problems;
    expect(problems).toHaveLength(4);
    for (const [key, value] of Object.entries(env)) {
      expect(problems.some((p) => p.startsWith(`environment ${key}:`) && p.includes(JSON.stringify(value)))).toBe(true);
    }
    // The error message lists them too, one a line, for the Lambda log.
    expect((thrown as InputError).message.split('\n')).toEqual(problems);
  });

  it('says why an ARN is refused', () => {
    expect(problemsOf({ ALERT_TOPIC_ARN: 'topic' })[0]).toMatch(/not an SNS topic ARN/);
    expect(problemsOf({ HOME_ACCOUNT_ID: '12' })[0]).toMatch(/not a 12-digit AWS account id/);
    expect(problemsOf({ LEDGER_TABLE: 'x' })[0]).toMatch(/not a DynamoDB table name/);
  });

  it.each(['abc', 'eks-endpoint-guard-dev-ledger', 'Ledger_2026.v1', 'a'.repeat(255)])('takes the DynamoDB table name %p', (name) => {
    expect(loadConfig({ LEDGER_TABLE: name }).LEDGER_TABLE).toBe(name);
  });

  it.each(['MAX_BUSY_ATTEMPTS', 'SWEEP_ACCOUNTS'])('no longer knows %s: ignored like any unknown key', (key) => {
    // MAX_BUSY_ATTEMPTS: the wait budget bounds a busy cluster. SWEEP_ACCOUNTS: the organization sweep
    // lists the governed accounts from AWS Organizations instead of a list fixed at package time.
    const config = loadConfig({ [key]: '0' });

    expect(config).not.toHaveProperty(key);
  });

  it('ignores keys it does not know (Lambda sets many)', () => {
    expect(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'x', _HANDLER: 'index.handler' })).not.toThrow();
  });

  it('freezes the result', () => {
    const config = loadConfig({});

    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { AWS_REGION: string }).AWS_REGION = 'eu-west-1';
    }).toThrow(TypeError);
  });
});

describe('requireConfig', () => {
  it('returns a key that is set', () => {
    expect(requireConfig(loadConfig({ ALERT_TOPIC_ARN: TOPIC }), 'ALERT_TOPIC_ARN')).toBe(TOPIC);
  });

  it('fails for a missing LEDGER_TABLE (every workflow function needs it)', () => {
    expect(() => requireConfig(loadConfig({}), 'LEDGER_TABLE')).toThrow('environment LEDGER_TABLE: required by this function but missing');
  });

  it('returns a key that has a default', () => {
    expect(requireConfig(loadConfig({}), 'MAX_WAIT_SECONDS')).toBe(3600);
  });

  it('fails with InputError naming the missing key', () => {
    const config = loadConfig({});

    expect(() => requireConfig(config, 'STATE_MACHINE_ARN')).toThrow(InputError);
    expect(() => requireConfig(config, 'STATE_MACHINE_ARN')).toThrow('environment STATE_MACHINE_ARN: required by this function but missing');
  });
});
