project = "shop"

stage "dev" { region = "us-east-1" }

role "web" {}

secret "flag" {
  readers = [role.web]
  value   = "on" # WARNING: Payload too short to mask
}
