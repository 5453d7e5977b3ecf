project = "shop"

stage "dev" {
  region = "us-east-1"
  vars = {
    db_hots = "db.internal" # ERROR: Undeclared variable
  }
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
