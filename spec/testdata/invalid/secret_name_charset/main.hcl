project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "app/db config" { # ERROR: Invalid secret name
  readers = [role.web]
  value   = "xxxxxxxx"
}
