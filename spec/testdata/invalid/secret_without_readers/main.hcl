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

secret "orphan" { # WARNING: Secret without readers
  value = "xxxxxxxx"
}
