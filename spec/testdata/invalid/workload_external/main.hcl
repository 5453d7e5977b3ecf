project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "reporting" {
  external = "arn:aws:iam::000000000000:role/reporting"
  github_actions { # ERROR: Block not allowed for an external role
    repository  = "octo-org/shop"
    environment = "prod"
  }
}

secret "ok" {
  readers = [role.reporting]
  value   = "xxxxxxxx"
}
