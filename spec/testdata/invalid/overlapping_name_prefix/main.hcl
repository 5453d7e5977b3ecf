project = "shop"

stage "dev" {
  region      = "us-east-1"
  account_id  = "000000000000"
  name_prefix = "app/"
}

stage "prod" { # ERROR: Overlapping name prefixes
  region      = "us-east-1"
  account_id  = "000000000000"
  name_prefix = "app/prod/"
}

stage "qa" {
  region      = "us-east-1"
  account_id  = "111111111111"
  name_prefix = "app/"
}

role "web" {}

secret "db" {
  readers = [role.web]
  value   = "x"
}
