/**
 * A mistake the user can fix (bad input, missing permission, a state the run refuses):
 * reported as a plain error with the fix, no stack trace. Anything else is our bug.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export function isConfigurationError(error: unknown): error is ConfigurationError {
  return error instanceof ConfigurationError || (error instanceof Error && error.name === 'ConfigurationError');
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
