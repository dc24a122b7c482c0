// Classifies SQL statements by what they can destroy, with PostgreSQL's own grammar
// (libpg-query: the server's parser compiled to WebAssembly). A regular expression cannot
// tell `DROP TABLE` from a string literal that mentions it, nor see the DELETE hidden in a
// CTE; the parse tree can. Whatever the parser cannot read, or whose effect cannot be read
// from the statement itself (a DO block, a CALL), counts as destructive: the guard that
// uses this must fail closed. The parser runs in a helper process (parser-process.ts says why).
import type {
  AccessPriv,
  AlterDefaultPrivilegesStmt,
  AlterPolicyStmt,
  AlterTableCmd,
  AlterTableStmt,
  CallStmt,
  CommonTableExpr,
  DeleteStmt,
  DropdbStmt,
  DropOwnedStmt,
  DropRoleStmt,
  DropStmt,
  DropTableSpaceStmt,
  ExecuteStmt,
  GrantRoleStmt,
  GrantStmt,
  InsertStmt,
  MergeStmt,
  Node,
  ObjectType,
  ObjectWithArgs,
  RangeVar,
  RoleSpec,
  TransactionStmt,
  TruncateStmt,
  TypeName,
  UpdateStmt,
} from 'libpg-query';
import { parseTexts, scanTexts, startParser, type ScanToken } from './parser-process.js';

export type StatementRisk = 'bookkeeping' | 'destructive' | 'security' | 'warning' | 'safe';

export interface ClassifiedStatement {
  /** The text of this one statement, as it appeared in the input (trimmed, without its `;`). */
  sql: string;
  risk: StatementRisk;
  /** One readable sentence per finding, naming the object: `drops table public.tickets and all its rows`. */
  reasons: string[];
}

export interface ClassifyOptions {
  /**
   * The migration bookkeeping tables, schema-qualified (`public.knex_migrations`,
   * `public.knex_migrations_lock`). Reading and writing only these is `bookkeeping`, not a
   * risk. An unqualified table name in the SQL counts as `public`.
   */
  bookkeepingTables?: string[];
}

/**
 * Splits every input into its statements and classifies each one. One input string may
 * hold several statements; the result has one entry per statement, in order.
 */
export async function classifyStatements(
  statements: readonly string[],
  options: ClassifyOptions = {},
): Promise<ClassifiedStatement[]> {
  return (await classifyEach(statements, options)).flat();
}

/**
 * Like classifyStatements, but keeps the results of each input apart: one array per input,
 * in order (empty for an input with no statement). One round trip to the parser for all
 * of them, where a call per input costs one each: use it to classify many captured
 * statements while keeping each verdict attached to where it came from.
 */
export async function classifyEach(
  statements: readonly string[],
  options: ClassifyOptions = {},
): Promise<ClassifiedStatement[][]> {
  const bookkeeping = new Set((options.bookkeepingTables ?? []).map(qualifyOption));
  const pieces = await splitStatements(statements);
  return pieces.map((ofInput) =>
    ofInput.map((piece) =>
      piece.stmt ? classifyTree(piece.sql, piece.stmt, bookkeeping) : unparseable(piece.sql, piece.error),
    ),
  );
}

/**
 * Optional: starts the parser ahead of the first classifyStatements call (say, when a
 * rollback begins), so its start-up overlaps the database work instead of following it.
 */
export function warmUpClassifier(): void {
  startParser();
}

function qualifyOption(table: string): string {
  return table.includes('.') ? table : `public.${table}`;
}

// ---------------------------------------------------------------------------------------
// Splitting

interface Piece {
  sql: string;
  stmt?: Node;
  error?: string;
}

/**
 * The parser reports each statement's byte offset and length, so the text handed back is
 * exactly the input's. When a whole input does not parse, the scanner (which knows quoting,
 * dollar quoting and comments) splits it at top-level semicolons, so one bad statement
 * does not hide what its neighbours do. Every input goes to the parser in one request.
 */
async function splitStatements(inputs: readonly string[]): Promise<Piece[][]> {
  const texts = inputs.map((input) => (input.trim() === '' ? '' : input));
  const parsed = await parseTexts(texts.filter((text) => text !== ''));
  let next = 0;
  return Promise.all(
    texts.map(async (input) => {
      if (input === '') return [];
      const reply = parsed[next++];
      const bytes = Buffer.from(input, 'utf8');
      if (reply.ok) {
        return (reply.value.stmts ?? []).map((raw) => {
          const start = raw.stmt_location ?? 0;
          // A length of 0 means "to the end of the input" (the last statement, without a `;`).
          const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
          return { sql: slice(bytes, start, end), stmt: raw.stmt };
        });
      }
      return splitWithScanner(input, bytes, reply.message);
    }),
  );
}

function slice(bytes: Buffer, start: number, end: number): string {
  return bytes.subarray(start, end).toString('utf8').trim();
}

async function splitWithScanner(input: string, bytes: Buffer, parseError: string): Promise<Piece[]> {
  const [scanned] = await scanTexts([input]);
  // Not even tokens (an unterminated quote, say): the whole input is one unreadable statement.
  if (!scanned.ok) return [{ sql: input.trim(), error: parseError }];
  const ranges: { start: number; end: number; tokens: ScanToken[] }[] = [];
  let group: ScanToken[] = [];
  let start = 0;
  const flush = (end: number): void => {
    // Like the parser's own locations, a statement starts at its first token, after any comment.
    const first = group.find((token) => !isComment(token.tokenName));
    if (first) ranges.push({ start: Math.max(start, first.start), end, tokens: group });
    group = [];
  };
  for (const token of scanned.value) {
    if (token.text === ';') {
      flush(token.start);
      start = token.end;
    } else {
      group.push(token);
    }
  }
  flush(bytes.length);
  const replies = await parseTexts(ranges.map((range) => bytes.subarray(range.start, range.end).toString('utf8')));
  return Promise.all(
    ranges.map(async (range, index): Promise<Piece> => {
      const sql = slice(bytes, range.start, range.end);
      const reply = replies[index];
      if (reply.ok) {
        const stmt = reply.value.stmts?.[0]?.stmt;
        return stmt ? { sql, stmt } : { sql, error: 'no statement found' };
      }
      return (await withNumberedPlaceholders(bytes, range)) ?? { sql, error: reply.message };
    }),
  );
}

function isComment(tokenName: string): boolean {
  return tokenName === 'SQL_COMMENT' || tokenName === 'C_COMMENT';
}

/**
 * Knex writes bindings as `?` and its pg client turns them into `$1`, `$2` before sending;
 * text captured before that step still has `?`, which PostgreSQL's grammar does not accept.
 * So the `?` operator tokens are renumbered as parameters (by token position, never by
 * searching the text) and the statement parsed again. The text handed back is the original.
 */
async function withNumberedPlaceholders(
  bytes: Buffer,
  range: { start: number; end: number; tokens: ScanToken[] },
): Promise<Piece | undefined> {
  const placeholders = range.tokens.filter((token) => token.text === '?');
  if (placeholders.length === 0) return undefined;
  const parts: Buffer[] = [];
  let cursor = range.start;
  placeholders.forEach((token, index) => {
    parts.push(bytes.subarray(cursor, token.start), Buffer.from(`$${index + 1}`));
    cursor = token.end;
  });
  parts.push(bytes.subarray(cursor, range.end));
  const [reply] = await parseTexts([Buffer.concat(parts).toString('utf8')]);
  const stmt = reply.ok ? reply.value.stmts?.[0]?.stmt : undefined;
  // When the rewrite does not parse either, the caller reports the error of the text as written.
  return stmt ? { sql: slice(bytes, range.start, range.end), stmt } : undefined;
}

function unparseable(sql: string, error: string | undefined): ClassifiedStatement {
  return {
    sql,
    risk: 'destructive',
    reasons: [`could not be parsed as PostgreSQL (${error ?? 'unknown error'}), so what it does cannot be checked`],
  };
}

// ---------------------------------------------------------------------------------------
// Classifying one parse tree

type Severity = Exclude<StatementRisk, 'bookkeeping' | 'safe'>;
const SEVERITY_ORDER: readonly Severity[] = ['destructive', 'security', 'warning'];

interface Finding {
  risk: Severity;
  reason: string;
}

/** What the walk over one statement's tree collects. */
interface Walk {
  findings: Finding[];
  /** Every table the statement names (RangeVar), qualified. */
  relations: string[];
  /** CTE names: an unqualified reference to one is not a table. */
  cteNames: Set<string>;
  /** Whether some finding already explained a CASCADE. */
  cascadeExplained: boolean;
  sawCascade: boolean;
  bookkeeping: ReadonlySet<string>;
}

function classifyTree(sql: string, stmt: Node, bookkeeping: ReadonlySet<string>): ClassifiedStatement {
  const walk: Walk = {
    findings: [],
    relations: [],
    cteNames: new Set(),
    cascadeExplained: false,
    sawCascade: false,
    bookkeeping,
  };
  visit(stmt, walk);
  if (walk.sawCascade && !walk.cascadeExplained) {
    walk.findings.push({
      risk: 'destructive',
      reason: 'uses CASCADE, which also removes whatever depends on the objects it changes',
    });
  }
  if (walk.findings.length > 0) {
    const risk = SEVERITY_ORDER.find((severity) =>
      walk.findings.some((finding) => finding.risk === severity),
    ) as Severity;
    return { sql, risk, reasons: [...new Set(walk.findings.map((finding) => finding.reason))] };
  }
  const tables = [...new Set(walk.relations.filter((name) => !isCteReference(name, walk)))];
  if (tables.length > 0 && tables.every((table) => bookkeeping.has(table))) {
    return {
      sql,
      risk: 'bookkeeping',
      reasons: [`only touches the migration bookkeeping ${plural(tables.length, 'table')} ${tables.join(', ')}`],
    };
  }
  return { sql, risk: 'safe', reasons: [] };
}

function isCteReference(name: string, walk: Walk): boolean {
  // Unqualified references were qualified as public.<name> on the way in.
  return name.startsWith('public.') && walk.cteNames.has(name.slice('public.'.length));
}

/** Parse-tree fields that define code for later rather than run it now. */
const DEFINITION_ONLY: Record<string, readonly string[]> = {
  CreateFunctionStmt: ['sql_body'],
  RuleStmt: ['actions'],
};

/** Walks every node of the tree, letting the handlers below note what each statement node does. */
function visit(value: unknown, walk: Walk): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, walk);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  // A RangeVar is sometimes wrapped ({ RangeVar: {...} }) and sometimes a bare field (`relation`).
  if (typeof record.relname === 'string') walk.relations.push(qualifiedRelation(record as RangeVar));
  if (record.behavior === 'DROP_CASCADE') walk.sawCascade = true;
  for (const [key, child] of Object.entries(record)) {
    const handler = HANDLERS[key];
    if (handler && child && typeof child === 'object') handler(child, walk);
    const skipped = DEFINITION_ONLY[key];
    if (skipped && child && typeof child === 'object') {
      const kept = Object.fromEntries(Object.entries(child).filter(([field]) => !skipped.includes(field)));
      visit(kept, walk);
    } else {
      visit(child, walk);
    }
  }
}

function note(walk: Walk, risk: Severity, reason: string): void {
  walk.findings.push({ risk, reason });
}

/** Notes a CASCADE, in words that say what it reaches for this kind of statement. */
function noteCascade(walk: Walk, behavior: string | undefined, consequence: string): void {
  if (behavior !== 'DROP_CASCADE') return;
  walk.cascadeExplained = true;
  note(walk, 'destructive', `uses CASCADE: ${consequence}`);
}

const dropsDependents = (what: string): string =>
  `also drops whatever depends on ${what} (views, foreign keys, policies, columns of other tables), without naming it`;

const isBookkeeping = (walk: Walk, relation: RangeVar | undefined): boolean =>
  relation !== undefined && walk.bookkeeping.has(qualifiedRelation(relation));

type Handler = (body: object, walk: Walk) => void;

const HANDLERS: Record<string, Handler> = {
  DropStmt: (body, walk) => dropStatement(body as DropStmt, walk),
  AlterTableStmt: (body, walk) => alterTable(body as AlterTableStmt, walk),

  TruncateStmt(body, walk) {
    const statement = body as TruncateStmt;
    const tables = (statement.relations ?? []).map((node) => (node as { RangeVar: RangeVar }).RangeVar).filter(Boolean);
    for (const table of tables) {
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
    if (isBookkeeping(walk, statement.relation)) return;
    const everyRow = statement.whereClause ? '' : ': every row, there is no WHERE clause';
    note(walk, 'destructive', `deletes rows from ${qualifiedRelation(statement.relation)}${everyRow}`);
  },

  UpdateStmt(body, walk) {
    const statement = body as UpdateStmt;
    if (isBookkeeping(walk, statement.relation)) return;
    const columns = targetColumns(statement.targetList);
    const everyRow = statement.whereClause ? '' : ' in every row, there is no WHERE clause';
    note(walk, 'destructive', `overwrites ${columns} of ${qualifiedRelation(statement.relation)}${everyRow}`);
  },

  InsertStmt(body, walk) {
    const statement = body as InsertStmt;
    if (statement.onConflictClause?.action !== 'ONCONFLICT_UPDATE' || isBookkeeping(walk, statement.relation)) return;
    note(
      walk,
      'destructive',
      `overwrites existing rows of ${qualifiedRelation(statement.relation)} (INSERT ... ON CONFLICT DO UPDATE)`,
    );
  },

  MergeStmt(body, walk) {
    const statement = body as MergeStmt;
    if (isBookkeeping(walk, statement.relation)) return;
    const commands = new Set(
      (statement.mergeWhenClauses ?? []).map(
        (node) => (node as { MergeWhenClause?: { commandType?: string } }).MergeWhenClause?.commandType,
      ),
    );
    const table = qualifiedRelation(statement.relation);
    if (commands.has('CMD_DELETE')) note(walk, 'destructive', `deletes rows from ${table} (MERGE ... THEN DELETE)`);
    if (commands.has('CMD_UPDATE')) note(walk, 'destructive', `overwrites rows of ${table} (MERGE ... THEN UPDATE)`);
  },

  GrantStmt(body, walk) {
    const statement = body as GrantStmt;
    if (statement.is_grant) return;
    note(walk, 'security', revokeReason(statement));
    noteCascade(walk, statement.behavior, 'also revokes the privileges others were granted through these');
  },

  GrantRoleStmt(body, walk) {
    const statement = body as GrantRoleStmt;
    if (statement.is_grant) return;
    const roles = (statement.granted_roles ?? []).map(
      (node) => (node as { AccessPriv: AccessPriv }).AccessPriv?.priv_name ?? '?',
    );
    note(walk, 'security', `revokes membership in role ${roles.join(', ')} from ${roleList(statement.grantee_roles)}`);
    noteCascade(walk, statement.behavior, 'also revokes what was granted through this membership');
  },

  AlterDefaultPrivilegesStmt(body, walk) {
    const action = (body as AlterDefaultPrivilegesStmt).action;
    if (!action || action.is_grant) return;
    // The action is a bare GrantStmt (not a wrapped node), so the GrantStmt handler does not see it.
    note(walk, 'security', `${revokeReason(action)}, as a default for objects created from now on`);
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
      'warning',
      `changes row-level security policy ${statement.policy_name} on ${qualifiedRelation(statement.table)}: check that it does not widen access`,
    );
  },

  DoStmt(_body, walk) {
    note(walk, 'destructive', 'runs a DO block: procedural code whose effect cannot be checked before it runs');
  },

  CallStmt(body, walk) {
    const name = nameOf((body as CallStmt).funccall?.funcname);
    note(walk, 'destructive', `calls procedure ${name}, whose effect cannot be checked before it runs`);
  },

  ExecuteStmt(body, walk) {
    note(
      walk,
      'destructive',
      `executes prepared statement ${(body as ExecuteStmt).name}, whose text is not here to check`,
    );
  },

  TransactionStmt(body, walk) {
    const kind = (body as TransactionStmt).kind;
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

// ---------------------------------------------------------------------------------------
// DROP and ALTER TABLE

/** DROP of these destroys stored data. */
const DATA_DROPS: Partial<Record<ObjectType, (name: string) => string>> = {
  OBJECT_TABLE: (name) => `drops table ${name} and all its rows`,
  OBJECT_SCHEMA: (name) => `drops schema ${name}`,
  OBJECT_TYPE: (name) => `drops type ${name}, and with it any value stored as that type`,
  OBJECT_DOMAIN: (name) => `drops domain ${name}, and with it any value stored as that type`,
};

/** DROP of these loses no rows, but a reviewer should see it. */
const WARNING_DROPS: Partial<Record<ObjectType, (name: string) => string>> = {
  OBJECT_INDEX: (name) => `drops index ${name}`,
  OBJECT_VIEW: (name) => `drops view ${name}`,
  OBJECT_MATVIEW: (name) => `drops materialized view ${name} (its stored rows can be recomputed from the query)`,
  OBJECT_FUNCTION: (name) => `drops function ${name}`,
  OBJECT_PROCEDURE: (name) => `drops procedure ${name}`,
  OBJECT_ROUTINE: (name) => `drops routine ${name}`,
  OBJECT_AGGREGATE: (name) => `drops aggregate ${name}`,
  OBJECT_TRIGGER: (name) => `drops trigger ${name}`,
  OBJECT_EVENT_TRIGGER: (name) => `drops event trigger ${name}`,
  OBJECT_SEQUENCE: (name) => `drops sequence ${name} and its current value`,
  OBJECT_RULE: (name) => `drops rule ${name}`,
  OBJECT_EXTENSION: (name) => `drops extension ${name}`,
  OBJECT_FOREIGN_TABLE: (name) => `drops foreign table ${name}`,
};

function dropStatement(statement: DropStmt, walk: Walk): void {
  const type = statement.removeType;
  const names = (statement.objects ?? []).map((object) => droppedObjectName(type, object));
  for (const name of names) {
    if (type === 'OBJECT_POLICY') {
      note(
        walk,
        'security',
        `drops row-level security policy ${name}: the rows it protected are no longer filtered by it`,
      );
    } else if (type && DATA_DROPS[type]) {
      note(walk, 'destructive', DATA_DROPS[type](name));
    } else if (type && WARNING_DROPS[type]) {
      note(walk, 'warning', WARNING_DROPS[type](name));
    } else {
      note(walk, 'warning', `drops ${objectTypeLabel(type)} ${name}`);
    }
  }
  noteCascade(walk, statement.behavior, dropsDependents(names.join(', ')));
}

function alterTable(statement: AlterTableStmt, walk: Walk): void {
  const table = qualifiedRelation(statement.relation);
  for (const node of statement.cmds ?? []) {
    const command = (node as { AlterTableCmd?: AlterTableCmd }).AlterTableCmd;
    if (!command) continue;
    switch (command.subtype) {
      case 'AT_DropColumn':
        note(walk, 'destructive', `drops column ${table}.${command.name} and all its values`);
        noteCascade(walk, command.behavior, dropsDependents(`column ${table}.${command.name}`));
        break;
      case 'AT_AlterColumnType': {
        const typeName = (command.def as { ColumnDef?: { typeName?: TypeName } } | undefined)?.ColumnDef?.typeName;
        note(
          walk,
          'destructive',
          `changes the type of column ${table}.${command.name} to ${typeNameText(typeName)}, rewriting every value (values can be truncated or fail to convert)`,
        );
        break;
      }
      case 'AT_DisableRowSecurity':
        note(walk, 'security', `disables row-level security on ${table}: its policies no longer restrict any row`);
        break;
      case 'AT_NoForceRowSecurity':
        note(
          walk,
          'security',
          `stops forcing row-level security on ${table}: the table owner bypasses its policies again`,
        );
        break;
      case 'AT_DropConstraint':
        note(walk, 'warning', `drops constraint ${command.name} on ${table}`);
        noteCascade(walk, command.behavior, dropsDependents(`constraint ${command.name} on ${table}`));
        break;
      case 'AT_DisableTrig':
        note(walk, 'warning', `disables trigger ${command.name} on ${table}`);
        break;
      case 'AT_DisableTrigAll':
      case 'AT_DisableTrigUser':
        note(walk, 'warning', `disables the triggers on ${table}`);
        break;
      case 'AT_DisableRule':
        note(walk, 'warning', `disables rule ${command.name} on ${table}`);
        break;
      case 'AT_DetachPartition':
        note(walk, 'warning', `detaches a partition from ${table}: its rows leave the table`);
        break;
      default:
        noteCascade(walk, command.behavior, dropsDependents(`what it changes on ${table}`));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Names, for the reasons

function qualifiedRelation(relation: RangeVar | undefined): string {
  if (!relation?.relname) return '(unknown table)';
  return `${relation.schemaname ?? 'public'}.${relation.relname}`;
}

function strings(nodes: Node[] | undefined): string[] {
  return (nodes ?? []).map((node) => (node as { String?: { sval?: string } }).String?.sval ?? '?');
}

/** A possibly qualified name; unqualified ones are shown in public, as the tables are. */
function qualifiedName(parts: string[]): string {
  return parts.length === 1 ? `public.${parts[0]}` : parts.join('.');
}

function nameOf(nodes: Node[] | undefined): string {
  return qualifiedName(strings(nodes));
}

function droppedObjectName(type: ObjectType | undefined, object: Node): string {
  const record = object as Record<string, unknown>;
  if (record.List) {
    const parts = strings((record.List as { items?: Node[] }).items);
    // Triggers, policies and rules are named "<table...>.<name>": the last part is theirs.
    if (type === 'OBJECT_TRIGGER' || type === 'OBJECT_POLICY' || type === 'OBJECT_RULE') {
      return `${parts[parts.length - 1]} on ${qualifiedName(parts.slice(0, -1))}`;
    }
    return qualifiedName(parts);
  }
  if (record.TypeName) return typeNameText(record.TypeName as TypeName, true);
  if (record.ObjectWithArgs) {
    const signature = record.ObjectWithArgs as ObjectWithArgs;
    const args = signature.args_unspecified
      ? ''
      : `(${(signature.objargs ?? []).map((node) => typeNameText((node as { TypeName?: TypeName }).TypeName)).join(', ')})`;
    return `${nameOf(signature.objname)}${args}`;
  }
  if (record.String) return (record.String as { sval?: string }).sval ?? '?';
  return '(unnamed)';
}

/** PostgreSQL's internal names for the common built-in types, as people write them. */
const BUILTIN_TYPES: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  varchar: 'varchar',
  bpchar: 'char',
  timestamptz: 'timestamptz',
};

function typeNameText(typeName: TypeName | undefined, qualifyUserTypes = false): string {
  if (!typeName) return '(unknown type)';
  const parts = strings(typeName.names);
  let name: string;
  if (parts[0] === 'pg_catalog' && parts.length === 2) name = BUILTIN_TYPES[parts[1]] ?? parts[1];
  else name = qualifyUserTypes ? qualifiedName(parts) : parts.join('.');
  const modifiers = (typeName.typmods ?? []).map((node) => {
    const constant = (node as { A_Const?: { ival?: { ival?: number }; sval?: { sval?: string } } }).A_Const;
    return constant?.ival ? String(constant.ival.ival ?? 0) : (constant?.sval?.sval ?? '?');
  });
  const array = (typeName.arrayBounds ?? []).map(() => '[]').join('');
  return `${name}${modifiers.length ? `(${modifiers.join(',')})` : ''}${array}`;
}

function roleList(nodes: Node[] | undefined): string {
  return (nodes ?? [])
    .map((node) => {
      const role = (node as { RoleSpec?: RoleSpec }).RoleSpec;
      if (role?.roletype === 'ROLESPEC_PUBLIC') return 'PUBLIC';
      if (role?.roletype === 'ROLESPEC_CURRENT_USER') return 'CURRENT_USER';
      if (role?.roletype === 'ROLESPEC_SESSION_USER') return 'SESSION_USER';
      if (role?.roletype === 'ROLESPEC_CURRENT_ROLE') return 'CURRENT_ROLE';
      return role?.rolename ?? '?';
    })
    .join(', ');
}

function revokeReason(statement: GrantStmt): string {
  const privileges = statement.privileges?.length
    ? statement.privileges.map((node) => {
        const privilege = (node as { AccessPriv: AccessPriv }).AccessPriv;
        const columns = strings(privilege?.cols);
        return `${(privilege?.priv_name ?? '?').toUpperCase()}${columns.length ? ` (${columns.join(', ')})` : ''}`;
      })
    : ['ALL PRIVILEGES'];
  const what = statement.grant_option ? `the grant option for ${privileges.join(', ')}` : privileges.join(', ');
  const kind = objectTypeLabel(statement.objtype);
  let on: string;
  if (statement.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') {
    on = ` on all ${kind}s in schema ${(statement.objects ?? []).map((object) => droppedObjectName(undefined, object)).join(', ')}`;
  } else if (statement.targtype === 'ACL_TARGET_DEFAULTS') {
    on = ` on ${kind}s`;
  } else {
    const objects = (statement.objects ?? []).map((object) => {
      const range = (object as { RangeVar?: RangeVar }).RangeVar;
      return range ? qualifiedRelation(range) : droppedObjectName(statement.objtype, object);
    });
    on = ` on ${kind} ${objects.join(', ')}`;
  }
  return `revokes ${what}${on} from ${roleList(statement.grantees)}`;
}

function targetColumns(targets: Node[] | undefined): string {
  const names = (targets ?? []).map((node) => (node as { ResTarget?: { name?: string } }).ResTarget?.name ?? '?');
  return names.length ? `${plural(names.length, 'column')} ${names.join(', ')}` : 'rows';
}

function objectTypeLabel(type: ObjectType | undefined): string {
  return (type ?? 'OBJECT_UNKNOWN')
    .replace(/^OBJECT_/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}
