import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { knexfileEnvSecrets, parseKnexfileEnv } from '../../src/migrations/knexfile-env.js';
import { loadKnexfile } from '../../src/migrations/knexfile-load.js';
import { describeSettings, resolveMigrationSettings } from '../../src/migrations/knexfile.js';

// A knexfile validating typed values, as envalid's num()/bool() or zod's z.coerce.number()/z.enum
// do: no placeholder passes, so only knexfile-env makes it load where the runner lacks them.
const TYPED_KNEXFILE = `
  const max = Number(process.env.KNEXFILE_ENV_POOL_MAX);
  if (!Number.isInteger(max)) throw new Error('KNEXFILE_ENV_POOL_MAX must be an integer');
  if (!['true', 'false'].includes(process.env.KNEXFILE_ENV_SSL)) throw new Error('KNEXFILE_ENV_SSL must be true or false');
  module.exports = { production: {
    pool: { max }, connection: { ssl: process.env.KNEXFILE_ENV_SSL === 'true', host: process.env.KNEXFILE_ENV_HOST },
    migrations: { directory: 'db', tableName: 'pool_' + max + '_ssl_' + process.env.KNEXFILE_ENV_SSL },
  } };`;

const NAMES = ['KNEXFILE_ENV_POOL_MAX', 'KNEXFILE_ENV_SSL', 'KNEXFILE_ENV_HOST'];

describe('knexfile-env: NAME=value lines', () => {
  it('reads names and values, skipping blank lines and comments', () => {
    expect(parseKnexfileEnv('# pool\nDB_POOL_MAX=10\n\n  DB_SSL = false  \nDB_URL=postgres://a:b@h/d?x=1')).toEqual({
      DB_POOL_MAX: '10',
      DB_SSL: 'false',
      DB_URL: 'postgres://a:b@h/d?x=1',
    });
    expect(parseKnexfileEnv('')).toEqual({});
  });

  it.each([
    ['s3cr3t-without-equals', /line 2 is not NAME=value \(no =\)/],
    ['1DB=s3cr3t-value', /line 2 is not NAME=value \(the part before = is not a variable name\)/],
    ['DB-PASS=s3cr3t-value', /line 2 is not NAME=value/],
    ['=s3cr3t-value', /line 2 is not NAME=value/],
    ['DB_SSL=s3cr3t-value', /line 2 sets DB_SSL again \(first on line 1\)/],
  ])('refuses %j naming the input and the line, quoting nothing of it', (line, message) => {
    let error: Error | undefined;
    try {
      parseKnexfileEnv(`DB_SSL=false\n${line}`, 'knexfile-env');
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).toMatch(/^Input "knexfile-env" line 2 /);
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('s3cr3t');
  });

  it('masks every value but numbers, booleans and values under 3 characters, without ever throwing', () => {
    expect(
      knexfileEnvSecrets(
        'DB_POOL_MAX=10\nDB_SSL=false\nDB_MODE=on\nX=ab\nAPI_KEY=kx9-looks-secret\n# C=commented\nno line',
      ),
    ).toEqual(['kx9-looks-secret']);
  });
});

describe('loading a knexfile with knexfile-env', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knexfile-env-'));
    file = path.join(dir, 'knexfile.cjs');
    fs.writeFileSync(file, TYPED_KNEXFILE);
  });
  afterEach(() => {
    for (const name of NAMES) delete process.env[name];
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const migrations = (config: unknown) =>
    (config as { production: { migrations: { tableName: string } } }).production.migrations.tableName;

  it('fails without it: no placeholder is an integer or a boolean', async () => {
    await expect(loadKnexfile(file)).rejects.toThrow('KNEXFILE_ENV_POOL_MAX must be an integer');
  });

  it('loads with it, placeholders for the rest, and leaves none of the variables in process.env', async () => {
    const loaded = await loadKnexfile(file, { KNEXFILE_ENV_POOL_MAX: '10', KNEXFILE_ENV_SSL: 'false' });
    expect(migrations(loaded.config)).toBe('pool_10_ssl_false');
    expect(loaded.fromInput).toEqual(['KNEXFILE_ENV_POOL_MAX', 'KNEXFILE_ENV_SSL']);
    expect(loaded.placeholders).toEqual([]);
    for (const name of NAMES) expect(process.env[name]).toBeUndefined();

    // A knexfile that also needs a host: the retry sees knexfile-env's values and placeholders the host.
    const withHost = path.join(dir, 'host.cjs');
    fs.writeFileSync(withHost, `if (!process.env.KNEXFILE_ENV_HOST) throw new Error('no host');\n${TYPED_KNEXFILE}`);
    const retried = await loadKnexfile(withHost, { KNEXFILE_ENV_POOL_MAX: '7', KNEXFILE_ENV_SSL: 'true' });
    expect(migrations(retried.config)).toBe('pool_7_ssl_true');
    expect(retried).toMatchObject({
      fromInput: ['KNEXFILE_ENV_POOL_MAX', 'KNEXFILE_ENV_SSL'],
      placeholders: ['KNEXFILE_ENV_HOST'],
    });
    for (const name of NAMES) expect(process.env[name]).toBeUndefined();
  });

  it('removes them when the load fails too', async () => {
    fs.writeFileSync(file, `throw new Error('pool max is ' + process.env.KNEXFILE_ENV_POOL_MAX);`);
    await expect(loadKnexfile(file, { KNEXFILE_ENV_POOL_MAX: '10' })).rejects.toThrow('pool max is 10');
    expect(process.env.KNEXFILE_ENV_POOL_MAX).toBeUndefined();
  });

  it('never changes a variable the environment sets: it wins, and is still there afterwards', async () => {
    process.env.KNEXFILE_ENV_SSL = 'true';
    const loaded = await loadKnexfile(file, { KNEXFILE_ENV_POOL_MAX: '10', KNEXFILE_ENV_SSL: 'false' });
    expect(migrations(loaded.config)).toBe('pool_10_ssl_true');
    expect(loaded.fromInput).toEqual(['KNEXFILE_ENV_POOL_MAX']);
    expect(process.env.KNEXFILE_ENV_SSL).toBe('true');
    expect(process.env.KNEXFILE_ENV_POOL_MAX).toBeUndefined();
  });

  it('names the variables it set in the settings, never their values', async () => {
    const settings = await resolveMigrationSettings({
      knexfile: 'knexfile.cjs',
      knexEnvironment: 'production',
      knexfileEnv: { KNEXFILE_ENV_POOL_MAX: '10', KNEXFILE_ENV_SSL: 'false' },
      cwd: dir,
    });
    expect(describeSettings(settings).filter((line) => line.setting === 'unset environment variables')).toEqual([
      {
        setting: 'unset environment variables',
        value: 'KNEXFILE_ENV_POOL_MAX, KNEXFILE_ENV_SSL',
        from: 'input knexfile-env, set only while knexfile knexfile.cjs (production) loaded',
      },
    ]);
  });

  it('refuses knexfile-env without a knexfile to load', async () => {
    await expect(
      resolveMigrationSettings({ knexEnvironment: 'production', knexfileEnv: { A: 'b' }, cwd: dir }),
    ).rejects.toThrow(/^Input "knexfile-env" was given without "knexfile"/);
  });
});
