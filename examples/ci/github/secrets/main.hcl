# The spec the example workflows deploy: two stages in two accounts, one
# payload from the CI environment's secrets and one generated value.

project = "ci-demo"

stage "dev" {
  region     = "us-east-1"
  account_id = "111111111111"
}

# prod is reached through a deployer role that secretboot assumes, so its
# installer also creates the role that GitHub's token opens (docs/ci.md).
stage "prod" {
  region          = "eu-west-1"
  account_id      = "222222222222"
  assume_role_arn = "arn:aws:iam::222222222222:role/secretboot-ci-demo-prod-deployer"
}

role "api" {
  description      = "the API on ECS"
  service          = ["ecs-tasks.amazonaws.com"]
  instance_profile = false
}

secret "api/token" {
  description = "third-party API token, from the GitHub environment's secrets"
  readers     = [role.api]
  value       = env("API_TOKEN")
}

secret "api/signing" {
  description = "webhook signing key, generated on the first apply"
  readers     = [role.api]
  value = {
    issuer = "ci-demo"
  }
  generate "key" {
    length = 48
  }
}
