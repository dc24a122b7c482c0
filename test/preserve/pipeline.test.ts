import { buildEvent } from '../../src/notify/event.js';
import { slackPayload } from '../../src/notify/slack.js';
import { webhookPayload } from '../../src/notify/webhook.js';
import { recordMarkdown } from '../../src/report/markdown.js';
import { buildRecord } from '../../src/report/record.js';

const details = {
  environment: 'production',
  method: 'rollback',
  reason: 'broke checkout',
  'preserve-id': 'rb202612012324_a1b2c3',
};
const preserved = [
  {
    source: 'public.audit',
    kind: 'drop-table',
    rows: 25,
    bytes: 16384,
    copy: 'rollback_preserved.rb202612012324_a1b2c3_3_audit',
  },
  {
    source: 'public.tickets',
    kind: 'drop-column',
    rows: 40,
    bytes: 8192,
    copy: 'rollback_preserved.rb202612012324_a1b2c3_4_tickets',
  },
];

describe('the pipeline says data was preserved and how to restore it', () => {
  it('the success notification names the preserve-id and mode restore-data, in Slack and the webhook', () => {
    const event = buildEvent('succeeded', details, [], {});
    expect(JSON.stringify(slackPayload(event))).toContain(
      'preserved in the database (preserve-id rb202612012324_a1b2c3)',
    );
    expect(JSON.stringify(slackPayload(event))).toContain('mode: restore-data, preserve-id: rb202612012324_a1b2c3');
    expect(webhookPayload(event)).toMatchObject({
      preserveId: 'rb202612012324_a1b2c3',
      restore: expect.stringContaining('mode: restore-data') as unknown,
    });
  });

  it('a failed run does not tell anyone to restore (its copies rolled back with it)', () => {
    const event = buildEvent('failed', details, [], {});
    expect(JSON.stringify(slackPayload(event))).not.toContain('restore-data');
    expect(webhookPayload(event).restore).toBeNull();
  });

  it('the record lists the preserved copies and the preserve-id', () => {
    const record = buildRecord(
      { result: 'succeeded', approvals: [], preserveId: 'rb202612012324_a1b2c3', preserved },
      {},
    );
    expect(record.preserved).toHaveLength(2);
    const markdown = recordMarkdown(record);
    expect(markdown).toContain('## Preserved data');
    expect(markdown).toContain('preserve-id: `rb202612012324_a1b2c3`');
    expect(markdown).toContain(
      '| public.audit | drop-table | 25 | 16384 | rollback_preserved.rb202612012324_a1b2c3_3_audit |',
    );
  });

  it('a record without preservation has no such section', () => {
    expect(recordMarkdown(buildRecord({ result: 'succeeded', approvals: [] }, {}))).not.toContain('Preserved data');
  });
});
