project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers     = [role.web]
  generate {}
  value_owner = "secretboot" # ERROR: Value owner contradicts rotation
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 30
  }
}
