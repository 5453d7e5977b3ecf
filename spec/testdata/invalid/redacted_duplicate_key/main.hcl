project = "shop"

stage "dev" { region = "us-east-1" }

role "web" {}

# The duplicate key is the payload: the message must not quote it.
secret "db" {
  readers = [role.web]
  value   = { for x in [env("SET"), env("SET")] : x => "1" } # ERROR: Duplicate object key
}
