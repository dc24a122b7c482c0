// What the functions a statement calls do: a built-in of pg_catalog is looked up in the one
// list of those that change state (sql/builtins.ts); any other function is opaque, because
// what it does is not in the statement. Names are resolved on the run's own session, inside
// its transaction, so a function the same down() created is seen.
import { STATE_CHANGING_BUILTINS } from '../sql/builtins.js';
import { needsAllowDestructive, worstOf, type ClassifiedStatement, type Severity } from '../sql/risk.js';
import type { Session } from './lock.js';

const builtinOnly = new Map<string, boolean>();

/** Whether an unqualified function name reaches only pg_catalog on this session's search path. */
async function isBuiltin(name: string, session: Session): Promise<boolean> {
  const cached = builtinOnly.get(name);
  if (cached !== undefined) return cached;
  const { rows } = await session.query<{ builtin: boolean | null; elsewhere: boolean | null }>(
    `SELECT bool_or(n.nspname = 'pg_catalog') AS builtin, bool_or(n.nspname <> 'pg_catalog') AS elsewhere
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.proname = $1 AND n.nspname = ANY (current_schemas(true))`,
    [name],
  );
  const answer = rows[0]?.builtin === true && rows[0]?.elsewhere !== true;
  // Only "built-in" is kept: a function of that name created later in the run must still be seen.
  if (answer) builtinOnly.set(name, answer);
  return answer;
}

async function functionExists(parts: string[], session: Session): Promise<boolean> {
  const name = parts.at(-1)!;
  const schema = parts.length > 1 ? parts.at(-2)! : null;
  const { rows } = await session.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE p.proname = $1 AND (n.nspname = $2 OR ($2 IS NULL AND n.nspname = ANY (current_schemas(false))))) AS found`,
    [name, schema],
  );
  return rows[0]?.found === true;
}

/** The classifier's verdict with what the called functions do added to it. */
export async function resolveCalls(verdict: ClassifiedStatement, session: Session): Promise<ClassifiedStatement> {
  const calls = verdict.effects?.calls ?? [];
  const replaces = verdict.effects?.replacesFunction;
  if (calls.length === 0 && !replaces) return verdict;
  const findings: Finding[] = [];
  for (const parts of calls) {
    const name = parts.at(-1)!;
    const builtin = parts.length > 1 ? parts[0] === 'pg_catalog' : await isBuiltin(name, session);
    if (builtin) {
      const effect = STATE_CHANGING_BUILTINS[name];
      if (effect) findings.push(effect);
      continue;
    }
    findings.push({
      risk: 'destructive',
      reason: `calls function ${parts.join('.')}, which is not a built-in: what it does cannot be checked before it runs`,
      irreversible: `function ${parts.join('.')} can do what a ROLLBACK does not undo`,
      opaque: `function ${parts.join('.')}`,
    });
  }
  if (replaces && (await functionExists(replaces, session))) {
    findings.push({
      risk: 'destructive',
      reason: `replaces the existing function ${replaces.join('.')}: whatever calls it runs the new body, which cannot be checked here`,
    });
  }
  return addFindings(verdict, findings);
}

/** What calling a function does, as the verdict will say it. */
interface Finding {
  risk?: Severity;
  reason: string;
  irreversible?: string;
  /** The function, when what it does is not in the statement. */
  opaque?: string;
}

function addFindings(verdict: ClassifiedStatement, findings: Finding[]): ClassifiedStatement {
  if (findings.length === 0) return verdict;
  const ranked = worstOf([
    verdict,
    ...findings.filter((finding) => finding.risk).map((finding) => ({ risk: finding.risk! })),
  ]);
  const risk = ranked?.risk ?? verdict.risk;
  const flagged = findings.filter((finding) => finding.risk).map((finding) => finding.reason);
  const irreversible = findings.flatMap((finding) => (finding.irreversible ? [finding.irreversible] : []));
  const opaque = findings.flatMap((finding) => (finding.opaque ? [finding.opaque] : []));
  return {
    ...verdict,
    risk,
    reasons:
      needsAllowDestructive(verdict.risk) || verdict.risk === 'warning' ? [...verdict.reasons, ...flagged] : flagged,
    effects: {
      ...verdict.effects,
      ...(irreversible.length ? { irreversible: [...(verdict.effects?.irreversible ?? []), ...irreversible] } : {}),
      ...(opaque.length ? { opaqueCode: [...(verdict.effects?.opaqueCode ?? []), ...opaque] } : {}),
    },
  };
}
