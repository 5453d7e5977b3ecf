project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "stripe/api-token" {
  readers = [role.web]
  value   = "sk_live_123" # ERROR: Literal credential in spec
}
