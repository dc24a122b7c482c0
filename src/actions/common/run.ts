import * as core from '@actions/core';
import { errorMessage, isConfigurationError } from '../../common/errors.js';
import { scrub } from '../../common/secrets.js';

/**
 * The one try/catch around an action. A ConfigurationError is the user's to fix and
 * is reported as a plain error; anything else is our bug, so its stack goes to debug.
 * Every message is scrubbed of the secrets the action registered, because errors from
 * drivers and SDKs can quote a connection string verbatim.
 */
export async function runAction(body: (secrets: SecretRegistry) => Promise<void>): Promise<void> {
  const secrets = new SecretRegistry();
  try {
    await body(secrets);
  } catch (error) {
    const message = secrets.scrub(errorMessage(error));
    if (!isConfigurationError(error) && error instanceof Error && error.stack) core.debug(secrets.scrub(error.stack));
    core.setFailed(message);
  }
}

/** Secrets known to this run: masked in the runner's log and scrubbed from our own messages. */
export class SecretRegistry {
  private readonly values = new Set<string>();

  add(...secrets: string[]): void {
    for (const secret of secrets) {
      if (!secret || secret.length < 3) continue;
      this.values.add(secret);
      core.setSecret(secret);
    }
  }

  scrub(text: string): string {
    return scrub(text, [...this.values]);
  }

  list(): string[] {
    return [...this.values];
  }
}
