project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}
role "rotator" {
  service = ["lambda.amazonaws.com"]
}

secret "db" {
  readers = [role.web]
  generate "password" {}
  value = { username = "app" }
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "rate(2 hours)" # ERROR: Invalid rotation schedule
    rotator    = role.rotator
  }
}
secret "api" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 0/2 * * ? *)" # ERROR: Invalid rotation schedule
  }
}
