// The one list of PostgreSQL built-in functions that change state when a statement calls
// them. Every other function in pg_catalog only reads (now(), pg_sleep, gen_random_uuid()):
// calling it is not opaque. A function outside pg_catalog is opaque: what it does is not in
// the statement (see migrations/guard.ts, which resolves names against the catalog).

export interface BuiltinEffect {
  /** The risk of calling it; undefined when only a dry run must avoid it (nextval). */
  risk?: 'destructive' | 'security';
  reason: string;
  /** Why a ROLLBACK does not undo it, when it does not. */
  irreversible?: string;
}

const SEQUENCE = 'sequence changes are not undone by ROLLBACK';

export const STATE_CHANGING_BUILTINS: Readonly<Record<string, BuiltinEffect>> = {
  setval: { risk: 'destructive', reason: 'sets a sequence to a new value (setval)', irreversible: SEQUENCE },
  nextval: { reason: 'advances a sequence (nextval)', irreversible: SEQUENCE },
  pg_terminate_backend: {
    risk: 'destructive',
    reason: 'terminates another session (pg_terminate_backend)',
    irreversible: 'a terminated session stays terminated',
  },
  pg_cancel_backend: {
    risk: 'destructive',
    reason: "cancels another session's query (pg_cancel_backend)",
    irreversible: 'a cancelled query stays cancelled',
  },
  lo_unlink: { risk: 'destructive', reason: 'deletes a large object (lo_unlink)' },
  lo_import: { risk: 'destructive', reason: 'reads a server file into a large object (lo_import)' },
  lo_export: {
    risk: 'destructive',
    reason: 'writes a large object to a server file (lo_export)',
    irreversible: 'a written file stays written',
  },
  set_config: { risk: 'security', reason: 'changes a server setting for the session (set_config)' },
  pg_reload_conf: {
    risk: 'destructive',
    reason: "reloads the server's configuration (pg_reload_conf)",
    irreversible: 'a reload is not undone',
  },
  pg_rotate_logfile: { risk: 'destructive', reason: 'rotates the server log', irreversible: 'not undone' },
  pg_switch_wal: { risk: 'destructive', reason: 'forces a WAL switch', irreversible: 'not undone' },
  pg_drop_replication_slot: {
    risk: 'destructive',
    reason: 'drops a replication slot',
    irreversible: 'a dropped slot is not restored',
  },
  pg_advisory_unlock_all: {
    risk: 'destructive',
    reason: "releases every advisory lock of the session, the rollback's own",
  },
};

/** Settings whose change weakens what the database enforces or who a statement runs as. */
export const SECURITY_SETTINGS: Readonly<Record<string, string>> = {
  session_replication_role:
    'sets session_replication_role, which turns off foreign keys, triggers and rules for the session',
  role: 'changes the role statements run as (SET ROLE)',
  session_authorization: 'changes the session user (SET SESSION AUTHORIZATION)',
  row_security: 'changes row_security, which decides whether row-level security policies apply',
  search_path: 'changes search_path, which decides which objects unqualified names reach',
};
