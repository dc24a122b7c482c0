import type { Knex } from 'knex';
import { currentFrame, newFrame, type DownFrame } from '../migrations/origin.js';
import { oneLine } from '../migrations/review.js';

// The queries a down() builds but does not run or wait for: a Knex builder is lazy, so
// without `await` (or `.then`) it sends nothing at all, and one started but not awaited
// finishes after down() returned, outside its transaction or not at all. What a down()
// does send is seen by the statement guard at the pg client (migrations/guard.ts, in
// observe mode), not here.
//
// Each up() and down() of a checked migration runs in a frame of its own (migrations/origin.ts),
// which follows everything it starts, awaited or not. Builders are seen where Knex makes
// them: the queryBuilder(), schemaBuilder() and raw() of the pg client's prototype, so a
// transaction's client (Knex builds one per transaction from the prototype) is covered too.
// A builder that is compiled into another one (a subquery, a raw default value) is part of
// that query, not a query of its own.

export type Direction = 'up' | 'down';

/** One step of a checked migration, as the frame it runs in knows it. */
export interface ObservedStep {
  migration: string;
  direction: Direction;
}

/** What a migration's down() built and did not run, or did not wait for. */
export interface BuilderActivity {
  /** Queries down() built and never ran (the SQL, as Knex would send it). */
  neverRun: string[];
  /** Queries down() started and did not wait for: they finished after it returned, or never. */
  notAwaited: string[];
}

interface TrackedBuilder {
  builder: { toString(): string };
  requested: boolean;
  requestedAfterReturn: boolean;
  compiled: boolean;
  settledBeforeReturn: boolean;
}

interface StepFrame extends ObservedStep {
  frame: DownFrame;
  /** Builders made in a down(): an up()'s are not looked at. */
  builders: TrackedBuilder[];
}

type Client = Record<string | symbol, unknown>;
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

// One wrapper per prototype serves every observer: a builder belongs to the step whose frame makes it.
const stepsByFrame = new WeakMap<DownFrame, StepFrame>();
const trackedBuilders = new WeakMap<object, TrackedBuilder>();
const WRAPPED = Symbol.for('db-rollback-actions.verify-reversible-builders');

export class QueryObserver {
  private readonly downs: StepFrame[] = [];

  /** Watches the builders of a session's Knex instance and of every transaction it starts. */
  attach(knex: Knex): void {
    trackBuilders(Object.getPrototypeOf(knex.client) as Client);
  }

  /** A frame for one step of a checked migration (run it with inDownFrame); down()'s builders are tracked. */
  step(migration: string, direction: Direction): DownFrame {
    const frame = newFrame(migration);
    const step: StepFrame = { migration, direction, frame, builders: [] };
    stepsByFrame.set(frame, step);
    if (direction === 'down') this.downs.push(step);
    return frame;
  }

  /** The step a frame belongs to, if it is one of a checked migration's. */
  stepOf(frame: DownFrame | undefined): ObservedStep | undefined {
    return frame && stepsByFrame.get(frame);
  }

  /** What each migration's down() built; call once the run is over, so queries that were left running have settled. */
  results(): Map<string, BuilderActivity> {
    const activity = new Map<string, BuilderActivity>();
    for (const { migration, builders } of this.downs) {
      let ofMigration = activity.get(migration);
      if (!ofMigration) activity.set(migration, (ofMigration = { neverRun: [], notAwaited: [] }));
      for (const entry of builders) {
        // A query requested after down() returned is the guard's to report, as a late statement.
        if (entry.requestedAfterReturn) continue;
        if (!entry.requested && !entry.compiled) ofMigration.neverRun.push(describe(entry.builder));
        else if (entry.requested && !entry.settledBeforeReturn) ofMigration.notAwaited.push(describe(entry.builder));
      }
    }
    this.downs.length = 0;
    return activity;
  }
}

/**
 * Wraps the builder factories and compilers of Knex's client prototype, once: which down() a
 * builder belongs to is its frame's, and builders made outside any down() (Knex's
 * bookkeeping, an up(), another Knex instance) are left alone.
 */
function trackBuilders(prototype: Client): void {
  if (prototype[WRAPPED]) return;
  prototype[WRAPPED] = true;
  for (const method of CREATES) {
    const original = prototype[method] as AnyFunction;
    prototype[method] = function (this: unknown, ...args: unknown[]) {
      const builder = original.apply(this, args) as object;
      const frame = currentFrame();
      const step = frame && stepsByFrame.get(frame);
      if (step?.direction === 'down') track(builder, step);
      return builder;
    };
  }
  for (const method of COMPILES) {
    const original = prototype[method] as AnyFunction;
    prototype[method] = function (this: unknown, builder: unknown, ...rest: unknown[]) {
      const entry = typeof builder === 'object' && builder !== null ? trackedBuilders.get(builder) : undefined;
      if (entry) entry.compiled = true;
      return original.call(this, builder, ...rest);
    };
  }
}

const CREATES = ['queryBuilder', 'schemaBuilder', 'raw'] as const;
const COMPILES = ['queryCompiler', 'schemaCompiler'] as const;

function track(builder: object, step: StepFrame): void {
  const entry: TrackedBuilder = {
    builder,
    requested: false,
    requestedAfterReturn: false,
    compiled: false,
    settledBeforeReturn: false,
  };
  trackedBuilders.set(builder, entry);
  step.builders.push(entry);
  watch(builder as Client, entry, step.frame);
}

/** Notes when a builder is run (then) and when it settles, and when a raw is compiled into another query. */
function watch(builder: Client, entry: TrackedBuilder, frame: DownFrame): void {
  const then = builder.then as AnyFunction | undefined;
  if (typeof then === 'function') {
    builder.then = function (this: unknown, onFulfilled?: AnyFunction, onRejected?: AnyFunction) {
      entry.requested = true;
      if (frame.returned) entry.requestedAfterReturn = true;
      const settle = () => (entry.settledBeforeReturn ||= !frame.returned);
      return then.call(
        this,
        (value: unknown) => {
          settle();
          return onFulfilled ? onFulfilled(value) : value;
        },
        (error: unknown) => {
          settle();
          if (onRejected) return onRejected(error);
          throw error;
        },
      );
    };
  }
  // A raw compiles itself (toSQL) wherever it is used: in a query, a default value, a where.
  const toSQL = builder.toSQL as AnyFunction | undefined;
  if (builder.isRawInstance === true && typeof toSQL === 'function') {
    builder.toSQL = function (this: unknown, ...args: unknown[]) {
      entry.compiled = true;
      return toSQL.apply(this, args);
    };
  }
}

function describe(builder: { toString(): string }): string {
  try {
    return oneLine(builder.toString());
  } catch {
    return 'a query Knex could not render';
  }
}
