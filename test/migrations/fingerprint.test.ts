import { planFingerprint, RUNTIME_VERSIONS, type FingerprintEntry } from '../../src/migrations/fingerprint.js';

const entries: FingerprintEntry[] = [
  {
    migration: {
      id: 3,
      name: '20240103000000_add_invoice_notes.ts',
      batch: 2,
      migrationTime: '2024-01-03T00:00:00.000Z',
      transaction: true,
    },
    content: Buffer.from('export async function down() {}'),
  },
];
const localCode = [{ path: 'lib/tables.ts', sha256: 'a'.repeat(64) }];

describe('the plan fingerprint', () => {
  const reviewed = planFingerprint(entries, localCode);

  it('is taken with the bundled Knex and action versions by default', () => {
    expect(planFingerprint(entries, localCode, RUNTIME_VERSIONS)).toBe(reviewed);
    expect(planFingerprint(entries, localCode, { ...RUNTIME_VERSIONS })).toBe(reviewed);
  });

  it('changes when the Knex version changes, and when the action version changes', () => {
    const otherKnex = planFingerprint(entries, localCode, { ...RUNTIME_VERSIONS, knex: '3.1.0-other' });
    const otherAction = planFingerprint(entries, localCode, { ...RUNTIME_VERSIONS, action: '9.9.9' });
    expect(otherKnex).not.toBe(reviewed);
    expect(otherAction).not.toBe(reviewed);
    expect(otherKnex).not.toBe(otherAction);
  });

  it('changes when a local file changes, and when a migration file changes', () => {
    expect(planFingerprint(entries, [{ ...localCode[0], sha256: 'b'.repeat(64) }])).not.toBe(reviewed);
    expect(planFingerprint([{ ...entries[0], content: Buffer.from('edited') }], localCode)).not.toBe(reviewed);
  });
});
