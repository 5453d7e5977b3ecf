# The database-credentials case: a web tier on EC2 reads one secret that
# holds the connection settings and a password secretboot generates.

project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000" # the local sandbox's account
  vars = {
    db_host = "db.dev.internal"
  }
}

stage "prod" {
  region          = "eu-west-1"
  account_id      = "222222222222"
  assume_role_arn = "arn:aws:iam::222222222222:role/secretboot-deployer"
  vars = {
    db_host = "db.prod.internal"
  }
}

variable "db_host" {
  type        = string
  description = "host name of the primary database"
}

variable "db_port" {
  type    = number
  default = 5432
}

role "web" {
  description = "web tier instances"
  # service defaults to ["ec2.amazonaws.com"], which also creates an
  # instance profile of the same name.
}

secret "app/db/credentials" {
  description = "primary database"
  readers     = [role.web]
  describe    = true # the app caches the secret, so it also needs DescribeSecret

  value = {
    engine   = "postgres"
    host     = var.db_host
    port     = var.db_port
    username = "app"
  }

  # Created on the first apply and kept afterwards.
  generate "password" {
    length  = 32
    special = false
  }
}
