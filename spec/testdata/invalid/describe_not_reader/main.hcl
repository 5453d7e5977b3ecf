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

role "batch" {}

secret "db" {
  readers  = [role.web]
  describe = [role.batch] # ERROR: Describe role is not a reader
  value    = "xxxxxxxx"
}
