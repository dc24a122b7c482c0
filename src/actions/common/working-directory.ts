import { resolveWorkingDirectory } from '../../common/working-directory.js';
import { custom, type InputSpec } from './inputs.js';

/**
 * The caller's project directory (`working-directory`, default `.`), absolute and checked to exist:
 * one meaning on every action that reads the project (src/common/working-directory.ts). A module of
 * its own so that only those actions' bundles carry it.
 */
export function workingDirectory(name = 'working-directory'): InputSpec<string> {
  return custom(name, (value, input) => resolveWorkingDirectory(value, undefined, input), { default: '.' });
}
