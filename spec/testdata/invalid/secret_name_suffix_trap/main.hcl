project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "app/db-abcdef" { # ERROR: Secret name ends like an ARN suffix
  readers = [role.web]
  value   = "xxxxxxxx"
}
