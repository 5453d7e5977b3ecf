project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers = [role.web]
  value   = "xxxxxxxx"
  rotate {} # ERROR: Unsupported block type
}
