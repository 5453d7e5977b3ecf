# cron() schedules EventBridge takes but Secrets Manager refuses at
# RotateSecret, or whose fate AWS does not record (lists in hours, W, lower
# case, extra spaces): validate refuses them first, before anything changes.
project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "minutes" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(30 0,20 ? * MON *)" # ERROR: Invalid rotation schedule
  }
}
secret "year" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 4 1 * ? 2027)" # ERROR: Invalid rotation schedule
  }
}
secret "both_days" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 4 1 * MON *)" # ERROR: Invalid rotation schedule
  }
}
secret "no_day" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 4 ? * ? *)" # ERROR: Invalid rotation schedule
  }
}
secret "overnight" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 1/21 ? * MON,TUE *)" # ERROR: Invalid rotation schedule
  }
}
secret "hour_list" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 4,16 * * ? *)" # ERROR: Invalid rotation schedule
  }
}
secret "weekday_near" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 4 15W * ? *)" # ERROR: Invalid rotation schedule
  }
}
secret "lower_case" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 4 ? * sun *)" # ERROR: Invalid rotation schedule
  }
}
secret "spaces" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 4 * *  ? *)" # ERROR: Invalid rotation schedule
  }
}
secret "aws_example" {
  readers = [role.web]
  generate {}
  rotation {
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    schedule   = "cron(0 /8 * * ? *)"
    window     = "8h"
  }
}
