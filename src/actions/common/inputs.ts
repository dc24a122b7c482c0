import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { parseDuration } from '../../common/duration.js';

// Typed readers for action inputs. Each failure names the input and what is allowed,
// so every action reports bad input the same way (see gradle/actions' "Valid values are").

export function getString(name: string): string | undefined {
  const value = core.getInput(name).trim();
  return value === '' ? undefined : value;
}

export function getRequired(name: string): string {
  const value = getString(name);
  if (value === undefined) throw new ConfigurationError(`Input "${name}" is required and was not given.`);
  return value;
}

/** A secret input: masked before anything else can print it. */
export function getSecret(name: string, options: { required: true }): string;
export function getSecret(name: string, options?: { required?: boolean }): string | undefined;
export function getSecret(name: string, options: { required?: boolean } = {}): string | undefined {
  const raw = core.getInput(name);
  if (raw) {
    core.setSecret(raw);
    for (const line of raw.split(/\r?\n/)) if (line.trim().length >= 3) core.setSecret(line.trim());
  }
  const value = raw.trim();
  if (!value) {
    if (options.required) throw new ConfigurationError(`Input "${name}" is required and was not given.`);
    return undefined;
  }
  return value;
}

export function getBoolean(name: string, fallback: boolean): boolean {
  const value = getString(name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new ConfigurationError(`Input "${name}" is "${value}". Valid values are: [true, false].`);
}

export function getEnum<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
  const value = getString(name);
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new ConfigurationError(`Input "${name}" is required. Valid values are: [${allowed.join(', ')}].`);
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigurationError(`Input "${name}" is "${value}". Valid values are: [${allowed.join(', ')}].`);
  }
  return value as T;
}

/** A whole number within [min, max]; undefined when the input is empty. */
export function getInteger(name: string, options: { min?: number; max?: number } = {}): number | undefined {
  const value = getString(name);
  if (value === undefined) return undefined;
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
  const range =
    max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
  if (!/^[-+]?\d+$/.test(value)) throw new ConfigurationError(`Input "${name}" is "${value}": it must be ${range}.`);
  const number = Number(value);
  if (number < min || number > max) throw new ConfigurationError(`Input "${name}" is ${number}: it must be ${range}.`);
  return number;
}

/** A duration (`5s`, `15m`, `1h`) in milliseconds. */
export function getDuration(name: string, fallback: string, options: { min?: number } = {}): number {
  const text = getString(name) ?? fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms < (options.min ?? 0)) {
    throw new ConfigurationError(
      `Input "${name}" is "${text}": it must be a duration such as 30s, 5m, 1h or 1h30m (units ms, s, m, h, d).`,
    );
  }
  return ms;
}

/** Non-empty trimmed lines; comments starting with # are dropped. */
export function getLines(name: string): string[] {
  return core
    .getInput(name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
