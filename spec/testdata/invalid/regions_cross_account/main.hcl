project = "shop"

stage "dev" {
  region          = "us-east-1"
  account_id      = "000000000000"
  deployer_arn    = "arn:aws:iam::000000000000:role/deployer"
  resource_policy = true
}

role "partner" {
  external = "arn:aws:iam::111111111111:role/partner"
  regions  = ["us-east-1"] # ERROR: Regions for a cross-account reader
}

secret "db" {
  readers     = [role.partner]
  value       = "xxxxxxxx"
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/1234"
}

secret "api" {
  readers     = [role.partner] # ERROR: Cross-account reader without a customer managed key
  value       = "xxxxxxxx"
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/1234"
  replicas    = { "us-west-2" = {} }
}
