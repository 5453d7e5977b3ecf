project = "shop"

# The account of prod is assume_role_arn's: its prefix overlaps dev's all
# the same.
stage "dev" {
  region      = "us-east-1"
  account_id  = "000000000000"
  name_prefix = "app/"
}

stage "prod" { # ERROR: Overlapping name prefixes
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::000000000000:role/ci/deployer"
  name_prefix     = "app/prod/"
}

stage "qa" {
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::111111111111:role/ci/deployer"
  name_prefix     = "app/"
}

role "web" {}

secret "db" {
  readers = [role.web]
  value   = "x"
}
