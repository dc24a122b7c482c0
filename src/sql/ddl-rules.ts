// The rules for DROP and ALTER TABLE: what each kind of object takes with it.
import type { AlterTableCmd, AlterTableStmt, DropStmt, ObjectType, TypeName } from 'libpg-query';
import { droppedObjectName, objectTypeLabel, qualifiedRelation, typeNameText } from './describe.js';
import { dropsDependents, note, noteCascade, type Walk } from './walk.js';

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

export function dropStatement(statement: DropStmt, walk: Walk): void {
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

export function alterTable(statement: AlterTableStmt, walk: Walk): void {
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
        note(walk, 'security', `disables trigger ${command.name} on ${table}: what it enforces or records stops`);
        break;
      case 'AT_DisableTrigAll':
      case 'AT_DisableTrigUser':
        note(walk, 'security', `disables the triggers on ${table}: what they enforce or record stops`);
        break;
      case 'AT_DisableRule':
        note(walk, 'security', `disables rule ${command.name} on ${table}: what it rewrites or enforces stops`);
        break;
      case 'AT_DetachPartition':
        note(walk, 'warning', `detaches a partition from ${table}: its rows leave the table`);
        break;
      default:
        noteCascade(walk, command.behavior, dropsDependents(`what it changes on ${table}`));
    }
  }
}
