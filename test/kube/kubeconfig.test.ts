import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';

const valid = [
  'apiVersion: v1',
  'kind: Config',
  'clusters:',
  '  - name: eks',
  '    cluster: { server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com" }',
  '  - name: staging',
  '    cluster: { server: "https://staging.example.com" }',
  'users:',
  '  - name: ci',
  '    user: { token: s3cr3t-token-value }',
  'contexts:',
  '  - name: production',
  '    context: { cluster: eks, user: ci }',
  '  - name: staging',
  '    context: { cluster: staging, user: ci }',
  'current-context: production',
].join('\n');

describe('loadKubeconfig', () => {
  it('loads the content of the kubeconfig input and reports its token as a secret', () => {
    const loaded = loadKubeconfig({ content: valid });
    expect(loaded).toMatchObject({
      context: 'production',
      server: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      source: 'input "kubeconfig"',
    });
    expect(loaded.secrets).toEqual(['s3cr3t-token-value']);
  });

  it('switches to the context input', () => {
    expect(loadKubeconfig({ content: valid, context: 'staging' }).server).toBe('https://staging.example.com');
  });

  it('refuses a context the kubeconfig does not have, listing those it has', () => {
    expect(() => loadKubeconfig({ content: valid, context: 'prod' })).toThrow(
      'Input "context" is "prod", which the kubeconfig does not have. Valid values are: [production, staging].',
    );
  });

  it("refuses malformed YAML with the parser's complaint", () => {
    expect(() => loadKubeconfig({ content: 'clusters: [ { name: eks' })).toThrow(
      /^Input "kubeconfig" is not a valid kubeconfig \(.+\)\. Pass the content of a kubeconfig file/,
    );
  });

  it('refuses a path given where the content belongs', () => {
    expect(() => loadKubeconfig({ content: '/home/runner/.kube/config' })).toThrow(
      /Input "kubeconfig" is not a valid kubeconfig: it has no contexts.*not its path/,
    );
  });

  it('refuses a current-context that names nothing', () => {
    expect(() =>
      loadKubeconfig({ content: valid.replace('current-context: production', 'current-context: gone') }),
    ).toThrow(/no usable current-context; set the "context" input to one of: \[production, staging\]/);
  });

  it('uses KUBECONFIG when the input is empty, as kubectl does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-test-'));
    fs.writeFileSync(path.join(dir, 'config'), valid);
    try {
      const loaded = loadKubeconfig({ env: { KUBECONFIG: path.join(dir, 'config'), HOME: dir } });
      expect(loaded.source).toBe(path.join(dir, 'config'));
      expect(loaded.context).toBe('production');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what to do when there is no kubeconfig at all', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-none-'));
    try {
      expect(() => loadKubeconfig({ env: { HOME: dir } })).toThrow(
        /No kubeconfig found \(looked at .*\.kube\/config\)\. Set up cluster access in an earlier step/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
