project = "shop"

stage "dev" {
  region          = "us-east-1"
  account_id      = "111111111111"
  assume_role_arn = "arn:aws:iam::222222222222:role/deployer" # ERROR: Role in another account
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
