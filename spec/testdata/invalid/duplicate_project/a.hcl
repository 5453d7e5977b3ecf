project = "shop"

stage "dev" {
  region = "us-east-1"
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
