project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers     = [role.web]
  value       = "x"
  value_owner = "lambda" # ERROR: Invalid value owner
}

secret "rotated" {
  readers     = [role.web]
  value       = "x"
  value_owner = "rotation"
}
