project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}

role "reporting" {
  external    = "arn:aws:iam::000000000000:role/reporting"
  description = "owned by terraform" # ERROR: Attribute not allowed for an external role
}
