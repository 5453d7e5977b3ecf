project = "shop"

stage "dev" {
  region          = "us-east-1"
  account_id      = "111111111111"
  deployer_arn    = "arn:aws:sts::111111111111:assumed-role/deployer/ci" # ERROR: Invalid deployer ARN
  resource_policy = true
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
