project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {
  description = join("", [for i in range(334) : "xxx"]) # ERROR: Description too long
}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
