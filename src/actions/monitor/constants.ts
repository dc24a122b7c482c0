export enum Inputs {
  Checks = 'checks',
  PrometheusUrl = 'prometheus-url',
  PrometheusToken = 'prometheus-token',
  PrometheusHeaders = 'prometheus-headers',
  Duration = 'duration',
  Interval = 'interval',
  FailureLimit = 'failure-limit',
  InconclusiveLimit = 'inconclusive-limit',
  RequestTimeout = 'request-timeout',
  AwsRegion = 'aws-region',
}

export enum Outputs {
  Passed = 'passed',
  Results = 'results',
  Failure = 'failure',
}
