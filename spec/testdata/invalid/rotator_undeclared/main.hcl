project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}
role "rotator" {
  service = ["lambda.amazonaws.com"]
}

secret "api" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 30
    rotator                  = role.ghost # ERROR: Reference to undeclared role
  }
}
