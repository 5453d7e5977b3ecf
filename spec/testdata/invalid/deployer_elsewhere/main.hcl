project = "shop"

stage "dev" {
  region          = "us-east-1"
  account_id      = "111111111111"
  deployer_arn    = "arn:aws:iam::222222222222:role/deployer" # ERROR: Deployer in another account
  resource_policy = true
}

# The account of prod is assume_role_arn's.
stage "prod" {
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::111111111111:role/ci/deployer"
  deployer_arn    = "arn:aws:iam::222222222222:user/deployer" # ERROR: Deployer in another account
  resource_policy = true
}

# The same role at another path: one of the two is wrong.
stage "qa" {
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::111111111111:role/ci/deployer"
  deployer_arn    = "arn:aws:iam::111111111111:role/deployer" # ERROR: Deployer ARN differs from assume_role_arn
  name_prefix     = "qa/"
  resource_policy = true
}

# Another role than the assumed one is allowed: a stage applied with
# --no-assume-role runs as the caller's own credentials.
stage "staging" {
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::111111111111:role/ci/deployer"
  deployer_arn    = "arn:aws:iam::111111111111:role/ci/staging-deployer"
  name_prefix     = "staging/"
  resource_policy = true
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
