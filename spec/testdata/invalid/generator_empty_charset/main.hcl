project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers = [role.web]
  generate { # ERROR: Empty character set
    upper              = false
    lower              = false
    special            = false
    exclude_characters = "0123456789"
  }
}
