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
  external = "arn:aws:iam::999999999999:role/reporting" # WARNING: External role in another account
}

secret "report" {
  readers = [role.reporting]
  value   = "xxxxxxxx"
}
