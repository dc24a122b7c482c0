// The rules for statements that weaken what the database enforces, change who statements run
// as, or do what a ROLLBACK cannot undo: settings, policies, roles, rules, sequences, COPY
// PROGRAM, LOAD, triggers, and the functions a statement calls.
import type {
  AlterRoleStmt,
  AlterSeqStmt,
  CopyStmt,
  CreatePolicyStmt,
  CreateTrigStmt,
  FuncCall,
  LoadStmt,
  Node,
  RuleStmt,
  VariableSetStmt,
} from 'libpg-query';
import { SECURITY_SETTINGS } from './builtins.js';
import { nameOf, qualifiedRelation, roleList, strings } from './describe.js';
import { note, noteIrreversible, type Handler } from './walk.js';

export const SECURITY_HANDLERS: Record<string, Handler> = {
  VariableSetStmt(body, walk) {
    const statement = body as VariableSetStmt;
    const reason = statement.name ? SECURITY_SETTINGS[statement.name] : undefined;
    if (reason) note(walk, 'security', reason);
  },

  CreatePolicyStmt(body, walk) {
    const statement = body as CreatePolicyStmt;
    if (!statement.permissive) return;
    note(
      walk,
      'security',
      `creates permissive row-level security policy ${statement.policy_name} on ${qualifiedRelation(statement.table)} for ${roleList(statement.roles) || 'PUBLIC'}: every row it lets through becomes visible, whatever the other policies say`,
    );
  },

  AlterRoleStmt(body, walk) {
    const role = roleList([{ RoleSpec: (body as AlterRoleStmt).role } as Node]);
    note(walk, 'security', `changes role ${role} (its attributes or password)`);
  },

  AlterRoleSetStmt(_body, walk) {
    note(walk, 'security', 'changes a default setting of a role');
  },

  RuleStmt(body, walk) {
    const statement = body as RuleStmt;
    note(
      walk,
      'security',
      `creates rule ${statement.rulename} on ${qualifiedRelation(statement.relation)}: rewrites what statements on the table do${statement.instead ? ' (DO INSTEAD replaces them)' : ''}`,
    );
  },

  AlterSeqStmt(body, walk) {
    const statement = body as AlterSeqStmt;
    const restarts = (statement.options ?? []).some(
      (option) => (option as { DefElem?: { defname?: string } }).DefElem?.defname === 'restart',
    );
    if (!restarts) return;
    note(
      walk,
      'destructive',
      `restarts sequence ${qualifiedRelation(statement.sequence)}: new rows can reuse values already handed out`,
    );
    noteIrreversible(walk, 'sequence changes are not undone by ROLLBACK');
  },

  CopyStmt(body, walk) {
    const statement = body as CopyStmt;
    if (!statement.is_program) return;
    note(
      walk,
      'destructive',
      `runs the program ${JSON.stringify(statement.filename ?? '')} on the database server (COPY ... PROGRAM)`,
    );
    noteIrreversible(walk, 'a program run on the server is not undone by ROLLBACK');
  },

  LoadStmt(body, walk) {
    note(
      walk,
      'destructive',
      `loads the library ${JSON.stringify((body as LoadStmt).filename ?? '')} into the server process`,
    );
    noteIrreversible(walk, 'a loaded library is not unloaded by ROLLBACK');
  },

  CreateTrigStmt(body, walk) {
    const statement = body as CreateTrigStmt;
    note(
      walk,
      'destructive',
      `creates trigger ${statement.trigname} on ${qualifiedRelation(statement.relation)}: function ${nameOf(statement.funcname)} runs on later writes, and what it does cannot be checked here`,
    );
  },

  CreateFunctionStmt(body, walk) {
    const statement = body as { replace?: boolean; funcname?: Node[] };
    if (statement.replace) walk.effects.replacesFunction = strings(statement.funcname);
  },

  FuncCall(body, walk) {
    (walk.effects.calls ??= []).push(strings((body as FuncCall).funcname));
  },
};
