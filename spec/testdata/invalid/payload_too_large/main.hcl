project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "big" { # ERROR: Payload too large
  readers = [role.web]
  value   = { filler = join("", [for i in range(1000) : "0123456789012345678901234567890123456789012345678901234567890"]) }
  generate "a" { length = 4096 }
  generate "b" { length = 4096 }
}
