project = "shop"

stage "dev" {
  region          = "us-east-1"
  account_id      = "111111111111"
  assume_role_arn = "arn:aws:iam::111111111111:role/deployer"
  resource_policy = true
  break_glass     = ["*"] # ERROR: Break-glass principal "*"
}

stage "prod" {
  region          = "us-east-1"
  account_id      = "111111111111"
  assume_role_arn = "arn:aws:iam::111111111111:role/deployer"
  break_glass     = ["arn:aws:iam::111111111111:role/*"] # ERROR: Invalid break-glass principal
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
