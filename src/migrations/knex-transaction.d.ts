// Knex's Transaction class (knex/lib/execution/transaction.js), which issues every BEGIN,
// COMMIT, ROLLBACK and SAVEPOINT Knex sends. Its TypeScript types are not published.
declare module 'knex/lib/execution/transaction.js' {
  class Transaction {
    /** Set on a nested transaction (a savepoint): the transaction it is inside. */
    outerTx?: Transaction;
    query(connection: unknown, sql: string, status?: number, value?: unknown): Promise<unknown>;
  }
  export default Transaction;
}
