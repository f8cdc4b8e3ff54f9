import type { Command } from 'commander';
import { InputError } from '../../errors';
import type { Scenario, SimulationReport } from '../../local/simulate';
import type { Policy } from '../../policy';
import { EXIT, loadAll, missingOptions, printJson, readDocument, runCommand } from '../io';
import { loadPolicyFile } from './policy';

const ALERT_MODES = ['subjects', 'full'] as const;
type AlertMode = (typeof ALERT_MODES)[number];

/** Reads and validates a scenario file, naming every bad path. */
async function loadScenarioFile(path: string): Promise<Scenario> {
  // Loaded here, not at the top: the local runner, the emulator and the SDK are for these commands only.
  const { parseScenario } = await import('../../local/simulate');
  const doc = await readDocument(path, 'scenario');
  if (doc === null || typeof doc !== 'object') throw new InputError([`scenario ${path}: expected a mapping with accounts, clusters, steps`]);
  return parseScenario(doc, path);
}

const indent = (text: string, prefix: string) => text.split('\n').map((l) => `${prefix}${l}`.trimEnd()).join('\n');

/** The report for people: every step, then what the guard made of them, then what was expected. */
function renderReport(report: SimulationReport, describe: (e: NonNullable<SimulationReport['expectations']>[number]) => string): string {
  const lines = [`start time: ${report.startTime}`, 'steps:'];
  const none = () => lines.push('  (none)');
  for (const s of report.steps) lines.push(`  [${s.index}] ${s.kind.padEnd(20)} ${(s.ok ? 'ok' : 'failed').padEnd(7)}${s.result}`);
  if (report.steps.length === 0) none();
  lines.push('executions:');
  for (const e of report.executions) {
    const where = e.cluster ? `${e.cluster.name} ${e.cluster.account}/${e.cluster.region}` : '-';
    lines.push(`  ${e.eventName.padEnd(20)} ${where.padEnd(40)} ${e.outcome.padEnd(24)}${e.reason ? ` ${e.reason}` : ''} (${e.stateTransitions} transitions)`);
    for (const a of e.alerts) lines.push(`      alert ${a.severity}: ${a.subject}`);
  }
  if (report.executions.length === 0) none();
  lines.push('clusters:');
  for (const c of report.clusters) {
    const pub = c.config.endpointPublicAccess ? `public ${c.config.publicAccessCidrs.join(',')}` : 'public off';
    lines.push(`  ${c.name} ${c.account}/${c.region}: ${pub}; private ${c.config.endpointPrivateAccess ? 'on' : 'off'}`);
  }
  if (report.clusters.length === 0) none();
  lines.push('alerts:');
  for (const a of report.alerts) {
    lines.push(`  ${a.severity.padEnd(8)} ${a.outcome.padEnd(24)} ${a.subject}`);
    if (a.text !== undefined) lines.push('    e-mail:', indent(a.text, '      '));
    if (a.chat !== undefined) lines.push('    chat:', indent(JSON.stringify(a.chat, null, 2), '      '));
  }
  if (report.alerts.length === 0) none();
  lines.push('operations alarms:');
  for (const o of report.operations) lines.push(`  ${o.delivered ? 'delivered' : `NOT delivered (${o.error ?? 'unknown error'})`}: ${o.subject}`);
  if (report.operations.length === 0) none();
  lines.push('pending re-checks:');
  for (const p of report.pendingRechecks) lines.push(`  ${p.cluster.name} ${p.cluster.account}/${p.cluster.region}: attempt ${p.attempt} due ${p.dueAt} (${p.name})`);
  if (report.pendingRechecks.length === 0) none();
  if (report.expectations) {
    lines.push('expectations:');
    for (const r of report.expectations) lines.push(`  ${(r.ok ? 'ok' : 'FAILED').padEnd(7)}${describe(r)}`);
    if (report.expectations.length === 0) none();
  }
  return `${lines.join('\n')}\n`;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Run a scenario (emulator state + steps) through the whole workflow locally and report each execution; exit 1 when an expectation fails')
    .option('--policy <file>', 'policy file (YAML or JSON) (required)')
    .option('--scenario <file>', 'scenario file: an emulator state plus steps (YAML or JSON) (required)')
    .option('--now <iso>', "start emulated time at this instant (wins over the scenario's startTime; default: now)")
    .option('--alerts <mode>', "'subjects', or 'full' to include each alert's e-mail text and chat JSON", 'subjects')
    .option('--json', 'print the report as JSON')
    .action((opts: { policy?: string; scenario?: string; now?: string; alerts: string; json?: boolean }) =>
      runCommand(async () => {
        const { parseInstant, simulate } = await import('../../local/simulate');
        const { describeExpectation } = await import('../../local/expect');
        const problems = missingOptions(opts, { policy: '--policy <file>', scenario: '--scenario <file>' });
        const startTime = opts.now === undefined ? undefined : parseInstant(opts.now);
        if (startTime === null) problems.push(`--now: not an ISO date-time (value: ${JSON.stringify(opts.now)})`);
        if (!(ALERT_MODES as readonly string[]).includes(opts.alerts)) problems.push(`--alerts: expected ${ALERT_MODES.join(' or ')} (value: ${JSON.stringify(opts.alerts)})`);
        const [policy, parsed] = await loadAll<[Policy, Scenario]>(
          [opts.policy ? loadPolicyFile(opts.policy) : Promise.resolve(null as never), opts.scenario ? loadScenarioFile(opts.scenario) : Promise.resolve(null as never)],
          problems,
        );
        const report = await simulate(parsed, policy, { startTime: startTime ?? undefined, alerts: opts.alerts as AlertMode });
        if (opts.json) printJson(report);
        else process.stdout.write(renderReport(report, describeExpectation));
        const failed = (report.expectations ?? []).filter((r) => !r.ok);
        for (const r of failed) process.stderr.write(`expectation failed: ${describeExpectation(r)}\n`);
        return failed.length > 0 ? EXIT.VIOLATION : EXIT.OK;
      }),
    );
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Play the demo story against the local emulator (what `npm start` runs), on your own policy and world if given')
    .option('--wait-ms <ms>', 'real milliseconds each Wait state lasts, to watch progress', '40')
    .option('--policy <file>', 'policy file to play the story on (default: policy.yaml of this package)')
    .option('--scenario <file>', "scenario file: its world replaces demo/state.yaml and its steps, if any, the demo's story")
    .action((opts: { waitMs: string; policy?: string; scenario?: string }) =>
      runCommand(async () => {
        const { runDemo } = await import('../../local/demo');
        const [policy, scenario] = await loadAll<[Policy | undefined, Scenario | undefined]>([
          opts.policy ? loadPolicyFile(opts.policy) : Promise.resolve(undefined),
          opts.scenario ? loadScenarioFile(opts.scenario) : Promise.resolve(undefined),
        ]);
        return runDemo(undefined, {
          waitMs: Number(opts.waitMs),
          policy: policy && { policy, source: opts.policy! },
          scenario: scenario && { scenario, source: opts.scenario! },
        });
      }),
    );
}
