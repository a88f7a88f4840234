import type { Command } from 'commander';

/** Registers every `risk-audit` command on the program. */
export function registerCommands(program: Command): void {
  void program;
}
