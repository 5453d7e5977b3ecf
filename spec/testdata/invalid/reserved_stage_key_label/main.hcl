project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret ".secretboot/stage-key" { # ERROR: Reserved secret label
  readers = [role.web]
  value   = "x"
}
