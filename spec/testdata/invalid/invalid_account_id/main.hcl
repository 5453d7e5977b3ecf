project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "12345" # ERROR: Invalid account ID
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
