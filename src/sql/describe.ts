// Names and phrases for the reasons: parse-tree nodes written back as a reviewer reads them.
import type {
  AccessPriv,
  GrantStmt,
  Node,
  ObjectType,
  ObjectWithArgs,
  RangeVar,
  RoleSpec,
  TypeName,
} from 'libpg-query';

export function qualifiedRelation(relation: RangeVar | undefined): string {
  if (!relation?.relname) return '(unknown table)';
  return `${relation.schemaname ?? 'public'}.${relation.relname}`;
}

export function strings(nodes: Node[] | undefined): string[] {
  return (nodes ?? []).map((node) => (node as { String?: { sval?: string } }).String?.sval ?? '?');
}

/** A possibly qualified name; unqualified ones are shown in public, as the tables are. */
export function qualifiedName(parts: string[]): string {
  return parts.length === 1 ? `public.${parts[0]}` : parts.join('.');
}

export function nameOf(nodes: Node[] | undefined): string {
  return qualifiedName(strings(nodes));
}

export function droppedObjectName(type: ObjectType | undefined, object: Node): string {
  const record = object as Record<string, unknown>;
  if (record.List) {
    const parts = strings((record.List as { items?: Node[] }).items);
    // Triggers, policies and rules are named "<table...>.<name>": the last part is theirs.
    if (type === 'OBJECT_TRIGGER' || type === 'OBJECT_POLICY' || type === 'OBJECT_RULE') {
      return `${parts[parts.length - 1]} on ${qualifiedName(parts.slice(0, -1))}`;
    }
    return qualifiedName(parts);
  }
  if (record.TypeName) return typeNameText(record.TypeName, true);
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

export function typeNameText(typeName: TypeName | undefined, qualifyUserTypes = false): string {
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

export function roleList(nodes: Node[] | undefined): string {
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

/** What a GRANT or REVOKE changes, in words. */
export function privilegeReason(statement: GrantStmt): string {
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
  return statement.is_grant
    ? `grants ${what}${on} to ${roleList(statement.grantees)}, widening who can reach it`
    : `revokes ${what}${on} from ${roleList(statement.grantees)}`;
}

export function targetColumns(targets: Node[] | undefined): string {
  const names = (targets ?? []).map((node) => (node as { ResTarget?: { name?: string } }).ResTarget?.name ?? '?');
  return names.length ? `${plural(names.length, 'column')} ${names.join(', ')}` : 'rows';
}

export function objectTypeLabel(type: ObjectType | undefined): string {
  return (type ?? 'OBJECT_UNKNOWN')
    .replace(/^OBJECT_/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
}

export function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}
