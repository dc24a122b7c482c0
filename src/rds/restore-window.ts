// The window a point-in-time restore must fall in. An instance's window comes from its
// automated backups (DescribeDBInstanceAutomatedBackups RestoreWindow): a DBInstance carries
// LatestRestorableTime but no earliest time. A cluster carries both on the DBCluster.
import { paginateDescribeDBInstanceAutomatedBackups, type RDSClient } from '@aws-sdk/client-rds';
import type { SourceInfo } from './source.js';

export interface RestoreWindow {
  earliest?: Date;
  latest?: Date;
}

export async function restoreWindow(client: RDSClient, source: SourceInfo): Promise<RestoreWindow> {
  if (source.target.kind === 'cluster')
    return { earliest: source.earliestRestorableTime, latest: source.latestRestorableTime };
  const backups = [];
  const pages = paginateDescribeDBInstanceAutomatedBackups(
    { client, pageSize: 100 },
    { DBInstanceIdentifier: source.target.identifier },
  );
  for await (const page of pages) backups.push(...(page.DBInstanceAutomatedBackups ?? []));
  // Backups retained from an earlier, deleted instance of the same name have another resource id.
  const own =
    backups.find((backup) => backup.DbiResourceId === source.dbiResourceId && backup.Status !== 'retained') ??
    backups.find((backup) => backup.Status === 'active');
  return {
    earliest: own?.RestoreWindow?.EarliestTime,
    latest: own?.RestoreWindow?.LatestTime ?? source.latestRestorableTime,
  };
}

export function describeWindow(window: RestoreWindow): string {
  return `${window.earliest?.toISOString() ?? '(unknown)'} to ${window.latest?.toISOString() ?? '(unknown)'}`;
}

/** `latest`, or an ISO-8601 time in UTC (`Z` or `+00:00`); anything else is refused. */
export type RestorePoint = { kind: 'latest' } | { kind: 'time'; time: Date };

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|\+00:?00)$/;

export function parseRestoreTime(text: string): RestorePoint | { problem: string } {
  if (text.toLowerCase() === 'latest') return { kind: 'latest' };
  const match = ISO_UTC.exec(text);
  if (!match) return { problem: `"${text}" is not an ISO-8601 UTC time such as 2025-01-01T10:00:00Z (or "latest")` };
  const time = new Date(text.replace(/\+00:?00$/, 'Z'));
  // Date accepts 2025-02-30 and rolls it over; a restore time that is not a real date is a typo.
  const [, year, month, day, hour, minute] = match;
  if (
    Number.isNaN(time.getTime()) ||
    time.getUTCFullYear() !== Number(year) ||
    time.getUTCMonth() + 1 !== Number(month) ||
    time.getUTCDate() !== Number(day) ||
    time.getUTCHours() !== Number(hour) ||
    time.getUTCMinutes() !== Number(minute)
  ) {
    return { problem: `"${text}" is not a real date and time` };
  }
  return { kind: 'time', time };
}

/** Why the time cannot be restored to, or undefined when it is inside the window. */
export function restoreTimeProblem(time: Date, window: RestoreWindow, now: Date): string | undefined {
  const range = `The restorable window is ${describeWindow(window)}.`;
  if (time.getTime() > now.getTime())
    return `restore-time ${time.toISOString()} is in the future (now is ${now.toISOString()}). ${range}`;
  if (!window.earliest || !window.latest)
    return `the source has no restorable window (are automated backups on?). ${range}`;
  if (time < window.earliest)
    return `restore-time ${time.toISOString()} is before the earliest restorable time. ${range}`;
  if (time > window.latest) return `restore-time ${time.toISOString()} is after the latest restorable time. ${range}`;
  return undefined;
}
