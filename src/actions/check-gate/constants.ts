export enum Inputs {
  Environment = 'environment',
  GitHubToken = 'github-token',
  Repository = 'repository',
  RequirePreventSelfReview = 'require-prevent-self-review',
  RequireBranchPolicy = 'require-branch-policy',
}

export enum Outputs {
  Passed = 'passed',
  Exists = 'exists',
  Reviewers = 'reviewers',
  PreventSelfReview = 'prevent-self-review',
}
