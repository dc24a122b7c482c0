import * as core from '@actions/core';
import { systemClock, type Clock } from '../../common/clock.js';
import { errorMessage, isConfigurationError } from '../../common/errors.js';
import { escapeForLog, type Logger } from '../../common/logger.js';
import { poll, retry, retryReport } from '../../common/retry.js';
import { scrub } from '../../common/secrets.js';
import { Shutdown, type RegisterCleanup } from '../../common/shutdown.js';
import { readInputs, type InputSpecs, type ParsedInputs } from './inputs.js';
import { Summary, writeSummary } from './summary.js';

/**
 * One way to be an action. Each action declares its contract once (its inputs with their parsers,
 * defaults and secrecy; its outputs with their default values) and a `run` that gets the typed
 * inputs and a Runtime. The runtime does what every action must do the same way:
 *   1. sets every output to its default first, so success, failure and cancel all leave them defined;
 *   2. masks every secret input before anything is parsed or logged;
 *   3. gives the action a logger that scrubs secrets and escapes control characters, the clock,
 *      poll/retry on that clock, the summary, and `onCleanup` for a cancelled run (SIGINT/SIGTERM);
 *   4. writes the summary once, on every path, escaped, capped and guarded (src/actions/common/summary.ts);
 *   5. reports a ConfigurationError as a plain error with its fix, anything else with its stack under debug.
 * test/actions/contracts.test.ts holds each action.yml to the declared contract.
 */

/** An output's default: a value, or one computed from the raw inputs (notify passes maintenance-id through). */
export type OutputDefault = string | ((input: (name: string) => string) => string);

export interface ActionDefinition<I extends InputSpecs, O extends string> {
  /** The folder under actions/ and src/actions/. */
  name: string;
  inputs: I;
  outputs: Record<O, OutputDefault>;
  run: (inputs: ParsedInputs<I>, runtime: Runtime<O>) => Promise<void>;
}

export interface Action<I extends InputSpecs, O extends string> extends ActionDefinition<I, O> {
  /** What index.ts calls: runs the action as the runner does. */
  start(): Promise<void>;
}

export interface Runtime<O extends string = string> {
  logger: Logger;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** src/common/retry.ts, on the runtime's clock unless given another. */
  retry: typeof retry;
  retryReport: typeof retryReport;
  poll: typeof poll;
  summary: Summary;
  secrets: Secrets;
  setOutput: (name: O, value: string | number | boolean) => void;
  /** An annotation with a title or a file, which Logger has no words for. */
  annotate: (level: 'error' | 'warning' | 'notice', message: string, properties: core.AnnotationProperties) => void;
  /** Registers what a cancelled run must undo; see src/common/shutdown.ts. */
  onCleanup: RegisterCleanup;
}

/** Secrets known to this run: masked in the runner's log and scrubbed from our own messages, outputs and summary. */
export class Secrets {
  private readonly values = new Set<string>();

  add(...secrets: Array<string | undefined>): void {
    for (const secret of secrets) {
      if (!secret || secret.length < 3 || this.values.has(secret)) continue;
      this.values.add(secret);
      core.setSecret(secret);
    }
  }

  readonly scrub = (text: string): string => scrub(text, [...this.values]);
}

/** The Logger every domain module takes, writing through @actions/core. */
export function actionLogger(secrets: Secrets): Logger {
  const clean = (message: string) => escapeForLog(secrets.scrub(message));
  return {
    debug: (message) => core.debug(secrets.scrub(message)),
    info: (message) => core.info(clean(message)),
    warning: (message) => core.warning(secrets.scrub(message)),
    error: (message) => core.error(secrets.scrub(message)),
    group: (name, body) => core.group(clean(name), body),
  };
}

export function defineAction<I extends InputSpecs, O extends string>(definition: ActionDefinition<I, O>): Action<I, O> {
  return { ...definition, start: () => runAction(definition) };
}

async function runAction<I extends InputSpecs, O extends string>(definition: ActionDefinition<I, O>): Promise<void> {
  const secrets = new Secrets();
  const logger = actionLogger(secrets);
  const summary = new Summary();
  const clock = systemClock;
  const shutdown = new Shutdown({ logger, beforeExit: () => writeSummary(summary, secrets.scrub, logger) });
  const runtime: Runtime<O> = {
    logger,
    clock,
    sleep: (ms) => clock.sleep(ms),
    retry: (attempt, options) => retry(attempt, { clock, ...options }),
    retryReport: (attempt, options) => retryReport(attempt, { clock, ...options }),
    poll: (check, options) => poll(check, { clock, ...options }),
    summary,
    secrets,
    setOutput: (name, value) => core.setOutput(name, secrets.scrub(String(value))),
    annotate: (level, message, properties) => core[level](secrets.scrub(message), properties),
    onCleanup: shutdown.register,
  };
  for (const [name, fallback] of Object.entries<OutputDefault>(definition.outputs)) {
    core.setOutput(name, typeof fallback === 'function' ? fallback((input) => core.getInput(input)) : fallback);
  }
  shutdown.install();
  let failure: { error: unknown } | undefined;
  try {
    const inputs = readInputs(
      definition.inputs,
      (name) => core.getInput(name),
      (secret) => secrets.add(secret),
    );
    await definition.run(inputs, runtime);
  } catch (error) {
    failure = { error };
  } finally {
    await writeSummary(summary, secrets.scrub, logger);
    shutdown.uninstall();
  }
  if (failure) reportFailure(failure.error, secrets);
}

/** A ConfigurationError is the user's to fix: a plain error. Anything else is our bug: its stack goes to debug. */
function reportFailure(error: unknown, secrets: Secrets): void {
  if (!isConfigurationError(error) && error instanceof Error && error.stack) core.debug(secrets.scrub(error.stack));
  core.setFailed(secrets.scrub(errorMessage(error)));
}
