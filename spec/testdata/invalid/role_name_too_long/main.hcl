project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}

role "a-very-long-role-label-that-will-not-fit-into-sixty-four" { # ERROR: Role name too long
}

secret "other" {
  readers = [role.a-very-long-role-label-that-will-not-fit-into-sixty-four]
  value   = "xxxxxxxx"
}
