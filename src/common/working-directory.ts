import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from './errors.js';

/**
 * The caller's project directory (`working-directory`), absolute. It resolves against the
 * workspace, the way a `run:` step's `working-directory` does, and everything the actions read
 * from the project (knexfile, migrations-dir, the smoke command) resolves against it in turn, so
 * one value means the same thing on every action: `services/api` in a monorepo.
 */
export function resolveWorkingDirectory(
  given: string | undefined,
  workspace: string = process.env.GITHUB_WORKSPACE ?? process.cwd(),
  input = 'working-directory',
): string {
  const absolute = path.resolve(workspace, given ?? '.');
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isDirectory()) {
    throw new ConfigurationError(
      `Input "${input}" is "${given}", but ${absolute} is not a directory. Give the project's directory relative to the repository root (e.g. services/api), after actions/checkout.`,
    );
  }
  return absolute;
}
