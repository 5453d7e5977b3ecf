project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "app/config" {
  readers = [role.web]
  value = {
    smtp = { # ERROR: Literal credential in spec
      host     = "mail"
      password = "hunter2"
    }
  }
}
