import { Command, CommanderError } from 'commander';
import { registerValidateCommand, registerCheckCommand } from './commands/policy';
import { registerTriageCommand } from './commands/triage';
import { registerEmulatorCommand } from './commands/emulator';
import { registerDemoCommand, registerSimulateCommand } from './commands/local';
import { registerScpCommand } from './commands/scp';
import { registerReportCommand } from './commands/report';
import { registerRedriveCommand } from './commands/redrive';
import { EXIT } from './io';

// The SDK warns on every run under Node 20 (it will need Node 22 from 2027); README says so once instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `... | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
  throw err;
});

const program = new Command('eks-endpoint-guard')
  .description('Keeps Amazon EKS API server endpoint access inside your organization\'s policy')
  .showHelpAfterError('(add --help for usage)')
  // Usage errors (unknown option, missing argument) are bad input: exit 2 like every other input problem.
  .exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(EXIT.OK);
    process.exit(EXIT.BAD_INPUT);
  })
  .version('0.1.0');

registerValidateCommand(program);
registerCheckCommand(program);
registerTriageCommand(program);
registerEmulatorCommand(program);
registerSimulateCommand(program);
registerDemoCommand(program);
registerScpCommand(program);
registerReportCommand(program);
registerRedriveCommand(program);

await program.parseAsync(process.argv);
