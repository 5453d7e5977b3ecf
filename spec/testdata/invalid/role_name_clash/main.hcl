project = "shop"

stage "dev" {
  region = "us-east-1"
}

role "API" {}

role "api" {} # ERROR: Role name clash

secret "ok" {
  readers = [role.api, role.API]
  value   = "xxxxxxxx"
}
