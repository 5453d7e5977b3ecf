project = "shop"

stage "dev" { region = "us-east-1" }

role "web" {}

# A reviewer must see which file a spec reads.
secret "db" {
  readers = [role.web]
  value   = file(env("SET")) # ERROR: Error in function call
}
