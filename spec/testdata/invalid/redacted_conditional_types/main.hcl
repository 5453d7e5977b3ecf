project = "shop"

stage "dev" { region = "us-east-1" }

role "web" {}

# HCL names the attributes of both object types; one is the payload.
secret "db" {
  readers = [role.web]
  value   = env("SET") != "" ? { (env("SET")) = "a" } : { b = [1] } # ERROR: Inconsistent conditional result types
}
