project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
  replicas = {
    "us-east-1" = {} # ERROR: Replica in the stage's region
    "mars-1"    = {} # ERROR: Invalid region
  }
}

role "web" {}

secret "db" {
  readers = [role.web]
  value   = "xxxxxxxx"
}

secret "api" {
  readers = [role.web]
  value   = "xxxxxxxx"
  replicas = {
    "us-west-2"  = {}
    "eu-west-1"  = { kms_arn = "x" } # ERROR: Invalid replica settings
  }
}
