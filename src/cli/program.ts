/**
 * The CLI's commander program, made the same way for both ways a command runs (src/cli/main.ts): the
 * quick commands' own bundle (src/cli/quick.ts) and the whole CLI (src/cli/full.ts). A command prints
 * the same either way because both register it on a program made here.
 */
import { Command, CommanderError } from 'commander';
import { EXIT } from './io';

/** The program with the CLI's name, description, version and error handling, and no command yet. */
export function createProgram(): Command {
  return (
    new Command('eks-endpoint-guard')
      .description('Keeps Amazon EKS API server endpoint access inside your organization\'s policy')
      .showHelpAfterError('(add --help for usage)')
      // Usage errors (unknown option, missing argument) are bad input: exit 2 like every other input problem.
      .exitOverride((err: CommanderError) => {
        if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(EXIT.OK);
        process.exit(EXIT.BAD_INPUT);
      })
      .version('0.1.0')
  );
}
