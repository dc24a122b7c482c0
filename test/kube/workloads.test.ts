import { parseWorkloads, validateNamespace } from '../../src/kube/workloads.js';

describe('parseWorkloads', () => {
  it('reads kubectl spellings and treats a bare name as a deployment', () => {
    expect(
      parseWorkloads(['deployment/ticket-service', 'sts/ledger', 'daemonsets.apps/log-agent', 'worker'], 'production'),
    ).toEqual([
      { kind: 'Deployment', name: 'ticket-service', namespace: 'production' },
      { kind: 'StatefulSet', name: 'ledger', namespace: 'production' },
      { kind: 'DaemonSet', name: 'log-agent', namespace: 'production' },
      { kind: 'Deployment', name: 'worker', namespace: 'production' },
    ]);
  });

  it('drops a workload named twice so it is not restarted twice', () => {
    expect(parseWorkloads(['deployment/api', 'deploy/api', 'api'], 'production')).toHaveLength(1);
  });

  it('refuses a workload of an unknown kind, naming the kinds it can restart', () => {
    expect(() => parseWorkloads(['cronjob/nightly'], 'production')).toThrow(
      'Input "workloads" has "cronjob/nightly" of an unknown kind "cronjob". Valid values are: [deployment, statefulset, daemonset]',
    );
  });

  it('refuses an empty list', () => {
    expect(() => parseWorkloads([], 'production')).toThrow(/Input "workloads" is empty/);
  });

  it('refuses a name the API server would refuse', () => {
    expect(() => parseWorkloads(['deployment/Ticket_Service'], 'production')).toThrow(
      /"Ticket_Service" is not a valid object name/,
    );
    expect(() => parseWorkloads(['deployment/'], 'production')).toThrow(/is not a valid object name/);
  });

  it('refuses a namespace that is not a DNS label', () => {
    expect(() => validateNamespace('Production!')).toThrow(/Input "namespace" is "Production!"/);
    expect(validateNamespace('production')).toBe('production');
  });
});
