import { expect } from '@jest/globals';
import {
  expandSnapshotIdentifier,
  identifierProblem,
  isSnapshotArn,
  snapshotTimestamp,
} from '../../src/rds/identifiers.js';
import {
  cleanTagValue,
  mergeTags,
  parseTagLines,
  standardTags,
  tagKeyProblem,
  tagValueProblem,
} from '../../src/rds/tags.js';
import { parseRestoreTime, restoreTimeProblem } from '../../src/rds/restore-window.js';

describe('RDS identifier rules', () => {
  it('accepts the runbook names', () => {
    expect(identifierProblem('DB instance', 'tickettoken-production')).toBeUndefined();
    expect(identifierProblem('DB snapshot', 'pre-rollback-20250101-100000')).toBeUndefined();
  });

  it.each([
    ['DB snapshot', '', 'cannot be empty'],
    ['DB snapshot', '1pre-rollback', 'must start with a letter'],
    ['DB snapshot', 'pre--rollback', 'two consecutive hyphens'],
    ['DB snapshot', 'pre-rollback-', 'cannot end with a hyphen'],
    ['DB snapshot', 'pre_rollback', '"_" at position 4 is not allowed'],
    ['DB snapshot', 'a'.repeat(256), 'at most 255 characters; this one has 256'],
    ['DB cluster snapshot', 'a'.repeat(64), 'at most 63 characters'],
    ['DB instance', 'a'.repeat(64), 'at most 63 characters'],
  ] as const)('%s "%s" fails with the rule it broke', (kind, value, rule) => {
    expect(identifierProblem(kind, value)).toContain(rule);
  });

  it('allows 255 characters for a DB snapshot but 63 for a cluster snapshot', () => {
    expect(identifierProblem('DB snapshot', 'a'.repeat(255))).toBeUndefined();
    expect(identifierProblem('DB cluster snapshot', 'a'.repeat(63))).toBeUndefined();
  });

  it('names snapshots like the runbook: pre-rollback-YYYYMMDD-HHMMSS in UTC', () => {
    const now = new Date('2025-01-02T03:04:05.678Z');
    expect(snapshotTimestamp(now)).toBe('20250102-030405');
    expect(expandSnapshotIdentifier('pre-rollback-{timestamp}', now)).toBe('pre-rollback-20250102-030405');
  });

  it('recognises snapshot ARNs', () => {
    expect(isSnapshotArn('arn:aws:rds:us-east-1:123456789012:snapshot:pre-rollback-1')).toBe(true);
    expect(isSnapshotArn('arn:aws:rds:us-east-1:123456789012:db:prod')).toBe(false);
  });
});

describe('RDS tag rules', () => {
  it('cleans and keeps the meaning of a reason typed in a hurry', () => {
    expect(cleanTagValue('007 broke checkout (see #123), roll back NOW!')).toBe(
      '007 broke checkout see 123 roll back NOW',
    );
  });

  it('shortens long text to 256 characters with a visible cut', () => {
    const value = cleanTagValue('why '.repeat(200));
    expect([...value]).toHaveLength(256);
    expect(value.endsWith('...')).toBe(true);
    expect(tagValueProblem('reason', value)).toBeUndefined();
  });

  it('keeps letters of any script and the allowed punctuation', () => {
    expect(cleanTagValue('Übernahme: a/b=c+d-e@f_g.h')).toBe('Übernahme: a/b=c+d-e@f_g.h');
    expect(cleanTagValue('aws:thing')).toBe('thing');
  });

  it('refuses keys and values RDS refuses, saying why', () => {
    expect(tagKeyProblem('k'.repeat(129))).toContain('at most 128');
    expect(tagKeyProblem('aws:owner')).toContain('reserved');
    expect(tagKeyProblem('owner!')).toContain('"!"');
    expect(tagValueProblem('k', 'v'.repeat(257))).toContain('at most 256');
    expect(tagValueProblem('k', 'a#b')).toContain('"#"');
  });

  it('parses key=value lines and reports every bad one', () => {
    const { tags, problems } = parseTagLines(['team=ticketing', 'ticket = INC-42', 'bad#key=x', 'empty']);
    expect(tags).toEqual([
      { Key: 'team', Value: 'ticketing' },
      { Key: 'ticket', Value: 'INC-42' },
      { Key: 'empty', Value: '' },
    ]);
    expect(problems).toEqual([expect.stringContaining('bad#key')]);
  });

  it('always tags repository, run URL, actor and reason, and ours win over user tags', () => {
    const tags = standardTags(
      { repository: 'o/r', runUrl: 'https://github.com/o/r/actions/runs/1', actor: 'me' },
      'why (really)?',
    );
    expect(tags.map((tag) => tag.Key)).toEqual([
      'db-rollback:repository',
      'db-rollback:run',
      'db-rollback:actor',
      'db-rollback:reason',
    ]);
    const merged = mergeTags(
      [
        { Key: 'db-rollback:run', Value: 'forged' },
        { Key: 'team', Value: 't' },
      ],
      tags,
    );
    expect(merged.find((tag) => tag.Key === 'db-rollback:run')?.Value).toBe('https://github.com/o/r/actions/runs/1');
    expect(merged.find((tag) => tag.Key === 'db-rollback:reason')?.Value).toBe('why really');
  });
});

describe('restore time', () => {
  const now = new Date('2025-01-01T12:00:00Z');
  const window = { earliest: new Date('2024-12-25T00:00:00Z'), latest: new Date('2025-01-01T11:55:00Z') };

  it('accepts ISO-8601 UTC and latest', () => {
    expect(parseRestoreTime('2025-01-01T10:00:00Z')).toEqual({ kind: 'time', time: new Date('2025-01-01T10:00:00Z') });
    expect(parseRestoreTime('2025-01-01T10:00:00.250+00:00')).toEqual({
      kind: 'time',
      time: new Date('2025-01-01T10:00:00.250Z'),
    });
    expect(parseRestoreTime('latest')).toEqual({ kind: 'latest' });
  });

  it.each([
    'yesterday',
    '2025-01-01 10:00:00',
    '2025-01-01T10:00:00',
    '2025-01-01T10:00:00+02:00',
    '2025-02-30T10:00:00Z',
    '1735725600',
  ])('refuses "%s"', (text) => {
    expect(parseRestoreTime(text)).toEqual({
      problem: expect.stringMatching(/not (an ISO-8601 UTC time|a real date)/),
    });
  });

  it('says what the window is when the time is outside it', () => {
    expect(restoreTimeProblem(new Date('2025-01-01T10:00:00Z'), window, now)).toBeUndefined();
    expect(restoreTimeProblem(new Date('2024-12-24T23:00:00Z'), window, now)).toBe(
      'restore-time 2024-12-24T23:00:00.000Z is before the earliest restorable time. The restorable window is 2024-12-25T00:00:00.000Z to 2025-01-01T11:55:00.000Z.',
    );
    expect(restoreTimeProblem(new Date('2025-01-01T11:58:00Z'), window, now)).toContain(
      'after the latest restorable time',
    );
    expect(restoreTimeProblem(new Date('2025-01-01T13:00:00Z'), window, now)).toContain('in the future');
  });
});
