import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/**
 * A local stand-in for the RDS Query API (2014-10-31), for the tests, the demo and the
 * snapshot benchmark: the real RDSClient talks to it through `endpoint` (or the
 * AWS_ENDPOINT_URL_RDS variable). Form-encoded POST with Action/Version in, XML in the RDS
 * namespace out, <ErrorResponse> with RDS's codes and HTTP statuses for errors.
 *
 * State is plain data the caller controls: instances, clusters, automated backups and
 * snapshots. Snapshots and restores move on the server's clock (real time plus an offset
 * the caller can advance, optionally advanced on every request), so a test drives
 * `creating -> PercentProgress -> available|failed` without sleeping. Every request lands in
 * `calls`, so a test can assert that a bad input caused no write call.
 *
 * No jest globals here: the demo and the benchmark import this file too.
 */

const NAMESPACE = 'http://rds.amazonaws.com/doc/2014-10-31/';
const ACCOUNT = '123456789012';

export interface FakeTag {
  Key: string;
  Value: string;
}

export interface FakeInstance {
  identifier: string;
  status: string;
  engine: string;
  engineVersion: string;
  instanceClass: string;
  subnetGroup?: string;
  securityGroupIds: string[];
  parameterGroup?: string;
  multiAz: boolean;
  backupRetentionDays: number;
  /** How far LatestRestorableTime trails the clock (RDS: ~5 minutes). */
  restoreLagMs: number;
  /** Start of the restore window; default: the retention period back from now. */
  earliestRestorableTime?: Date;
  /** Overrides the computed LatestRestorableTime (null: none reported). */
  latestRestorableTime?: Date | null;
  dbiResourceId: string;
  clusterIdentifier?: string;
  tags: FakeTag[];
  port: number;
  /** Server time at which a `creating` instance becomes available. */
  readyAt?: number;
  /** The parameters it was created with (restores, CreateDBInstance). */
  createdWith?: Record<string, string>;
}

export interface FakeCluster {
  identifier: string;
  status: string;
  engine: string;
  engineVersion: string;
  subnetGroup?: string;
  securityGroupIds: string[];
  clusterParameterGroup?: string;
  backupRetentionDays: number;
  restoreLagMs: number;
  earliestRestorableTime?: Date;
  latestRestorableTime?: Date | null;
  members: { instance: string; writer: boolean }[];
  tags: FakeTag[];
  port: number;
  readyAt?: number;
  createdWith?: Record<string, string>;
}

export interface FakeSnapshot {
  kind: 'instance' | 'cluster';
  identifier: string;
  source: string;
  type: 'automated' | 'manual';
  status: string;
  createTime: Date;
  /** For a `creating` snapshot: how long it takes on the server clock. */
  durationMs?: number;
  /** What a `creating` snapshot becomes when its time is up. */
  outcome: 'available' | 'failed';
  /** Removed (DescribeDBSnapshots: not found) this long after creation. */
  vanishAfterMs?: number;
  engine: string;
  engineVersion: string;
  tags: FakeTag[];
  /** Server time at which it became available or failed, and when a Describe first showed that. */
  completedAt?: number;
  firstSeenDoneAt?: number;
}

export interface FakeEvent {
  sourceIdentifier: string;
  sourceType: string;
  message: string;
  date: Date;
}

export interface FakeFault {
  /** Only requests for this action (default: any). */
  action?: string;
  code: string;
  status: number;
  message?: string;
  /** How many matching requests get it (default 1). */
  times?: number;
}

export interface FakeCall {
  action: string;
  params: Record<string, string>;
  /** Server time of the request. */
  at: number;
  status: number;
  errorCode?: string;
}

export interface FakeRdsOptions {
  /** Items per Describe page (real RDS: MaxRecords 20-100; small here to exercise Marker). */
  pageSize?: number;
  /** How long a snapshot created through the API takes (server clock). */
  snapshotDurationMs?: number;
  /** How long a restored instance or cluster takes to become available (server clock). */
  restoreDurationMs?: number;
  /** Advance the server clock by this much on every request (fast tests without sleeping). */
  autoAdvanceMs?: number;
  /** What snapshots created through the API become when their time is up (a failure to inject). */
  snapshotOutcome?: 'available' | 'failed';
  /** Snapshots created through the API vanish this long after creation (a deletion to inject). */
  snapshotVanishAfterMs?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeRdsServer {
  url: string;
  region: string;
  close(): Promise<void>;
  instances: Map<string, FakeInstance>;
  clusters: Map<string, FakeCluster>;
  snapshots: Map<string, FakeSnapshot>;
  events: FakeEvent[];
  faults: FakeFault[];
  calls: FakeCall[];
  options: Required<Omit<FakeRdsOptions, 'snapshotVanishAfterMs'>> & Pick<FakeRdsOptions, 'snapshotVanishAfterMs'>;
  clock: { now(): number; advance(ms: number): void };
  addInstance(identifier: string, fields?: Partial<FakeInstance>): FakeInstance;
  addCluster(identifier: string, fields?: Partial<FakeCluster> & { writerClass?: string }): FakeCluster;
  addSnapshot(identifier: string, fields: Partial<FakeSnapshot> & { source: string }): FakeSnapshot;
  injectFault(fault: FakeFault): void;
  /** Called with each request before it is answered (to start a clock on the first call, say). */
  onRequest?: (call: FakeCall) => void;
  /** Calls that change something (anything but Describe*). */
  writeCalls(): FakeCall[];
  count(action: string): number;
}

export async function startFakeRds(options: FakeRdsOptions = {}): Promise<FakeRdsServer> {
  const settings: Required<Omit<FakeRdsOptions, 'snapshotVanishAfterMs'>> &
    Pick<FakeRdsOptions, 'snapshotVanishAfterMs'> = {
    snapshotOutcome: options.snapshotOutcome ?? 'available',
    snapshotVanishAfterMs: options.snapshotVanishAfterMs,
    pageSize: options.pageSize ?? 2,
    snapshotDurationMs: options.snapshotDurationMs ?? 30_000,
    restoreDurationMs: options.restoreDurationMs ?? 60_000,
    autoAdvanceMs: options.autoAdvanceMs ?? 0,
  };
  let offset = 0;
  const clock = { now: () => Date.now() + offset, advance: (ms: number) => void (offset += ms) };
  const instances = new Map<string, FakeInstance>();
  const clusters = new Map<string, FakeCluster>();
  const snapshots = new Map<string, FakeSnapshot>();
  const events: FakeEvent[] = [];
  const faults: FakeFault[] = [];
  const calls: FakeCall[] = [];

  function addInstance(identifier: string, fields: Partial<FakeInstance> = {}): FakeInstance {
    const instance: FakeInstance = {
      identifier,
      status: 'available',
      engine: 'postgres',
      engineVersion: '16.4',
      instanceClass: 'db.r6g.large',
      subnetGroup: 'ticket-service-db',
      securityGroupIds: ['sg-0a1b2c3d'],
      parameterGroup: 'ticket-service-pg16',
      multiAz: true,
      backupRetentionDays: 7,
      restoreLagMs: 2 * 60_000,
      dbiResourceId: `db-${randomUUID().replace(/-/g, '').slice(0, 26).toUpperCase()}`,
      tags: [{ Key: 'team', Value: 'ticketing' }],
      port: 5432,
      ...fields,
    };
    instances.set(identifier, instance);
    return instance;
  }

  function addCluster(identifier: string, fields: Partial<FakeCluster> & { writerClass?: string } = {}): FakeCluster {
    const { writerClass, ...rest } = fields;
    const writer = `${identifier}-instance-1`;
    const cluster: FakeCluster = {
      identifier,
      status: 'available',
      engine: 'aurora-postgresql',
      engineVersion: '16.4',
      subnetGroup: 'ticket-service-db',
      securityGroupIds: ['sg-0a1b2c3d'],
      clusterParameterGroup: 'ticket-service-aurora-pg16',
      backupRetentionDays: 7,
      restoreLagMs: 2 * 60_000,
      members: [{ instance: writer, writer: true }],
      tags: [{ Key: 'team', Value: 'ticketing' }],
      port: 5432,
      ...rest,
    };
    clusters.set(identifier, cluster);
    if (!instances.has(writer) && cluster.members.some((member) => member.instance === writer)) {
      addInstance(writer, {
        engine: cluster.engine,
        clusterIdentifier: identifier,
        instanceClass: writerClass ?? 'db.r6g.xlarge',
        parameterGroup: 'ticket-service-aurora-instance',
        multiAz: false,
      });
    }
    return cluster;
  }

  function addSnapshot(identifier: string, fields: Partial<FakeSnapshot> & { source: string }): FakeSnapshot {
    const snapshot: FakeSnapshot = {
      kind: 'instance',
      identifier,
      type: 'automated',
      status: 'available',
      createTime: new Date(clock.now()),
      outcome: 'available',
      engine: 'postgres',
      engineVersion: '16.4',
      tags: [],
      ...fields,
    };
    snapshots.set(`${snapshot.kind}:${identifier}`, snapshot);
    return snapshot;
  }

  // Moves time-driven state forward: snapshots finish or vanish, restores become available.
  function tick(): void {
    const now = clock.now();
    for (const [key, snapshot] of snapshots) {
      const elapsed = now - snapshot.createTime.getTime();
      if (snapshot.vanishAfterMs !== undefined && elapsed >= snapshot.vanishAfterMs) {
        snapshots.delete(key);
        continue;
      }
      if (snapshot.status === 'creating' && snapshot.durationMs !== undefined && elapsed >= snapshot.durationMs) {
        snapshot.status = snapshot.outcome;
        snapshot.completedAt = snapshot.createTime.getTime() + snapshot.durationMs;
      }
    }
    for (const cluster of clusters.values()) {
      if (cluster.status === 'creating' && cluster.readyAt !== undefined && now >= cluster.readyAt)
        cluster.status = 'available';
    }
    for (const instance of instances.values()) {
      if (instance.status !== 'creating' || instance.readyAt === undefined || now < instance.readyAt) continue;
      // An Aurora instance cannot be available before its cluster is.
      const cluster = instance.clusterIdentifier ? clusters.get(instance.clusterIdentifier) : undefined;
      if (!cluster || cluster.status === 'available') instance.status = 'available';
    }
  }

  function percentProgress(snapshot: FakeSnapshot): number {
    if (snapshot.status === 'available') return 100;
    if (snapshot.status !== 'creating') return 0;
    if (!snapshot.durationMs) return 0;
    return Math.min(99, Math.floor(((clock.now() - snapshot.createTime.getTime()) / snapshot.durationMs) * 100));
  }

  function latestRestorable(item: FakeInstance | FakeCluster): Date | undefined {
    if (item.latestRestorableTime === null || item.backupRetentionDays === 0 || item.status === 'creating')
      return undefined;
    return item.latestRestorableTime ?? new Date(clock.now() - item.restoreLagMs);
  }

  function earliestRestorable(item: FakeInstance | FakeCluster): Date | undefined {
    if (item.backupRetentionDays === 0 || item.status === 'creating') return undefined;
    return item.earliestRestorableTime ?? new Date(clock.now() - item.backupRetentionDays * 86_400_000);
  }

  // ---- XML -------------------------------------------------------------------------------

  const escape = (text: string) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  type Value = string | number | boolean | Date | undefined | null | Value[] | { [key: string]: Value };
  function xml(name: string, value: Value): string {
    if (value === undefined || value === null) return '';
    if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
    if (Array.isArray(value)) return `<${name}>${(value as string[]).join('')}</${name}>`;
    if (typeof value === 'object')
      return `<${name}>${Object.entries(value)
        .map(([key, inner]) => xml(key, inner))
        .join('')}</${name}>`;
    return `<${name}>${escape(String(value))}</${name}>`;
  }
  const list = (member: string, items: Value[]) => items.map((item) => xml(member, item));
  const tagList = (tags: FakeTag[]) =>
    list(
      'Tag',
      tags.map((tag) => ({ Key: tag.Key, Value: tag.Value })),
    );
  const arn = (type: string, id: string) => `arn:aws:rds:${region}:${ACCOUNT}:${type}:${id}`;

  function instanceXml(instance: FakeInstance): Value {
    const cluster = instance.clusterIdentifier ? clusters.get(instance.clusterIdentifier) : undefined;
    return {
      DBInstanceIdentifier: instance.identifier,
      DBInstanceClass: instance.instanceClass,
      Engine: instance.engine,
      DBInstanceStatus: instance.status,
      Endpoint:
        instance.status === 'creating'
          ? undefined
          : { Address: `${instance.identifier}.abcdefghijkl.${region}.rds.amazonaws.com`, Port: instance.port },
      BackupRetentionPeriod: cluster ? cluster.backupRetentionDays : instance.backupRetentionDays,
      VpcSecurityGroups: list(
        'VpcSecurityGroupMembership',
        instance.securityGroupIds.map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })),
      ),
      DBParameterGroups: instance.parameterGroup
        ? list('DBParameterGroup', [{ DBParameterGroupName: instance.parameterGroup, ParameterApplyStatus: 'in-sync' }])
        : undefined,
      DBSubnetGroup: instance.subnetGroup ? { DBSubnetGroupName: instance.subnetGroup } : undefined,
      MultiAZ: instance.multiAz,
      EngineVersion: instance.engineVersion,
      LatestRestorableTime: cluster ? undefined : latestRestorable(instance),
      DBClusterIdentifier: instance.clusterIdentifier,
      DbiResourceId: instance.dbiResourceId,
      DBInstanceArn: arn('db', instance.identifier),
      TagList: tagList(instance.tags),
    };
  }

  function clusterXml(cluster: FakeCluster): Value {
    return {
      DBClusterIdentifier: cluster.identifier,
      Status: cluster.status,
      Engine: cluster.engine,
      EngineVersion: cluster.engineVersion,
      Endpoint: `${cluster.identifier}.cluster-abcdefghijkl.${region}.rds.amazonaws.com`,
      ReaderEndpoint: `${cluster.identifier}.cluster-ro-abcdefghijkl.${region}.rds.amazonaws.com`,
      Port: cluster.port,
      BackupRetentionPeriod: cluster.backupRetentionDays,
      EarliestRestorableTime: earliestRestorable(cluster),
      LatestRestorableTime: latestRestorable(cluster),
      DBSubnetGroup: cluster.subnetGroup,
      DBClusterParameterGroup: cluster.clusterParameterGroup,
      VpcSecurityGroups: list(
        'VpcSecurityGroupMembership',
        cluster.securityGroupIds.map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })),
      ),
      DBClusterMembers: list(
        'DBClusterMember',
        cluster.members.map((member) => ({ DBInstanceIdentifier: member.instance, IsClusterWriter: member.writer })),
      ),
      DBClusterArn: arn('cluster', cluster.identifier),
      TagList: tagList(cluster.tags),
    };
  }

  function snapshotXml(snapshot: FakeSnapshot): Value {
    const common = {
      SnapshotCreateTime: snapshot.createTime,
      Engine: snapshot.engine,
      EngineVersion: snapshot.engineVersion,
      Status: snapshot.status,
      PercentProgress: percentProgress(snapshot),
      SnapshotType: snapshot.type,
      TagList: tagList(snapshot.tags),
    };
    if (snapshot.kind === 'instance') {
      return {
        DBSnapshotIdentifier: snapshot.identifier,
        DBInstanceIdentifier: snapshot.source,
        ...common,
        DBSnapshotArn: arn('snapshot', snapshot.identifier),
      };
    }
    return {
      DBClusterSnapshotIdentifier: snapshot.identifier,
      DBClusterIdentifier: snapshot.source,
      ...common,
      DBClusterSnapshotArn: arn('cluster-snapshot', snapshot.identifier),
    };
  }

  // ---- request parsing -------------------------------------------------------------------

  /** `Tags.Tag.1.Key=a&Tags.Tag.1.Value=b` -> [{Key: 'a', Value: 'b'}] (also `.member.N`). */
  function structList(params: Record<string, string>, prefix: string): Record<string, string>[] {
    const items = new Map<number, Record<string, string>>();
    const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(?:[A-Za-z]+)\\.(\\d+)(?:\\.(.+))?$`);
    for (const [key, value] of Object.entries(params)) {
      const match = pattern.exec(key);
      if (!match) continue;
      const index = Number(match[1]);
      const item = items.get(index) ?? {};
      item[match[2] ?? ''] = value;
      items.set(index, item);
    }
    return [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  }

  function tagsFrom(params: Record<string, string>): FakeTag[] {
    const tags = structList(params, 'Tags').map((item) => ({ Key: item.Key ?? '', Value: item.Value ?? '' }));
    for (const tag of tags) {
      const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
      if (tag.Key.length < 1 || tag.Key.length > 128 || !allowed.test(tag.Key) || /^(aws|rds):/.test(tag.Key)) {
        throw new ApiError(
          'InvalidParameterValue',
          400,
          `Invalid tag key: "${tag.Key}". Tag keys must be 1-128 Unicode letters, digits, white space, or _.:/=+-@ and cannot start with aws: or rds:.`,
        );
      }
      if (tag.Value.length > 256 || !allowed.test(tag.Value) || /^(aws|rds):/.test(tag.Value)) {
        throw new ApiError(
          'InvalidParameterValue',
          400,
          `Invalid tag value for key "${tag.Key}". Tag values must be 0-256 Unicode letters, digits, white space, or _.:/=+-@.`,
        );
      }
    }
    return tags;
  }

  function checkIdentifier(value: string | undefined, parameter: string, max: number): string {
    if (!value) throw new ApiError('MissingParameter', 400, `The request must contain the parameter ${parameter}`);
    if (value.length > max || !/^[A-Za-z][A-Za-z0-9-]*$/.test(value) || value.includes('--') || value.endsWith('-')) {
      throw new ApiError(
        'InvalidParameterValue',
        400,
        `The parameter ${parameter} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.`,
      );
    }
    return value.toLowerCase();
  }

  function page<T>(params: Record<string, string>, items: T[]): { items: T[]; marker?: string } {
    if (params.MaxRecords !== undefined) {
      const max = Number(params.MaxRecords);
      if (!(max >= 20 && max <= 100))
        throw new ApiError(
          'InvalidParameterValue',
          400,
          `Invalid value ${params.MaxRecords} for MaxRecords. Must be between 20 and 100`,
        );
    }
    const size = Math.min(settings.pageSize, Number(params.MaxRecords ?? 100));
    const start = params.Marker
      ? Number(Buffer.from(params.Marker, 'base64').toString('utf8').replace('offset:', ''))
      : 0;
    const slice = items.slice(start, start + size);
    const next = start + size < items.length ? Buffer.from(`offset:${start + size}`).toString('base64') : undefined;
    return { items: slice, marker: next };
  }

  function parseTime(value: string | undefined, parameter: string): Date | undefined {
    if (!value) return undefined;
    const time = new Date(value);
    if (Number.isNaN(time.getTime()))
      throw new ApiError('InvalidParameterValue', 400, `Invalid ${parameter}: ${value}`);
    return time;
  }

  function requireInstance(identifier: string | undefined): FakeInstance {
    const instance = identifier ? instances.get(identifier.toLowerCase()) : undefined;
    if (!instance) throw new ApiError('DBInstanceNotFound', 404, `DBInstance ${identifier} not found.`);
    return instance;
  }

  function requireCluster(identifier: string | undefined): FakeCluster {
    const cluster = identifier ? clusters.get(identifier.toLowerCase()) : undefined;
    if (!cluster) throw new ApiError('DBClusterNotFoundFault', 404, `DBCluster ${identifier} not found.`);
    return cluster;
  }

  function checkPointInTime(
    item: FakeInstance | FakeCluster,
    params: Record<string, string>,
    timeParameter: string,
  ): void {
    if (item.backupRetentionDays === 0)
      throw new ApiError(
        'PointInTimeRestoreNotEnabled',
        400,
        `Point-in-time restore is not enabled for ${item.identifier}.`,
      );
    const time = parseTime(params[timeParameter], timeParameter);
    const useLatest = params.UseLatestRestorableTime === 'true';
    if (!time && !useLatest)
      throw new ApiError(
        'InvalidParameterCombination',
        400,
        `Either ${timeParameter} or UseLatestRestorableTime must be given.`,
      );
    if (time && useLatest)
      throw new ApiError(
        'InvalidParameterCombination',
        400,
        `${timeParameter} and UseLatestRestorableTime cannot both be given.`,
      );
    const earliest = earliestRestorable(item);
    const latest = latestRestorable(item);
    if (time && (!earliest || !latest || time < earliest || time > latest)) {
      throw new ApiError(
        'InvalidRestoreFault',
        400,
        `Restore time ${time.toISOString()} is outside the restorable window of ${item.identifier}.`,
      );
    }
  }

  function newInstance(identifier: string, params: Record<string, string>, base: Partial<FakeInstance>): FakeInstance {
    if (instances.has(identifier)) throw new ApiError('DBInstanceAlreadyExists', 400, `DB instance already exists`);
    const securityGroupIds = structList(params, 'VpcSecurityGroupIds').map((item) => item['']);
    return addInstance(identifier, {
      ...base,
      status: 'creating',
      readyAt: clock.now() + settings.restoreDurationMs,
      instanceClass: params.DBInstanceClass ?? base.instanceClass ?? 'db.t3.micro',
      subnetGroup: params.DBSubnetGroupName ?? base.subnetGroup,
      securityGroupIds: securityGroupIds.length ? securityGroupIds : (base.securityGroupIds ?? []),
      parameterGroup: params.DBParameterGroupName ?? base.parameterGroup,
      multiAz: params.MultiAZ !== undefined ? params.MultiAZ === 'true' : (base.multiAz ?? false),
      tags: tagsFrom(params),
      createdWith: params,
      dbiResourceId: `db-${randomUUID().replace(/-/g, '').slice(0, 26).toUpperCase()}`,
    });
  }

  function newCluster(identifier: string, params: Record<string, string>, base: Partial<FakeCluster>): FakeCluster {
    if (clusters.has(identifier)) throw new ApiError('DBClusterAlreadyExistsFault', 400, `DB Cluster already exists`);
    const securityGroupIds = structList(params, 'VpcSecurityGroupIds').map((item) => item['']);
    return addCluster(identifier, {
      ...base,
      status: 'creating',
      readyAt: clock.now() + settings.restoreDurationMs,
      // Restoring a cluster creates no instance: the caller must add the writer.
      members: [],
      subnetGroup: params.DBSubnetGroupName ?? base.subnetGroup,
      securityGroupIds: securityGroupIds.length ? securityGroupIds : (base.securityGroupIds ?? []),
      clusterParameterGroup: params.DBClusterParameterGroupName ?? base.clusterParameterGroup,
      tags: tagsFrom(params),
      createdWith: params,
    });
  }

  // ---- operations ------------------------------------------------------------------------

  type Handler = (params: Record<string, string>) => string;
  const handlers: Record<string, Handler> = {
    DescribeDBInstances(params) {
      const all = params.DBInstanceIdentifier
        ? [requireInstance(params.DBInstanceIdentifier)]
        : [...instances.values()];
      const { items, marker } = page(params, all);
      return xml('DBInstances', list('DBInstance', items.map(instanceXml))) + xml('Marker', marker);
    },
    DescribeDBClusters(params) {
      const all = params.DBClusterIdentifier ? [requireCluster(params.DBClusterIdentifier)] : [...clusters.values()];
      const { items, marker } = page(params, all);
      return xml('DBClusters', list('DBCluster', items.map(clusterXml))) + xml('Marker', marker);
    },
    DescribeDBSnapshots(params) {
      const all = describeSnapshots(
        'instance',
        params.DBSnapshotIdentifier,
        params.DBInstanceIdentifier,
        params.SnapshotType,
      );
      const { items, marker } = page(params, all);
      return xml('DBSnapshots', list('DBSnapshot', items.map(snapshotXml))) + xml('Marker', marker);
    },
    DescribeDBClusterSnapshots(params) {
      const all = describeSnapshots(
        'cluster',
        params.DBClusterSnapshotIdentifier,
        params.DBClusterIdentifier,
        params.SnapshotType,
      );
      const { items, marker } = page(params, all);
      return xml('DBClusterSnapshots', list('DBClusterSnapshot', items.map(snapshotXml))) + xml('Marker', marker);
    },
    DescribeDBInstanceAutomatedBackups(params) {
      const all = [...instances.values()].filter(
        (instance) =>
          !instance.clusterIdentifier &&
          instance.backupRetentionDays > 0 &&
          instance.status !== 'creating' &&
          (!params.DBInstanceIdentifier || instance.identifier === params.DBInstanceIdentifier.toLowerCase()),
      );
      const { items, marker } = page(params, all);
      const backups = items.map((instance) => ({
        DBInstanceArn: arn('db', instance.identifier),
        DbiResourceId: instance.dbiResourceId,
        Region: region,
        DBInstanceIdentifier: instance.identifier,
        RestoreWindow: { EarliestTime: earliestRestorable(instance), LatestTime: latestRestorable(instance) },
        Status: 'active',
        Engine: instance.engine,
        EngineVersion: instance.engineVersion,
        BackupRetentionPeriod: instance.backupRetentionDays,
      }));
      return xml('DBInstanceAutomatedBackups', list('DBInstanceAutomatedBackup', backups)) + xml('Marker', marker);
    },
    DescribeEvents(params) {
      const all = events.filter(
        (event) =>
          (!params.SourceIdentifier || event.sourceIdentifier === params.SourceIdentifier) &&
          (!params.SourceType || event.sourceType === params.SourceType),
      );
      const { items, marker } = page(params, all);
      return (
        xml(
          'Events',
          list(
            'Event',
            items.map((event) => ({
              SourceIdentifier: event.sourceIdentifier,
              SourceType: event.sourceType,
              Message: event.message,
              Date: event.date,
            })),
          ),
        ) + xml('Marker', marker)
      );
    },
    CreateDBSnapshot(params) {
      const identifier = checkIdentifier(params.DBSnapshotIdentifier, 'DBSnapshotIdentifier', 255);
      const tags = tagsFrom(params);
      const instance = requireInstance(params.DBInstanceIdentifier);
      if (instance.status !== 'available')
        throw new ApiError(
          'InvalidDBInstanceState',
          400,
          `Cannot create a snapshot because the database instance ${instance.identifier} is not currently in the available state.`,
        );
      if (snapshots.has(`instance:${identifier}`))
        throw new ApiError(
          'DBSnapshotAlreadyExists',
          400,
          `Cannot create the snapshot because a snapshot with the identifier ${identifier} already exists.`,
        );
      const snapshot = addSnapshot(identifier, {
        source: instance.identifier,
        type: 'manual',
        status: 'creating',
        durationMs: settings.snapshotDurationMs,
        outcome: settings.snapshotOutcome,
        vanishAfterMs: settings.snapshotVanishAfterMs,
        engine: instance.engine,
        engineVersion: instance.engineVersion,
        tags,
      });
      return xml('DBSnapshot', snapshotXml(snapshot));
    },
    CreateDBClusterSnapshot(params) {
      const identifier = checkIdentifier(params.DBClusterSnapshotIdentifier, 'DBClusterSnapshotIdentifier', 63);
      const tags = tagsFrom(params);
      const cluster = requireCluster(params.DBClusterIdentifier);
      if (cluster.status !== 'available')
        throw new ApiError(
          'InvalidDBClusterStateFault',
          400,
          `DBCluster ${cluster.identifier} is not in the available state.`,
        );
      if (snapshots.has(`cluster:${identifier}`))
        throw new ApiError(
          'DBClusterSnapshotAlreadyExistsFault',
          400,
          `Cannot create the cluster snapshot because one with the identifier ${identifier} already exists.`,
        );
      const snapshot = addSnapshot(identifier, {
        kind: 'cluster',
        source: cluster.identifier,
        type: 'manual',
        status: 'creating',
        durationMs: settings.snapshotDurationMs,
        outcome: settings.snapshotOutcome,
        vanishAfterMs: settings.snapshotVanishAfterMs,
        engine: cluster.engine,
        engineVersion: cluster.engineVersion,
        tags,
      });
      return xml('DBClusterSnapshot', snapshotXml(snapshot));
    },
    RestoreDBInstanceToPointInTime(params) {
      const source = requireInstance(params.SourceDBInstanceIdentifier);
      const target = checkIdentifier(params.TargetDBInstanceIdentifier, 'TargetDBInstanceIdentifier', 63);
      checkPointInTime(source, params, 'RestoreTime');
      const { identifier: _i, status: _s, tags: _t, createdWith: _c, readyAt: _r, ...base } = source;
      return xml('DBInstance', instanceXml(newInstance(target, params, base)));
    },
    RestoreDBInstanceFromDBSnapshot(params) {
      const target = checkIdentifier(params.DBInstanceIdentifier, 'DBInstanceIdentifier', 63);
      const snapshot = snapshots.get(`instance:${params.DBSnapshotIdentifier}`);
      if (!snapshot)
        throw new ApiError('DBSnapshotNotFound', 404, `DBSnapshot ${params.DBSnapshotIdentifier} not found.`);
      if (snapshot.status !== 'available')
        throw new ApiError('InvalidDBSnapshotState', 400, `Snapshot ${snapshot.identifier} is not available.`);
      return xml(
        'DBInstance',
        instanceXml(
          newInstance(target, params, {
            engine: snapshot.engine,
            engineVersion: snapshot.engineVersion,
            multiAz: false,
          }),
        ),
      );
    },
    RestoreDBClusterToPointInTime(params) {
      const source = requireCluster(params.SourceDBClusterIdentifier);
      const target = checkIdentifier(params.DBClusterIdentifier, 'DBClusterIdentifier', 63);
      checkPointInTime(source, params, 'RestoreToTime');
      return xml(
        'DBCluster',
        clusterXml(
          newCluster(target, params, {
            engine: source.engine,
            engineVersion: source.engineVersion,
            backupRetentionDays: source.backupRetentionDays,
          }),
        ),
      );
    },
    RestoreDBClusterFromSnapshot(params) {
      const target = checkIdentifier(params.DBClusterIdentifier, 'DBClusterIdentifier', 63);
      if (!params.Engine) throw new ApiError('MissingParameter', 400, 'The request must contain the parameter Engine');
      const snapshot = snapshots.get(`cluster:${params.SnapshotIdentifier}`);
      if (!snapshot)
        throw new ApiError(
          'DBClusterSnapshotNotFoundFault',
          404,
          `DBClusterSnapshot ${params.SnapshotIdentifier} not found.`,
        );
      if (snapshot.status !== 'available')
        throw new ApiError(
          'InvalidDBClusterSnapshotStateFault',
          400,
          `Snapshot ${snapshot.identifier} is not available.`,
        );
      return xml(
        'DBCluster',
        clusterXml(
          newCluster(target, params, {
            engine: params.Engine,
            engineVersion: params.EngineVersion ?? snapshot.engineVersion,
          }),
        ),
      );
    },
    CreateDBInstance(params) {
      const identifier = checkIdentifier(params.DBInstanceIdentifier, 'DBInstanceIdentifier', 63);
      if (!params.DBInstanceClass)
        throw new ApiError('MissingParameter', 400, 'The request must contain the parameter DBInstanceClass');
      if (!params.Engine) throw new ApiError('MissingParameter', 400, 'The request must contain the parameter Engine');
      const cluster = params.DBClusterIdentifier ? requireCluster(params.DBClusterIdentifier) : undefined;
      const instance = newInstance(identifier, params, {
        engine: params.Engine,
        clusterIdentifier: cluster?.identifier,
        multiAz: false,
      });
      if (cluster) {
        cluster.members.push({ instance: identifier, writer: !cluster.members.some((member) => member.writer) });
        instance.readyAt = Math.max(cluster.readyAt ?? 0, clock.now()) + settings.restoreDurationMs;
      }
      return xml('DBInstance', instanceXml(instance));
    },
  };

  function describeSnapshots(
    kind: 'instance' | 'cluster',
    identifier?: string,
    source?: string,
    type?: string,
  ): FakeSnapshot[] {
    if (identifier) {
      const snapshot = snapshots.get(`${kind}:${identifier.toLowerCase()}`) ?? snapshots.get(`${kind}:${identifier}`);
      if (!snapshot) {
        throw kind === 'instance'
          ? new ApiError('DBSnapshotNotFound', 404, `DBSnapshot ${identifier} not found.`)
          : new ApiError('DBClusterSnapshotNotFoundFault', 404, `DBClusterSnapshot ${identifier} not found.`);
      }
      noteSeen(snapshot);
      return [snapshot];
    }
    const all = [...snapshots.values()].filter(
      (snapshot) =>
        snapshot.kind === kind &&
        (!source || snapshot.source === source.toLowerCase()) &&
        (!type || snapshot.type === type),
    );
    all.forEach(noteSeen);
    return all;
  }

  function noteSeen(snapshot: FakeSnapshot): void {
    if (snapshot.status !== 'creating' && snapshot.completedAt !== undefined && snapshot.firstSeenDoneAt === undefined)
      snapshot.firstSeenDoneAt = clock.now();
  }

  // ---- HTTP ------------------------------------------------------------------------------

  let region = 'us-east-1';
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const action = params.Action ?? '(none)';
      delete params.Action;
      delete params.Version;
      if (settings.autoAdvanceMs) clock.advance(settings.autoAdvanceMs);
      const call: FakeCall = { action, params, at: clock.now(), status: 200 };
      calls.push(call);
      fakeServer.onRequest?.(call);
      const regionMatch = /Credential=[^/]+\/\d+\/([^/]+)\/rds\//.exec(String(request.headers.authorization ?? ''));
      if (regionMatch) region = regionMatch[1];
      let status = 200;
      let body: string;
      try {
        if (request.method !== 'POST')
          throw new ApiError('InvalidAction', 400, 'The RDS Query API takes POST requests.');
        if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
          throw new ApiError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
        }
        const faultIndex = faults.findIndex((fault) => !fault.action || fault.action === action);
        if (faultIndex !== -1) {
          const fault = faults[faultIndex];
          fault.times = (fault.times ?? 1) - 1;
          if (fault.times <= 0) faults.splice(faultIndex, 1);
          throw new ApiError(fault.code, fault.status, fault.message ?? `Injected ${fault.code}`);
        }
        const handler = handlers[action];
        if (!handler)
          throw new ApiError('InvalidAction', 400, `The action ${action} is not valid for this web service.`);
        tick();
        const result = handler(params);
        body = `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
      } catch (error) {
        const apiError =
          error instanceof ApiError
            ? error
            : new ApiError('InternalFailure', 500, error instanceof Error ? error.message : String(error));
        status = apiError.status;
        call.errorCode = apiError.code;
        const type = status >= 500 ? 'Receiver' : 'Sender';
        body = `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${apiError.code}</Code><Message>${escape(apiError.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
      }
      call.status = status;
      response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fakeServer: FakeRdsServer = {
    url: `http://127.0.0.1:${port}`,
    get region() {
      return region;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
    instances,
    clusters,
    snapshots,
    events,
    faults,
    calls,
    options: settings,
    clock,
    addInstance,
    addCluster,
    addSnapshot,
    injectFault: (fault) => void faults.push(fault),
    writeCalls: () => calls.filter((call) => !call.action.startsWith('Describe')),
    count: (action) => calls.filter((call) => call.action === action).length,
  };
  return fakeServer;
}
