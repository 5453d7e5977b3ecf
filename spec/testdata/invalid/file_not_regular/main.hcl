project = "shop"

stage "dev" { region = "us-east-1" }

role "web" {}

secret "tls" {
  readers = [role.web]
  binary  = filebase64("certs") # ERROR: Error in function call
}
