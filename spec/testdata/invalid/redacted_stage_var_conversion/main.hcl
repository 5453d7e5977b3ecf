project = "shop"

stage "dev" {
  region = "us-east-1"
  vars = {
    m = { (env("SET")) = [1] } # ERROR: Invalid value for variable
  }
}

variable "m" { type = map(string) }

role "web" {}

secret "db" {
  readers = [role.web]
  value   = var.m
}
