project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}

role "reporting" {
  external = "arn:aws:iam::111111111111:policy/reporting" # ERROR: Invalid role ARN
}

secret "report" {
  readers = [role.reporting]
  value   = "xxxxxxxx"
}
