project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {
  permissions_boundary = "arn:aws:iam::000000000000:role/boundary" # ERROR: Invalid policy ARN
}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
