import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../helpers/run-bundle.js';

// The import graph of src/ stays one-way: actions -> domain -> common, with no cycles, and only
// the actions layer talks to @actions/core (the team's STYLE.md, outside this repository; the README's
// Development section states the rule). Read from the sources, as ncc reads them.
const src = path.join(repoRoot, 'src');
const files = (fs.readdirSync(src, { recursive: true }) as string[])
  .filter((file) => file.endsWith('.ts'))
  .map((file) => path.join(src, file));
const specifier = /(?:from\s*|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const imports = new Map(
  files.map((file) => [
    file,
    [...fs.readFileSync(file, 'utf8').matchAll(specifier)]
      .map((match) => path.resolve(path.dirname(file), match[1]).replace(/\.js$/, '.ts'))
      .filter((target) => fs.existsSync(target)),
  ]),
);
const rank = { common: 0, domain: 1, actions: 2 } as const;
function layer(file: string): keyof typeof rank {
  const top = path.relative(src, file).split(path.sep)[0];
  return top === 'actions' || top === 'common' ? top : 'domain';
}
const relative = (file: string) => path.relative(repoRoot, file);

describe('the layering of src/', () => {
  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(80);
    expect([...imports.values()].flat().length).toBeGreaterThan(200);
  });

  it('imports only downwards: actions -> domain -> common', () => {
    const upward = [...imports].flatMap(([file, targets]) =>
      targets
        .filter((target) => rank[layer(target)] > rank[layer(file)])
        .map((t) => `${relative(file)} -> ${relative(t)}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps @actions/core in the actions layer', () => {
    const outside = files.filter(
      (file) => layer(file) !== 'actions' && /from '@actions\/core'/.test(fs.readFileSync(file, 'utf8')),
    );
    expect(outside.map(relative)).toEqual([]);
  });

  it('has no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, stack: string[]) => {
      state.set(file, 'open');
      stack.push(file);
      for (const target of imports.get(file) ?? []) {
        if (state.get(target) === 'open') cycles.push(stack.slice(stack.indexOf(target)).map(relative).join(' -> '));
        else if (!state.has(target)) visit(target, stack);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, []);
    expect(cycles).toEqual([]);
  });
});

// Every connection goes through src/postgres/connection.ts (README "Connecting to RDS"): pg and
// Knex get separate fields from postgresConfig / connection.config(), never a connectionString,
// which pg applies last, over the TLS settings and the IAM password function.
const CONFIG_SOURCE = /\bpostgresConfig\(|\.config\(/;
/** Call sites that may build their config otherwise, with why. None today. */
const OWN_CONFIG_ALLOWED: string[] = [];

interface ConnectionSite {
  where: string;
  call: string;
  config: string;
}

function lineOf(source: ts.SourceFile, node: ts.Node): number {
  return source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
}

/** The names a file gives pg's clients (pg.Client, Client) and Knex's factory (knex, knexFactory). */
function clientNames(source: ts.SourceFile): { pgClients: Set<string>; knexFactories: Set<string> } {
  const pgClients = new Set(['pg.Client', 'Client', 'pg.Pool', 'Pool']);
  const knexFactories = new Set(['knex', 'knexFactory']);
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const name = statement.importClause?.name?.text;
    if (statement.moduleSpecifier.text === 'knex' && name) knexFactories.add(name);
    if (statement.moduleSpecifier.text === 'pg' && name) {
      pgClients.add(`${name}.Client`);
      pgClients.add(`${name}.Pool`);
    }
  }
  return { pgClients, knexFactories };
}

/** What a config expression amounts to: a call of a local `const f = () => ...` is read through. */
function configText(source: ts.SourceFile, expression: ts.Expression | undefined): string {
  if (!expression) return '(none)';
  if (ts.isCallExpression(expression) && ts.isIdentifier(expression.expression)) {
    const name = expression.expression.text;
    let body: string | undefined;
    const visit = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && node.initializer)
        body = node.initializer.getText(source);
      ts.forEachChild(node, visit);
    };
    visit(source);
    if (body) return body;
  }
  return expression.getText(source);
}

/** Every `new pg.Client(...)` and `knex({...})` in a source text, with where its config comes from. */
function connectionSites(file: string, text: string): { sites: ConnectionSite[]; connectionStrings: string[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const { pgClients, knexFactories } = clientNames(source);
  const sites: ConnectionSite[] = [];
  const connectionStrings: string[] = [];
  const visit = (node: ts.Node): void => {
    // Identifiers, property names and strings: everything but comments, which the scanner skips.
    if (
      (ts.isIdentifier(node) || ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) &&
      node.text.includes('connectionString')
    )
      connectionStrings.push(`${file}:${lineOf(source, node)}`);
    const where = `${file}:${lineOf(source, node)}`;
    if (ts.isNewExpression(node) && pgClients.has(node.expression.getText(source))) {
      sites.push({ where, call: node.expression.getText(source), config: configText(source, node.arguments?.[0]) });
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && knexFactories.has(node.expression.text)) {
      const [argument] = node.arguments;
      // knex('table') on an instance is a query, not a new pool.
      if (argument && !ts.isStringLiteralLike(argument)) {
        const connection = ts.isObjectLiteralExpression(argument)
          ? argument.properties.find(
              (property): property is ts.PropertyAssignment =>
                ts.isPropertyAssignment(property) && property.name.getText(source) === 'connection',
            )?.initializer
          : argument;
        sites.push({ where, call: node.expression.text, config: configText(source, connection) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { sites, connectionStrings };
}

describe('connections in src/', () => {
  const scanned = files.map((file) => connectionSites(relative(file), fs.readFileSync(file, 'utf8')));
  const sites = scanned.flatMap((scan) => scan.sites);

  it('finds the clients and pools the actions open', () => {
    expect(sites.map((site) => site.where.replace(/:\d+$/, '')).sort()).toEqual(
      expect.arrayContaining([
        'src/migrations/migrate-up.ts',
        'src/migrations/rollback.ts',
        'src/postgres/connection.ts',
        'src/reversibility/session.ts',
      ]),
    );
    expect(sites.length).toBeGreaterThanOrEqual(6);
  });

  it('never names connectionString outside comments', () => {
    expect(scanned.flatMap((scan) => scan.connectionStrings)).toEqual([]);
  });

  it('gives every pg.Client and Knex pool its config from postgresConfig or connection.config()', () => {
    const own = sites.filter((site) => !CONFIG_SOURCE.test(site.config) && !OWN_CONFIG_ALLOWED.includes(site.where));
    expect(own.map((site) => `${site.where}: ${site.call}(${site.config})`)).toEqual([]);
  });

  it('would catch a client built from the URL', () => {
    const bad = connectionSites(
      'bad.ts',
      `import knexFactory from 'knex';
       import { Client } from 'pg';
       // a connectionString in a comment is fine
       const a = new Client({ connectionString: url });
       const b = knexFactory({ client: 'pg', connection: url });
       const c = knexFactory({ client: 'pg', connection: { ...postgresConfig({ url }), keepAlive: true } });
       const rows = b('tickets').select();`,
    );
    expect(bad.connectionStrings).toEqual(['bad.ts:4']);
    expect(bad.sites.map((site) => [site.where, CONFIG_SOURCE.test(site.config)])).toEqual([
      ['bad.ts:4', false],
      ['bad.ts:5', false],
      ['bad.ts:6', true],
    ]);
  });
});
