project = "lifecycle"

stage "dev" {
  region     = "us-east-1"
  account_id = "111111111111"
}

variable "db_host" {
  type    = string
  default = "db.dev.internal"
}

role "api" {
  description = "the API service, which reads the database credentials"
  service     = ["ecs-tasks.amazonaws.com"]
}

# The rotation function's execution role: secretboot gives it exactly the
# rotation protocol's permissions on api/db.
role "db_rotator" {
  description = "execution role of the database rotation function"
  service     = ["lambda.amazonaws.com"]
}

secret "api/db" {
  description = "database credentials; the password rotates every 30 days"
  readers     = [role.api]
  value = {
    username = "api"
    host     = var.db_host
  }
  # The rotating field: secretboot generates the first password, the
  # rotation function owns it from then on.
  generate "password" {
    length             = 32
    exclude_characters = "/@\"'\\"
  }
  rotation {
    # On AWS, your rotation function. This name is the sandbox's built-in
    # test rotator, which plays the rotation steps itself.
    lambda_arn               = "arn:aws:lambda:us-east-1:111111111111:function:secretboot-sandbox-rotator"
    automatically_after_days = 30
    window                   = "4h"
    rotate_immediately       = true
    rotator                  = role.db_rotator
  }
}
