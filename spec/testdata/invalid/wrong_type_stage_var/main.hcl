project = "shop"

stage "dev" {
  region = "us-east-1"
  vars = {
    port = "many" # ERROR: Invalid value for variable
  }
}

variable "port" { type = number }

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
