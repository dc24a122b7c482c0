export enum Inputs {
  Urls = 'urls',
  ExpectedStatus = 'expected-status',
  ExpectBody = 'expect-body',
  Headers = 'headers',
  Attempts = 'attempts',
  Interval = 'interval',
  MaxInterval = 'max-interval',
  RequestTimeout = 'request-timeout',
  Deadline = 'deadline',
  RetryOn4xx = 'retry-on-4xx',
  Command = 'command',
  WorkingDirectory = 'working-directory',
  DatabaseUrl = 'database-url',
  ExpectedTables = 'expected-tables',
}

export enum Outputs {
  Passed = 'passed',
  Results = 'results',
}
