project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers     = [role.web]
  value       = "xxxxxxxx"
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:alias/app" # ERROR: Invalid KMS key ARN
}
