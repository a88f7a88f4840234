import type { Command } from 'commander';
import { registerScore } from './score.ts';

/** Registers every `risk-audit` command on the program. */
export function registerCommands(program: Command): void {
  registerScore(program);
}
