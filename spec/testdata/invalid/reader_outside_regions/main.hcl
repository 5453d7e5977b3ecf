project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
  replicas   = { "us-west-2" = {} }
}

role "web" {
  regions = ["eu-west-1"]
}

role "batch" {
  regions = ["us-west-2", "nowhere"] # ERROR: Invalid region
}

secret "db" {
  readers = [role.web] # ERROR: Reader outside the secret's regions
  value   = "xxxxxxxx"
}

secret "api" {
  readers  = [role.web, role.batch] # ERROR: Reader outside the secret's regions
  value    = "xxxxxxxx"
  replicas = {}
}
