project = "shop"

stage "dev" {
  region      = "us-east-1"
  role_prefix = "shop/dev/" # ERROR: Invalid role prefix
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
