project = "shop"

stage "dev" { region = "us-east-1" }

role "web" {}

secret "card" {
  readers = [role.web]
  value = {
    holder = "a long enough name"
    pin    = file("pin.txt") # WARNING: Value too short to mask
  }
}
