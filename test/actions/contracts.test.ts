import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { readInputs, type InputSpecs } from '../../src/actions/common/inputs.js';
import { repoRoot } from '../helpers/run-bundle.js';

// Each JavaScript action's action.yml against the contract its main.ts declares with defineAction:
// the same inputs and outputs, required where the code requires, the same defaults. Composite
// actions have no TypeScript: their action.yml is the contract.
interface Metadata {
  inputs?: Record<string, { required?: boolean; default?: string | number | boolean }>;
  outputs?: Record<string, unknown>;
  runs: { using: string; main?: string };
}

const actions = fs
  .readdirSync(path.join(repoRoot, 'actions'))
  .map((name) => ({
    name,
    metadata: YAML.parse(fs.readFileSync(path.join(repoRoot, 'actions', name, 'action.yml'), 'utf8')) as Metadata,
  }))
  .filter(({ metadata }) => metadata.runs.using !== 'composite');

describe('action.yml holds exactly the contract main.ts declares', () => {
  it('covers the twelve JavaScript actions, each with an entry under src/actions', () => {
    expect(actions.map(({ name }) => name).sort()).toEqual([
      'check-gate',
      'monitor',
      'notify',
      'prepare-scratch-database',
      'record',
      'restart',
      'restore',
      'rollback',
      'smoke',
      'snapshot',
      'verify-backup',
      'verify-reversible',
    ]);
    for (const { name, metadata } of actions) {
      expect(metadata.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js` });
      expect(fs.existsSync(path.join(repoRoot, 'src', 'actions', name, 'index.ts'))).toBe(true);
    }
  });

  it.each(actions.map(({ name, metadata }) => [name, metadata] as const))('%s', async (name, metadata) => {
    const { action } = (await import(`../../src/actions/${name}/main.js`)) as {
      action: { name: string; inputs: InputSpecs; outputs: Record<string, unknown> };
    };
    expect(action.name).toBe(name);
    const declared = Object.values(action.inputs);
    expect(declared.map((input) => input.name).sort()).toEqual(Object.keys(metadata.inputs ?? {}).sort());
    expect(Object.keys(action.outputs).sort()).toEqual(Object.keys(metadata.outputs ?? {}).sort());
    for (const input of declared) {
      const yml = metadata.inputs![input.name];
      expect({ input: input.name, required: yml.required === true }).toEqual({
        input: input.name,
        required: input.required,
      });
      expect({ input: input.name, default: yml.default === undefined ? undefined : String(yml.default) }).toEqual({
        input: input.name,
        default: input.default,
      });
      // A required input with a default is never missing: one of the two is a mistake.
      expect({ input: input.name, requiredWithDefault: input.required && input.default !== undefined }).toEqual({
        input: input.name,
        requiredWithDefault: false,
      });
    }
  });
});

describe('secrets declared in the contract are masked before any input is parsed', () => {
  // readInputs masks, then parses: a mistake in a later input must not stop the masking, so each
  // case has one (an attempts or started-at the parser refuses).
  async function masked(name: string, given: Record<string, string>): Promise<{ masked: string[]; error: string }> {
    const { action } = (await import(`../../src/actions/${name}/main.js`)) as { action: { inputs: InputSpecs } };
    const masked: string[] = [];
    let error = '';
    try {
      readInputs(
        action.inputs,
        (input) => given[input] ?? '',
        (secret) => masked.push(secret),
      );
    } catch (caught) {
      error = (caught as Error).message;
    }
    return { masked, error };
  }

  it("smoke's headers: each value, and an Authorization's credentials without the scheme", async () => {
    const { masked: secrets, error } = await masked('smoke', {
      urls: 'https://api.example.com/health',
      headers: 'Authorization: Bearer smoke-token-123\nX-Tenant: tenant-secret-9',
      attempts: 'many',
    });
    expect(error).toMatch(/^Input "attempts" is "many"/);
    expect(secrets).toEqual(expect.arrayContaining(['Bearer smoke-token-123', 'smoke-token-123', 'tenant-secret-9']));
  });

  it("monitor's prometheus-headers", async () => {
    const { masked: secrets, error } = await masked('monitor', {
      checks: '- name: up\n  query: up\n  max: 1',
      'prometheus-headers': 'X-Scope-OrgID: tenant-secret-4411',
      'failure-limit': 'some',
    });
    expect(error).toMatch(/^Input "failure-limit" is "some"/);
    expect(secrets).toContain('tenant-secret-4411');
  });

  it.each(['rollback', 'prepare-scratch-database', 'verify-reversible'])(
    "%s's knexfile-env: each value but numbers and booleans, even when a line is refused",
    async (name) => {
      const { masked: secrets, error } = await masked(name, {
        'database-url': 'postgres://deploy:pw@localhost/tickets',
        applied: '[]',
        'knexfile-env': 'DB_POOL_MAX=10\nDB_SSL=false\nAPP_KEY=kx9-looks-secret\nnot a line',
      });
      expect(error).toMatch(/^Input "knexfile-env" line 4 is not NAME=value/);
      expect(secrets).toContain('kx9-looks-secret');
      expect(secrets).not.toEqual(expect.arrayContaining(['10']));
      expect(secrets).not.toContain('false');
    },
  );

  it("record's database when it is a URL (its password and the URL), and nothing when it is a name", async () => {
    const url = 'postgres://deploy:Sup3rS3cretPw@db.internal.example:6543/tickets';
    const asUrl = await masked('record', { database: url, 'started-at': 'yesterday' });
    expect(asUrl.error).toMatch(/^Input "started-at" is "yesterday"/);
    expect(asUrl.masked).toEqual(expect.arrayContaining([url, 'Sup3rS3cretPw']));
    const asName = await masked('record', { database: 'tickettoken-production' });
    expect(asName).toEqual({ masked: [], error: '' });
  });
});
