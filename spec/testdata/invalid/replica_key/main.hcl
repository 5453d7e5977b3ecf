project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers = [role.web]
  value   = "xxxxxxxx"
  replicas = {
    "us-west-2" = { kms_key_arn = "arn:aws:kms:eu-west-1:000000000000:key/1234" } # ERROR: KMS key in another region
    "eu-west-1" = { kms_key_arn = "arn:aws:kms:eu-west-1:111111111111:key/1234" } # ERROR: KMS key in another account
    "eu-west-2" = { kms_key_arn = "alias/mine" } # ERROR: Invalid KMS key ARN
  }
}
