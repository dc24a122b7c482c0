import type { Knex } from 'knex';

// What a schema comparison cannot see: the statements a migration sends (a down() that
// deletes rows), and the queries a down() builds but does not wait for. A Knex builder is
// lazy: without `await` (or `.then`) it sends nothing at all, and one started but not awaited
// finishes after down() returned, outside its transaction or not at all.
//
// Statements come from Knex's 'query' event on the check's instance (transactions forward
// theirs to it). Builders are seen where Knex makes them: the client's queryBuilder(),
// schemaBuilder() and raw(), on the client of the instance handed to down(), for as long as
// down() runs. A builder that is compiled into another one (a subquery, a raw default value)
// is part of that query, not a query of its own.

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
}

interface TrackedBuilder {
  builder: { toString(): string };
  requested: boolean;
  compiled: boolean;
  settledBeforeReturn: boolean;
}

type Client = Record<string, unknown>;
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

export class QueryObserver {
  private readonly activity = new Map<string, MigrationActivity>();
  private readonly builders = new Map<string, TrackedBuilder[]>();
  private current: string[] | undefined;

  private readonly onQuery = (query: { sql?: string }): void => {
    if (this.current && typeof query.sql === 'string' && MAY_WRITE.test(query.sql)) this.current.push(query.sql);
  };

  /** Listens on a session's instance (one per scratch database). */
  attach(knex: Knex): () => void {
    knex.on('query', this.onQuery);
    return () => void knex.off('query', this.onQuery);
  }

  /** Runs one step of a checked migration, recording what it sends; down() also has its builders tracked. */
  async observe(migration: string, direction: Direction, knex: Knex, body: () => Promise<void>): Promise<void> {
    const activity = this.activityOf(migration);
    this.current = activity.statements[direction];
    const tracked: TrackedBuilder[] = [];
    const returned = { value: false };
    const untrack = direction === 'down' ? trackBuilders(knex, tracked, returned) : () => undefined;
    try {
      await body();
    } finally {
      returned.value = true;
      untrack();
      this.current = undefined;
      this.builders.set(migration, tracked);
    }
  }

  /** What each migration did; call once the run is over, so queries that were left running have settled. */
  results(): Map<string, MigrationActivity> {
    for (const [migration, tracked] of this.builders) {
      const activity = this.activityOf(migration);
      for (const entry of tracked) {
        if (!entry.requested && !entry.compiled) activity.neverRun.push(describe(entry.builder));
        else if (entry.requested && !entry.settledBeforeReturn) activity.notAwaited.push(describe(entry.builder));
      }
    }
    return this.activity;
  }

  private activityOf(migration: string): MigrationActivity {
    let activity = this.activity.get(migration);
    if (!activity) {
      activity = { statements: { up: [], down: [] }, neverRun: [], notAwaited: [] };
      this.activity.set(migration, activity);
    }
    return activity;
  }
}

const CREATES = ['queryBuilder', 'schemaBuilder', 'raw'] as const;
const COMPILES = ['queryCompiler', 'schemaCompiler'] as const;

/**
 * Wraps the builder factories and compilers of the client down() was handed (a transaction's
 * own client, or the instance's), as own properties removed afterwards.
 */
function trackBuilders(knex: Knex, tracked: TrackedBuilder[], returned: { value: boolean }): () => void {
  const client = knex.client as Client;
  const byBuilder = new WeakMap<object, TrackedBuilder>();
  const saved = [...CREATES, ...COMPILES].map((method) => ({
    method,
    own: Object.prototype.hasOwnProperty.call(client, method),
    original: client[method] as AnyFunction,
  }));
  for (const { method, original } of saved) {
    if ((CREATES as readonly string[]).includes(method)) {
      client[method] = function (this: unknown, ...args: unknown[]) {
        const builder = original.apply(this, args) as object;
        const entry: TrackedBuilder = {
          builder,
          requested: false,
          compiled: false,
          settledBeforeReturn: false,
        };
        byBuilder.set(builder, entry);
        tracked.push(entry);
        watch(builder as Client, entry, returned);
        return builder;
      };
    } else {
      client[method] = function (this: unknown, builder: unknown, ...rest: unknown[]) {
        const entry = typeof builder === 'object' && builder !== null ? byBuilder.get(builder) : undefined;
        if (entry) entry.compiled = true;
        return original.call(this, builder, ...rest);
      };
    }
  }
  return () => {
    for (const { method, own, original } of saved) {
      if (own) client[method] = original;
      else delete client[method];
    }
  };
}

/** Notes when a builder is run (then) and when it settles, and when a raw is compiled into another query. */
function watch(builder: Client, entry: TrackedBuilder, returned: { value: boolean }): void {
  const then = builder.then as AnyFunction | undefined;
  if (typeof then === 'function') {
    builder.then = function (this: unknown, onFulfilled?: AnyFunction, onRejected?: AnyFunction) {
      entry.requested = true;
      const settle = () => (entry.settledBeforeReturn ||= !returned.value);
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
