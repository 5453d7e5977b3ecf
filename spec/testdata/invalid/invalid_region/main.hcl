project = "shop"

stage "dev" {
  region = "US East" # ERROR: Invalid region
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
