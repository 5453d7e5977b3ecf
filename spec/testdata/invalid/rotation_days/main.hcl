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
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 1001 # ERROR: Invalid rotation interval
  }
}
secret "api" {
  readers = [role.web]
  generate {}
  rotation { # ERROR: Missing rotation schedule
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
  }
}
secret "key" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 7
    schedule                 = "rate(7 days)" # ERROR: Conflicting rotation schedules
  }
}
secret "rate_days" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "rate(1000 days)" # ERROR: Invalid rotation schedule
  }
}
secret "rate_hours" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "rate(48 hours)" # ERROR: Invalid rotation schedule
  }
}
