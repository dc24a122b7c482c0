import { ConfigurationError } from '../../common/errors.js';
import { databaseUrlInput } from '../common/database.js';
import { custom } from '../common/inputs.js';
import { projectInputs } from '../common/working-directory.js';

function jsonArray(value: string | undefined, name: string): unknown[] {
  const given = value ?? '[]';
  let parsed: unknown;
  try {
    parsed = JSON.parse(given);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed)) {
    throw new ConfigurationError(
      `Input "${name}" is not a JSON array: ${JSON.stringify(given.slice(0, 200))}. Pass the rollback action's ${name} output.`,
    );
  }
  return parsed;
}

/** The prepare-scratch-database action's inputs as action.yml declares them. */
export const inputs = {
  /** The scratch database (never production). */
  databaseUrl: databaseUrlInput({ required: true }),
  /** Production's applied migrations, in the order applied. */
  applied: custom(
    'applied',
    (value, name) => {
      if (value === undefined) throw new ConfigurationError(`Input "${name}" is required and was not given.`);
      const applied = jsonArray(value, name);
      if (!applied.every((entry) => typeof entry === 'string')) {
        throw new ConfigurationError(
          `Input "${name}" must be a JSON array of migration names (the rollback action's applied output).`,
        );
      }
      return applied;
    },
    { required: true },
  ),
  /** Production's plan: name and batch of each migration to undo (other entries are ignored). */
  plan: custom(
    'plan',
    (value, name) =>
      jsonArray(value, name).filter(
        (step): step is { name: string; batch: number } =>
          typeof (step as { name?: unknown } | null)?.name === 'string' &&
          typeof (step as { batch?: unknown }).batch === 'number',
      ),
    { default: '[]' },
  ),
  ...projectInputs(),
};
