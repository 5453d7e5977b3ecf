project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

variable "who" { default = "web" }

secret "db" {
  readers = [var.who] # ERROR: Invalid role reference
  value   = "xxxxxxxx"
}
