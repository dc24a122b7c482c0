// The rules for DML, privileges, procedural code and transaction control: one handler per
// kind of statement node, noting what it destroys or weakens in words a reviewer reads.
import type {
  AccessPriv,
  AlterDefaultPrivilegesStmt,
  AlterPolicyStmt,
  CallStmt,
  CommonTableExpr,
  DeleteStmt,
  DropdbStmt,
  DropOwnedStmt,
  DropRoleStmt,
  DropTableSpaceStmt,
  ExecuteStmt,
  GrantRoleStmt,
  GrantStmt,
  InsertStmt,
  MergeStmt,
  RangeVar,
  TransactionStmt,
  TruncateStmt,
  UpdateStmt,
} from 'libpg-query';
import { alterTable, dropStatement } from './ddl-rules.js';
import { nameOf, qualifiedRelation, privilegeReason, roleList, targetColumns } from './describe.js';
import { SECURITY_HANDLERS } from './security-rules.js';
import {
  isBookkeeping,
  note,
  noteCascade,
  noteIrreversible,
  noteOpaqueCode,
  noteWrite,
  type Handler,
  type RowWrite,
} from './walk.js';

const MERGE_WRITES: Record<string, RowWrite> = { CMD_INSERT: 'insert', CMD_UPDATE: 'update', CMD_DELETE: 'delete' };

export const HANDLERS: Record<string, Handler> = {
  ...SECURITY_HANDLERS,
  DropStmt: (body, walk) => dropStatement(body, walk),
  AlterTableStmt: (body, walk) => alterTable(body, walk),

  TruncateStmt(body, walk) {
    const statement = body as TruncateStmt;
    const tables = (statement.relations ?? []).map((node) => (node as { RangeVar: RangeVar }).RangeVar).filter(Boolean);
    for (const table of tables) {
      noteWrite(walk, 'truncate', table);
      if (!isBookkeeping(walk, table))
        note(walk, 'destructive', `empties table ${qualifiedRelation(table)} (TRUNCATE removes all its rows)`);
    }
    noteCascade(
      walk,
      statement.behavior,
      `also empties every table with a foreign key to ${tables.map(qualifiedRelation).join(', ')}`,
    );
  },

  DeleteStmt(body, walk) {
    const statement = body as DeleteStmt;
    noteWrite(walk, 'delete', statement.relation);
    if (isBookkeeping(walk, statement.relation)) return;
    const everyRow = statement.whereClause ? '' : ': every row, there is no WHERE clause';
    note(walk, 'destructive', `deletes rows from ${qualifiedRelation(statement.relation)}${everyRow}`);
  },

  UpdateStmt(body, walk) {
    const statement = body as UpdateStmt;
    noteWrite(walk, 'update', statement.relation);
    if (isBookkeeping(walk, statement.relation)) return;
    const columns = targetColumns(statement.targetList);
    const everyRow = statement.whereClause ? '' : ' in every row, there is no WHERE clause';
    note(walk, 'destructive', `overwrites ${columns} of ${qualifiedRelation(statement.relation)}${everyRow}`);
  },

  InsertStmt(body, walk) {
    const statement = body as InsertStmt;
    noteWrite(walk, 'insert', statement.relation);
    if (statement.onConflictClause?.action === 'ONCONFLICT_UPDATE') noteWrite(walk, 'update', statement.relation);
    if (statement.onConflictClause?.action !== 'ONCONFLICT_UPDATE' || isBookkeeping(walk, statement.relation)) return;
    note(
      walk,
      'destructive',
      `overwrites existing rows of ${qualifiedRelation(statement.relation)} (INSERT ... ON CONFLICT DO UPDATE)`,
    );
  },

  MergeStmt(body, walk) {
    const statement = body as MergeStmt;
    const commands = new Set(
      (statement.mergeWhenClauses ?? []).map(
        (node) => (node as { MergeWhenClause?: { commandType?: string } }).MergeWhenClause?.commandType,
      ),
    );
    for (const command of commands) {
      const write = MERGE_WRITES[command ?? ''];
      if (write) noteWrite(walk, write, statement.relation);
    }
    if (isBookkeeping(walk, statement.relation)) return;
    const table = qualifiedRelation(statement.relation);
    if (commands.has('CMD_DELETE')) note(walk, 'destructive', `deletes rows from ${table} (MERGE ... THEN DELETE)`);
    if (commands.has('CMD_UPDATE')) note(walk, 'destructive', `overwrites rows of ${table} (MERGE ... THEN UPDATE)`);
  },

  GrantStmt(body, walk) {
    const statement = body as GrantStmt;
    note(walk, 'security', privilegeReason(statement));
    noteCascade(walk, statement.behavior, 'also revokes the privileges others were granted through these');
  },

  GrantRoleStmt(body, walk) {
    const statement = body as GrantRoleStmt;
    const roles = (statement.granted_roles ?? []).map(
      (node) => (node as { AccessPriv: AccessPriv }).AccessPriv?.priv_name ?? '?',
    );
    note(
      walk,
      'security',
      statement.is_grant
        ? `grants membership in role ${roles.join(', ')} to ${roleList(statement.grantee_roles)}, with its privileges`
        : `revokes membership in role ${roles.join(', ')} from ${roleList(statement.grantee_roles)}`,
    );
    noteCascade(walk, statement.behavior, 'also revokes what was granted through this membership');
  },

  AlterDefaultPrivilegesStmt(body, walk) {
    const action = (body as AlterDefaultPrivilegesStmt).action;
    if (!action) return;
    // The action is a bare GrantStmt (not a wrapped node), so the GrantStmt handler does not see it.
    note(walk, 'security', `${privilegeReason(action)}, as a default for objects created from now on`);
  },

  DropRoleStmt(body, walk) {
    note(walk, 'security', `drops role ${roleList((body as DropRoleStmt).roles)}`);
  },

  DropOwnedStmt(body, walk) {
    note(walk, 'destructive', `drops every object owned by ${roleList((body as DropOwnedStmt).roles)}, with its data`);
  },

  DropdbStmt(body, walk) {
    note(walk, 'destructive', `drops database ${(body as DropdbStmt).dbname} and everything in it`);
  },

  DropTableSpaceStmt(body, walk) {
    note(walk, 'warning', `drops tablespace ${(body as DropTableSpaceStmt).tablespacename}`);
  },

  AlterPolicyStmt(body, walk) {
    const statement = body as AlterPolicyStmt;
    note(
      walk,
      'security',
      `changes row-level security policy ${statement.policy_name} on ${qualifiedRelation(statement.table)}, which can widen which rows it lets through`,
    );
  },

  DoStmt(_body, walk) {
    note(walk, 'destructive', 'runs a DO block: procedural code whose effect cannot be checked before it runs');
    noteOpaqueCode(walk, 'a DO block');
    noteIrreversible(
      walk,
      'a DO block can do what a ROLLBACK does not undo (sequence changes, files, other connections)',
    );
  },

  CallStmt(body, walk) {
    const name = nameOf((body as CallStmt).funccall?.funcname);
    note(walk, 'destructive', `calls procedure ${name}, whose effect cannot be checked before it runs`);
    noteOpaqueCode(walk, `procedure ${name}`);
    noteIrreversible(walk, `procedure ${name} can do what a ROLLBACK does not undo`);
  },

  ExecuteStmt(body, walk) {
    note(
      walk,
      'destructive',
      `executes prepared statement ${(body as ExecuteStmt).name}, whose text is not here to check`,
    );
    noteOpaqueCode(walk, `prepared statement ${(body as ExecuteStmt).name}`);
    noteIrreversible(walk, 'a prepared statement can do what a ROLLBACK does not undo');
  },

  TransactionStmt(body, walk) {
    const kind = (body as TransactionStmt).kind;
    walk.effects.transactionControl = true;
    // A down() that commits or rolls back on its own ends the transaction the run relies on
    // for atomicity. Savepoints (what Knex uses for nested transactions) stay inside it.
    const ends: Record<string, string> = {
      TRANS_STMT_COMMIT: 'commits the transaction: what ran before it can no longer be undone with the rest',
      TRANS_STMT_ROLLBACK: 'rolls back the whole transaction, not just this migration',
      TRANS_STMT_PREPARE: 'prepares the transaction for two-phase commit',
      TRANS_STMT_COMMIT_PREPARED: 'commits a prepared transaction',
      TRANS_STMT_ROLLBACK_PREPARED: 'rolls back a prepared transaction',
    };
    if (kind && ends[kind]) note(walk, 'warning', ends[kind]);
  },

  CommonTableExpr(body, walk) {
    const name = (body as CommonTableExpr).ctename;
    if (name) walk.cteNames.add(name);
  },
};
