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
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "rate(6 hours)"
    window     = "7h" # ERROR: Invalid rotation window
  }
}
secret "api" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 22 ? * SUN *)"
    window     = "4h" # ERROR: Invalid rotation window
  }
}
secret "key" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 30
    window                   = "90m" # ERROR: Invalid rotation window
  }
}
secret "days" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 30
    window                   = "4h" # ERROR: Invalid rotation window
  }
}
