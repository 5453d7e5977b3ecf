project = "shop"

stage "dev/blue" { # ERROR: Invalid stage name
  region = "us-east-1"
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
