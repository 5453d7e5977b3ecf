project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "api" {
  service = ["pods.eks.amazonaws.com"] # ERROR: No trust template for service
}

secret "ok" {
  readers = [role.api]
  value   = "xxxxxxxx"
}
