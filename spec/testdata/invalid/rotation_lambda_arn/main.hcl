project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn               = "arn:aws:lambda:eu-west-1:000000000000:function:rotate" # ERROR: Rotation function in another region
    automatically_after_days = 30
  }
}
secret "api" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:111111111111:function:rotate" # ERROR: Rotation function in another account
    automatically_after_days = 30
  }
}
secret "key" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn               = "rotate-db" # ERROR: Invalid rotation function ARN
    automatically_after_days = 30
  }
}
