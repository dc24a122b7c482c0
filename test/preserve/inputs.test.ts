import { readInputs } from '../../src/actions/common/inputs.js';
import type { Database } from '../../src/actions/common/database.js';
import { inputs, rollbackInputs } from '../../src/actions/rollback/inputs.js';
import { formatSize, parseSize } from '../../src/preserve/size.js';

function parse(given: Record<string, string>) {
  const values: Record<string, string> = { 'database-url': 'postgres://u:p@localhost/db', ...given };
  return rollbackInputs(
    readInputs(
      inputs,
      (name) => values[name] ?? '',
      () => undefined,
    ),
    // The connection is resolved elsewhere (common/database.ts); these inputs do not read it.
    { databaseUrl: values['database-url'] } as Database,
  );
}

describe('the preservation inputs', () => {
  it('reads sizes as people write them, in binary units', () => {
    expect(parseSize('100kB')).toBe(102_400);
    expect(parseSize('256MB')).toBe(256 * 1024 ** 2);
    expect(parseSize('2GB')).toBe(2 * 1024 ** 3);
    expect(parseSize('1.5 gb')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('512')).toBe(512);
    for (const bad of ['', 'MB', '2 gigs', '-1MB', '10PB']) expect(parseSize(bad)).toBeUndefined();
    expect(formatSize(256 * 1024 ** 2)).toBe('256 MB');
    expect(formatSize(1536)).toBe('1.5 kB');
  });

  it('defaults to keeping up to 256MB in rollback_preserved', () => {
    expect(parse({ mode: 'rollback' }).preserve).toEqual({
      enabled: true,
      maxBytes: 256 * 1024 ** 2,
      schema: 'rollback_preserved',
    });
    expect(parse({ mode: 'rollback', 'preserve-data': 'false' }).preserve.enabled).toBe(false);
  });

  it.each([
    [
      { 'preserve-data-max': '2 gigs' },
      'Input "preserve-data-max" is "2 gigs": it must be a size such as 100kB, 256MB or 2GB',
    ],
    [
      { 'preserve-schema': 'Bad-Name' },
      'Input "preserve-schema" is "Bad-Name": it must be a lower-case PostgreSQL name',
    ],
    [{ mode: 'restore-data' }, 'Mode restore-data needs input "preserve-id"'],
    [
      { mode: 'restore-data', 'preserve-id': 'yesterday' },
      'Input "preserve-id" is "yesterday": it must be the preserve-id output',
    ],
    [
      { mode: 'rollback', 'preserve-id': 'rb202611290315_a1b2c3' },
      'Input "preserve-id" is only allowed with mode: restore-data',
    ],
    [{ mode: 'prune-data' }, 'Mode prune-data needs input "older-than"'],
    [{ mode: 'prune-data', 'older-than': 'a month' }, 'Input "older-than" is "a month": it must be an age such as 30d'],
    [{ mode: 'rollback', 'older-than': '30d' }, 'Input "older-than" is only allowed with mode: prune-data'],
    [
      { mode: 'restore-data', 'preserve-id': 'rb202611290315_a1b2c3', steps: '1' },
      'Input "steps" applies to mode plan, rollback or down',
    ],
    [{ mode: 'estimate-data' }, 'Mode estimate-data needs input "preserve-statements-file"'],
    [
      { mode: 'estimate-data', 'preserve-statements-file': '/tmp/x.json', 'preserve-data': 'false' },
      'Mode estimate-data sizes what preserve-data keeps, and preserve-data is false',
    ],
    [
      { mode: 'estimate-data', 'preserve-statements-file': '/tmp/x.json', 'dry-run': 'true' },
      'Input "dry-run" applies to mode plan, rollback or down (and restore-data, prune-data), not to mode estimate-data',
    ],
    [
      { mode: 'plan', 'preserve-statements-file': '/tmp/x.json' },
      'Input "preserve-statements-file" is only allowed with mode: estimate-data, rollback or down (mode is plan)',
    ],
    [
      { mode: 'rollback', 'preserve-statements-file': '/tmp/x.json', 'preserve-data': 'false' },
      'Input "preserve-statements-file" sizes what preserve-data keeps against preserve-data-max, and preserve-data is false',
    ],
  ])('refuses %j, naming the input and what it takes', (given, message) => {
    expect(() => parse(given)).toThrow(message);
  });

  it('takes dry-run with restore-data and prune-data', () => {
    expect(parse({ mode: 'restore-data', 'preserve-id': 'rb202611290315_a1b2c3', 'dry-run': 'true' })).toMatchObject({
      dryRun: true,
      preserve: { id: 'rb202611290315_a1b2c3' },
    });
    expect(parse({ mode: 'prune-data', 'older-than': '30d', 'dry-run': 'true' }).preserve.olderThanMs).toBe(
      30 * 86_400_000,
    );
  });
});
