import type { Knex } from 'knex';
import { currentFrame, inDownFrame, newFrame, type DownFrame } from '../migrations/origin.js';

// What a schema comparison cannot see: the statements a migration sends (a down() that
// deletes rows), and the queries a down() builds but does not wait for. A Knex builder is
// lazy: without `await` (or `.then`) it sends nothing at all, and one started but not awaited
// finishes after down() returned, outside its transaction or not at all.
//
// Where a statement or builder comes from is known as the rollback's statement guard knows
// it (migrations/origin.ts): each up() and down() runs in a frame of its own that follows
// everything it starts, awaited or not, a timer included, so what it sends after it returned
// is still its own. Statements come from Knex's 'query' event on the check's instance
// (transactions forward theirs to it). Builders are seen where Knex makes them: the client's
// queryBuilder(), schemaBuilder() and raw(), on the client down() was handed. A builder that
// is compiled into another one (a subquery, a raw default value) is part of that query, not
// a query of its own.

/** Only these can change rows; anything else is not kept (and not parsed). */
const MAY_WRITE = /\b(insert|update|delete|truncate|merge)\b/i;

export type Direction = 'up' | 'down';

/** What one migration's up() and down() did, as far as the schema cannot tell. */
export interface MigrationActivity {
  /** Statements that may write rows, by the step that sent them. */
  statements: Record<Direction, string[]>;
  /** Queries down() built and never ran (the SQL, as Knex would send it). */
  neverRun: string[];
  /** Queries down() started and did not wait for: they finished after it returned, or never. */
  notAwaited: string[];
  /** Queries down() started after it had returned (from a timer, say). */
  late: string[];
}

interface TrackedBuilder {
  builder: { toString(): string };
  requested: boolean;
  requestedAfterReturn: boolean;
  compiled: boolean;
  settledBeforeReturn: boolean;
}

interface StepFrame {
  migration: string;
  direction: Direction;
  frame: DownFrame;
  /** Builders made in a down(): an up()'s are not looked at. */
  builders: TrackedBuilder[];
}

type Client = Record<string, unknown>;
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

export class QueryObserver {
  private readonly activity = new Map<string, MigrationActivity>();
  private readonly steps = new WeakMap<DownFrame, StepFrame>();
  private readonly downs: StepFrame[] = [];
  private readonly byBuilder = new WeakMap<object, TrackedBuilder>();
  private readonly wrapped = new WeakSet<object>();

  private readonly onQuery = (query: { sql?: string }): void => {
    const step = this.currentStep();
    if (step && typeof query.sql === 'string' && MAY_WRITE.test(query.sql))
      this.activityOf(step.migration).statements[step.direction].push(query.sql);
  };

  /** Listens on a session's instance (one per scratch database). */
  attach(knex: Knex): () => void {
    knex.on('query', this.onQuery);
    return () => void knex.off('query', this.onQuery);
  }

  /** Runs one step of a checked migration in its frame, recording what it sends; down() also has its builders tracked. */
  async observe(migration: string, direction: Direction, knex: Knex, body: () => Promise<void>): Promise<void> {
    this.activityOf(migration);
    const frame = newFrame(migration);
    const step: StepFrame = { migration, direction, frame, builders: [] };
    this.steps.set(frame, step);
    if (direction === 'down') {
      this.downs.push(step);
      this.trackBuilders(knex.client as Client);
    }
    await inDownFrame(migration, body, frame);
  }

  /** What each migration did; call once the run is over, so queries that were left running have settled. */
  results(): Map<string, MigrationActivity> {
    for (const { migration, builders } of this.downs) {
      const activity = this.activityOf(migration);
      for (const entry of builders) {
        if (entry.requestedAfterReturn) activity.late.push(describe(entry.builder));
        else if (!entry.requested && !entry.compiled) activity.neverRun.push(describe(entry.builder));
        else if (entry.requested && !entry.settledBeforeReturn) activity.notAwaited.push(describe(entry.builder));
      }
    }
    this.downs.length = 0;
    return this.activity;
  }

  private currentStep(): StepFrame | undefined {
    const frame = currentFrame();
    return frame && this.steps.get(frame);
  }

  private activityOf(migration: string): MigrationActivity {
    let activity = this.activity.get(migration);
    if (!activity) {
      activity = { statements: { up: [], down: [] }, neverRun: [], notAwaited: [], late: [] };
      this.activity.set(migration, activity);
    }
    return activity;
  }

  /**
   * Wraps the builder factories and compilers of a client down() was handed (a transaction's
   * own client, or the instance's), once per client: which down() a builder belongs to is
   * its frame's, so one wrapper serves every down() that uses the client, and builders made
   * outside any down() (Knex's bookkeeping, an up()) are left alone.
   */
  private trackBuilders(client: Client): void {
    if (this.wrapped.has(client)) return;
    this.wrapped.add(client);
    const made = (builder: object) => {
      const step = this.currentStep();
      if (step?.direction === 'down') this.track(builder, step);
    };
    for (const method of CREATES) {
      const original = client[method] as AnyFunction;
      client[method] = function (this: unknown, ...args: unknown[]) {
        const builder = original.apply(this, args) as object;
        made(builder);
        return builder;
      };
    }
    for (const method of COMPILES) {
      const original = client[method] as AnyFunction;
      const byBuilder = this.byBuilder;
      client[method] = function (this: unknown, builder: unknown, ...rest: unknown[]) {
        const entry = typeof builder === 'object' && builder !== null ? byBuilder.get(builder) : undefined;
        if (entry) entry.compiled = true;
        return original.call(this, builder, ...rest);
      };
    }
  }

  private track(builder: object, step: StepFrame): void {
    const entry: TrackedBuilder = {
      builder,
      requested: false,
      requestedAfterReturn: false,
      compiled: false,
      settledBeforeReturn: false,
    };
    this.byBuilder.set(builder, entry);
    step.builders.push(entry);
    watch(builder as Client, entry, step.frame);
  }
}

const CREATES = ['queryBuilder', 'schemaBuilder', 'raw'] as const;
const COMPILES = ['queryCompiler', 'schemaCompiler'] as const;

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

function oneLine(sql: string, max = 200): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
