project = "shop"

stage "dev" {
  region      = "us-east-1"
  name_prefix = "dev:" # ERROR: Invalid name prefix
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
