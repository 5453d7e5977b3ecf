project = "shop"

stage "dev" {
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::111111111111:user/deployer" # ERROR: Invalid role ARN
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
