// A local osls plugin (listed in serverless.yml before serverless-esbuild) that makes a bad configuration
// fail the deploy instead of the first event:
//   - checks the stage parameters (custom.guard) and names the parameter and the value on error; the
//     organization's parameters (organizationId, regions, ...) become stack parameters at deploy time, and
//     organizationId, which packaging does not need, is required before a deploy;
//   - validates the policy file with the project's own parser (scripts/validate-policy.mjs), listing every problem;
//   - generates one SNS e-mail subscription per address of alertEmails and per topic (the alert topic and the
//     operations topic; CloudFormation cannot loop over a list);
//   - bundles the validated policy at `policy.yaml` in the Lambda task root, whatever the file is called here,
//     which is where the functions read it (POLICY_FILE).
import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { validatePolicyFile } from './validate-policy.mjs';

/** Where the functions find the policy, relative to the Lambda task root (POLICY_FILE). */
export const BUNDLED_POLICY = 'policy.yaml';

const BOOLEAN = /^(true|false)$/;
const SCHEDULE = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCOUNT = /^\d{12}$/;
const ORGANIZATION = /^o-[a-z0-9]{10,32}$/;
const OU = /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

const guardSchema = {
  type: 'object',
  properties: {
    guard: {
      type: 'object',
      properties: {
        policyFile: { type: 'string' },
        shadowMode: { type: 'string' },
        sweepRate: { type: 'string' },
        alertEmails: { type: 'string' },
        notifyCompliant: { type: 'string' },
        organizationId: { type: 'string' },
        governedOus: { type: 'string' },
        excludedAccounts: { type: 'string' },
        regions: { type: 'string' },
        memberReadRoleName: { type: 'string' },
        memberWriteRoleName: { type: 'string' },
        organizationsRoleArn: { type: 'string' },
        maxWaitSeconds: { type: 'string' },
        logLevel: { type: 'string' },
        alertTopic: { type: 'string' },
        operationsTopic: { type: 'string' },
      },
      required: ['policyFile', 'alertTopic', 'operationsTopic'],
      additionalProperties: false,
    },
  },
};

/** Splits a comma-separated parameter, trimming blanks around entries. */
function splitList(value) {
  return String(value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** Every problem with the stage parameters, one line each, naming the parameter and its value. */
export function parameterProblems(guard, { stateMachineTimeoutSeconds } = {}) {
  const problems = [];
  const bad = (param, expected) => problems.push(`stage parameter ${param}: expected ${expected} (value: ${JSON.stringify(guard[param])})`);
  for (const param of ['shadowMode', 'notifyCompliant']) {
    if (!BOOLEAN.test(String(guard[param]))) bad(param, 'true or false');
  }
  if (!SCHEDULE.test(String(guard.sweepRate))) bad('sweepRate', 'an EventBridge schedule such as rate(6 hours) or cron(0 */6 * * ? *)');
  for (const email of splitList(guard.alertEmails)) {
    if (!EMAIL.test(email)) problems.push(`stage parameter alertEmails: not an e-mail address (value: ${JSON.stringify(email)})`);
  }
  // The organization's parameters: CloudFormation checks them again (AllowedPattern) when the stack is
  // deployed; here a typo fails before anything is built, naming the entry.
  const organizationId = String(guard.organizationId ?? '');
  if (organizationId !== '' && !ORGANIZATION.test(organizationId)) bad('organizationId', 'an AWS Organizations id such as o-a1b2c3d4e5');
  const listed = [
    ['governedOus', OU, 'an OU id (ou-...) or the root id (r-...)'],
    ['excludedAccounts', ACCOUNT, 'a 12-digit AWS account id'],
    ['regions', REGION, 'an AWS region name such as eu-west-1'],
  ];
  for (const [param, pattern, expected] of listed) {
    for (const entry of splitList(guard[param])) {
      if (!pattern.test(entry)) problems.push(`stage parameter ${param}: not ${expected} (value: ${JSON.stringify(entry)})`);
    }
  }
  for (const param of ['memberReadRoleName', 'memberWriteRoleName']) {
    if (guard[param] !== undefined && !ROLE_NAME.test(String(guard[param]))) bad(param, 'an IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)');
  }
  if (guard.memberReadRoleName !== undefined && guard.memberReadRoleName === guard.memberWriteRoleName) {
    // One role for both would hand UpdateClusterConfig to every function that only reads.
    problems.push(`stage parameters memberReadRoleName and memberWriteRoleName: must differ (value: ${JSON.stringify(guard.memberReadRoleName)})`);
  }
  const organizationsRoleArn = String(guard.organizationsRoleArn ?? '');
  if (organizationsRoleArn !== '' && !ROLE_ARN.test(organizationsRoleArn)) bad('organizationsRoleArn', 'an IAM role ARN, or empty');
  const maxWait = Number(guard.maxWaitSeconds);
  if (!/^\d+$/.test(String(guard.maxWaitSeconds)) || maxWait < 60 || maxWait > 14000) {
    bad('maxWaitSeconds', 'a whole number of seconds from 60 to 14000');
  } else if (stateMachineTimeoutSeconds !== undefined && maxWait >= stateMachineTimeoutSeconds) {
    // Past TimeoutSeconds Step Functions ends the execution without the guard's own timeout alert.
    bad('maxWaitSeconds', `less than the state machine's TimeoutSeconds (${stateMachineTimeoutSeconds})`);
  }
  if (guard.logLevel !== undefined && !LOG_LEVELS.includes(String(guard.logLevel))) bad('logLevel', LOG_LEVELS.join(', '));
  return problems;
}

/**
 * One AWS::SNS::Subscription per distinct address to the topic `topicLogicalId`. The logical id is the
 * topic's name without `Topic` (AlertTopic: `AlertEmailSubscription…`, as before there were two topics),
 * then a hash of the address, so adding or removing one address leaves the others' subscriptions (and
 * their confirmations) alone, and the two topics' subscriptions never collide.
 */
export function emailSubscriptions(alertEmails, topicLogicalId) {
  const prefix = `${String(topicLogicalId).replace(/Topic$/, '')}EmailSubscription`;
  const seen = new Set();
  const resources = {};
  for (const email of splitList(alertEmails)) {
    const key = email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const id = createHash('sha256').update(key).digest('hex').slice(0, 10);
    resources[`${prefix}${id}`] = {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: { Ref: topicLogicalId },
        Protocol: 'email',
        Endpoint: email,
        // Detection notices (a violation just found, before the revert) go to chat, not to mailboxes: the
        // outcome follows minutes later. Messages without the attribute (CloudWatch alarms) still arrive.
        ...(topicLogicalId === 'AlertTopic' ? { FilterPolicyScope: 'MessageAttributes', FilterPolicy: { kind: [{ 'anything-but': ['detection'] }, { exists: false }] } } : {}),
      },
    };
  }
  return resources;
}

export default class GuardPackagingPlugin {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    serverless.configSchemaHandler.defineCustomProperties(guardSchema);
    this.hooks = {
      'before:package:initialize': () => this.checkConfiguration(),
      'before:package:createDeploymentArtifacts': () => this.bundlePolicy(),
      'before:deploy:function:packageFunction': async () => {
        await this.checkConfiguration();
        await this.bundlePolicy();
      },
      'before:deploy:deploy': () => this.checkDeployable(),
      'before:package:finalize': () => this.parkFailedSchedules(),
    };
  }

  /**
   * serverless-step-functions declares the sweep's schedule rule without a dead-letter queue: give its
   * state-machine target the intake's queue, so a schedule EventBridge could not deliver is kept, not dropped.
   */
  parkFailedSchedules() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate?.Resources ?? {};
    for (const resource of Object.values(resources)) {
      if (resource?.Type !== 'AWS::Events::Rule' || !resource.Properties?.ScheduleExpression) continue;
      for (const target of resource.Properties.Targets ?? []) {
        if (target?.Arn?.Ref === 'SweepOrganizationStateMachine') target.DeadLetterConfig = { Arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } };
      }
    }
  }

  get guard() {
    return this.serverless.service.custom?.guard ?? {};
  }

  fail(lines) {
    throw new this.serverless.classes.Error(lines.join('\n'), 'EKS_ENDPOINT_GUARD_INVALID_CONFIGURATION');
  }

  stateMachineTimeoutSeconds() {
    // serverless-step-functions copies its configuration into `service` only when it compiles; read the source.
    const config = this.serverless.configurationInput?.stepFunctions ?? this.serverless.service.stepFunctions;
    // The enforcement workflows (Standard) wait under MAX_WAIT_SECONDS; the Express tracker's 5 minutes bound one tracking run only.
    const machines = Object.values(config?.stateMachines ?? {}).filter((m) => String(m?.type ?? 'STANDARD').toUpperCase() !== 'EXPRESS');
    const timeouts = machines.map((m) => m?.definition?.TimeoutSeconds).filter((t) => typeof t === 'number');
    return timeouts.length > 0 ? Math.min(...timeouts) : undefined;
  }

  async checkConfiguration() {
    const guard = this.guard;
    const problems = parameterProblems(guard, { stateMachineTimeoutSeconds: this.stateMachineTimeoutSeconds() });
    const policy = await validatePolicyFile(guard.policyFile, { cwd: this.serverless.serviceDir });
    if (!policy.valid) problems.push(...policy.problems);
    if (problems.length > 0) {
      this.fail([`eks-endpoint-guard: ${problems.length} problem(s) in the configuration, nothing was packaged:`, ...problems.map((p) => `  - ${p}`)]);
    }
    this.log?.notice?.(`Policy ${guard.policyFile}: valid (${policy.rules} rules, ${policy.exemptions} exemptions)`);

    const resources = (this.serverless.service.resources ??= {});
    resources.Resources ??= {};
    // The same people hear about the clusters (alert topic) and about the guard itself (operations topic):
    // an alarm that the alert path is broken must not depend on that path.
    for (const topic of [guard.alertTopic, guard.operationsTopic]) Object.assign(resources.Resources, emailSubscriptions(guard.alertEmails, topic));
  }

  /** What packaging can do without, but a deployment cannot: the organization governed. */
  checkDeployable() {
    if (String(this.guard.organizationId ?? '') === '') {
      this.fail([
        'eks-endpoint-guard: stage parameter organizationId is empty: the central stack governs one organization; pass --param="organizationId=o-..." (aws organizations describe-organization --query Organization.Id)',
      ]);
    }
  }

  /** Copies the validated policy into serverless-esbuild's build folder, which is zipped as the task root. */
  async bundlePolicy() {
    const esbuild = this.serverless.pluginManager.getPlugins().find((plugin) => plugin?.constructor?.name === 'EsbuildServerlessPlugin');
    if (!esbuild?.buildDirPath) {
      this.fail(['eks-endpoint-guard: serverless-esbuild is not loaded (or has no build folder), so the policy cannot be bundled; list ./scripts/package-plugin.mjs before serverless-esbuild in plugins']);
    }
    await mkdir(esbuild.buildDirPath, { recursive: true });
    await copyFile(resolve(this.serverless.serviceDir, this.guard.policyFile), join(esbuild.buildDirPath, BUNDLED_POLICY));
  }
}
