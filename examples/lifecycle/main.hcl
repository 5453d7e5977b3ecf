project = "lifecycle"

stage "dev" {
  region     = "us-east-1"
  account_id = "111111111111"
  # Every secret of the stage is replicated to us-west-2 (a secret can set
  # its own replicas, or replicas = {} to opt out).
  replicas = { "us-west-2" = {} }
}

variable "db_host" {
  type    = string
  default = "db.dev.internal"
}

role "api" {
  description = "the API service, which reads the database credentials"
  service     = ["ecs-tasks.amazonaws.com"]
}

# The API's deployment in us-west-2 reads the replica there, and nothing
# in us-east-1.
role "api_west" {
  description = "the API service in us-west-2"
  service     = ["ecs-tasks.amazonaws.com"]
  regions     = ["us-west-2"]
}

# The rotation function's execution role: secretboot gives it exactly the
# rotation protocol's permissions on api/db.
role "db_rotator" {
  description = "execution role of the database rotation function"
  service     = ["lambda.amazonaws.com"]
}

secret "api/db" {
  description = "database credentials; the password rotates every 30 days"
  readers     = [role.api, role.api_west]
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
    lambda_arn         = "arn:aws:lambda:us-east-1:111111111111:function:secretboot-sandbox-rotator"
    schedule           = "rate(30 days)" # a window needs a schedule expression, not automatically_after_days
    window             = "4h"
    rotate_immediately = true
    rotator            = role.db_rotator
  }
}
