export enum Inputs {
  Status = 'status',
  SlackWebhookUrl = 'slack-webhook-url',
  WebhookUrl = 'webhook-url',
  Details = 'details',
  StatuspageApiKey = 'statuspage-api-key',
  StatuspagePageId = 'statuspage-page-id',
  StatuspageComponentIds = 'statuspage-component-ids',
  StatuspageApiUrl = 'statuspage-api-url',
  MaintenanceId = 'maintenance-id',
  GitHubToken = 'github-token',
  GateEnvironment = 'gate-environment',
  Attempts = 'attempts',
  Timeout = 'timeout',
}

export enum Outputs {
  MaintenanceId = 'maintenance-id',
  Delivered = 'delivered',
  Failed = 'failed',
  Approvers = 'approvers',
}
