# Three stages over two accounts: dev and staging share 111111111111,
# prod lives in 222222222222 and is reached through a deployer role.

project = "payments"

stage "dev" {
  region     = "us-east-1"
  account_id = "111111111111"
  vars = {
    api_url      = "https://api.dev.example.com"
    reporting    = "arn:aws:iam::111111111111:role/tf-reporting-dev"
    tls_key_file = "demo/dev-cert.pem"
  }
}

stage "staging" {
  region     = "us-east-1"
  account_id = "111111111111"
  vars = {
    api_url      = "https://api.staging.example.com"
    reporting    = "arn:aws:iam::111111111111:role/tf-reporting-staging"
    tls_key_file = "demo/dev-cert.pem"
  }
}

stage "prod" {
  region          = "eu-west-1"
  account_id      = "222222222222"
  assume_role_arn = "arn:aws:iam::222222222222:role/secretboot-deployer"
  vars = {
    api_url       = "https://api.example.com"
    reporting     = "arn:aws:iam::222222222222:role/tf-reporting"
    tls_key_file  = "demo/dev-cert.pem"
    stripe_kms_id = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}
